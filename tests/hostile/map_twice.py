"""map_twice: maps a buffer that is already mapped, and reads a range of a buffer never mapped.

WebGPU makes a second map-async an operation error (its promise rejects), and reading the mapped
range of an unmapped buffer an operation error; wgpu-py raises plain exceptions for both. The host
must return the WIT `err`s; the first mapping stays usable. Checks: `first` ("ok"), `second`
(the error kind class), `read_unmapped` (the error kind class), `still_mapped` (the first word).
"""

from componentize_py_types import Err
from gfxkit import BU, buffer, present_forever, report, setup
from wit_world.imports import webgpu as W


def attempt(action) -> object:  # type: ignore[no-untyped-def]
    try:
        value = action()
    except Err as err:
        return type(err.value.kind).__name__
    return "ok" if value is None else value


def run() -> None:
    device, canvas, context = setup()
    readable = buffer(device, 256, BU.map_read() | BU.copy_dst())
    device.queue().write_buffer_with_copy(readable, 0, bytes([7, 0, 0, 0]), None, None)
    report("first", attempt(lambda: readable.map_async(W.GpuMapMode.read(), None, None)))
    report("second", attempt(lambda: readable.map_async(W.GpuMapMode.read(), None, None)))
    never = buffer(device, 256, BU.map_read() | BU.copy_dst())
    report("read_unmapped", attempt(lambda: never.get_mapped_range_get_with_copy(None, None)))
    report("still_mapped", attempt(lambda: list(readable.get_mapped_range_get_with_copy(0, 4))))
    readable.unmap()
    present_forever(device, canvas, context)
