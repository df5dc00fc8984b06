"""One viewer's link in the main process: its RTCP feedback in, its stream's target out, and the
figures `/metrics` and the page's stats overlay show (docs/protocol.md, `stream`).

The estimate (streamer/bandwidth.py) and the decision (streamer/rate_control.py, or
streamer/levels.py for a viewer of a shared stream's levels) are pure; this joins them to a
session's encoder settings and decides, within a budget, what is resent on its NACKs
(streamer/retransmission.py).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from .bandwidth import REMB_LIMITING, BandwidthEstimator, Feedback, Remb
from .encoder import EncoderSettings
from .levels import LevelChooser
from .rate_control import RateController, RatePolicy, StreamTarget
from .retransmission import RetransmitBudget

__all__ = ["LinkAdapter", "rate_policy"]

SENT_WINDOW = 1.0  # seconds of sent bytes the sent rate is measured over (a receiver's window too)
# A shared stream's level is compared with what was sent over longer: its rate is fixed, so only a
# keyframe makes it burst, and a burst (forced ones come whenever a viewer joins) must not read as
# a full link while the REMB catches up with it (streamer/levels.py).
LEVEL_WINDOW = 4.0


class SentRate:
    """Bits per second handed to a viewer's sender over the last `window` seconds."""

    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self.window = window
        self._clock = clock
        self._sent: deque[tuple[float, int]] = deque()  # (when, bytes)
        self._bytes = 0

    def add(self, size: int) -> None:
        self._sent.append((self._clock(), size))
        self._bytes += size
        self._expire()

    @property
    def rate(self) -> float:
        self._expire()
        return self._bytes * 8 / self.window

    def _expire(self) -> None:
        start = self._clock() - self.window
        while self._sent and self._sent[0][0] < start:
            self._bytes -= self._sent.popleft()[1]


def rate_policy(settings: EncoderSettings) -> RatePolicy:
    """The policy a stream encoded with `settings` adapts under."""
    return RatePolicy(settings.bitrate, settings.floor, settings.fps, live_bitrate=settings.live_bitrate)


class LinkAdapter:
    """Follows one viewer's link. With `settings.adapt` off it still estimates and counts, but the
    target stays at the ceiling. `levels`: the viewer watches a shared stream encoded at these
    (streamer/levels.py), and its target is the one that fits its link."""

    def __init__(
        self,
        settings: EncoderSettings,
        clock: Callable[[], float] = time.monotonic,
        levels: tuple[StreamTarget, ...] | None = None,
    ) -> None:
        self.enabled = settings.adapt
        self.estimator = BandwidthEstimator(settings.bitrate)
        policy = rate_policy(settings)
        self.controller = RateController(policy, clock)
        self.chooser = LevelChooser(policy, levels, clock) if levels else None
        self.resends = RetransmitBudget(
            lambda: self.target.bitrate, lambda: self.estimator.fraction_lost, clock
        )
        self._clock = clock
        self._sent = SentRate(SENT_WINDOW, clock)
        self._sent_long = SentRate(LEVEL_WINDOW, clock)
        self._remb_rising = False  # the last REMB was above the one before

    @property
    def target(self) -> StreamTarget:
        return self.controller.target if self.chooser is None else self.chooser.target

    @property
    def level(self) -> int:
        """The shared stream's level that fits the link (0 for a private stream)."""
        return 0 if self.chooser is None else self.chooser.level

    def sent(self, size: int) -> None:
        """A packet of `size` bytes went to the viewer's sender."""
        self._sent.add(size)
        self._sent_long.add(size)

    @property
    def sent_rate(self) -> float:
        """Bits per second sent over the last `SENT_WINDOW`."""
        return self._sent.rate

    def feedback(self, feedback: Feedback) -> StreamTarget | None:
        """Take one REMB or receiver report; the stream's new target when it calls for one."""
        if isinstance(feedback, Remb):
            last = self.estimator.remb
            self._remb_rising = last is None or feedback.bitrate > last  # the first: still learning
        self.estimator.observe(feedback, sending=self.sent_rate)
        if not self.enabled:
            return None
        estimate, limiting = self.estimator.estimate, self.estimator.limiting
        if self.chooser is not None:
            return None if self.chooser.update(estimate, self._level_full()) is None else self.chooser.target
        return self.controller.update(estimate, limiting=limiting)

    def _level_full(self) -> bool:
        """Whether the link is shown full for a shared stream's level: heavy loss, or a REMB under
        what the level sent (over `LEVEL_WINDOW`) that is not rising. A receiver's estimator
        starts from what it first received and climbs from there (aiortc's by 1 kb/s a report on
        a still picture's few kb/s), so a climbing REMB under a level is a receiver still
        learning the link; one cut by an overuse falls."""
        e = self.estimator
        if e.lossy:
            return True
        return e.remb is not None and not self._remb_rising and e.remb < REMB_LIMITING * self._sent_long.rate

    def retransmission(self, sequence_number: int, size: int | None) -> int:
        """How many copies of a NACKed packet to resend (`size` None: no longer kept)."""
        return self.resends.decide(sequence_number, size)

    def status(self, encoded: tuple[int, int], target: StreamTarget | None = None) -> dict[str, object]:
        """The `stream` message's fields: what the viewer's link carries and what it is sent
        (`target`: what it is sent, when not yet its own target, as while a level switch waits)."""
        target = target or self.target
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
