"""Copies a frame texture to host memory as RGB, or as I420 converted on the GPU (yuv.py), reusing
its buffers while the size holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import wgpu

from ..frame_clock import FrameFormat
from .yuv import YuvConverter

if TYPE_CHECKING:
    from .gpu_wait import GpuWaits

__all__ = ["FRAME_FORMAT", "FrameReadback"]

FRAME_FORMAT = "rgba8unorm"  # what get-preferred-canvas-format returns: readback needs no swizzle
ROW_ALIGNMENT = 256  # WebGPU's bytesPerRow alignment for texture -> buffer copies


class FrameReadback:
    def __init__(self, device: wgpu.GPUDevice, waits: GpuWaits) -> None:
        self._device = device
        self._waits = waits  # bounds the submit and the mapping (Limits.gpu_wait_seconds)
        self._buffer: wgpu.GPUBuffer | None = None
        self._size = (0, 0)
        self._yuv: YuvConverter | None = None

    def read(self, texture: wgpu.GPUTexture, fmt: FrameFormat = "rgb24") -> npt.NDArray[np.uint8]:
        """The texture's pixels as a (height, width, 3) RGB array, or for "yuv420p" its I420 planes
        (`Frame.pixels`); a copy the caller owns."""
        if fmt == "yuv420p":
            if self._yuv is None:
                self._yuv = YuvConverter(self._device, self._waits)
            return self._yuv.read(texture)
        width, height = texture.width, texture.height
        row = -(-width * 4 // ROW_ALIGNMENT) * ROW_ALIGNMENT
        if self._buffer is None or self._size != (width, height):
            self.release()
            self._buffer = self._device.create_buffer(
                label="frame readback",
                size=row * height,
                usage=wgpu.BufferUsage.COPY_DST | wgpu.BufferUsage.MAP_READ,
            )
            self._size = (width, height)
        encoder = self._device.create_command_encoder(label="frame readback")
        encoder.copy_texture_to_buffer(
            {"texture": texture},
            {"buffer": self._buffer, "bytes_per_row": row, "rows_per_image": height},
            (width, height, 1),
        )
        call = "[method]context.present"
        self._waits.submit(self._device.queue, [encoder.finish()], call)
        self._waits.map(self._buffer, wgpu.MapMode.READ, call=call)
        try:
            data = self._buffer.read_mapped(copy=False)
            rows = np.frombuffer(data, dtype=np.uint8).reshape(height, row)
            rgb = rows[:, : width * 4].reshape(height, width, 4)[:, :, :3].copy()
        finally:
            self._buffer.unmap()
        return rgb

    def release(self) -> None:
        if self._yuv is not None:
            self._yuv.release()
            self._yuv = None
        if self._buffer is not None:
            self._buffer.destroy()
            self._buffer = None
