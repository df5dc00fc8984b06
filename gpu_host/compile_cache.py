"""Compiled guest code kept on disk, so a second start of the same component compiles nothing.

Compiling a componentize-py guest takes seconds; loading its serialized machine code takes
milliseconds. Deserializing runs native code that wasmtime trusts blindly, so an entry is used only
when every check passes, and anything else is recompiled and rewritten:

- the cache folder belongs to this user and nobody else can write to it;
- the file starts with this format's magic and the entry's own key (a file copied or renamed from
  another entry is foreign);
- the sha256 of the serialized code matches the one written beside it (a truncated or corrupt file);
- wasmtime itself accepts it (it refuses code built by another version or configuration).

The key is the sha256 of the wasmtime version, the machine, the engine settings that change
compiled code (`EngineSettings`) and the component's bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from wasmtime import Engine, WasmtimeError
from wasmtime.component import Component

__all__ = ["CacheStats", "CompileCache", "Preparation", "default_cache_dir"]

log = logging.getLogger(__name__)

MAGIC = b"wasi-gfx-streamer compiled component v1\n"
DIGEST_SIZE = 32
APP_DIR = "wasi-gfx-streamer"


def default_cache_dir() -> Path:
    """`$STREAMER_CACHE_DIR`, else `$XDG_CACHE_HOME/wasi-gfx-streamer/components`, else ~/.cache."""
    explicit = os.environ.get("STREAMER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / APP_DIR / "components"


@dataclass
class CacheStats:
    """What the cache did: entries loaded, components compiled, entries refused and why."""

    hits: int = 0
    compiled: int = 0
    rejected: int = 0
    last_rejection: str = ""


@dataclass(frozen=True)
class Preparation:
    """A change made to a component's bytes before compiling (gpu_host/frame_buffer_adapter.py):
    `identity` names it in the cache key, so a hit skips `apply` as well as the compiler."""

    identity: bytes
    apply: Callable[[bytes], bytes]


class CompileCache:
    """A folder of serialized components for one engine configuration."""

    def __init__(self, directory: Path, engine_description: str) -> None:
        self.directory = Path(directory)
        self._engine_description = engine_description
        self.stats = CacheStats()

    def key(self, data: bytes) -> bytes:
        digest = hashlib.sha256()
        for part in (
            f"wasmtime {version('wasmtime')}",
            f"machine {platform.machine()} {platform.system()}",
            f"engine {self._engine_description}",
        ):
            digest.update(part.encode() + b"\0")
        digest.update(data)
        return digest.digest()

    def component(self, engine: Engine, data: bytes, prepare: Preparation | None = None) -> Component:
        """The compiled component for `data` (after `prepare`): from the cache when a valid entry exists.

        Raises WasmtimeError when `data` does not compile, exactly like `Component(engine, data)`.
        """
        key = self.key(data if prepare is None else prepare.identity + b"\0" + data)
        path = self.directory / f"{key.hex()}.cwasm"
        usable = self._usable_directory()
        if usable and path.exists():
            cached = self._read(engine, path, key)
            if cached is not None:
                self.stats.hits += 1
                return cached
        component = Component(engine, data if prepare is None else prepare.apply(data))
        self.stats.compiled += 1
        if usable:
            self._write(path, key, component)
        return component

    def _reject(self, path: Path, why: str) -> None:
        self.stats.rejected += 1
        self.stats.last_rejection = why
        log.warning("compile cache: ignoring %s (%s); recompiling", path, why)

    def _usable_directory(self) -> bool:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = self.directory.stat()
        except OSError as exc:
            log.warning(
                "compile cache: %s is not usable (%s); compiling without a cache", self.directory, exc
            )
            return False
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            log.warning(
                "compile cache: %s is writable by other users; compiling without a cache "
                "(make it yours with mode 0700 or set STREAMER_CACHE_DIR)",
                self.directory,
            )
            return False
        return True

    def _read(self, engine: Engine, path: Path, key: bytes) -> Component | None:
        try:
            blob = path.read_bytes()
        except OSError as exc:
            self._reject(path, f"unreadable: {exc}")
            return None
        header = len(MAGIC) + 2 * DIGEST_SIZE
        if len(blob) < header or not blob.startswith(MAGIC):
            self._reject(path, "not a cache entry")
            return None
        stored_key = blob[len(MAGIC) : len(MAGIC) + DIGEST_SIZE]
        checksum = blob[len(MAGIC) + DIGEST_SIZE : header]
        payload = blob[header:]
        if stored_key != key:
            self._reject(path, "written for another component or engine")
            return None
        if hashlib.sha256(payload).digest() != checksum:
            self._reject(path, "checksum mismatch (truncated or corrupt)")
            return None
        try:
            return Component.deserialize(engine, payload)
        except WasmtimeError as exc:
            self._reject(path, f"refused by wasmtime: {str(exc).strip().splitlines()[0]}")
            return None

    def _write(self, path: Path, key: bytes, component: Component) -> None:
        try:
            payload = bytes(component.serialize())
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(MAGIC + key + hashlib.sha256(payload).digest() + payload)
                os.replace(tmp, path)  # readers see the old entry or the whole new one
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, WasmtimeError) as exc:
            log.warning("compile cache: could not write %s (%s)", path, exc)
