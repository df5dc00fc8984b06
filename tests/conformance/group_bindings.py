"""bind-groups: explicit layouts, dynamic offsets (with the data start/length arguments), layouts."""

import struct

from gfxkit import BU, Group, buffer_binding
from wit_world.imports import webgpu as W

DYNAMIC = """
@group(0) @binding(0) var<uniform> value: vec4<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(1)
fn main() { out[value.z] = value.x + value.y; }
"""


def run(device: W.GpuDevice) -> None:
    g = Group("bind-groups", device)
    stage = W.GpuShaderStage.compute()
    layout = device.create_bind_group_layout(
        W.GpuBindGroupLayoutDescriptor(
            entries=[
                W.GpuBindGroupLayoutEntry(
                    binding=0,
                    visibility=stage,
                    buffer=W.GpuBufferBindingLayout(
                        type=W.GpuBufferBindingType.UNIFORM, has_dynamic_offset=True, min_binding_size=16
                    ),
                    sampler=None,
                    texture=None,
                    storage_texture=None,
                ),
                W.GpuBindGroupLayoutEntry(
                    binding=1,
                    visibility=stage,
                    buffer=W.GpuBufferBindingLayout(
                        type=W.GpuBufferBindingType.STORAGE, has_dynamic_offset=None, min_binding_size=None
                    ),
                    sampler=None,
                    texture=None,
                    storage_texture=None,
                ),
            ],
            label="dynamic",
        )
    )
    pipeline = device.create_compute_pipeline(
        W.GpuComputePipelineDescriptor(
            compute=W.GpuProgrammableStage(module=g.shader(DYNAMIC), entry_point="main", constants=None),
            layout=W.GpuLayoutMode_Specific(
                device.create_pipeline_layout(
                    W.GpuPipelineLayoutDescriptor(bind_group_layouts=[layout], label=None)
                )
            ),
            label=None,
        )
    )

    def dynamic_offsets() -> list[int]:
        values = struct.pack("<4I", 1, 2, 0, 0).ljust(256, b"\0") + struct.pack("<4I", 30, 40, 1, 0)
        uniform = g.buffer_with(values.ljust(512, b"\0"), BU.uniform())
        out = g.buffer(8, BU.storage() | BU.copy_src())
        group = device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=layout,
                entries=[
                    W.GpuBindGroupEntry(binding=0, resource=buffer_binding(uniform, 0, 16)),
                    W.GpuBindGroupEntry(binding=1, resource=buffer_binding(out)),
                ],
                label=None,
            )
        )
        encoder = g.encoder()
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, group, [0], None, None)  # uniform at 0: 1 + 2 -> out[0]
        cpass.dispatch_workgroups(1, None, None)
        # offsets data [999, 256, 999], start 1, length 1: uniform at 256: 30 + 40 -> out[1]
        cpass.set_bind_group(0, group, [999, 256, 999], 1, 1)
        cpass.dispatch_workgroups(1, None, None)
        cpass.end()
        g.submit(encoder)
        return g.read_u32(out, 2)

    g.check("dynamic-offsets", dynamic_offsets)
    g.check("layout-label", lambda: layout.label())
