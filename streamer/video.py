"""Frame sinks for a render job: an H.264 MP4 file or a folder of numbered PNGs.

A sink takes RGB frames (numpy uint8, shape (height, width, 3)) in display order. Render mode is
deterministic (frame n is at n/fps), so the MP4 writer stamps frame n with pts n in a 1/fps time
base rather than trusting a wall clock.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Final, Protocol, Self, TypeAlias

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter
from PIL import Image

__all__ = [
    "Frame",
    "FrameSink",
    "Mp4Writer",
    "PngFolderWriter",
    "bt709_yuv420p",
    "frame_rate",
    "open_sink",
    "pad_to_even",
]

Frame: TypeAlias = npt.NDArray[np.uint8]

# ITU-R BT.709, the colour space browsers and players assume for web video; the frames are
# converted with its matrix and the stream is tagged with it, so colours survive the trip.
_BT709: Final = 1  # AVCOL_SPC_BT709 / AVCOL_PRI_BT709 / AVCOL_TRC_BT709
_LIMITED_RANGE: Final = 1  # AVCOL_RANGE_MPEG
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


def frame_rate(fps: float) -> Fraction:
    """The exact rate meant by `fps`: 29.97, 23.976 or 59.94 mean n*1000/1001 (NTSC), as in ffmpeg.

    Other rates become the nearest fraction with a denominator of at most 1001 (12.5 -> 25/2).
    """
    if not (fps > 0 and fps < 1e6):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if fps == round(fps):
        return Fraction(round(fps))
    ntsc = Fraction(round(fps * 1001 / 1000) * 1000, 1001)
    if ntsc and abs(fps - ntsc) <= 0.005:
        return ntsc
    return Fraction(fps).limit_denominator(1001)


def pad_to_even(frame: Frame) -> Frame:
    """yuv420p needs even sizes: an odd width or height gets one more column or row repeating the
    edge (never a scale)."""
    height, width = frame.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), "edge")


def bt709_yuv420p(frame: Frame, reformatter: VideoReformatter) -> av.VideoFrame:
    """An even-sized RGB frame as yuv420p, converted with BT.709's matrix (limited range) and
    tagged with it: the render job's colour."""
    rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    yuv = reformatter.reformat(
        rgb,
        format="yuv420p",
        src_colorspace=Colorspace.ITU709,
        dst_colorspace=Colorspace.ITU709,
        dst_color_range=ColorRange.MPEG,
    )
    yuv.colorspace = yuv.color_primaries = yuv.color_trc = _BT709
    yuv.color_range = _LIMITED_RANGE
    return yuv


def _check_frame(frame: Frame) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            f"a frame must be a uint8 array of shape (height, width, 3) in RGB order, "
            f"got {frame.dtype} {frame.shape}; drop the alpha channel with frame[..., :3]"
        )


def _fit(frame: Frame, width: int, height: int) -> Frame:
    """Place `frame` centred in a black width x height canvas, cropping what does not fit."""
    out = np.zeros((height, width, 3), np.uint8)
    src_h, src_w = frame.shape[:2]
    h, w = min(height, src_h), min(width, src_w)
    dst_y, dst_x = (height - h) // 2, (width - w) // 2
    src_y, src_x = (src_h - h) // 2, (src_w - w) // 2
    out[dst_y : dst_y + h, dst_x : dst_x + w] = frame[src_y : src_y + h, src_x : src_x + w]
    return out


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
    """H.264 (libx264, yuv420p) in MP4 with exact timestamps: frame n is shown at n/fps.

    yuv420p needs even dimensions, so an odd size is padded up by one pixel row or column that
    repeats the edge (never scaled); `padded` records it. Frames of another size than `size` are
    centred, cropped or bordered with black, and counted in `refitted_frames`.
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]) -> None:
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
        self._reformatter = VideoReformatter()
        self._container = av.open(str(self.path), "w")
        try:
            self._stream = self._container.add_stream("libx264", rate=self.rate)
            self._stream.width, self._stream.height = self.stream_size
            self._stream.pix_fmt = "yuv420p"
            self._stream.time_base = self._time_base
            codec = self._stream.codec_context
            codec.time_base = self._time_base
            codec.colorspace = codec.color_primaries = codec.color_trc = _BT709
            codec.color_range = _LIMITED_RANGE
        except BaseException:
            self._container.close()
            raise

    def write(self, frame: Frame) -> None:
        """Encode the next frame; its timestamp is its index."""
        if self._closed:
            raise ValueError(f"{self.path}: cannot write a frame, the writer is closed")
        _check_frame(frame)
        width, height = self.size
        if frame.shape[:2] != (height, width):
            frame = _fit(frame, width, height)
            self.refitted_frames += 1
        yuv = bt709_yuv420p(pad_to_even(frame), self._reformatter)
        yuv.pts = self.frames_written
        yuv.time_base = self._time_base
        self._container.mux(self._stream.encode(yuv))
        self.frames_written += 1

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
    stale frames behind the new ones.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{self.folder} is a file; give a folder name for PNG frames, or a .mp4 path")
        self.folder.mkdir(parents=True, exist_ok=True)
        if any(_FRAME_FILE.match(entry.name) for entry in self.folder.iterdir()):
            raise ValueError(
                f"{self.folder} already holds numbered PNG frames; delete them or choose another folder"
            )
        self.frames_written = 0
        self._closed = False

    def write(self, frame: Frame) -> None:
        """Write the next frame as an RGB PNG, numbered from 1."""
        if self._closed:
            raise ValueError(f"{self.folder}: cannot write a frame, the writer is closed")
        _check_frame(frame)
        self.frames_written += 1
        Image.fromarray(np.ascontiguousarray(frame)).save(self.folder / f"{self.frames_written:06d}.png")

    def close(self) -> None:
        """Nothing is buffered; closing only stops further writes."""
        self._closed = True


def open_sink(path: str | Path, fps: float, size: tuple[int, int]) -> FrameSink:
    """An MP4 writer for a `.mp4` path, otherwise a PNG folder writer (fps and size then unused)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".mp4":
        return Mp4Writer(path, fps, size)
    if suffix in _VIDEO_SUFFIXES:
        raise ValueError(
            f"{path}: only .mp4 video is supported; use a .mp4 path, or a folder name for PNG frames"
        )
    return PngFolderWriter(path)
