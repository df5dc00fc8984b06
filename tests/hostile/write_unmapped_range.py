"""write_unmapped_range: maps bytes 0..64 of a buffer for writing, then writes at 128, and writes
after unmapping.

The write outside the mapped range must be the WIT `range-error` and the write after unmap an
`operation-error`; nothing reaches memory outside the mapping. Checks: `inside` ("ok"),
`outside`, `after_unmap` (the error kind classes).
"""

from componentize_py_types import Err
from gfxkit import BU, buffer, present_forever, report, setup
from wit_world.imports import webgpu as W


def attempt(action) -> object:  # type: ignore[no-untyped-def]
    try:
        action()
    except Err as err:
        return type(err.value.kind).__name__
    return "ok"


def run() -> None:
    device, canvas, context = setup()
    writable = buffer(device, 256, BU.map_write() | BU.copy_src())
    writable.map_async(W.GpuMapMode.write(), 0, 64)
    report("inside", attempt(lambda: writable.get_mapped_range_set_with_copy(bytes(16), 0, None)))
    report("outside", attempt(lambda: writable.get_mapped_range_set_with_copy(bytes(16), 128, None)))
    writable.unmap()
    report("after_unmap", attempt(lambda: writable.get_mapped_range_set_with_copy(bytes(16), 0, None)))
    present_forever(device, canvas, context)
