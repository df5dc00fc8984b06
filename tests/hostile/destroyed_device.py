"""destroyed_device: destroys a second gpu-device, then submits work recorded on it before, maps
one of its buffers for reading, and finishes a render bundle on it.

wgpu-native aborts the process on a submit to a destroyed device (a read mapping submits first)
and on finishing a bundle of one. The host must refuse each: the submit and the bundle as
validation errors, the mapping as its WIT `operation-error`. The guest's first device is
untouched and renders on. Checks: `submit`, `bundle`, `map` (the error kind class).
"""

from componentize_py_types import Err
from gfxkit import BU, buffer, bundle_encoder, check, present_forever, report, setup
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    adapter = W.get_gpu().request_adapter(None)
    assert adapter is not None
    doomed = adapter.request_device(None)
    readable = buffer(doomed, 256, BU.map_read() | BU.copy_dst())
    commands = doomed.create_command_encoder(None).finish(None)
    unfinished = bundle_encoder(doomed)
    doomed.destroy()
    check(doomed, "submit", lambda: doomed.queue().submit([commands]))
    check(doomed, "bundle", lambda: unfinished.finish(None))
    try:
        readable.map_async(W.GpuMapMode.read(), None, None)
        report("map", "mapped")
    except Err as err:
        report("map", type(err.value.kind).__name__)
    present_forever(device, canvas, context)
