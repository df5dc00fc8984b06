"""destroy_frame: destroys the frame's texture before presenting it, every frame.

Each frame: get-current-buffer -> gpu-texture.from-graphics-buffer -> texture.destroy() ->
context.present(), with no rendering at all (so what the presented frame holds is up to the host).
Prints {"event": "destroyed", "frame": N} after each destroy() and {"event": "presented",
"frame": N} after each present(), N = 0, 1, 2, ...
"""

import json

import wit_world
from wit_world.imports import graphics_context, poll, surface, webgpu


def setup() -> tuple[webgpu.GpuDevice, surface.Surface, graphics_context.Context]:
    """GPU device, surface and graphics context, connected as the guest contract says."""
    adapter = webgpu.get_gpu().request_adapter(None)
    assert adapter is not None, "no GPU adapter"
    device = adapter.request_device(None)
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    context = graphics_context.Context()
    device.connect_graphics_context(context)
    canvas.connect_graphics_context(context)
    return device, canvas, context


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        _device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        frame = 0
        while True:
            poll.poll([frame_ready])
            if canvas.get_frame() is None:
                continue
            texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            texture.destroy()
            print(json.dumps({"event": "destroyed", "frame": frame}), flush=True)
            context.present()
            print(json.dumps({"event": "presented", "frame": frame}), flush=True)
            frame += 1
