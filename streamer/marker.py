"""A frame's input marker: the sequence number of the last input event the frame shows, in its pixels.

Input-to-photon latency is measured in the viewer: it timestamps each input event, and when a decoded
frame is presented it reads this marker to know which events the frame already shows. The marker
survives lossy encoding because it is made of flat 8x8 cells aligned to the codec's blocks:

    cell 0 white, cell 1 black (the reference levels), then BITS cells, most significant bit first,
    white for 1, black for 0; all in the frame's top-left corner, one cell high.

Stamping is on only while a viewer asks for it (the stats overlay, the latency benchmark), since it
covers a 144x8 pixel strip of the picture. streamer/web_client/marker.js reads it the same way (`readMarker`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gpu_host.frame import Frame, I420Layout

__all__ = ["BITS", "CELL", "MARKER_SIZE", "read_marker", "stamp_marker"]

CELL = 8
BITS = 16
MARKER_SIZE = ((BITS + 2) * CELL, CELL)  # width, height in pixels
_WHITE = 255


def stamp_marker(frame: Frame, value: int) -> bool:
    """Write `value` (modulo 2**BITS) into a frame's pixels in place (RGB, or I420 planes in the
    frame's colour); False when the frame is too small."""
    width, height = frame.width, frame.height
    if width < MARKER_SIZE[0] or height < MARKER_SIZE[1]:
        return False
    value %= 1 << BITS
    cells = np.array([1, 0] + [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)], dtype=np.uint8)
    strip = np.repeat(cells, CELL)
    if frame.format == "rgb24":
        frame.pixels[:CELL, : MARKER_SIZE[0], :] = (strip * _WHITE)[None, :, None]
        return True
    white, _, _ = frame.colour.yuv((_WHITE, _WHITE, _WHITE))
    black, grey_u, grey_v = frame.colour.yuv((0, 0, 0))
    y, u, v = I420Layout(frame.pixels.shape[1], frame.pixels.shape[0] * 2 // 3).planes(frame.pixels)
    y[:CELL, : MARKER_SIZE[0]] = np.where(strip, white, black)[None, :]
    u[: CELL // 2, : MARKER_SIZE[0] // 2] = grey_u  # no colour
    v[: CELL // 2, : MARKER_SIZE[0] // 2] = grey_v
    return True


def read_marker(rgb: npt.NDArray[np.uint8]) -> int | None:
    """The value stamped in `rgb` (after encoding and decoding), or None when there is no marker."""
    height, width = rgb.shape[:2]
    if width < MARKER_SIZE[0] or height < MARKER_SIZE[1]:
        return None
    # The middle 4x4 pixels of each cell: edges bleed into neighbours after compression.
    middle = rgb[2 : CELL - 2, : MARKER_SIZE[0]].astype(np.float32).mean(axis=(0, 2))
    levels = middle.reshape(BITS + 2, CELL)[:, 2 : CELL - 2].mean(axis=1)
    white, black = levels[0], levels[1]
    if white - black < 128:
        return None
    bits = levels[2:] > (white + black) / 2
    return int(sum(int(bit) << (BITS - 1 - i) for i, bit in enumerate(bits)))
