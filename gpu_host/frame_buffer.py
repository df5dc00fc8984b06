"""wasi:frame-buffer: guests that draw pixels on the CPU.

A buffer holds width x height little-endian u32 `0x00RRGGBB` pixels (bytes B, G, R, 0), as the
reference runtime reads them; setting any other length is an error for the guest.
"""

from __future__ import annotations

import numpy as np

from .errors import GuestCallError
from .frame import PixelSource
from .frame_buffer_adapter import ADAPTER_INTERFACE
from .graphics_context import AbstractBuffer, Context
from .linking import HostInterface, wit
from .presenter import ReadyPixels
from .resources import Resource

__all__ = [
    "FrameBufferBulkHost",
    "FrameBufferDevice",
    "FrameBufferHost",
    "FrameBufferPresenter",
    "PixelBuffer",
]


class PixelBuffer(Resource):
    wit_resource = "wasi:frame-buffer/frame-buffer#buffer"

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.data = bytes(width * height * 4)
        self.parts: bytearray | None = None  # a `set` arriving in parts (FrameBufferBulkHost)
        self.filled = 0  # bytes of `parts` received


class FrameBufferDevice(Resource):
    wit_resource = "wasi:frame-buffer/frame-buffer#device"


class FrameBufferPresenter:
    """A frame-buffer device's frames in a graphics context: its `0x00RRGGBB` pixels as RGB,
    already on the CPU (a consumer that wants YUV converts them with `Frame.i420`)."""

    def __init__(self, device: FrameBufferDevice) -> None:
        self.device = device

    def buffer(self, width: int, height: int) -> object:
        return PixelBuffer(width, height)

    def present(self, payload: object) -> PixelSource:
        assert isinstance(payload, PixelBuffer)
        bgrx = np.frombuffer(payload.data, dtype=np.uint8).reshape(payload.height, payload.width, 4)
        rgb = np.ascontiguousarray(bgrx[:, :, 2::-1])
        return ReadyPixels(rgb, "rgb24", (payload.width, payload.height))

    def discard(self, payload: object) -> None:
        assert isinstance(payload, PixelBuffer)

    def close(self) -> None:
        pass


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
        context.connect(device)

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
        _check_length("[method]buffer.set", buffer, len(value))
        buffer.data = bytes(value)


def _check_length(call: str, buffer: PixelBuffer, length: int) -> None:
    expected = buffer.width * buffer.height * 4
    if length != expected:
        raise GuestCallError(
            call, f"expected {expected} bytes ({buffer.width}x{buffer.height} pixels x 4), got {length}"
        )


class FrameBufferBulkHost(HostInterface):
    """`buffer.set` for the frame-buffer adapter (gpu_host/frame_buffer_adapter.py): the pixels come
    as strings the adapter lowered as latin1, one character per byte, which wasmtime lifts in bulk
    where a `list<u8>` costs it (and its per-call budget) about 48 bytes per element. A string is
    charged one unit a byte against the same 128 MiB budget, so a frame larger than 64 MiB comes
    in parts, in order: `length` is the whole frame's, `offset` where this part starts."""

    interface = ADAPTER_INTERFACE
    version = "0.1.0"

    # WIT: set (streamer:frame-buffer/bulk; the guest called wasi:frame-buffer's [method]buffer.set)
    @wit("set")
    def set(self, buffer: PixelBuffer, length: int, offset: int, part: str) -> None:
        call = "[method]buffer.set"
        _check_length(call, buffer, length)
        data = part.encode("latin-1")
        if offset == 0 and len(data) == length:
            buffer.data, buffer.parts = data, None
            return
        if offset == 0:
            buffer.parts, buffer.filled = bytearray(length), 0
        if buffer.parts is None or offset != buffer.filled or offset + len(data) > length:
            buffer.parts = None
            raise GuestCallError(call, f"a part at byte {offset} of {length} does not follow the last one")
        buffer.parts[offset : offset + len(data)] = data
        buffer.filled += len(data)
        if buffer.filled == length:
            buffer.data, buffer.parts = bytes(buffer.parts), None
