"""The host's entry point: one wasmtime engine, loading components and starting guests."""

from __future__ import annotations

from pathlib import Path

import wasmtime

from . import fast_lists
from .component import GuestComponent, load_component
from .guest import GuestContext, GuestOptions
from .interfaces import GuestInterfaces
from .runner import GuestRunner

__all__ = ["Runtime"]


class Runtime:
    """Compiles components and runs guests. Holds no guest state: one runtime serves many guests."""

    def __init__(self) -> None:
        fast_lists.install()  # list<u8> (frame-buffer pixels) without per-byte Python; idempotent
        self.engine = wasmtime.Engine(wasmtime.Config())
        self._provided = GuestInterfaces(GuestContext(GuestOptions())).provided()

    def load(self, path: Path, name: str | None = None) -> GuestComponent:
        """Compile a component; a ComponentError says why it cannot run here."""
        return load_component(self.engine, Path(path), self._provided, name)

    def run(self, component: GuestComponent, options: GuestOptions) -> GuestRunner:
        """A runner for one guest (call `start()` or use it as a context manager)."""
        return GuestRunner(self.engine, component, options)
