"""trap_after: clears to green for 3 frames, then traps (an uncaught exception in `start`).

Draws: frames 0, 1, 2 -> the whole surface green (0, 1, 0) -> pixels (0, 255, 0, 255).
Prints {"event": "trapping", "frames": 3} just before it raises
RuntimeError("trap_after: deliberate trap after 3 frames"); componentize-py turns an uncaught
exception into a trap (its traceback goes to stderr). It never presents a fourth frame.
"""

import wit_world
from gfxkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        for _ in range(3):
            next_frame(canvas, frame_ready)
            clear(device, context, (0.0, 1.0, 0.0))
        emit(event="trapping", frames=3)
        raise RuntimeError("trap_after: deliberate trap after 3 frames")
