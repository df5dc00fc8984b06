"""wasi:graphics-context: the meeting point of a surface (size, frames) and a device (pixels).

A context is connected to one device (a `wasi:webgpu` gpu-device or a `wasi:frame-buffer`
device) and one surface, in either order. `get-current-buffer` asks the device for a buffer the
size of the surface; `present` asks it for the pixels and hands them to the frame clock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from .errors import GuestCallError
from .frame_clock import FrameFormat
from .linking import HostInterface, wit
from .resources import Resource

if TYPE_CHECKING:
    from .guest import GuestContext
    from .surface import Surface

__all__ = ["AbstractBuffer", "Context", "ContextDevice", "GraphicsContextHost"]


class ContextDevice(Protocol):
    """What a device must do to draw into a graphics context."""

    def new_buffer(self, width: int, height: int) -> object:
        """A buffer (payload of an abstract-buffer) to draw the next frame into."""
        ...

    def read_pixels(self, payload: object, fmt: FrameFormat) -> tuple[npt.NDArray[np.uint8], FrameFormat]:
        """The buffer's pixels in `fmt` if the device can give it, else in "rgb24"; with the format
        given. A GuestCallError if it cannot be read."""
        ...


class AbstractBuffer(Resource):
    wit_resource = "wasi:graphics-context/graphics-context#abstract-buffer"

    def __init__(self, payload: object, device: ContextDevice) -> None:
        self.payload = payload
        self.device = device


class Context(Resource):
    wit_resource = "wasi:graphics-context/graphics-context#context"

    def __init__(self) -> None:
        self.device: ContextDevice | None = None
        self.surface: Surface | None = None
        self.current: AbstractBuffer | None = None


class GraphicsContextHost(HostInterface):
    interface = "wasi:graphics-context/graphics-context"
    version = "0.0.1"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    # WIT: [constructor]context
    @wit("[constructor]context")
    def new_context(self) -> Context:
        return Context()

    # WIT: [method]context.get-current-buffer
    @wit("[method]context.get-current-buffer")
    def get_current_buffer(self, context: Context) -> AbstractBuffer:
        call = "[method]context.get-current-buffer"
        if context.device is None:
            raise GuestCallError(call, "connect a gpu-device or frame-buffer device to this context first")
        if context.current is None or context.current.device is not context.device:
            width, height = self._size(context)
            context.current = AbstractBuffer(context.device.new_buffer(width, height), context.device)
        return context.current

    # WIT: [method]context.present
    @wit("[method]context.present")
    def present(self, context: Context) -> None:
        call = "[method]context.present"
        current = context.current
        if current is None:
            raise GuestCallError(call, "nothing to present; call get-current-buffer first")
        context.current = None
        presented_at = time.perf_counter()
        size = self._size(context)
        pixels, fmt = current.device.read_pixels(current.payload, self.ctx.options.frame_format)
        if fmt == "rgb24":
            size = (pixels.shape[1], pixels.shape[0])
        self.ctx.frames.deliver(pixels, fmt, size, presented_at, time.perf_counter() - presented_at)
        self.ctx.cpu.waited()  # a presented frame is progress; its wait for the consumer never counts

    def _size(self, context: Context) -> tuple[int, int]:
        if context.surface is not None:
            return context.surface.width, context.surface.height
        return self.ctx.options.size
