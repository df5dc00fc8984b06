"""A `gpu_host.Frame` as the picture PyAV encodes: the one place frames meet PyAV, shared by the
live encoder (streamer/encoder.py) and the MP4 writer (streamer/video.py)."""

from __future__ import annotations

import av
import numpy as np
from av.video.frame import PictureType

from gpu_host.frame import Colour, Frame, I420Layout, Pixels

__all__ = ["Picture", "tag_colour", "wrap", "yuv_frame"]


def yuv_frame(frame: Frame, i420: Pixels | None = None) -> av.VideoFrame:
    """The frame as a yuv420p picture tagged with its colour, padded to even sizes (`i420`, when
    given, replaces its planes: a refitted picture)."""
    planes = frame.i420() if i420 is None else i420
    return tag_colour(av.VideoFrame.from_ndarray(planes, format="yuv420p"), frame.colour)


def tag_colour(picture: av.VideoFrame, colour: Colour) -> av.VideoFrame:
    """`picture`, tagged with `colour` (a scaled copy does not keep its source's tags)."""
    picture.colorspace = picture.color_primaries = picture.color_trc = colour.ffmpeg_code
    picture.color_range = colour.ffmpeg_range
    return picture


class Picture:
    """A frame's planes as the yuv420p picture to encode: the frame's own memory where its packed
    I420 planes are laid out as PyAV's picture would be, else one picture that each frame's planes
    are copied into, reused while the size holds.

    `yuv_frame` allocates a picture a frame and copies a packed array into it; at 1920x1080 that
    allocation and copy cost about as much again as copying the planes into a picture kept from
    the last frame, and that copy (0.5 ms) as much again as wrapping the frame's memory
    (docs/performance.md, "Present to packet"). The encoder copies a picture's planes into its own
    buffers as it encodes, so once `encode` returns, neither the frame's memory nor the reused
    picture is read again: the caller may give the memory back, and the next frame may overwrite
    the picture. A wrapped picture must not be kept past that.
    """

    def __init__(self) -> None:
        self._picture: av.VideoFrame | None = None
        self._targets: list[Pixels] = []

    def fill(self, frame: Frame) -> av.VideoFrame:
        """The frame's pixels (I420, or RGB converted with `Frame.i420`) as a picture: wrapped in
        place where they can be, else copied into the reused picture."""
        i420 = frame.i420()
        wrapped = wrap(i420)
        if wrapped is not None:
            return tag_colour(wrapped, frame.colour)
        rows, width = i420.shape
        layout = I420Layout(width, rows * 2 // 3)
        picture = self._picture
        if picture is None or (picture.width, picture.height) != layout.even:
            picture = self._picture = av.VideoFrame(width, rows * 2 // 3, "yuv420p")
            self._targets = [
                np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(plane.height, plane.line_size)[
                    :, : plane.width
                ]
                for plane in picture.planes
            ]
        for target, plane in zip(self._targets, layout.planes(i420), strict=True):
            np.copyto(target, plane)
        picture.pict_type = PictureType.NONE  # the encoder decides, unless told otherwise
        return tag_colour(picture, frame.colour)


def wrap(i420: Pixels) -> av.VideoFrame | None:
    """Packed I420 planes as a picture over their own memory, without a copy; None where PyAV
    would not lay the planes out where they are (heights that are not a multiple of 4, rows with
    gaps), which is checked on the picture it made rather than assumed."""
    rows, width = i420.shape
    if not i420.flags.c_contiguous or rows % 3:
        return None
    height = rows * 2 // 3
    try:
        picture = av.VideoFrame.from_numpy_buffer(i420, format="yuv420p")
    except ValueError:  # a shape PyAV does not take
        return None
    base = i420.ctypes.data
    luma = width * height
    expected = [(0, width), (luma, width // 2), (luma * 5 // 4, width // 2)]
    if (picture.width, picture.height) != (width, height) or [
        (plane.buffer_ptr - base, plane.line_size) for plane in picture.planes
    ] != expected:
        return None
    return picture
