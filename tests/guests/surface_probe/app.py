"""surface_probe: the surface's size rules, with the context joined surface-first.

Creates a surface asking 50x40 in its create-desc, then a context that it connects to the surface
BEFORE the device (the other order from the scenes). Prints JSON lines (flushed):
  {"probe": "created", "size": [w, h]}               sizes as surface.width()/height() report them
  {"probe": "set", "size": [w, h]}                   after request-set-size(height=30, width=70)
  {"probe": "huge", "size": [w, h]}                  after request-set-size(height=100000, width=100000)
  {"probe": "width-only", "size": [w, h]}            after request-set-size(height=None, width=60)
  {"probe": "resize", "width": W, "height": H}       for each resize event, before the first frame
Then clears every frame to green (0, 1, 0) at whatever size the surface has (60x30 if the host
honours the requests and lets the first two through).
"""

import wit_world
from gfxkit import clear, emit
from wit_world.imports import graphics_context, poll, surface, webgpu


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        canvas = surface.Surface(surface.CreateDesc(height=40, width=50))
        emit(probe="created", size=[canvas.width(), canvas.height()])
        context = graphics_context.Context()
        canvas.connect_graphics_context(context)
        adapter = webgpu.get_gpu().request_adapter(None)
        assert adapter is not None, "no GPU adapter"
        device = adapter.request_device(None)
        device.connect_graphics_context(context)

        canvas.request_set_size(30, 70)  # height first, as the WIT says
        emit(probe="set", size=[canvas.width(), canvas.height()])
        canvas.request_set_size(100000, 100000)
        emit(probe="huge", size=[canvas.width(), canvas.height()])
        canvas.request_set_size(30, 60)
        canvas.request_set_size(None, 60)
        emit(probe="width-only", size=[canvas.width(), canvas.height()])

        frame = canvas.subscribe_frame()
        resize = canvas.subscribe_resize()
        while True:
            ready = poll.poll([frame, resize])
            if 1 in ready:
                while (size := canvas.get_resize()) is not None:
                    emit(probe="resize", width=size.width, height=size.height)
            if 0 not in ready or canvas.get_frame() is None:
                continue
            clear(device, context, (0.0, 1.0, 0.0))
