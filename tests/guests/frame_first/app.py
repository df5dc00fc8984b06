"""frame_first: a guest that services its frame before its input, as many hand-written loops do.

Polls its frame and its pointer-up pollables together and, in each wake-up of poll, draws the frame
first (if it is ready) and only then takes the pointer-ups. Each pointer-up toggles the colour
between black (0, 0, 0) and white (1, 1, 1), starting black; the whole surface is one colour.
Prints {"event": "pointer-up", "x": X, "y": Y, "colour": "white"} (flushed) for each pointer-up.

Without the host settling input before the frame tick (docs/design.md, "Input before the frame"),
a click that arrives with a tick would show one frame late in this guest.
"""

import wit_world
from gfxkit import clear, emit, setup
from wit_world.imports import poll

BLACK = (0.0, 0.0, 0.0)
WHITE = (1.0, 1.0, 1.0)


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        colour = BLACK
        sources = [canvas.subscribe_frame(), canvas.subscribe_pointer_up()]
        while True:
            ready = poll.poll(sources)
            if 0 in ready and canvas.get_frame() is not None:
                clear(device, context, colour)
            if 1 in ready:
                while (pointer := canvas.get_pointer_up()) is not None:
                    colour = WHITE if colour == BLACK else BLACK
                    emit(event="pointer-up", x=pointer.x, y=pointer.y,
                         colour="white" if colour == WHITE else "black")  # fmt: skip
