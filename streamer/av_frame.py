"""A `gpu_host.Frame` as the picture PyAV encodes: the one place frames meet PyAV, shared by the
live encoder (streamer/encoder.py) and the MP4 writer (streamer/video.py)."""

from __future__ import annotations

import av

from gpu_host.frame import Colour, Frame, Pixels

__all__ = ["tag_colour", "yuv_frame"]


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
