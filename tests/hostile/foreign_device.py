"""foreign_device: uses objects of a second gpu-device with the first.

A buffer of device B copied by device A's encoder, B's command buffer submitted to A's queue
(wgpu-native aborts the process on that one), and a bind group of A made with B's buffer. Each
must be a validation error naming the object that belongs to another device.
Checks: `copy`, `submit`, `bind_group`.
"""

from gfxkit import BU, buffer, check, present_forever, setup, submit
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    adapter = W.get_gpu().request_adapter(None)
    assert adapter is not None
    other = adapter.request_device(None)
    usage = BU.copy_src() | BU.copy_dst()
    mine, theirs = buffer(device, 256, usage), buffer(other, 256, usage, label="theirs")

    def copy() -> None:
        encoder = device.create_command_encoder(None)
        encoder.copy_buffer_to_buffer(theirs, 0, mine, 0, 16)
        submit(device.queue(), encoder)

    check(device, "copy", copy)
    commands = other.create_command_encoder(None).finish(None)
    check(device, "submit", lambda: device.queue().submit([commands]))
    layout = device.create_bind_group_layout(
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
    uniform = buffer(other, 256, BU.uniform(), label="their uniforms")
    check(
        device,
        "bind_group",
        lambda: device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=layout,
                entries=[
                    W.GpuBindGroupEntry(
                        binding=0,
                        resource=W.GpuBindingResource_GpuBufferBinding(
                            W.GpuBufferBinding(buffer=uniform, offset=None, size=None)
                        ),
                    )
                ],
                label=None,
            )
        ),
    )
    present_forever(device, canvas, context)
