"""Loading a guest component: clear errors for files that are missing, not components, or unlinkable."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wasmtime import Engine, WasmtimeError
from wasmtime.component import Component

from .compile_cache import CompileCache
from .errors import ComponentError
from .linking import split_import_name, unprovided_imports
from .wit import versions_compatible

__all__ = ["GuestComponent", "load_component"]

COMPONENT_PREAMBLE = b"\0asm\x0d\x00\x01\x00"
MODULE_PREAMBLE = b"\0asm\x01\x00\x00\x00"


@dataclass(frozen=True)
class GuestComponent:
    """A compiled component ready to instantiate, with its entry point."""

    name: str
    path: Path
    component: Component
    entry: str  # "start" or the versioned wasi:cli/run export name


def load_component(
    engine: Engine,
    path: Path,
    provided: dict[str, str],
    name: str | None = None,
    cache: CompileCache | None = None,
) -> GuestComponent:
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
    try:
        component = cache.component(engine, data) if cache else Component(engine, data)
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
    return GuestComponent(name or path.stem, path, component, entry)
