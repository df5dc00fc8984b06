"""bind_group_mismatch: bind groups that do not match their layout or their pipeline.

A texture view where the layout wants a uniform buffer, a buffer without UNIFORM usage, and a
compute pass dispatching with a bind group of another layout than its pipeline's. Each must be a
validation error the guest's scope captures (wgpu raises these; the process must live on).
Checks: `wrong_resource`, `wrong_usage`, `wrong_layout`.
"""

from gfxkit import BU, TU, buffer, check, present_forever, setup, shader, texture
from wit_world.imports import webgpu as W

COMPUTE = """
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(1) fn main() { data[0] = 1u; }
"""


def uniform_layout(device: W.GpuDevice) -> W.GpuBindGroupLayout:
    return device.create_bind_group_layout(
        W.GpuBindGroupLayoutDescriptor(
            entries=[
                W.GpuBindGroupLayoutEntry(
                    binding=0,
                    visibility=W.GpuShaderStage.compute(),
                    buffer=W.GpuBufferBindingLayout(
                        type=W.GpuBufferBindingType.UNIFORM, has_dynamic_offset=None, min_binding_size=None
                    ),
                    sampler=None,
                    texture=None,
                    storage_texture=None,
                )
            ],
            label=None,
        )
    )


def group(
    device: W.GpuDevice, layout: W.GpuBindGroupLayout, resource: W.GpuBindingResource
) -> W.GpuBindGroup:
    return device.create_bind_group(
        W.GpuBindGroupDescriptor(
            layout=layout, entries=[W.GpuBindGroupEntry(binding=0, resource=resource)], label=None
        )
    )


def buffer_resource(buf: W.GpuBuffer) -> W.GpuBindingResource:
    return W.GpuBindingResource_GpuBufferBinding(W.GpuBufferBinding(buffer=buf, offset=None, size=None))


def run() -> None:
    device, canvas, context = setup()
    layout = uniform_layout(device)
    view = texture(device, 4, 4, TU.texture_binding()).create_view(None)
    check(device, "wrong_resource", lambda: group(device, layout, W.GpuBindingResource_GpuTextureView(view)))
    storage = buffer(device, 256, BU.storage())
    check(device, "wrong_usage", lambda: group(device, layout, buffer_resource(storage)))

    uniforms = buffer(device, 256, BU.uniform())
    other = group(device, layout, buffer_resource(uniforms))
    pipeline = device.create_compute_pipeline(
        W.GpuComputePipelineDescriptor(
            compute=W.GpuProgrammableStage(
                module=shader(device, COMPUTE), entry_point="main", constants=None
            ),
            layout=W.GpuLayoutMode_Auto(),
            label=None,
        )
    )

    def wrong_layout() -> None:
        encoder = device.create_command_encoder(None)
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, other, None, None, None)
        cpass.dispatch_workgroups(1, None, None)
        cpass.end()
        device.queue().submit([encoder.finish(None)])

    check(device, "wrong_layout", wrong_layout)
    present_forever(device, canvas, context)
