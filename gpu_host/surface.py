"""wasi:surface: the guest's window. Its size and input events come from the host.

Each kind of event has its own bounded queue; a full queue drops its oldest event (counted in
`GuestContext.dropped_events`) so a flood never grows memory. Frame events come from the frame
clock, one per tick.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from .events import InputEvent, PointerDown, PointerMove, PointerUp, Resize
from .graphics_context import Context
from .linking import HostInterface, record, wit
from .resources import Resource
from .wasi.poll import Pollable

if TYPE_CHECKING:
    from .guest import GuestContext

__all__ = ["Surface", "SurfaceHost"]

INPUT_KINDS = ("resize", "pointer-up", "pointer-down", "pointer-move", "key-up", "key-down")


class Surface(Resource):
    wit_resource = "wasi:surface/surface#surface"

    def __init__(self, width: int, height: int, queue_limit: int) -> None:
        self.width = width
        self.height = height
        self.queues: dict[str, deque[Any]] = {kind: deque() for kind in INPUT_KINDS}
        self.queue_limit = queue_limit


class SurfaceHost(HostInterface):
    interface = "wasi:surface/surface"
    version = "0.0.1"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx
        self.surfaces: list[Surface] = []
        self.pending: list[InputEvent] = []  # events that arrived before the guest made a surface

    # --- host side: called from any thread ----------------------------------------------------------

    def push_event(self, event: InputEvent) -> None:
        """Queue an input event (see gpu_host.events) for every surface of the guest."""
        with self.ctx.waker.lock:
            if not self.surfaces:
                if len(self.pending) < self.ctx.options.input_queue_limit:
                    self.pending.append(event)
                else:
                    self.ctx.dropped_events += 1
                return
            for surface in self.surfaces:
                self._queue(surface, event)
            self.ctx.waker.lock.notify_all()

    def input_waiting(self) -> bool:
        """Whether any surface has an input event the guest has not taken (under the lock)."""
        return any(queue for surface in self.surfaces for queue in surface.queues.values())

    def _queue(self, surface: Surface, event: InputEvent) -> None:
        if isinstance(event, Resize):
            surface.width, surface.height = self._clamp_size(event.width, event.height)
            value = record(width=surface.width, height=surface.height)
        elif isinstance(event, PointerMove | PointerDown | PointerUp):
            value = record(x=_clamp(event.x, surface.width), y=_clamp(event.y, surface.height))
        else:
            value = record(
                key=event.key,
                text=event.text,
                alt_key=event.alt,
                ctrl_key=event.ctrl,
                meta_key=event.meta,
                shift_key=event.shift,
            )
        queue = surface.queues[event.type]
        if len(queue) >= surface.queue_limit:
            queue.popleft()
            self.ctx.dropped_events += 1
        queue.append(value)

    def _clamp_size(self, width: int | None, height: int | None) -> tuple[int, int]:
        # Bounded by the host's setting and by the guest's texture limit: the frame is a texture.
        most = self.ctx.options.limits.max_texture_dimension
        max_w, max_h = (min(m, most) for m in self.ctx.options.max_surface_size)
        default_w, default_h = self.ctx.options.size
        w = default_w if width is None else width
        h = default_h if height is None else height
        return max(1, min(int(w), max_w)), max(1, min(int(h), max_h))

    # --- guest side ---------------------------------------------------------------------------------

    # WIT: [constructor]surface
    @wit("[constructor]surface")
    def new_surface(self, desc: dict[str, Any]) -> Surface:
        width, height = self._clamp_size(desc["width"], desc["height"])
        surface = Surface(width, height, self.ctx.options.input_queue_limit)
        with self.ctx.waker.lock:
            self.surfaces.append(surface)
            for event in self.pending:
                self._queue(surface, event)
            self.pending.clear()
        return surface

    # WIT: [method]surface.connect-graphics-context
    @wit("[method]surface.connect-graphics-context")
    def connect_graphics_context(self, surface: Surface, context: Context) -> None:
        context.surface = surface
        context.current = None

    @wit("[method]surface.height")
    def height(self, surface: Surface) -> int:
        return surface.height

    @wit("[method]surface.width")
    def width(self, surface: Surface) -> int:
        return surface.width

    # WIT: [method]surface.request-set-size (note: height comes before width)
    @wit("[method]surface.request-set-size")
    def request_set_size(self, surface: Surface, height: int | None, width: int | None) -> None:
        w, h = self._clamp_size(
            surface.width if width is None else width, surface.height if height is None else height
        )
        if (w, h) != (surface.width, surface.height):
            with self.ctx.waker.lock:
                surface.width, surface.height = w, h
                surface.queues["resize"].append(record(width=w, height=h))

    @wit("[method]surface.subscribe-frame")
    def subscribe_frame(self, _surface: Surface) -> Pollable:
        return Pollable(self.ctx.frames.tick_ready)

    @wit("[method]surface.get-frame")
    def get_frame(self, _surface: Surface) -> Any:
        return record(nothing=False) if self.ctx.frames.take_tick() else None

    def _subscribe(self, surface: Surface, kind: str) -> Pollable:
        queue = surface.queues[kind]
        return Pollable(lambda: bool(queue), input=True)

    def _get(self, surface: Surface, kind: str) -> Any:
        with self.ctx.waker.lock:
            queue = surface.queues[kind]
            if not queue:
                return None
            return queue.popleft()

    @wit("[method]surface.subscribe-resize")
    def subscribe_resize(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "resize")

    @wit("[method]surface.get-resize")
    def get_resize(self, surface: Surface) -> Any:
        return self._get(surface, "resize")

    @wit("[method]surface.subscribe-pointer-up")
    def subscribe_pointer_up(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "pointer-up")

    @wit("[method]surface.get-pointer-up")
    def get_pointer_up(self, surface: Surface) -> Any:
        return self._get(surface, "pointer-up")

    @wit("[method]surface.subscribe-pointer-down")
    def subscribe_pointer_down(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "pointer-down")

    @wit("[method]surface.get-pointer-down")
    def get_pointer_down(self, surface: Surface) -> Any:
        return self._get(surface, "pointer-down")

    @wit("[method]surface.subscribe-pointer-move")
    def subscribe_pointer_move(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "pointer-move")

    @wit("[method]surface.get-pointer-move")
    def get_pointer_move(self, surface: Surface) -> Any:
        return self._get(surface, "pointer-move")

    @wit("[method]surface.subscribe-key-up")
    def subscribe_key_up(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "key-up")

    @wit("[method]surface.get-key-up")
    def get_key_up(self, surface: Surface) -> Any:
        return self._get(surface, "key-up")

    @wit("[method]surface.subscribe-key-down")
    def subscribe_key_down(self, surface: Surface) -> Pollable:
        return self._subscribe(surface, "key-down")

    @wit("[method]surface.get-key-down")
    def get_key_down(self, surface: Surface) -> Any:
        return self._get(surface, "key-down")


def _clamp(value: float, limit: int) -> float:
    if not math.isfinite(value):
        return 0.0
    return min(max(float(value), 0.0), float(limit))
