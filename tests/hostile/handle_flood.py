"""handle_flood: creates small GPU buffers and keeps every handle, until the host refuses one.

The host must refuse the call that goes past `Limits.handles` and end the guest with one line
naming the call and the limit (`... failed in [method]gpu-device.create-buffer: the guest holds N
handles (Limits.handles) ...`), then free every buffer: the GPU objects return to where they were.
Prints `{"created": N}` every 100 buffers.
"""

from gfxkit import emit, setup
from wit_world.imports import webgpu


def run() -> None:
    device, _canvas, _context = setup()
    kept: list[webgpu.GpuBuffer] = []
    while True:
        kept.append(
            device.create_buffer(
                webgpu.GpuBufferDescriptor(
                    size=16, usage=webgpu.GpuBufferUsage.copy_dst(), mapped_at_creation=None, label=None
                )
            )
        )
        if len(kept) % 100 == 0:
            emit(created=len(kept))
