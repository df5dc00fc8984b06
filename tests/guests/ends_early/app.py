"""ends_early: clears to blue for 2 frames, then returns normally from `start`.

Draws: frames 0, 1 -> the whole surface blue (0, 0, 1) -> pixels (0, 0, 255, 255).
Prints {"event": "returning", "frames": 2} just before `start` returns.
"""

import wit_world
from gfxkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        for _ in range(2):
            next_frame(canvas, frame_ready)
            clear(device, context, (0.0, 0.0, 1.0))
        emit(event="returning", frames=2)
