"""Runs one guest on its own thread and hands its presented frames to the caller, one at a time."""

from __future__ import annotations

import gc
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Self

from wasmtime import Engine, Store, WasmtimeError
from wasmtime.component import Variant

from .component import GuestComponent
from .errors import (
    GuestCallError,
    GuestEnded,
    GuestError,
    GuestExit,
    GuestExitRequest,
    GuestLimitExceeded,
    GuestStopped,
    GuestTrap,
    HostError,
    NotImplementedByHost,
)
from .events import InputEvent
from .frame import Frame, PendingFrame
from .guest import GuestContext, GuestOptions
from .interfaces import GuestInterfaces
from .linking import build_linker
from .webgpu.objects import GpuDevice

__all__ = ["GuestRunner"]

log = logging.getLogger(__name__)


NO_EPOCH_DEADLINE = 1 << 40  # ticks: never, without overflowing the engine's epoch counter
EPOCH_TRAP = "wasm trap: interrupt"  # wasmtime's trap when a store passes its epoch deadline


def _trap_reason(text: str) -> str:
    """The cause of a wasmtime trap, without the backtrace that precedes it."""
    _, _, cause = text.rpartition("Caused by:")
    lines = [ln.strip() for ln in (cause or text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


class GuestRunner:
    """One guest: `start()`, then `next_frame()` as often as frames are wanted, then `close()`.

    The guest blocks in `wasi:io/poll.poll` on its own thread; `next_frame` grants one frame tick
    and waits for the present. Errors of the guest surface from `next_frame` as `GuestError`s
    whose message names the guest (and the call, where one failed).
    """

    def __init__(
        self,
        engine: Engine,
        component: GuestComponent,
        options: GuestOptions,
        epoch_interruption: bool = False,
    ) -> None:
        """`epoch_interruption`: the engine compiles epoch checks and something ticks its epoch
        (Runtime does both), so the guest's CPU deadline is armed."""
        self.component = component
        self.ctx = GuestContext(options)
        self.name = options.name
        self._engine = engine
        self._epoch_interruption = epoch_interruption
        self._interfaces = GuestInterfaces(self.ctx)
        self._thread: threading.Thread | None = None
        self.error: GuestError | None = None
        self.ctx.frames.describe = self._describe_read_error

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"guest {self.name}", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the guest (it unwinds at its next host call) and wait for its GPU objects to be freed."""
        self.ctx.waker.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("guest %s did not stop within %.0f s", self.name, timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """True while the guest's thread is alive (after `close`, one that would not stop)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def input_late(self) -> bool:
        """Whether the frame last taken went ahead (live, past `GuestOptions.input_settle`) with
        input the guest had not read: that input shows in a later frame."""
        return self.ctx.frames.late

    @property
    def frames_presented(self) -> int:
        return self.ctx.frames.index

    # --- frames and input -------------------------------------------------------------------------

    def request_frame(self, events: Sequence[InputEvent] = (), discard: bool = False) -> None:
        """Give the guest its next frame tick, with `events` queued first: while input is
        waiting, the tick is held until the guest has taken it (docs/design.md, "Input before
        the frame"), so the frame shows the input whichever the guest services first, and the
        same script gives the same frames however the threads are scheduled. Does not wait;
        `take_frame` does. `discard`: the frame's pixels are never read (`skip`)."""
        self.start()
        with self.ctx.waker.lock:
            for event in events:
                self.send_event(event)
            self.ctx.frames.request(discard, hold=self._interfaces.surface.input_waiting())

    def take_frame(self, timeout: float | None = 60.0) -> PendingFrame:
        """The frame presented after the last `request_frame`, its pixels possibly still on their
        way (`PendingFrame.result()` waits for them); a GuestError if the guest ended, failed, or
        took longer than `timeout`."""
        frames = self.ctx.frames
        pending = frames.take(timeout)
        if pending is not None:
            return pending
        if self.error is not None:
            raise self.error
        if frames.ended:
            raise GuestEnded(f"guest '{self.name}' ended after {frames.index} frames")
        raise GuestError(f"guest '{self.name}' presented no frame within {timeout or 0:.0f} s")

    def next_frame(self, timeout: float | None = 60.0, events: Sequence[InputEvent] = ()) -> Frame:
        """The next presented frame, read back; a GuestError if the guest ended, failed, or took
        too long. One frame at a time: `frames` overlaps the readback with the next frame."""
        self.request_frame(events)
        return self.take_frame(timeout).result()

    def frames(
        self,
        count: int,
        events: Callable[[int], Sequence[InputEvent]] = lambda _index: (),
        timeout: float | None = 60.0,
    ) -> Iterator[Frame]:
        """`count` frames in order, frame n's events being `events(n)`; the guest renders frame
        n+1 while frame n is read back and the caller uses it, with at most
        `GuestOptions.frames_in_flight` frames requested and not yet yielded. The frames are the
        ones `next_frame` would give: ticks, time and input reach the guest in the same order."""
        depth = max(1, self.ctx.options.frames_in_flight)
        pending: deque[PendingFrame] = deque()
        requested = taken = done = 0
        while done < count:
            if requested == taken and requested < count and requested - done < depth:
                self.request_frame(events(requested))
                requested += 1
            if pending and (requested > taken or requested == count or requested - done >= depth):
                frame = pending.popleft().result()
                done += 1
                yield frame
            else:
                try:
                    pending.append(self.take_frame(timeout))
                except GuestError:
                    while pending:  # the frames presented before the guest ended still count
                        yield pending.popleft().result()
                    raise
                taken += 1

    def skip(
        self,
        count: int,
        events: Callable[[int], Sequence[InputEvent]] = lambda _index: (),
        timeout: float | None = 60.0,
    ) -> None:
        """Run the guest through its next `count` frames as `frames` would (the same ticks, time
        and input), without reading their pixels: a chunk of a long render starts its guest
        where the frames before the chunk left it. The guest's GPU work still runs."""
        for index in range(count):
            self.request_frame(events(index), discard=True)
            self.take_frame(timeout)

    def send_event(self, event: InputEvent) -> None:
        """Queue an input event (gpu_host.events) for the guest's surfaces."""
        self._interfaces.surface.push_event(event)

    # --- the guest thread -------------------------------------------------------------------------

    def _run(self) -> None:
        ctx = self.ctx
        try:
            self._call_entry()
        except BaseException as exc:
            log.debug("guest %s ended", self.name, exc_info=exc)
            self.error = self._describe(exc)
        finally:
            ctx.cpu.detach()
            ctx.output.flush()
            # The caller learns how the guest ended at once; `close()` waits for the release, which
            # can block for long after a GPU wait timed out (the device's work still runs).
            ctx.frames.end()
            self._release()

    def _call_entry(self) -> None:
        ctx = self.ctx
        store = Store(self._engine)
        limits = ctx.options.limits
        # Linear memories and tables past these fail to grow inside the guest (memory.grow -1).
        store.set_limits(memory_size=limits.memory_bytes, table_elements=limits.table_elements)
        if self._epoch_interruption:
            ctx.cpu.attach(store)
        else:
            store.set_epoch_deadline(NO_EPOCH_DEADLINE)  # an engine with epoch checks but no ticker
        linker = build_linker(
            self._engine,
            self.component.component,
            self._interfaces.all,
            ctx.table,
            ctx.waker.check,
            ctx.calls,
            trampoline=ctx.options.wasmtime_trampoline,
        )
        instance = linker.instantiate(store, self.component.component)
        entry = self.component.entry
        if entry == "start":
            func = instance.get_func(store, "start")
        else:
            run = instance.get_export_index(store, entry)
            index = instance.get_export_index(store, "run", run) if run is not None else None
            func = instance.get_func(store, index) if index is not None else None
        if func is None:
            raise GuestTrap(f"guest '{self.name}': its entry point {entry} cannot be called")
        result = func(store)
        func.post_return(store)
        if isinstance(result, Variant) and result.tag == "err":
            raise GuestExitRequest(1)

    def _describe_read_error(self, exc: BaseException) -> BaseException:
        """A frame's pixels could not be read (on the consumer's thread): the guest's error."""
        return self._describe(exc) or GuestTrap(f"guest '{self.name}': its frame could not be read")

    def _describe(self, exc: BaseException) -> GuestError | None:
        """The one-line error for how the guest ended, or None for a stop the host asked for."""
        name = self.name
        if isinstance(exc, GuestStopped):
            return None
        if isinstance(exc, GuestExitRequest):
            if exc.status == 0:
                return None
            return GuestExit(f"guest '{name}' exited with status {exc.status}", exc.status)
        if isinstance(exc, NotImplementedByHost):
            return GuestTrap(f"guest '{name}': {exc}")
        if isinstance(exc, GuestCallError):
            if exc.limit is not None:  # Limits.handles, Limits.gpu_wait_seconds
                return GuestLimitExceeded(f"guest '{name}' failed in {exc}", exc.limit)
            return GuestTrap(f"guest '{name}' failed in {exc}")
        if isinstance(exc, GuestError):
            return exc
        if isinstance(exc, HostError):
            return GuestTrap(f"guest '{name}': {exc}")
        if isinstance(exc, WasmtimeError):
            reason = _trap_reason(str(exc))
            if self._epoch_interruption and reason == EPOCH_TRAP:
                over = self.ctx.cpu.exceeded()
                when = " before its first wait" if over.before_first_wait else " without waiting"
                return GuestLimitExceeded(
                    f"guest '{name}' ran for more than {over.seconds:g} s{when} ({over.setting}); "
                    "it was interrupted",
                    over.setting,
                )
            for kind, setting in (("memory", "Limits.memory_bytes"), ("table", "Limits.table_elements")):
                if f"exceeds {kind} limits" in reason:  # at instantiation: the component's minimum
                    return GuestLimitExceeded(
                        f"guest '{name}' cannot start within {setting}: {reason}", setting
                    )
            return GuestTrap(f"guest '{name}' trapped: {reason}")
        log.error("guest %s: host failure", name, exc_info=exc)
        return GuestTrap(f"guest '{name}': host failure: {type(exc).__name__}: {_trap_reason(str(exc))}")

    def _release(self) -> None:
        """Free every object the guest held, devices last, so GPU memory returns at once."""
        objects = self.ctx.table.drain()
        devices = [obj for obj in objects if isinstance(obj, GpuDevice)]
        for obj in objects:
            if not isinstance(obj, GpuDevice):
                obj.release()
        for device in devices:
            device.release()
        objects.clear()
        devices.clear()
        gc.collect()
