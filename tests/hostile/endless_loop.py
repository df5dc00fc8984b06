"""endless_loop: dispatches a compute shader whose loops never end, then reads back what they did.

Submitted GPU work cannot be stopped, so the host bounds every WGSL loop: an invocation runs at most
`Limits.shader_loop_iterations` iterations in all its loops together (gpu_host/webgpu/loop_bound.py),
and the dispatch finishes. Each of 64 invocations counts its iterations into `out[i]`: a `loop`
with no `break`, then a `while (true)` and a `for` with no condition, which must break at once
because the budget is spent. Checks: `counts` (the 64 counts, each the limit), `shader_error`
(null: the guest's own text compiled; its error would name its own lines).
"""

from gfxkit import BU, buffer, caught, dispatch, present_forever, report, setup, shader
from wit_world.imports import webgpu as W

SHADER = """
@group(0) @binding(0) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) {
    loop {
        out[i] += 1u;
    }
    while (true) { out[i] += 1000000000u; }
    for (;;) { out[i] += 1000000000u; }
}
"""


def run() -> None:
    device, canvas, context = setup()
    counts = buffer(device, 256, BU.storage() | BU.copy_src())
    readback = buffer(device, 256, BU.map_read() | BU.copy_dst())
    # The guest's own text compiles: no error (its loops are bounded after that).
    report("shader_error", caught(device, lambda: shader(device, SHADER)))
    encoder = dispatch(device, SHADER, counts, 1)
    encoder.copy_buffer_to_buffer(counts, 0, readback, 0, 256)
    device.queue().submit([encoder.finish(None)])
    readback.map_async(W.GpuMapMode.read(), None, None)
    data = readback.get_mapped_range_get_with_copy(None, None)
    readback.unmap()
    report("counts", [int.from_bytes(data[k : k + 4], "little") for k in range(0, 256, 4)])
    present_forever(device, canvas, context)
