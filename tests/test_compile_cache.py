"""Compiled guests are cached on disk: a second start compiles nothing, and a bad entry is recompiled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import wasmtime

from gpu_host import ComponentError, GuestOptions, Runtime
from gpu_host.compile_cache import MAGIC, CompileCache
from gpu_host.engine import EngineSettings
from scenes.build import scene_path

ORANGE = (255, 102, 0)


def centre_pixel(runtime: Runtime, path: Path, options: Callable[..., GuestOptions]) -> tuple[int, ...]:
    with runtime.run(runtime.load(path), options("triangle")) as guest:
        frame = guest.next_frame()
    return tuple(int(v) for v in frame.rgb[24, 32])


def the_entry(directory: Path) -> Path:
    entries = list(directory.glob("*.cwasm"))
    assert len(entries) == 1, entries
    return entries[0]


@pytest.fixture
def triangle() -> Path:
    return scene_path("triangle")


def test_second_start_compiles_nothing(
    tmp_path: Path, triangle: Path, options: Callable[..., GuestOptions]
) -> None:
    directory = tmp_path / "cache"
    first = Runtime(cache_dir=directory)
    assert centre_pixel(first, triangle, options) == ORANGE
    assert first.cache is not None and (first.cache.stats.compiled, first.cache.stats.hits) == (1, 0)
    assert directory.stat().st_mode & 0o077 == 0  # created for this user only

    second = Runtime(cache_dir=directory)  # a new engine, as in a new process
    assert centre_pixel(second, triangle, options) == ORANGE
    assert second.cache is not None
    assert (second.cache.stats.compiled, second.cache.stats.hits, second.cache.stats.rejected) == (0, 1, 0)


def tiny_component(answer: int) -> bytes:
    """A real component that compiles in milliseconds (a componentize-py guest takes seconds)."""
    wat = f'(component (core module (func (export "f") (result i32) i32.const {answer})))'
    return bytes(wasmtime.wat2wasm(wat))


def cached(directory: Path, data: bytes, settings: EngineSettings | None = None) -> CompileCache:
    """A fresh engine and cache (as in a new process) that has just loaded `data`."""
    settings = settings or EngineSettings()
    cache = CompileCache(directory, settings.describe())
    component = cache.component(wasmtime.Engine(settings.config()), data)
    assert component.serialize()  # a usable compiled component either way
    return cache


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda blob: blob[: len(blob) // 2], "checksum"),
        (lambda blob: blob[:-10] + b"0123456789", "checksum"),
        (lambda blob: b"\x7fELF" + blob[4:], "not a cache entry"),
        (lambda blob: b"", "not a cache entry"),
    ],
    ids=["truncated", "corrupt-payload", "foreign-format", "empty"],
)
def test_a_damaged_entry_is_recompiled_not_loaded(
    tmp_path: Path, damage: Callable[[bytes], bytes], why: str
) -> None:
    cached(tmp_path, tiny_component(1))
    entry = the_entry(tmp_path)
    entry.write_bytes(damage(entry.read_bytes()))

    cache = cached(tmp_path, tiny_component(1))
    assert (cache.stats.compiled, cache.stats.hits, cache.stats.rejected) == (1, 0, 1)
    assert why in cache.stats.last_rejection
    assert the_entry(tmp_path).read_bytes().startswith(MAGIC)  # rewritten whole

    again = cached(tmp_path, tiny_component(1))
    assert (again.stats.compiled, again.stats.hits) == (0, 1)


def test_an_entry_of_another_component_is_foreign(tmp_path: Path) -> None:
    cached(tmp_path, tiny_component(1))
    other = the_entry(tmp_path)
    cache = CompileCache(tmp_path, EngineSettings().describe())
    other.rename(tmp_path / f"{cache.key(tiny_component(2)).hex()}.cwasm")

    cache.component(wasmtime.Engine(EngineSettings().config()), tiny_component(2))
    assert (cache.stats.compiled, cache.stats.hits, cache.stats.rejected) == (1, 0, 1)
    assert "another component" in cache.stats.last_rejection


def test_other_engine_settings_miss(tmp_path: Path) -> None:
    cached(tmp_path, tiny_component(1))
    other = cached(tmp_path, tiny_component(1), EngineSettings(cranelift_opt_level="speed_and_size"))
    assert (other.stats.compiled, other.stats.hits) == (1, 0)
    assert len(list(tmp_path.glob("*.cwasm"))) == 2
    assert cached(tmp_path, tiny_component(1)).stats.hits == 1


def test_a_folder_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    cached(tmp_path, tiny_component(1))
    tmp_path.chmod(0o777)
    cache = cached(tmp_path, tiny_component(1))
    assert (cache.stats.compiled, cache.stats.hits) == (1, 0)


def test_cache_can_be_turned_off(tmp_path: Path) -> None:
    runtime = Runtime(cache_dir=tmp_path, cache=False)
    with pytest.raises(ComponentError, match="exports neither"):
        runtime.load(write(tmp_path / "tiny.wasm", tiny_component(1)))
    assert runtime.cache is None and not list(tmp_path.glob("*.cwasm"))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
