"""compute: invocation counts of direct and indirect dispatches, read back from an atomic counter."""

import struct

from gfxkit import BU, Group
from wit_world.imports import webgpu as W

COUNT = """
@group(0) @binding(0) var<storage, read_write> counter: array<atomic<u32>, 2>;
@compute @workgroup_size(4, 2)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    atomicAdd(&counter[0], 1u);
    atomicMax(&counter[1], id.x * 100u + id.y * 10u + id.z);
}
"""


def run(device: W.GpuDevice) -> None:
    g = Group("compute", device)
    pipeline = g.compute_pipeline(g.shader(COUNT), "main")

    def direct() -> list[int]:
        counter = g.buffer(8, BU.storage() | BU.copy_src())
        encoder = g.encoder()
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, g.bind(pipeline.get_bind_group_layout(0), counter), None, None, None)
        cpass.dispatch_workgroups(2, 3, 4)
        cpass.end()
        g.submit(encoder)
        return g.read_u32(counter, 2)

    g.check("dispatch", direct)

    def indirect() -> list[int]:
        counter = g.buffer(8, BU.storage() | BU.copy_src())
        args = g.buffer_with(struct.pack("<5I", 0, 0, 3, 1, 2), BU.indirect())  # at offset 8: 3, 1, 2
        encoder = g.encoder()
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, g.bind(pipeline.get_bind_group_layout(0), counter), None, None, None)
        cpass.dispatch_workgroups_indirect(args, 8)
        cpass.end()
        g.submit(encoder)
        return g.read_u32(counter, 2)

    g.check("dispatch-indirect", indirect)
