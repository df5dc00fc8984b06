"""Loading a guest component: clear errors for files that are missing, not components, or unlinkable."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from wasmtime import Engine, WasmtimeError
from wasmtime.component import Component

from .compile_cache import CompileCache, Preparation
from .errors import ComponentError
from .frame_buffer_adapter import (
    ADAPTED_IMPORT,
    ADAPTER_INTERFACE,
    AdapterError,
    adapter_preparation,
    readable_import_names,
)
from .linking import split_import_name, unprovided_imports
from .wit import versions_compatible

__all__ = ["GuestComponent", "load_component"]

log = logging.getLogger(__name__)

COMPONENT_PREAMBLE = b"\0asm\x0d\x00\x01\x00"
MODULE_PREAMBLE = b"\0asm\x01\x00\x00\x00"


@dataclass(frozen=True)
class GuestComponent:
    """A compiled component ready to instantiate, with its entry point."""

    name: str
    path: Path
    component: Component
    entry: str  # "start" or the versioned wasi:cli/run export name
    adapted: bool = False  # the frame-buffer adapter is composed in front (frame_buffer_adapter.py)


def _compile(
    engine: Engine, data: bytes, cache: CompileCache | None, prepare: Preparation | None
) -> Component:
    if cache is not None:
        return cache.component(engine, data, prepare)
    return Component(engine, data if prepare is None else prepare.apply(data))


def load_component(
    engine: Engine,
    path: Path,
    provided: dict[str, str],
    name: str | None = None,
    cache: CompileCache | None = None,
    adapt: bool = True,
) -> GuestComponent:
    """`adapt=False` leaves out the frame-buffer adapter (for measuring the path without it)."""
    if not path.is_file():
        raise ComponentError(f"{path}: no such file")
    data = path.read_bytes()
    if data[:8] == MODULE_PREAMBLE:
        raise ComponentError(
            f"{path}: a core WebAssembly module, not a component; build it as a component "
            "(componentize-py, or `wasm-tools component new`)"
        )
    if data[:8] != COMPONENT_PREAMBLE:
        raise ComponentError(f"{path}: not a WebAssembly component")
    own_imports = readable_import_names(data)
    private = [n for n in own_imports if split_import_name(n)[0] == ADAPTER_INTERFACE]
    if private:  # the adapter's side of the host, not the standard's
        raise ComponentError(f"{path}: imports what this host does not provide: {', '.join(private)}")
    prepare = adapter_preparation(name or path.stem) if adapt and ADAPTED_IMPORT in own_imports else None
    try:
        try:
            component = _compile(engine, data, cache, prepare)
        except AdapterError as exc:
            # The guest's view of the interface does not match the adapter's; it keeps the direct path.
            log.warning("%s; running it without the adapter", exc)
            prepare = None
            component = _compile(engine, data, cache, prepare)
    except WasmtimeError as exc:
        raise ComponentError(f"{path}: invalid component: {str(exc).strip().splitlines()[0]}") from None
    missing = unprovided_imports(component.type.imports(engine), provided)
    if missing:
        raise ComponentError(f"{path}: imports what this host does not provide: {', '.join(missing)}")
    exports = component.type.exports(engine)
    if "start" in exports:
        entry = "start"
    else:
        runs = [e for e in exports if split_import_name(e)[0] == "wasi:cli/run"]
        if not runs or not versions_compatible("0.2.0", split_import_name(runs[0])[1] or "0.0.0"):
            raise ComponentError(f"{path}: exports neither `start: func()` nor `wasi:cli/run@0.2.x`")
        entry = runs[0]
    return GuestComponent(name or path.stem, path, component, entry, adapted=prepare is not None)
