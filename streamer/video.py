"""Frame sinks for a render job: an H.264 MP4 file or a folder of numbered PNGs.

A sink takes `gpu_host.Frame`s in display order. Render mode is deterministic (frame n is at
n/fps), so the MP4 writer stamps frame n with pts n in a 1/fps time base rather than trusting a
wall clock. Colour is the frame's own (gpu_host/frame.py): the MP4 says BT.601 limited range, as
the live stream does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Literal, Protocol, Self

import av
import numpy as np
from PIL import Image

from gpu_host.frame import Frame, Pixels, frame_rate, rgb_to_i420

from .av_frame import yuv_frame
from .options import KEYINT, QP

__all__ = ["FrameSink", "Mp4Writer", "PngFolderWriter", "VideoSettings", "open_sink", "output_kind"]

_VIDEO_SUFFIXES: Final = frozenset({".mkv", ".webm", ".mov", ".avi", ".gif", ".m4v", ".h264", ".ivf"})
_FRAME_FILE: Final = re.compile(r"^\d{6,}\.png$")


class FrameSink(Protocol):
    """Where a render job's frames go. `close()` finishes the output and may be called twice."""

    def write(self, frame: Frame) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


def _check_frame(frame: Frame) -> None:
    if not isinstance(frame, Frame):
        raise TypeError(f"a sink takes gpu_host.Frame objects, got {type(frame).__name__}")


def _fit(rgb: Pixels, width: int, height: int) -> Pixels:
    """Place `rgb` centred in a black width x height canvas, cropping what does not fit."""
    out = np.zeros((height, width, 3), np.uint8)
    src_h, src_w = rgb.shape[:2]
    h, w = min(height, src_h), min(width, src_w)
    dst_y, dst_x = (height - h) // 2, (width - w) // 2
    src_y, src_x = (src_h - h) // 2, (src_w - w) // 2
    out[dst_y : dst_y + h, dst_x : dst_x + w] = rgb[src_y : src_y + h, src_x : src_x + w]
    return out


@dataclass(frozen=True)
class VideoSettings:
    """How an MP4 render is encoded beyond libx264's defaults (quality by CRF 23, keyframes where
    x264 decides).

    `qp`: a constant quantizer (0 to 51, lower is better) in place of CRF. `keyint`: a keyframe
    exactly every `keyint` frames and nowhere else, no B-frames and a fixed thread count, so that
    each group of pictures is encoded from its own frames alone: a render split into chunks of a
    multiple of `keyint` frames, each chunk encoded apart, then decodes to the same frames as the
    render done in one piece (docs/farm.md).
    """

    qp: int | None = None
    keyint: int | None = None

    def __post_init__(self) -> None:
        if self.qp is not None:
            QP.check(self.qp, "the quantizer (qp)")
        if self.keyint is not None:
            KEYINT.check(self.keyint, "the keyframe interval (keyint)")

    def x264_params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.qp is not None:
            params["qp"] = str(self.qp)
        if self.keyint is not None:
            params["x264-params"] = f"keyint={self.keyint}:min-keyint={self.keyint}:scenecut=0:bframes=0"
            # x264's output depends on its thread count, which by default follows the machine's cores.
            params["threads"] = str(FIXED_GOP_THREADS)
        return params


FIXED_GOP_THREADS: Final = 4


class _ClosingSink:
    """`with` support for the sinks: leaving the block closes the output."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Mp4Writer(_ClosingSink):
    """H.264 (libx264, yuv420p, BT.601) in MP4 with exact timestamps: frame n is shown at n/fps.

    yuv420p needs even dimensions, so an odd size is padded up by one pixel row or column that
    repeats the edge (never scaled); `padded` records it. Frames of another size than `size` are
    centred, cropped or bordered with black, and counted in `refitted_frames`.
    """

    def __init__(
        self, path: str | Path, fps: float, size: tuple[int, int], settings: VideoSettings | None = None
    ) -> None:
        width, height = size
        if width < 1 or height < 1:
            raise ValueError(f"video size must be at least 1x1, got {width}x{height}")
        self.path = Path(path)
        self.size = (width, height)
        self.stream_size = (width + width % 2, height + height % 2)
        self.padded = self.stream_size != self.size
        self.rate = frame_rate(fps)
        # Frames are stamped in 1/fps; the stream's own time base is the muxer's to change
        # (MP4 picks e.g. 1/15360 when it writes the header), so it must not be reused for frames.
        self._time_base = 1 / self.rate
        self.frames_written = 0
        self.refitted_frames = 0
        self._closed = False
        self._container = av.open(str(self.path), "w")
        try:
            self._stream = self._container.add_stream("libx264", rate=self.rate)
            self._stream.width, self._stream.height = self.stream_size
            self._stream.pix_fmt = "yuv420p"
            self._stream.time_base = self._time_base
            self._stream.codec_context.time_base = self._time_base
            self._stream.codec_context.options = (settings or VideoSettings()).x264_params()
        except BaseException:
            self._container.close()
            raise

    def write(self, frame: Frame) -> None:
        """Encode the next frame; its timestamp is its index."""
        if self._closed:
            raise ValueError(f"{self.path}: cannot write a frame, the writer is closed")
        _check_frame(frame)
        width, height = self.size
        if (frame.width, frame.height) != (width, height):
            yuv = yuv_frame(frame, rgb_to_i420(_fit(frame.rgb, width, height), frame.colour))
            self.refitted_frames += 1
        else:
            yuv = yuv_frame(frame)
        self._set_colour(frame)
        yuv.pts = self.frames_written
        yuv.time_base = self._time_base
        self._container.mux(self._stream.encode(yuv))
        self.frames_written += 1

    def _set_colour(self, frame: Frame) -> None:
        """The stream's colour tags, from its first frame (the encoder opens with its first frame)."""
        if self.frames_written == 0:
            codec = self._stream.codec_context
            codec.colorspace = codec.color_primaries = codec.color_trc = frame.colour.ffmpeg_code
            codec.color_range = frame.colour.ffmpeg_range

    def close(self) -> None:
        """Flush the encoder's delayed frames and finish the file; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()


class PngFolderWriter(_ClosingSink):
    """Lossless frames as `000001.png`, `000002.png`, … for inspection or another encoder.

    Refuses a folder that already holds numbered frames, so an old, longer render cannot leave
    stale frames behind the new ones. `first` is the number of the first frame written (a chunk
    of a longer render numbers its frames as the whole render would).
    """

    def __init__(self, folder: str | Path, first: int = 1) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{self.folder} is a file; give a folder name for PNG frames, or a .mp4 path")
        self.folder.mkdir(parents=True, exist_ok=True)
        if any(_FRAME_FILE.match(entry.name) for entry in self.folder.iterdir()):
            raise ValueError(
                f"{self.folder} already holds numbered PNG frames; delete them or choose another folder"
            )
        self.frames_written = 0
        self.first = first
        self._closed = False

    def write(self, frame: Frame) -> None:
        """Write the next frame as an RGB PNG, numbered from `first`."""
        if self._closed:
            raise ValueError(f"{self.folder}: cannot write a frame, the writer is closed")
        _check_frame(frame)
        name = f"{self.first + self.frames_written:06d}.png"
        Image.fromarray(np.ascontiguousarray(frame.rgb)).save(self.folder / name)
        self.frames_written += 1

    def close(self) -> None:
        """Nothing is buffered; closing only stops further writes."""
        self._closed = True


def output_kind(path: str | Path) -> Literal["mp4", "png"]:
    """What a render writes to `path`: an MP4 for `.mp4`, otherwise a folder of PNGs; a
    ValueError for another video format's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".mp4":
        return "mp4"
    if suffix in _VIDEO_SUFFIXES:
        raise ValueError(
            f"{path}: only .mp4 video is supported; use a .mp4 path, or a folder name for PNG frames"
        )
    return "png"


def open_sink(
    path: str | Path,
    fps: float,
    size: tuple[int, int],
    settings: VideoSettings | None = None,
    first: int = 1,
) -> FrameSink:
    """An MP4 writer for a `.mp4` path, otherwise a PNG folder writer whose frames are numbered
    from `first` (fps, size and settings then unused)."""
    if output_kind(path) == "mp4":
        return Mp4Writer(path, fps, size, settings)
    return PngFolderWriter(path, first)
