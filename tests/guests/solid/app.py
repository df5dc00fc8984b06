"""solid: clears every frame to one pure colour, chosen by input; the base of many host tests.

Draws (rgba8unorm, alpha 1.0), the whole surface in one colour, nothing else:
- red   (1, 0, 0) -> pixels (255, 0, 0, 255) at start;
- green (0, 1, 0) after a pointer-down;
- blue  (0, 0, 1) after a pointer-up;
- red   (1, 0, 0) after a key-down whose key is key-r;
- white (1, 1, 1) after a key-down whose key is key-w;
- grey  (0.5, 0.5, 0.5) after a key-down whose key is key-g.
Other events do not change the colour. Without input every frame is the same picture.

Prints one JSON object per line (flushed) for every input event it takes, before the next frame:
  {"event": "pointer-down", "x": X, "y": Y}            (also "pointer-up", "pointer-move")
  {"event": "key-down", "key": "key-r", "text": "r", "shift": false, "alt": false,
   "ctrl": false, "meta": false}                       (also "key-up"; key/text may be null;
                                                        key is the WIT enum name, e.g. "arrow-left")
  {"event": "resize", "width": W, "height": H, "surface": [surface.width(), surface.height()]}
In one wake-up of poll the ready sources are drained in this order: pointer-down, pointer-up,
pointer-move, key-down, key-up, resize; then the frame (if it is ready) is drawn.
"""

import wit_world
from gfxkit import clear, emit, setup
from wit_world.imports import poll, surface

RED = (1.0, 0.0, 0.0)
GREEN = (0.0, 1.0, 0.0)
BLUE = (0.0, 0.0, 1.0)
WHITE = (1.0, 1.0, 1.0)
GREY = (0.5, 0.5, 0.5)
KEY_COLOURS = {"key-r": RED, "key-w": WHITE, "key-g": GREY}


def key_name(key: surface.Key | None) -> str | None:
    return None if key is None else key.name.lower().replace("_", "-")


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()

        colour = RED
        sources = [
            canvas.subscribe_frame(),
            canvas.subscribe_pointer_down(),
            canvas.subscribe_pointer_up(),
            canvas.subscribe_pointer_move(),
            canvas.subscribe_key_down(),
            canvas.subscribe_key_up(),
            canvas.subscribe_resize(),
        ]
        while True:
            ready = poll.poll(sources)
            if 1 in ready:
                while (pointer := canvas.get_pointer_down()) is not None:
                    emit(event="pointer-down", x=pointer.x, y=pointer.y)
                    colour = GREEN
            if 2 in ready:
                while (pointer := canvas.get_pointer_up()) is not None:
                    emit(event="pointer-up", x=pointer.x, y=pointer.y)
                    colour = BLUE
            if 3 in ready:
                while (pointer := canvas.get_pointer_move()) is not None:
                    emit(event="pointer-move", x=pointer.x, y=pointer.y)
            for index, kind, get in ((4, "key-down", canvas.get_key_down), (5, "key-up", canvas.get_key_up)):
                if index in ready:
                    while (key := get()) is not None:
                        name = key_name(key.key)
                        emit(event=kind, key=name, text=key.text, shift=key.shift_key,
                             alt=key.alt_key, ctrl=key.ctrl_key, meta=key.meta_key)  # fmt: skip
                        if kind == "key-down" and name in KEY_COLOURS:
                            colour = KEY_COLOURS[name]
            if 6 in ready:
                while (size := canvas.get_resize()) is not None:
                    emit(event="resize", width=size.width, height=size.height,
                         surface=[canvas.width(), canvas.height()])  # fmt: skip
            if 0 in ready and canvas.get_frame() is not None:
                clear(device, context, colour)
