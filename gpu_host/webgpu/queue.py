"""wasi:webgpu gpu-queue: submit, buffer and texture writes, waiting for submitted work."""

from __future__ import annotations

from typing import Any

from ..errors import GuestGpuError
from ..linking import wit
from .convert import argument_checks, extent, native, to_wgpu, wit_error
from .objects import GpuBuffer, GpuCommandBuffer, GpuQueue
from .tracking import check_submittable


class QueueFunctions:
    # WIT: [method]gpu-queue.submit
    @wit("[method]gpu-queue.submit")
    def queue_submit(self, queue: GpuQueue, buffers: list[GpuCommandBuffer]) -> None:
        call = "[method]gpu-queue.submit"
        # The same command buffer twice in one list (two handles to it, or one handle twice) makes
        # wgpu-native abort the process too.
        if len({id(buffer) for buffer in buffers}) != len(buffers):
            raise GuestGpuError(call, "a command buffer appears twice in one submit")
        natives = []
        for buffer in buffers:
            # Re-submitting or crossing devices makes wgpu-native abort the process: refuse here.
            if buffer.submitted:
                raise GuestGpuError(call, "a command buffer can be submitted only once")
            if buffer.device is not queue.device:
                raise GuestGpuError(call, "the command buffer belongs to another device")
            natives.append(native(buffer, call))
            # ...and so does a submit touching a destroyed or mapped buffer or texture.
            check_submittable(buffer, call)
        device = queue.device
        assert device is not None
        device.check_alive(call)
        for buffer in buffers:
            buffer.submitted = True
        # A submit may block while earlier work runs (lavapipe): bounded by Limits.gpu_wait_seconds.
        device.waits.submit(native(queue, call), natives, call)
        for buffer in buffers:
            buffer.native = None
            buffer.uses = None

    @wit("[method]gpu-queue.on-submitted-work-done")
    def queue_on_submitted_work_done(self, queue: GpuQueue) -> None:
        # Returns once everything submitted before has run, or ends the guest past the deadline.
        call = "[method]gpu-queue.on-submitted-work-done"
        assert queue.device is not None
        queue.device.check_alive(call)
        queue.device.waits.work_done(call)

    @wit("[method]gpu-queue.write-buffer-with-copy")
    def queue_write_buffer(
        self,
        queue: GpuQueue,
        buffer: GpuBuffer,
        buffer_offset: int,
        data: bytes,
        data_offset: int | None,
        size: int | None,
    ) -> None:
        call = "[method]gpu-queue.write-buffer-with-copy"
        start = data_offset or 0
        if start > len(data) or (size is not None and start + size > len(data)):
            raise wit_error("operation-error", "data-offset/size exceed the data", only_case=True)
        target = native(buffer, call)
        length = len(data) - start if size is None else size
        if buffer_offset + length > target.size:
            # WebGPU: a validation error (wgpu-py raises a plain ValueError, which would end the guest).
            raise GuestGpuError(
                call,
                f"writing {length} bytes at offset {buffer_offset} overruns the {target.size}-byte buffer",
            )
        with argument_checks(call):
            native(queue, call).write_buffer(target, buffer_offset, data, start, size)

    @wit("[method]gpu-queue.write-texture-with-copy")
    def queue_write_texture(
        self,
        queue: GpuQueue,
        destination: dict[str, Any],
        data: bytes,
        layout: dict[str, Any],
        size: dict[str, Any],
    ) -> None:
        call = "[method]gpu-queue.write-texture-with-copy"
        with argument_checks(call):
            native(queue, call).write_texture(
                to_wgpu(destination, call), data, to_wgpu(layout, call), extent(size)
            )
