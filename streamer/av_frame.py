"""A `gpu_host.Frame` as the picture PyAV encodes: the one place frames meet PyAV, shared by the
live encoder (streamer/encoder.py) and the MP4 writer (streamer/video.py)."""

from __future__ import annotations

import av
import numpy as np
from av.video.frame import PictureType

from gpu_host.frame import Colour, Frame, I420Layout, Pixels

__all__ = ["Picture", "tag_colour", "yuv_frame"]


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
    """One yuv420p picture that each frame's planes are copied into, reused while the size holds.

    `yuv_frame` allocates a picture a frame and copies a packed array into it; at 1920x1080 that
    allocation and copy cost about as much again as copying the planes into a picture kept from
    the last frame (docs/performance.md, "Present to packet"). The encoder copies a picture's
    planes into its own buffers as it encodes, so the next frame may overwrite them.
    """

    def __init__(self) -> None:
        self._picture: av.VideoFrame | None = None
        self._targets: list[Pixels] = []

    def fill(self, frame: Frame) -> av.VideoFrame:
        """The frame's pixels (I420, or RGB converted with `Frame.i420`) in the reused picture."""
        i420 = frame.i420()
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
