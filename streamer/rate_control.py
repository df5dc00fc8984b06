"""What a viewer's stream is encoded at, decided from its bandwidth estimate (streamer/bandwidth.py).

One decision, in one place, pure: `RateController.update` takes an estimate and answers a new
`StreamTarget` or None, reading time from the clock it was given (docs/design.md, "Adapting to
the network"). The policy:

- The budget is 90% of the estimate (the encoder overshoots its target by a few percent, and
  retransmissions, RTCP and the data channel share the link); with no estimate, the ceiling.
  While the estimator does not call the link full (`BandwidthEstimator.limiting`: a still
  picture sends little and its REMB follows), the stream is never sent at less than it is and
  never steps down a rung. It probes instead: a REMB follows what it receives (a few percent a
  second), so waiting for it would take a minute to climb back after a cap lifts. From 3 s after
  the link was last shown full the bitrate may grow by the least step (15%) past the REMB, up
  to 95% of the bitrate that filled it; from 8 s by half (`fast_growth`), every up interval. A
  link that is still full soon says so, and the probe costs a short queue once every few seconds.
- The bitrate follows the budget between the rung's floor and the ceiling (`--bitrate`), in steps
  of at least 15% (or onto a bound), down at most once a second and up at most once every 2 s
  when the codec changes bitrate in place (H.264, measured in docs/performance.md); 3 s and 5 s
  when a change reopens the encoder and costs a keyframe (VP8).
- When the budget is below even the floor (and the bitrate is there already), the stream steps
  down a rung of `RUNGS`: first the
  frame rate (30 -> 20 -> 15 fps), then the encoded picture's size (3/4, then 1/2 of each side;
  never the guest's surface). A rung's floor is the floor scaled by its frame rate and area, so
  each frame keeps the bits the floor gives it. A rung change reopens the encoder (a keyframe),
  so it waits 3 s after the last change going down.
- A rung comes back once the budget has stayed 25% above the upper rung's floor for 5 s.

`RatePolicy.rung_for` is the same choice without history. A shared stream's levels
(streamer/levels.py) are built from this policy, and chosen by the same rules, by level bitrate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RUNGS", "RateController", "RatePolicy", "Rung", "StreamTarget"]


@dataclass(frozen=True)
class Rung:
    """A step down from full quality: a fraction of the frame rate and of each side of the picture."""

    fps: float
    scale: float


RUNGS = (Rung(1.0, 1.0), Rung(2 / 3, 1.0), Rung(0.5, 1.0), Rung(0.5, 0.75), Rung(0.5, 0.5))


@dataclass(frozen=True)
class StreamTarget:
    """What the worker's encoder is asked for (streamer/messages.py `SetTarget` carries it)."""

    bitrate: int  # bits per second
    fps: float
    scale: float  # of each side of the surface, for the encoded picture


@dataclass(frozen=True)
class RatePolicy:
    ceiling: int  # --bitrate
    floor: int  # --min-bitrate: the least bitrate worth sending at full frame rate and size
    fps: float  # --fps, the top rung's
    live_bitrate: bool = True  # the codec changes bitrate without a keyframe (H.264)
    headroom: float = 0.9
    min_step: float = 0.15
    up_margin: float = 1.25
    fast_growth: float = 1.5  # a step up, long after the last congestion
    rungs: tuple[Rung, ...] = RUNGS

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.ceiling:
            raise ValueError(
                f"the floor ({self.floor}) must be above 0 and at most the ceiling ({self.ceiling})"
            )

    @property
    def down_interval(self) -> float:
        return 1.0 if self.live_bitrate else REOPEN_DOWN

    @property
    def up_interval(self) -> float:
        return 2.0 if self.live_bitrate else REOPEN_UP

    def rung_floor(self, rung: int) -> int:
        r = self.rungs[rung]
        return round(self.floor * r.fps * r.scale * r.scale)

    def budget(self, estimate: int | None) -> int:
        return self.ceiling if estimate is None else round(estimate * self.headroom)

    def target(self, rung: int, bitrate: int) -> StreamTarget:
        r = self.rungs[rung]
        return StreamTarget(bitrate, self.fps * r.fps, r.scale)

    def rung_for(self, budget: int) -> int:
        """The highest rung whose floor fits `budget` (the last when none does)."""
        for index in range(len(self.rungs)):
            if self.rung_floor(index) <= budget:
                return index
        return len(self.rungs) - 1


PROBE_AFTER = 3.0  # seconds after the link was last shown full before the bitrate grows past REMB
FAST_AFTER = 8.0  # and before it grows fast (`RatePolicy.fast_growth` a step, not the least step)
REOPEN_DOWN = 3.0  # seconds after any change before a step that costs a keyframe, going down
REOPEN_UP = 5.0  # and going up (also how long a rung's budget must hold before it comes back)


class RateController:
    """One viewer's stream target, following its estimate under `policy`'s rules."""

    def __init__(self, policy: RatePolicy, clock: Callable[[], float]) -> None:
        self.policy = policy
        self._clock = clock
        self.rung = 0
        self.bitrate = policy.ceiling
        self._changed = clock()
        self._up_since: float | None = None
        self._congested = -1e9  # when the link was last shown full
        self._congested_rate = policy.ceiling  # and the bitrate it was sent then

    @property
    def target(self) -> StreamTarget:
        return self.policy.target(self.rung, self.bitrate)

    def update(self, estimate: int | None, limiting: bool = True) -> StreamTarget | None:
        """The new target when `estimate` (bits per second, None: unlimited) calls for one now;
        `limiting`: the link is shown to be full, so the estimate may take the stream down."""
        p = self.policy
        now = self._clock()
        budget = p.budget(estimate)
        if limiting:
            self._congested = now
            self._congested_rate = self.bitrate
        else:
            # Nothing says the link is full: grow past a REMB that lags behind (it follows what
            # it receives): gently, and not past what last filled the link, while that is recent;
            # fast once it is not.
            quiet = now - self._congested
            if quiet >= FAST_AFTER:
                probe = round(self.bitrate * p.fast_growth)
            elif quiet >= PROBE_AFTER:
                probe = min(round(self.bitrate * (1 + p.min_step)), round(self._congested_rate * 0.95))
            else:
                probe = self.bitrate
            budget = max(budget, probe)
        since = now - self._changed
        last = len(p.rungs) - 1
        if budget < p.rung_floor(self.rung) and self.rung < last and self.bitrate <= p.rung_floor(self.rung):
            self._up_since = None  # already at the floor: the next rung, once the last change has settled
            return self._move(self.rung + 1, budget, now) if since >= REOPEN_DOWN else None
        if self.rung > 0 and budget >= p.rung_floor(self.rung - 1) * p.up_margin:
            if self._up_since is None:
                self._up_since = now
            if now - self._up_since >= REOPEN_UP and since >= REOPEN_UP:
                self._up_since = now  # the next rung's wait starts now, if the budget still holds
                return self._move(self.rung - 1, budget, now)
        else:
            self._up_since = None
        low = p.rung_floor(self.rung)
        wanted = min(p.ceiling, max(low, budget))
        if wanted == self.bitrate:
            return None
        onto_bound = wanted in (low, p.ceiling)
        if abs(wanted - self.bitrate) < p.min_step * self.bitrate and not onto_bound:
            return None
        if since < (p.down_interval if wanted < self.bitrate else p.up_interval):
            return None
        self.bitrate = wanted
        self._changed = now
        return self.target

    def _move(self, rung: int, budget: int, now: float) -> StreamTarget:
        self.rung = rung
        self.bitrate = min(self.policy.ceiling, max(self.policy.rung_floor(rung), budget))
        self._changed = now
        return self.target
