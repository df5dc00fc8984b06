"""wasi:graphics-context: the meeting point of a surface (size, frames) and a device (pixels).

A context is connected to one device (a `wasi:webgpu` gpu-device or a `wasi:frame-buffer`
device) and one surface, in either order. It presents through a presenter made for its device
(gpu_host/presenter.py): `get-current-buffer` asks it for a buffer the size of the surface,
`present` hands it the drawn buffer and gives the frame clock the frame, whose pixels the
presenter brings to host memory while the guest goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .errors import GuestCallError
from .linking import HostInterface, wit
from .presenter import NOT_READ
from .resources import Resource

if TYPE_CHECKING:
    from .frame import PixelSource
    from .guest import GuestContext
    from .presenter import Presenter
    from .surface import Surface

__all__ = ["AbstractBuffer", "Context", "GraphicsContextHost", "PresenterFactory"]

# Makes the presenter for a device connected to a context (interfaces.py maps each device type).
PresenterFactory = Callable[[object], "Presenter"]


class AbstractBuffer(Resource):
    wit_resource = "wasi:graphics-context/graphics-context#abstract-buffer"

    def __init__(self, payload: object, presenter: Presenter) -> None:
        self.payload = payload
        self.presenter = presenter


class Context(Resource):
    wit_resource = "wasi:graphics-context/graphics-context#context"

    def __init__(self) -> None:
        self.device: object | None = None
        self.presenter: Presenter | None = None
        self.surface: Surface | None = None
        self.current: AbstractBuffer | None = None

    def connect(self, device: object) -> None:
        """Present through `device` from now on (a device's connect-graphics-context)."""
        if device is not self.device:
            self.release()
        self.device = device
        self.current = None

    def release(self) -> None:
        presenter, self.presenter = self.presenter, None
        if presenter is not None:
            presenter.close()


class GraphicsContextHost(HostInterface):
    interface = "wasi:graphics-context/graphics-context"
    version = "0.0.1"

    def __init__(self, ctx: GuestContext, presenters: Mapping[type, PresenterFactory]) -> None:
        self.ctx = ctx
        self._presenters = presenters

    # WIT: [constructor]context
    @wit("[constructor]context")
    def new_context(self) -> Context:
        return Context()

    # WIT: [method]context.get-current-buffer
    @wit("[method]context.get-current-buffer")
    def get_current_buffer(self, context: Context) -> AbstractBuffer:
        call = "[method]context.get-current-buffer"
        device = context.device
        if device is None:
            raise GuestCallError(call, "connect a gpu-device or frame-buffer device to this context first")
        if context.presenter is None:
            context.presenter = self._presenters[type(device)](device)
        if context.current is None:
            width, height = self._size(context)
            context.current = AbstractBuffer(context.presenter.buffer(width, height), context.presenter)
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
        # The guest waits here for the consumer's request, which says whether to read the pixels.
        source: PixelSource
        if self.ctx.frames.await_request():
            current.presenter.discard(current.payload)
            source = NOT_READ
        else:
            source = current.presenter.present(current.payload)
        self.ctx.frames.deliver(source, presented_at)
        self.ctx.cpu.waited()  # a presented frame is progress; its wait for the consumer never counts

    def _size(self, context: Context) -> tuple[int, int]:
        if context.surface is not None:
            return context.surface.width, context.surface.height
        return self.ctx.options.size
