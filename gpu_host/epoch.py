"""CPU limits through wasmtime's epoch interruption: the runtime's ticker and each guest's deadline.

The engine compiles an epoch check into every function entry and loop head
(`EngineSettings.epoch_interruption`). One `EpochTicker` per runtime advances the engine's epoch
every `TICK_SECONDS`; each guest's store traps when the epoch passes its deadline. A `CpuDeadline`
arms that deadline: `Limits.startup_cpu_seconds` until the guest first waits, then
`Limits.cpu_seconds`, re-armed every time the guest comes back from a wait (a `poll` or `block`
that blocked, a `present` that waited for the consumer). Time blocked in those waits therefore
never counts; time in other host calls does, so a guest that loops on host calls without ever
waiting is interrupted too. A host call that blocks for a bounded time without being a wait of the
guest (a GPU wait, bounded by `Limits.gpu_wait_seconds`) can run inside `CpuDeadline.blocked()`:
its time is then not counted, and the allowance is not renewed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from wasmtime import Engine, Store

from .limits import Limits

__all__ = ["TICK_SECONDS", "CpuDeadline", "CpuLimitExceeded", "EpochTicker"]

TICK_SECONDS = 0.05


def ticks_for(seconds: float) -> int:
    """Ticks that are sure to cover `seconds`: the first tick may come at once, hence the one more."""
    return max(1, math.ceil(seconds / TICK_SECONDS)) + 1


class EpochTicker:
    """A thread that increments the engine's epoch every `TICK_SECONDS` until `stop()`."""

    def __init__(self, engine: Engine, interval: float = TICK_SECONDS) -> None:
        self._engine = engine
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start ticking (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="wasm epoch ticker", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop ticking and wait for the thread (idempotent). Guests still running are no longer
        interrupted once it has stopped."""
        with self._lock:
            self._stopping.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self._engine.increment_epoch()


@dataclass(frozen=True)
class CpuLimitExceeded:
    """Which limit an interrupted guest ran past, for its one-line message."""

    seconds: float
    setting: str  # "Limits.cpu_seconds" or "Limits.startup_cpu_seconds"
    before_first_wait: bool


class CpuDeadline:
    """The epoch deadline of one guest's store. Only the guest's thread calls it."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._store: Store | None = None
        self._budget = limits.startup_cpu_seconds
        self._armed_at = time.monotonic()
        self._blocked = 0.0  # seconds spent in `blocked()` since the deadline was armed
        self.waited_once = False

    def attach(self, store: Store) -> None:
        """Arm the startup deadline on a new store (before instantiating: the start functions run)."""
        self._store = store
        self._arm(self._limits.startup_cpu_seconds)

    def waited(self) -> None:
        """The guest comes back from a wait: it may run `cpu_seconds` again."""
        self.waited_once = True
        self._arm(self._limits.cpu_seconds)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Around a host call that blocks without being a wait of the guest (a bounded GPU wait):
        the time inside does not count, but the guest's allowance is not renewed either."""
        started = time.monotonic()
        try:
            yield
        finally:
            now = time.monotonic()
            self._blocked += now - started
            if self._store is not None:
                used = now - self._armed_at - self._blocked
                self._store.set_epoch_deadline(ticks_for(max(0.0, self._budget - used)))

    def _arm(self, seconds: float) -> None:
        self._budget = seconds
        self._armed_at = time.monotonic()
        self._blocked = 0.0
        if self._store is not None:
            self._store.set_epoch_deadline(ticks_for(seconds))

    def detach(self) -> None:
        self._store = None

    def exceeded(self) -> CpuLimitExceeded:
        """The limit the guest just ran past (when its store trapped on the epoch deadline)."""
        if self.waited_once:
            return CpuLimitExceeded(self._limits.cpu_seconds, "Limits.cpu_seconds", False)
        return CpuLimitExceeded(self._limits.startup_cpu_seconds, "Limits.startup_cpu_seconds", True)
