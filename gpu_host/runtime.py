"""The host's entry point: one wasmtime engine, loading components and starting guests."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

import wasmtime

from . import fast_lists
from .compile_cache import CompileCache, default_cache_dir
from .component import GuestComponent, load_component
from .engine import EngineSettings
from .epoch import EpochTicker
from .guest import GuestContext, GuestOptions
from .interfaces import GuestInterfaces
from .runner import GuestRunner

__all__ = ["Runtime"]


class Runtime:
    """Compiles components and runs guests. Holds no guest state: one runtime serves many guests.

    It owns one thread, the epoch ticker that interrupts guests running past `Limits.cpu_seconds`,
    started with the first guest; `close()` (or leaving a `with` block) stops it.
    """

    def __init__(
        self, settings: EngineSettings | None = None, cache_dir: Path | None = None, cache: bool = True
    ) -> None:
        """`cache_dir` defaults to the user's cache folder (`default_cache_dir()`); `cache=False`
        compiles every component on every load."""
        fast_lists.install()  # list<u8> (frame-buffer pixels) without per-byte Python; idempotent
        self.settings = settings or EngineSettings()
        self.engine = wasmtime.Engine(self.settings.config())
        self.cache = (
            CompileCache(cache_dir or default_cache_dir(), self.settings.describe()) if cache else None
        )
        self._provided = GuestInterfaces(GuestContext(GuestOptions())).provided()
        self._ticker = EpochTicker(self.engine) if self.settings.epoch_interruption else None
        self.closed = False

    def close(self) -> None:
        """Stop the epoch ticker (idempotent). Close the guests first: one still running can no
        longer be interrupted, and no new one may start."""
        self.closed = True
        if self._ticker is not None:
            self._ticker.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def load(self, path: Path, name: str | None = None, adapt: bool = True) -> GuestComponent:
        """Compile a component (or load its cached compiled code); a ComponentError says why it
        cannot run here. `adapt=False` leaves out the frame-buffer adapter (gpu_host/frame_buffer_adapter.py),
        for measuring the path without it."""
        return load_component(self.engine, Path(path), self._provided, name, self.cache, adapt)

    def run(self, component: GuestComponent, options: GuestOptions) -> GuestRunner:
        """A runner for one guest (call `start()` or use it as a context manager)."""
        if self.closed:
            raise RuntimeError("this Runtime is closed")
        if self._ticker is not None:
            self._ticker.start()
        return GuestRunner(self.engine, component, options, epoch_interruption=self._ticker is not None)
