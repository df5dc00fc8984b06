"""runaway: presents 1 frame, submits a compute dispatch that runs far past any deadline, then
waits for it: by mapping a buffer (the default), with `on-submitted-work-done` (environment
WAIT=work-done), by submitting more work (WAIT=submit: the host submits only to an idle queue) or by
presenting a frame (WAIT=present: the host's frame readback waits for the GPU).

Submitted GPU work cannot be cancelled. The host must end the guest after `Limits.gpu_wait_seconds`
with `GPU wait timed out after N s` naming the call that waited, lose the device, and stay usable
for other guests; the GPU stays busy until the process ends, so a guest worker (gpu_host/worker.py)
runs the next guest in a fresh worker. Run it only in a worker process, never in a test's own.
"""

import os

from gfxkit import BU, buffer, clear, dispatch, emit, next_frame, setup
from wit_world.imports import webgpu as W

SHADER = """
@group(0) @binding(0) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    var x = id.x;
    for (var i = 0u; i < 60000u; i++) {
        for (var j = 0u; j < 60000u; j++) { x = x * 1664525u + 1013904223u + out[(x ^ j) % 64u]; }
    }
    out[id.x % 64u] = x;
}
"""


def run() -> None:
    device, canvas, context = setup()
    frame_ready = canvas.subscribe_frame()
    next_frame(canvas, frame_ready)
    clear(device, context, (0.0, 1.0, 0.0))
    storage = buffer(device, 256, BU.storage() | BU.copy_src())
    encoder = dispatch(device, SHADER, storage, 1000)  # tens of seconds on lavapipe with 2 cores
    wait = os.environ.get("WAIT", "map")
    if wait == "map":  # the runaway's result, copied out in the same submission
        readback = buffer(device, 256, BU.map_read() | BU.copy_dst())
        encoder.copy_buffer_to_buffer(storage, 0, readback, 0, 256)
    device.queue().submit([encoder.finish(None)])
    emit(submitted=True)
    if wait == "map":
        readback.map_async(W.GpuMapMode.read(), None, None)
    elif wait == "work-done":
        device.queue().on_submitted_work_done()
    elif wait == "submit":
        clear(device, context, (0.0, 0.0, 1.0))  # its submit waits for the runaway first
    else:
        next_frame(canvas, frame_ready)
        context.get_current_buffer()
        context.present()  # the frame readback waits for the runaway
    emit(unexpected="the runaway dispatch finished")
