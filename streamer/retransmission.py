"""Which packets a viewer's NACKs get resent: a budget, so resends cannot crowd out the stream.

On a full link every lost packet is NACKed, and the resends are lost in turn and NACKed again:
resending all that is asked, as aiortc does, sent 16-28 Mb/s into a 1.5 Mb/s link in
tests/test_link_adaptation.py and froze the picture for seconds. So a packet is resent at most
once per `RESEND_INTERVAL` (30 ms), and resends may use at most `RESEND_SHARE` of the stream's target
bitrate (a token bucket holding `BURST_SECONDS` of it). What is refused is counted: a lost
frame then ends in a keyframe request, which costs less than a storm.

On a link that loses packets at random (0.5-10% lost, so not a full link's overflow: by the
viewer's last report, or sooner by the NACKs of the last second) a resend goes twice: a lost
resend leaves a hole that some receivers (aiortc) ask for again only if another packet is lost
soon after, and otherwise sit on for over a second. Two copies cost a few percent of the stream.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Literal

__all__ = ["Outcome", "RetransmitBudget"]

# What became of a NACKed packet: `missed` and `limited` leave the viewer a packet short.
Outcome = Literal["resent", "repeat", "missed", "limited"]

RESEND_SHARE = 0.25  # of the target bitrate that resends may take
BURST_SECONDS = 0.2  # of that rate, the most that may go at once
RESEND_INTERVAL = 0.03  # seconds before the same packet is resent again: a NACK later than this
# means the resend was lost too (a viewer asks again only when it sees a new gap, and gives a
# packet up once 128 newer ones came), not that it is still on its way
REMEMBERED = 4096  # packets whose last resend is remembered
TWICE_FROM, TWICE_BELOW = 0.005, 0.10  # loss between these: random loss, resend twice
PACKET_BYTES = 1100  # a video packet, about (aiortc fills them to 1200 bytes at most)


class RetransmitBudget:
    """Answers, per NACKed packet, whether to resend it; counts the answers."""

    def __init__(
        self,
        bitrate: Callable[[], float],
        loss: Callable[[], float] = lambda: 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`bitrate`: the stream's target now, in bits per second; `loss`: the fraction of packets
        the viewer last reported lost."""
        self._bitrate = bitrate
        self._loss = loss
        self._clock = clock
        self._tokens = 0.0  # bytes that may be resent now
        self._filled = clock()
        self._resent_at: OrderedDict[int, float] = OrderedDict()
        self._nacked: deque[float] = deque()  # when each NACKed packet was asked for, the last second
        self.resent = 0
        self.missed = 0  # no longer kept
        self.limited = 0  # refused by the budget
        self.repeats = 0  # asked for again within RESEND_INTERVAL of its resend: on its way
        self.last: Outcome = "resent"  # the answer to the latest NACKed packet

    def loss(self) -> float:
        """The fraction of packets lost: the viewer's last report, or the NACKs of the last second
        against the packets the target bitrate sends in one, whichever is higher (a report
        comes about once a second; NACKs come at once)."""
        packets = max(1.0, self._bitrate() / 8 / PACKET_BYTES)
        return max(self._loss(), len(self._nacked) / packets)

    def decide(self, sequence_number: int, size: int | None) -> int:
        """How many copies of the packet to resend (0: none); `size` in bytes, None when it is
        no longer kept. A refusal other than a repeat leaves the viewer a packet short
        (`missed`, `limited`)."""
        if size is None:
            self.missed += 1
            self.last = "missed"
            return 0
        now = self._clock()
        self._nacked.append(now)
        while self._nacked[0] < now - 1.0:
            self._nacked.popleft()
        rate = self._bitrate() / 8 * RESEND_SHARE
        self._tokens = min(rate * BURST_SECONDS, self._tokens + (now - self._filled) * rate)
        self._filled = now
        last = self._resent_at.get(sequence_number)
        if last is not None and now - last < RESEND_INTERVAL:
            self.repeats += 1
            self.last = "repeat"
            return 0
        if self._tokens < size:
            self.limited += 1
            self.last = "limited"
            return 0
        copies = 2 if TWICE_FROM <= self.loss() < TWICE_BELOW and self._tokens >= 2 * size else 1
        self._tokens -= copies * size
        self._resent_at[sequence_number] = now
        self._resent_at.move_to_end(sequence_number)
        while len(self._resent_at) > REMEMBERED:
            self._resent_at.popitem(last=False)
        self.resent += 1
        self.last = "resent"
        return copies
