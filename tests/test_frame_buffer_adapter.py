"""Which components get the frame-buffer adapter, and what happens when it cannot be composed.

The pixels it carries are checked with the real framebuffer scene (tests/test_scenes.py,
test_render.py and test_serve.py, at 1280x720 and 1920x1080); these components are small
hand-written ones, so that each compiles in milliseconds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import wasmtime

from gpu_host import ComponentError, Runtime
from gpu_host.errors import GuestCallError
from gpu_host.frame_buffer import FrameBufferBulkHost, PixelBuffer
from gpu_host.frame_buffer_adapter import ADAPTED_IMPORT, import_names, wants_adapter
from scenes.build import scene_path

START = (
    '(core module $m (func (export "f"))) (core instance $i (instantiate $m))'
    ' (func (export "start") (canon lift (core func $i "f")))'
)
GRAPHICS_CONTEXT = (
    '(import "wasi:graphics-context/graphics-context@0.0.1" (instance'
    ' (export "context" (type (sub resource))) (export "abstract-buffer" (type (sub resource)))))'
)


def frame_buffer_user(extra: str = "") -> bytes:
    """A component importing part of wasi:frame-buffer (a device and its constructor), plus `extra`."""
    wat = f"""(component
      {GRAPHICS_CONTEXT}
      (import "{ADAPTED_IMPORT}" (instance
        (export "device" (type (sub resource)))
        (export "[constructor]device" (func (result (own 0))))
        {extra}))
      {START})"""
    return bytes(wasmtime.wat2wasm(wat))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_import_names_are_read_without_compiling() -> None:
    names = import_names(scene_path("framebuffer").read_bytes())
    assert ADAPTED_IMPORT in names and "wasi:webgpu/webgpu@0.0.1" in names
    assert import_names(frame_buffer_user()) == [
        "wasi:graphics-context/graphics-context@0.0.1",
        ADAPTED_IMPORT,
    ]
    assert not wants_adapter(b"\0asm\x0d\x00\x01\x00\x0a\xff")  # truncated: left to the compiler


def test_a_component_without_the_frame_buffer_import_is_left_alone(tmp_path: Path) -> None:
    data = bytes(wasmtime.wat2wasm(f"(component {START})"))
    assert not wants_adapter(data)
    with Runtime(cache_dir=tmp_path / "cache") as runtime:
        component = runtime.load(write(tmp_path / "plain.wasm", data))
    assert not component.adapted
    assert component.component.type.imports(runtime.engine) == {}


def test_the_adapter_serves_a_guest_that_imports_part_of_the_interface(tmp_path: Path) -> None:
    with Runtime(cache_dir=tmp_path / "cache") as runtime:
        component = runtime.load(write(tmp_path / "part.wasm", frame_buffer_user()))
        imports = set(component.component.type.imports(runtime.engine))
        assert component.adapted
        # The host serves the adapter: the whole interface, and `set` in bulk.
        assert imports == {
            "wasi:graphics-context/graphics-context@0.0.1",
            ADAPTED_IMPORT,
            "streamer:frame-buffer/bulk@0.1.0",
        }
        assert not runtime.load(tmp_path / "part.wasm", adapt=False).adapted
        assert runtime.cache is not None and runtime.cache.stats.compiled == 2


def test_a_guest_may_not_import_the_adapters_side_of_the_host(tmp_path: Path) -> None:
    wat = f"""(component
      (import "streamer:frame-buffer/bulk@0.1.0" (instance (export "buffer" (type (sub resource)))))
      {START})"""
    bad = write(tmp_path / "private.wasm", bytes(wasmtime.wat2wasm(wat)))
    with Runtime(cache_dir=tmp_path / "cache") as runtime, pytest.raises(ComponentError) as caught:
        runtime.load(bad)
    assert str(caught.value) == (
        f"{bad}: imports what this host does not provide: streamer:frame-buffer/bulk@0.1.0"
    )


def test_a_guest_the_adapter_cannot_serve_keeps_the_direct_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A function the adapter does not export (none of the standard's): composing fails, the guest
    runs as it was (an unimplemented function traps when called, as for any guest)."""
    extra = '(export "[method]device.not-in-the-standard" (func (param "self" (borrow 0))))'
    with caplog.at_level(logging.WARNING), Runtime(cache_dir=tmp_path / "cache") as runtime:
        component = runtime.load(write(tmp_path / "odd.wasm", frame_buffer_user(extra)), "odd")
    assert not component.adapted
    assert "odd: could not compose the frame-buffer adapter" in caplog.text
    assert "running it without the adapter" in caplog.text


def test_a_frame_in_parts_is_assembled_in_order_and_checked() -> None:
    """Past 64 MiB (a surface larger than 4096x4096) the adapter sends a frame in parts: wasmtime
    charges a string one unit a byte, 128 MiB a call. The host's side, called as the adapter calls
    it, with a small frame."""
    host, buffer = FrameBufferBulkHost(), PixelBuffer(4, 2)  # 32 bytes
    pixels = bytes(range(200, 232))
    text = pixels.decode("latin-1")
    for offset in (0, 12, 24):
        host.set(buffer, 32, offset, text[offset : offset + 12])
    assert buffer.data == pixels
    host.set(buffer, 32, 0, text[::-1])  # whole, in one part
    assert buffer.data == pixels[::-1]
    with pytest.raises(GuestCallError, match=r"expected 32 bytes \(4x2 pixels x 4\), got 31"):
        host.set(buffer, 31, 0, text[:31])
    host.set(buffer, 32, 0, text[:12])
    with pytest.raises(GuestCallError, match="a part at byte 20 of 32 does not follow the last one"):
        host.set(buffer, 32, 20, text[20:])
    assert buffer.data == pixels[::-1] and buffer.parts is None  # the last whole frame stays
