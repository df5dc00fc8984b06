"""wasi:clocks: monotonic and wall clocks read from the guest's `GuestClock` (virtual when rendering)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clock import NS
from ..linking import HostInterface, record, wit
from .poll import Pollable

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["MonotonicClock", "WallClock"]


class MonotonicClock(HostInterface):
    interface = "wasi:clocks/monotonic-clock"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("now")
    def now(self) -> int:
        return self.ctx.clock.monotonic_ns()

    @wit("resolution")
    def resolution(self) -> int:
        return self.ctx.clock.resolution_ns

    @wit("subscribe-instant")
    def subscribe_instant(self, when: int) -> Pollable:
        return Pollable(lambda: False, deadline_ns=when)

    @wit("subscribe-duration")
    def subscribe_duration(self, duration: int) -> Pollable:
        return Pollable(lambda: False, deadline_ns=self.ctx.clock.monotonic_ns() + duration)


class WallClock(HostInterface):
    interface = "wasi:clocks/wall-clock"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("now")
    def now(self) -> Any:
        ns = self.ctx.clock.wall_ns()
        return record(seconds=ns // NS, nanoseconds=ns % NS)

    @wit("resolution")
    def resolution(self) -> Any:
        ns = self.ctx.clock.resolution_ns
        return record(seconds=ns // NS, nanoseconds=ns % NS)
