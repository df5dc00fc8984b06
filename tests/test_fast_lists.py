"""The list<u8> fast path (gpu_host.fast_lists) agrees with wasmtime-py's element-by-element conversion.

The list types come from a real component: the framebuffer scene's `[method]buffer.set` takes a
`list<u8>`. The original (slow) methods are reached through `inspect.unwrap`, since the session's
Runtime has already installed the fast path.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import inspect
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wasmtime
from wasmtime import _ffi as ffi
from wasmtime.component import U8, ComponentInstanceType, FuncType, ListType, ValType

from gpu_host import GuestComponent, Runtime, fast_lists

FRAME_BUFFER = "wasi:frame-buffer/frame-buffer@0.0.1"
LENGTHS = [0, 1, 7, 4096, 921_600]  # 921,600 = one 640x360 frame of 4-byte pixels

SLOW_TO_C = inspect.unwrap(ListType.convert_to_c)
SLOW_FROM_C = inspect.unwrap(ListType.convert_from_c)


def payload(length: int) -> bytes:
    return random.Random(length).randbytes(length)


def func_types(runtime: Runtime, guest: GuestComponent) -> Iterator[tuple[str, FuncType]]:
    """Every function type among the component's imports, with its name (instance imports' functions too)."""
    engine = runtime.engine
    for name, extern in guest.component.type.imports(engine).items():
        ty = extern.ty
        if isinstance(ty, FuncType):
            yield name, ty
        elif isinstance(ty, ComponentInstanceType):
            for fname, fextern in ty.exports(engine).items():
                fty = fextern.ty
                if isinstance(fty, FuncType):
                    yield f"{name}#{fname}", fty


def list_types(ty: ValType) -> Iterator[ListType]:
    if isinstance(ty, ListType):
        yield ty
        yield from list_types(ty.element)


@pytest.fixture(scope="module")
def bytes_type(runtime: Runtime, load: Callable[[str], GuestComponent]) -> ListType:
    for name, fty in func_types(runtime, load("framebuffer")):
        if name == f"{FRAME_BUFFER}#[method]buffer.set":
            (ty,) = [t for _, t in fty.params if isinstance(t, ListType)]
            assert ty._is_bytes() and isinstance(ty.element, U8)
            return ty
    raise AssertionError(f"no {FRAME_BUFFER} [method]buffer.set import")


@pytest.fixture(scope="module")
def other_list_type(runtime: Runtime, load: Callable[[str], GuestComponent]) -> ListType:
    """A list type whose elements are not u8 (the fast path must leave it to the original)."""
    for _, fty in func_types(runtime, load("framebuffer")):
        candidates = [t for _, t in fty.params] + ([fty.result] if fty.result is not None else [])
        for candidate in candidates:
            for ty in list_types(candidate):
                if isinstance(ty.element, wasmtime.component.String):
                    return ty
    raise AssertionError("no list<string> among the framebuffer scene's imports")


@pytest.fixture(scope="module")
def store(runtime: Runtime) -> wasmtime.Store:
    return wasmtime.Store(runtime.engine)


@pytest.fixture(scope="module")
def layout() -> fast_lists.ByteListLayout:
    return fast_lists.ByteListLayout.probe()


def test_runtime_installs_the_fast_path(runtime: Runtime) -> None:
    assert importlib.metadata.version("wasmtime") == fast_lists.PINNED_WASMTIME
    assert fast_lists.installed()
    assert ListType.convert_to_c is not SLOW_TO_C
    assert ListType.convert_from_c is not SLOW_FROM_C
    methods = (ListType.convert_to_c, ListType.convert_from_c)
    assert fast_lists.install()  # idempotent: nothing is wrapped twice
    assert (ListType.convert_to_c, ListType.convert_from_c) == methods


def test_layout_matches_ctypes(layout: fast_lists.ByteListLayout) -> None:
    value = ffi.wasmtime_component_val_t()
    assert layout.stride == ctypes.sizeof(value)
    value.kind = 0xA5
    value.of.u8 = 0x5A
    raw = ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(value))
    assert raw[layout.kind_offset] == 0xA5
    assert raw[layout.u8_offset] == 0x5A


@pytest.mark.parametrize("length", LENGTHS)
def test_fast_to_c_then_slow_from_c(
    bytes_type: ListType, store: wasmtime.Store, layout: fast_lists.ByteListLayout, length: int
) -> None:
    data = payload(length)
    value = ffi.wasmtime_component_val_t()
    layout.to_c(data, ctypes.pointer(value))
    assert value.kind == ffi.WASMTIME_COMPONENT_LIST.value
    assert value.of.list.size == length
    assert SLOW_FROM_C(bytes_type, value) == data


@pytest.mark.parametrize("length", LENGTHS)
def test_slow_to_c_then_fast_from_c(
    bytes_type: ListType, store: wasmtime.Store, layout: fast_lists.ByteListLayout, length: int
) -> None:
    data = payload(length)
    fast, slow = ffi.wasmtime_component_val_t(), ffi.wasmtime_component_val_t()
    SLOW_TO_C(bytes_type, store, data, ctypes.pointer(fast))
    SLOW_TO_C(bytes_type, store, data, ctypes.pointer(slow))
    assert layout.from_c(fast) == data
    assert SLOW_FROM_C(bytes_type, slow) == data
    # Both leave the value in the same state once the vector is freed.
    assert (fast.kind, fast.of.list.size) == (slow.kind, slow.of.list.size)


@pytest.mark.parametrize("length", LENGTHS)
def test_installed_methods_round_trip(bytes_type: ListType, store: wasmtime.Store, length: int) -> None:
    data = payload(length)
    value = ffi.wasmtime_component_val_t()
    bytes_type.convert_to_c(store, data, ctypes.pointer(value))
    result = bytes_type.convert_from_c(value)
    assert type(result) is bytes and result == data


def test_to_c_rejects_what_the_original_rejects(bytes_type: ListType, store: wasmtime.Store) -> None:
    for wrong in (bytearray(b"abc"), [1, 2, 3], memoryview(b"abc"), "abc"):
        value = ffi.wasmtime_component_val_t()
        with pytest.raises(TypeError, match="expected bytes value"):
            SLOW_TO_C(bytes_type, store, wrong, ctypes.pointer(value))
        with pytest.raises(TypeError, match="expected bytes value"):
            bytes_type.convert_to_c(store, wrong, ctypes.pointer(value))


def test_other_lists_use_the_original(other_list_type: ListType, store: wasmtime.Store) -> None:
    assert not other_list_type._is_bytes()
    strings: list[Any] = ["", "a", "frame buffer", "ünïcode"]
    value = ffi.wasmtime_component_val_t()
    other_list_type.convert_to_c(store, strings, ctypes.pointer(value))
    assert SLOW_FROM_C(other_list_type, value) == strings
    SLOW_TO_C(other_list_type, store, strings, ctypes.pointer(value))
    assert other_list_type.convert_from_c(value) == strings
    with pytest.raises(TypeError, match="expected list value"):
        other_list_type.convert_to_c(store, b"abc", ctypes.pointer(value))


def test_refuses_other_wasmtime_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    methods = (ListType.convert_to_c, ListType.convert_from_c)
    monkeypatch.setattr(fast_lists, "_installed", False)
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "50.0.1")
    assert not fast_lists.install()
    assert (ListType.convert_to_c, ListType.convert_from_c) == methods
