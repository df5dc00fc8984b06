"""A shared stream's quality levels, and one viewer's choice among them (docs/design.md, "Shared mode").

A shared stream encodes every frame once per level (streamer/stream_task.py), whatever the number
of viewers, and each viewer's session is sent the level its link carries. The levels come from
the private streams' policy (streamer/rate_control.py), so one ladder exists:

- Level 0 is the policy's ceiling (`--bitrate`) at full size. Lower levels step the bitrate down
  in equal ratios to the floor (`--min-bitrate`); levels closer than the policy's least step
  (15%) are merged, so `--bitrate` equal to the floor gives one level.
- A level's picture is the smallest of the rungs' sizes (`RUNGS`: 1, 3/4, 1/2 of each side) whose
  area keeps up with its bitrate's share of the ceiling's: each pixel gets no fewer bits than at
  level 0.
- Every level keeps the full frame rate: a frame dropped at one level would still be rendered and
  read back for the others, and lowering the bitrate is what makes a level fit a link.

The choice follows the rungs' rules: a viewer moves down once its budget is below its level's
bitrate while the link is shown full, at most once per `REOPEN_DOWN`, straight to the level that
fits. It moves up one level once the budget has held 25% above the upper level's bitrate for
`REOPEN_UP`, or once the link has not been shown full for that long: a level sends at most its
bitrate, and a receiver's REMB never runs far ahead of what it receives (streamer/bandwidth.py),
so a link with room shows it only by carrying more. A try up that the link cannot carry comes back
down; each such failure doubles the wait before the next try (up to `MAX_UP_WAIT`). Each move
costs a keyframe on the level it moves to.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .rate_control import REOPEN_DOWN, REOPEN_UP, RatePolicy, StreamTarget

__all__ = ["LevelChooser", "ladder", "level_for"]

MAX_UP_WAIT = 60.0  # seconds: the longest wait before trying a level up again


def ladder(policy: RatePolicy, count: int) -> tuple[StreamTarget, ...]:
    """Up to `count` levels, best first (fewer when the ceiling is too close to the floor)."""
    if count < 1:
        raise ValueError(f"a shared stream needs at least one level, not {count}")
    ratio = policy.floor / policy.ceiling
    if ratio < 1:
        count = min(count, 1 + math.floor(math.log(ratio) / math.log(1 - policy.min_step) + 1e-9))
    else:
        count = 1
    scales = sorted({rung.scale for rung in policy.rungs})
    levels = []
    for index in range(count):
        bitrate = policy.ceiling if count == 1 else round(policy.ceiling * ratio ** (index / (count - 1)))
        share = math.sqrt(bitrate / policy.ceiling)
        scale = min((s for s in scales if s >= share - 1e-9), default=1.0)
        levels.append(StreamTarget(bitrate, policy.fps, scale))
    return tuple(levels)


def level_for(levels: tuple[StreamTarget, ...], budget: int) -> int:
    """The best level whose bitrate fits `budget` (the last when none does): `RatePolicy.rung_for`
    for levels, which are sent at their bitrate rather than a floor."""
    for index, level in enumerate(levels):
        if level.bitrate <= budget:
            return index
    return len(levels) - 1


class LevelChooser:
    """One viewer's level, following its estimate under `policy`'s rules (its headroom, up margin
    and waits), without flapping."""

    def __init__(
        self, policy: RatePolicy, levels: tuple[StreamTarget, ...], clock: Callable[[], float]
    ) -> None:
        self.policy = policy
        self.levels = levels
        self.level = 0
        self._clock = clock
        self._changed = clock()
        self._up_since: float | None = None
        self._up_wait = REOPEN_UP  # doubled by each try up that failed
        self._tried_up = -1e9  # when the viewer last moved up

    @property
    def target(self) -> StreamTarget:
        return self.levels[self.level]

    def update(self, estimate: int | None, limiting: bool = True) -> int | None:
        """The level to move to when `estimate` calls for a move now, else None; `limiting`: the
        link is shown full, so the estimate may take the viewer down."""
        p = self.policy
        now = self._clock()
        budget = p.budget(estimate)
        current = self.levels[self.level].bitrate
        if not limiting:
            budget = max(budget, current)
        since = now - self._changed
        if budget < current and self.level < len(self.levels) - 1:
            self._up_since = None
            if since < REOPEN_DOWN:
                return None
            if now - self._tried_up < 2 * self._up_wait:  # the last try up did not hold
                self._up_wait = min(2 * self._up_wait, MAX_UP_WAIT)
            return self._move(level_for(self.levels, budget), now)
        room = not limiting or budget >= self.levels[max(0, self.level - 1)].bitrate * p.up_margin
        if self.level > 0 and room:
            if self._up_since is None:
                self._up_since = now
            if now - self._up_since >= self._up_wait and since >= REOPEN_UP:
                self._up_since = now
                self._tried_up = now
                return self._move(self.level - 1, now)
        else:
            self._up_since = None
        return None

    def _move(self, level: int, now: float) -> int:
        self.level = level
        self._changed = now
        if level == 0:
            self._up_wait = REOPEN_UP
        return level
