"""destroy_frame: destroys the frame's texture before presenting it, every frame.

Each frame: get-current-buffer -> gpu-texture.from-graphics-buffer -> texture.destroy() ->
context.present(), with no rendering at all (so what the presented frame holds is up to the host).
Prints {"event": "destroyed", "frame": N} after each destroy() and {"event": "presented",
"frame": N} after each present(), N = 0, 1, 2, ...
"""

import wit_world
from gfxkit import emit, next_frame, setup
from wit_world.imports import webgpu


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        _device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        frame = 0
        while True:
            next_frame(canvas, frame_ready)
            texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            texture.destroy()
            emit(event="destroyed", frame=frame)
            context.present()
            emit(event="presented", frame=frame)
            frame += 1
