"""wasi:io/poll: the one `pollable` type every interface hands out, and `poll` itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..linking import HostInterface, wit
from ..resources import Resource

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["Poll", "Pollable"]


class Pollable(Resource):
    """Ready when `is_ready()` says so; clock pollables also carry their deadline (guest ns).
    `input`: an input event source, which a held frame tick waits for (gpu_host/frame_clock.py)."""

    wit_resource = "wasi:io/poll#pollable"

    def __init__(
        self, is_ready: Callable[[], bool], deadline_ns: int | None = None, input: bool = False
    ) -> None:
        self.is_ready = is_ready
        self.deadline_ns = deadline_ns
        self.input = input


class Poll(HostInterface):
    interface = "wasi:io/poll"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    # WIT: [method]pollable.ready
    @wit("[method]pollable.ready")
    def ready(self, p: Pollable) -> bool:
        with self.ctx.waker.lock:
            self._settle([p])
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

    def _settle(self, pollables: list[Pollable]) -> None:
        """The guest is looking at these pollables: a frame tick held for input is granted once
        none of the input ones among them is ready (docs/design.md, "Input before the frame")."""
        self.ctx.frames.settle([p.is_ready for p in pollables if p.input])

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
                self._settle(pollables)
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
                    timeouts = []
                    if earliest is not None:
                        timeouts.append((earliest - ctx.clock.monotonic_ns()) / 1e9)
                    if (held_until := ctx.frames.hold_deadline()) is not None:
                        timeouts.append(held_until - time.perf_counter())
                    lock.wait(max(0.0, min(timeouts)) if timeouts else None)
