"""The host's entry point: one wasmtime engine, loading components and starting guests."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from . import fast_lists
from .compile_cache import CompileCache, default_cache_dir
from .component import GuestComponent, load_component
from .engine import EngineSettings
from .guest import GuestContext, GuestOptions
from .interfaces import GuestInterfaces
from .runner import GuestRunner

__all__ = ["Runtime"]


class Runtime:
    """Compiles components and runs guests. Holds no guest state: one runtime serves many guests."""

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

    def load(self, path: Path, name: str | None = None) -> GuestComponent:
        """Compile a component (or load its cached compiled code); a ComponentError says why it
        cannot run here."""
        return load_component(self.engine, Path(path), self._provided, name, self.cache)

    def run(self, component: GuestComponent, options: GuestOptions) -> GuestRunner:
        """A runner for one guest (call `start()` or use it as a context manager)."""
        return GuestRunner(self.engine, component, options)
