"""One viewer's link in the main process: its RTCP feedback in, its stream's target out, and the
figures `/metrics` and the page's stats overlay show (docs/protocol.md, `stream`).

The estimate (streamer/bandwidth.py) and the decision (streamer/rate_control.py) are pure; this
joins them to a session's encoder settings and decides, within a budget, what is resent on its
NACKs (streamer/retransmission.py).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .bandwidth import BandwidthEstimator, Feedback
from .encoder import EncoderSettings
from .rate_control import RateController, RatePolicy, StreamTarget
from .retransmission import RetransmitBudget

__all__ = ["LinkAdapter"]

SENT_WINDOW = 1.0  # seconds of sent bytes the sent rate is measured over (a receiver's window too)


class LinkAdapter:
    """Follows one viewer's link. With `settings.adapt` off it still estimates and counts, but the
    target stays at the ceiling."""

    def __init__(self, settings: EncoderSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = settings.adapt
        self.estimator = BandwidthEstimator(settings.bitrate)
        policy = RatePolicy(
            settings.bitrate, settings.floor, settings.fps, live_bitrate=settings.live_bitrate
        )
        self.controller = RateController(policy, clock)
        self.resends = RetransmitBudget(lambda: self.controller.target.bitrate, clock)
        self._clock = clock
        self._sent: deque[tuple[float, int]] = deque()  # (when, bytes) of packets handed to aiortc
        self._sent_bytes = 0

    @property
    def target(self) -> StreamTarget:
        return self.controller.target

    def sent(self, size: int) -> None:
        """A packet of `size` bytes went to the viewer's sender."""
        now = self._clock()
        self._sent.append((now, size))
        self._sent_bytes += size
        while self._sent and self._sent[0][0] < now - SENT_WINDOW:
            self._sent_bytes -= self._sent.popleft()[1]

    @property
    def sent_rate(self) -> float:
        """Bits per second sent over the last `SENT_WINDOW`."""
        now = self._clock()
        while self._sent and self._sent[0][0] < now - SENT_WINDOW:
            self._sent_bytes -= self._sent.popleft()[1]
        return self._sent_bytes * 8 / SENT_WINDOW

    def feedback(self, feedback: Feedback) -> StreamTarget | None:
        """Take one REMB or receiver report; the stream's new target when it calls for one."""
        self.estimator.observe(feedback, sending=self.sent_rate)
        if not self.enabled:
            return None
        return self.controller.update(self.estimator.estimate, limiting=self.estimator.limiting)

    def retransmission(self, sequence_number: int, size: int | None) -> bool:
        """Whether to resend a NACKed packet (`size` None: no longer kept)."""
        return self.resends.decide(sequence_number, size)

    def status(self, encoded: tuple[int, int]) -> dict[str, object]:
        """The `stream` message's fields: what the viewer's link carries and what it is sent."""
        target = self.target
        return {
            "estimate": self.estimator.estimate,
            "bitrate": target.bitrate,
            "fps": round(target.fps, 3),
            "width": encoded[0],
            "height": encoded[1],
            "sent": round(self.sent_rate),
            "loss": round(self.estimator.fraction_lost, 4),
            "jitter_ms": round(self.estimator.jitter * 1e3, 1),
            "retransmissions": self.resends.resent,
            "retransmissions_missed": self.resends.missed,
            "retransmissions_limited": self.resends.limited,
            "adapt": self.enabled,
        }
