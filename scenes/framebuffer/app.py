"""Frame buffer: colour bars and a moving white square, drawn on the CPU through wasi:frame-buffer.

Every frame the guest reads the surface size (w, h) and writes w*h little-endian u32 pixels
0x00RRGGBB (bytes B, G, R, 0). Geometry, for the n-th frame the guest draws (n = 0, 1, 2, ...):

- Bar i (i = 0..7) covers x in [i*w//8, (i+1)*w//8), every row. Colours (SMPTE 75% bars):
    0 grey    0xC0C0C0   (192, 192, 192)
    1 yellow  0xC0C000   (192, 192,   0)
    2 cyan    0x00C0C0   (  0, 192, 192)
    3 green   0x00C000   (  0, 192,   0)
    4 magenta 0xC000C0   (192,   0, 192)
    5 red     0xC00000   (192,   0,   0)
    6 blue    0x0000C0   (  0,   0, 192)
    7 black   0x000000   (  0,   0,   0)
- A white (0xFFFFFF) square, 40x40, drawn over the bars: x0 = (4*n) % w, y0 = max(0, (h-40)//2);
  it covers x in [x0, min(x0+40, w)) and y in [y0, min(y0+40, h)) (clipped at the right edge,
  not wrapped around; it re-enters at x = 0 once 4*n passes a multiple of w).

Resize events are drained (the next frame uses the new size). Prints nothing.
"""

import wit_world
from wit_world.imports import frame_buffer, graphics_context, poll, surface

BAR_COLOURS = (0xC0C0C0, 0xC0C000, 0x00C0C0, 0x00C000, 0xC000C0, 0xC00000, 0x0000C0, 0x000000)
SQUARE_COLOUR = 0xFFFFFF
SQUARE_SIZE = 40
STEP = 4


def pixel(colour: int) -> bytes:
    """One pixel as the frame buffer wants it: little-endian u32 0x00RRGGBB."""
    return colour.to_bytes(4, "little")


def bar_row(width: int) -> bytes:
    """One row of the eight bars, width pixels."""
    return b"".join(
        pixel(colour) * ((i + 1) * width // 8 - i * width // 8) for i, colour in enumerate(BAR_COLOURS)
    )


def draw(frame: int, width: int, height: int, row: bytes) -> bytes:
    """The whole image for frame `frame`: bar rows, with the square's rows spliced in."""
    x0 = (STEP * frame) % width
    x1 = min(x0 + SQUARE_SIZE, width)
    y0 = max(0, (height - SQUARE_SIZE) // 2)
    y1 = min(y0 + SQUARE_SIZE, height)
    square_row = row[: 4 * x0] + pixel(SQUARE_COLOUR) * (x1 - x0) + row[4 * x1 :]
    return row * y0 + square_row * (y1 - y0) + row * (height - y1)


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
        context = graphics_context.Context()
        device = frame_buffer.Device()
        device.connect_graphics_context(context)
        canvas.connect_graphics_context(context)

        frame_ready = canvas.subscribe_frame()
        resized = canvas.subscribe_resize()
        rows: dict[int, bytes] = {}
        frame = 0
        while True:
            ready = poll.poll([frame_ready, resized])
            if 1 in ready:
                while canvas.get_resize() is not None:
                    pass
            if 0 not in ready or canvas.get_frame() is None:
                continue
            width, height = canvas.width(), canvas.height()
            if width == 0 or height == 0:
                continue
            row = rows.get(width)
            if row is None:
                rows.clear()
                row = rows[width] = bar_row(width)
            buffer = frame_buffer.Buffer.from_graphics_buffer(context.get_current_buffer())
            buffer.set(draw(frame, width, height, row))
            context.present()
            frame += 1
