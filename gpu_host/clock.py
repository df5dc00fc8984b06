"""The guest's sense of time: virtual in render mode (frame n is at n/fps), real when streaming."""

from __future__ import annotations

import time

__all__ = ["GuestClock"]

NS = 1_000_000_000


class GuestClock:
    """Monotonic and wall time as the guest sees them.

    In virtual mode time only moves when the guest presents a frame (`start_frame`) or when a
    guest waits on a clock and nothing else can happen first (`advance_to`), so a render is
    deterministic however fast the machine is.
    """

    def __init__(self, *, virtual: bool, fps: float) -> None:
        self.virtual = virtual
        self.fps = fps
        self._virtual_ns = 0
        self._origin = time.monotonic_ns()

    def monotonic_ns(self) -> int:
        if self.virtual:
            return self._virtual_ns
        return time.monotonic_ns() - self._origin

    def wall_ns(self) -> int:
        if self.virtual:
            return self._virtual_ns
        return time.time_ns()

    def frame_time_ns(self, index: int) -> int:
        return round(index * NS / self.fps)

    def start_frame(self, index: int) -> None:
        """Virtual time of frame `index` (never backwards, in case a sleep ran past it)."""
        if self.virtual:
            self._virtual_ns = max(self._virtual_ns, self.frame_time_ns(index))

    def advance_to(self, ns: int) -> None:
        if self.virtual:
            self._virtual_ns = max(self._virtual_ns, ns)

    @property
    def resolution_ns(self) -> int:
        return 1 if not self.virtual else max(1, round(NS / self.fps))
