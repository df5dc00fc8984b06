"""wasi:frame-buffer: guests that draw pixels on the CPU.

A buffer holds width x height little-endian u32 `0x00RRGGBB` pixels (bytes B, G, R, 0), as the
reference runtime reads them; setting any other length is an error for the guest.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .errors import GuestCallError
from .frame_clock import FrameFormat
from .graphics_context import AbstractBuffer, Context
from .linking import HostInterface, wit
from .resources import Resource

__all__ = ["FrameBufferDevice", "FrameBufferHost", "PixelBuffer"]


class PixelBuffer(Resource):
    wit_resource = "wasi:frame-buffer/frame-buffer#buffer"

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.data = bytes(width * height * 4)


class FrameBufferDevice(Resource):
    wit_resource = "wasi:frame-buffer/frame-buffer#device"

    def new_buffer(self, width: int, height: int) -> object:
        return PixelBuffer(width, height)

    def read_pixels(self, payload: object, fmt: FrameFormat) -> tuple[npt.NDArray[np.uint8], FrameFormat]:
        """Always RGB: the pixels are already on the CPU, and the encoder converts them."""
        assert isinstance(payload, PixelBuffer)
        bgrx = np.frombuffer(payload.data, dtype=np.uint8).reshape(payload.height, payload.width, 4)
        return np.ascontiguousarray(bgrx[:, :, 2::-1]), "rgb24"


class FrameBufferHost(HostInterface):
    interface = "wasi:frame-buffer/frame-buffer"
    version = "0.0.1"

    # WIT: [constructor]device
    @wit("[constructor]device")
    def new_device(self) -> FrameBufferDevice:
        return FrameBufferDevice()

    # WIT: [method]device.connect-graphics-context
    @wit("[method]device.connect-graphics-context")
    def connect_graphics_context(self, device: FrameBufferDevice, context: Context) -> None:
        context.device = device
        context.current = None

    # WIT: [static]buffer.from-graphics-buffer
    @wit("[static]buffer.from-graphics-buffer")
    def from_graphics_buffer(self, buffer: AbstractBuffer) -> PixelBuffer:
        if not isinstance(buffer.payload, PixelBuffer):
            raise GuestCallError(
                "[static]buffer.from-graphics-buffer",
                "this buffer belongs to a gpu-device context; use gpu-texture.from-graphics-buffer",
            )
        return buffer.payload

    # WIT: [method]buffer.get
    @wit("[method]buffer.get")
    def get(self, buffer: PixelBuffer) -> bytes:
        return buffer.data

    # WIT: [method]buffer.set
    @wit("[method]buffer.set")
    def set(self, buffer: PixelBuffer, value: bytes) -> None:
        expected = buffer.width * buffer.height * 4
        if len(value) != expected:
            raise GuestCallError(
                "[method]buffer.set",
                f"expected {expected} bytes ({buffer.width}x{buffer.height} pixels x 4), got {len(value)}",
            )
        buffer.data = bytes(value)
