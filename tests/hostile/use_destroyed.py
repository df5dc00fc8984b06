"""use_destroyed: writes to a buffer it destroyed, and submits work using it, inside error scopes.

WebGPU makes both a validation error on the device, not a crash: the host must give the guest
that error (wgpu-native would abort the process on a submit touching a destroyed buffer, so the
host refuses it itself). Prints `{"write": [KIND, MESSAGE] or null, "submit": [KIND, MESSAGE] or null}`,
the errors popped from the scopes, then presents frames cleared to blue forever.
"""

from gfxkit import clear, described, emit, next_frame, setup
from wit_world.imports import webgpu


def run() -> None:
    device, canvas, context = setup()
    usage = webgpu.GpuBufferUsage.copy_dst() | webgpu.GpuBufferUsage.copy_src()
    buffer = device.create_buffer(
        webgpu.GpuBufferDescriptor(size=16, usage=usage, mapped_at_creation=None, label=None)
    )
    other = device.create_buffer(
        webgpu.GpuBufferDescriptor(size=16, usage=usage, mapped_at_creation=None, label=None)
    )
    buffer.destroy()
    device.push_error_scope(webgpu.GpuErrorFilter.VALIDATION)
    device.queue().write_buffer_with_copy(buffer, 0, bytes(16), None, None)
    write = described(device.pop_error_scope())
    device.push_error_scope(webgpu.GpuErrorFilter.VALIDATION)
    encoder = device.create_command_encoder(None)
    encoder.copy_buffer_to_buffer(buffer, 0, other, 0, 16)
    device.queue().submit([encoder.finish(None)])
    submit = described(device.pop_error_scope())
    emit(write=write, submit=submit)
    frame_ready = canvas.subscribe_frame()
    while True:
        next_frame(canvas, frame_ready)
        clear(device, context, (0.0, 0.0, 1.0))
