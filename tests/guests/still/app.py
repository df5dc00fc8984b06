"""still: clears its first frame to mid grey (0.5, 0.5, 0.5), then presents the same frame texture
untouched on every later frame: a frame costs the guest no GPU work, so the host's readback is
the only GPU work there is (tests/test_presenter.py times it against the next present).
"""

import wit_world
from gfxkit import clear, next_frame, setup
from wit_world.imports import webgpu


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        next_frame(canvas, frame_ready)
        clear(device, context, (0.5, 0.5, 0.5))
        while True:
            next_frame(canvas, frame_ready)
            webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            context.present()
