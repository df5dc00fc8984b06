"""wasi:io/poll: the one `pollable` type every interface hands out, and `poll` itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..linking import HostInterface, wit
from ..resources import Resource

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["Poll", "Pollable"]


class Pollable(Resource):
    """Ready when `is_ready()` says so; clock pollables also carry their deadline (guest ns)."""

    wit_resource = "wasi:io/poll#pollable"

    def __init__(self, is_ready: Callable[[], bool], deadline_ns: int | None = None) -> None:
        self.is_ready = is_ready
        self.deadline_ns = deadline_ns


class Poll(HostInterface):
    interface = "wasi:io/poll"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    # WIT: [method]pollable.ready
    @wit("[method]pollable.ready")
    def ready(self, p: Pollable) -> bool:
        return self._ready(p)

    # WIT: [method]pollable.block
    @wit("[method]pollable.block")
    def block(self, p: Pollable) -> None:
        self.wait([p])

    # WIT: poll
    @wit("poll")
    def poll(self, pollables: list[Pollable]) -> list[int]:
        if not pollables:
            raise ValueError("poll needs at least one pollable")
        return self.wait(pollables)

    def _ready(self, p: Pollable) -> bool:
        if p.deadline_ns is not None:
            return self.ctx.clock.monotonic_ns() >= p.deadline_ns
        return p.is_ready()

    def wait(self, pollables: list[Pollable]) -> list[int]:
        """Block until at least one is ready; return the indices of the ready ones.

        A wait that blocked (or moved virtual time on) re-arms the guest's CPU deadline
        (Limits.cpu_seconds): time spent here never counts as running."""
        ctx = self.ctx
        lock = ctx.waker.lock
        waited = False
        with lock:
            while True:
                ctx.waker.check()
                ready = [i for i, p in enumerate(pollables) if self._ready(p)]
                if ready:
                    if waited:
                        ctx.cpu.waited()
                    return ready
                waited = True
                deadlines = [p.deadline_ns for p in pollables if p.deadline_ns is not None]
                earliest = min(deadlines) if deadlines else None
                if ctx.clock.virtual:
                    # Nothing else can happen before the next frame tick: let virtual time jump.
                    only_clocks = len(deadlines) == len(pollables)
                    if earliest is not None and (
                        only_clocks or earliest <= ctx.clock.frame_time_ns(ctx.frames.index)
                    ):
                        ctx.clock.advance_to(earliest)
                        continue
                    lock.wait()
                else:
                    timeout = None
                    if earliest is not None:
                        timeout = max(0.0, (earliest - ctx.clock.monotonic_ns()) / 1e9)
                    lock.wait(timeout)
