"""spin: clears to green for 3 frames, then spins forever inside wasm without calling the host.

Draws: frames 0, 1, 2 -> the whole surface green (0, 1, 0). Then `while True: pass`: no fourth
frame ever comes, and nothing in the guest returns to the host. Used to check that a hung guest
ends its session (a worker that gives up waiting) rather than the server.
"""

import wit_world
from gfxkit import clear, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        for _ in range(3):
            next_frame(canvas, frame_ready)
            clear(device, context, (0.0, 1.0, 0.0))
        spins = 0
        while True:
            spins += 1
