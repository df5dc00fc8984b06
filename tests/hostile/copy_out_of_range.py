"""copy_out_of_range: copies and writes past the end of a buffer or texture.

A buffer-to-buffer copy past the destination's end, a queue write past a buffer's end, and a
texture-to-buffer copy of a region larger than the texture. Each must be a validation error the
guest's scope captures; nothing is written out of bounds and the process lives on.
Checks: `buffer_copy`, `queue_write`, `texture_copy`.
"""

from gfxkit import BU, TU, buffer, check, present_forever, setup, submit, texture
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    usage = BU.copy_src() | BU.copy_dst()
    small, large = buffer(device, 256, usage), buffer(device, 1024, usage)

    def buffer_copy() -> None:
        encoder = device.create_command_encoder(None)
        encoder.copy_buffer_to_buffer(large, 0, small, 128, 512)
        submit(device.queue(), encoder)

    check(device, "buffer_copy", buffer_copy)
    check(
        device,
        "queue_write",
        lambda: device.queue().write_buffer_with_copy(small, 240, bytes(64), None, None),
    )
    tex = texture(device, 4, 4, TU.copy_src())

    def texture_copy() -> None:
        encoder = device.create_command_encoder(None)
        encoder.copy_texture_to_buffer(
            W.GpuTexelCopyTextureInfo(texture=tex, mip_level=None, origin=None, aspect=None),
            W.GpuTexelCopyBufferInfo(buffer=large, offset=None, bytes_per_row=256, rows_per_image=None),
            W.GpuExtent3D(width=64, height=64, depth_or_array_layers=1),
        )
        submit(device.queue(), encoder)

    check(device, "texture_copy", texture_copy)
    present_forever(device, canvas, context)
