"""The frame layer: one presented frame, its pixel format and its colour, for every consumer.

A guest presents RGBA; what leaves the host is either RGB (PNG frames) or YUV 4:2:0 (video).
Where RGB becomes YUV, and with which matrix and range, is decided here once: the GPU
conversion (gpu_host/yuv.py) takes its coefficients from `Colour`, the CPU conversion below uses
the same ones, and the live encoder, the MP4 writer and the input marker read the frame's
`colour` to tag or stamp what they write. See docs/design.md ("One frame path").

The colour is BT.601, limited range, for everything: VP8 cannot signal a matrix and browsers then
assume BT.601, so the same choice in H.264 streams and in MP4 files makes a scene's colours the
same wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "BT601",
    "Colour",
    "Frame",
    "I420Layout",
    "PendingFrame",
    "PixelFormat",
    "PixelSource",
    "frame_rate",
    "pad_to_even",
]

PixelFormat = Literal["rgb24", "yuv420p"]
Pixels = npt.NDArray[np.uint8]

# (Kr, Kb) of each matrix: Y' = Kr R + (1 - Kr - Kb) G + Kb B.
_LUMA_WEIGHTS = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}
# ffmpeg's codes (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic) and x264's names.
_FFMPEG_CODES = {"bt601": 6, "bt709": 1}  # SMPTE170M (BT.601 525), BT709
_X264_NAMES = {"bt601": "smpte170m", "bt709": "bt709"}


@dataclass(frozen=True)
class Colour:
    """How RGB maps to YUV: the matrix and the range. Carried on every frame."""

    matrix: Literal["bt601", "bt709"] = "bt601"
    full_range: bool = False

    def rgb_to_yuv(self) -> npt.NDArray[np.float64]:
        """A 3x4 matrix: row k gives Y, U or V (0..255) as coefficients of R, G, B in 0..1, then
        an offset."""
        kr, kb = _LUMA_WEIGHTS[self.matrix]
        kg = 1.0 - kr - kb
        luma, chroma, black = (255.0, 255.0, 0.0) if self.full_range else (219.0, 224.0, 16.0)
        return np.array(
            [
                [luma * kr, luma * kg, luma * kb, black],
                [-chroma * kr / (2 - 2 * kb), -chroma * kg / (2 - 2 * kb), chroma / 2, 128.0],
                [chroma / 2, -chroma * kg / (2 - 2 * kr), -chroma * kb / (2 - 2 * kr), 128.0],
            ]
        )

    @property
    def ffmpeg_code(self) -> int:
        """The colorspace, primaries and transfer code ffmpeg writes into the stream."""
        return _FFMPEG_CODES[self.matrix]

    @property
    def ffmpeg_range(self) -> int:
        return 2 if self.full_range else 1  # AVCOL_RANGE_JPEG, AVCOL_RANGE_MPEG

    @property
    def x264_params(self) -> str:
        """The VUI x264 writes into an H.264 stream, so decoders pick the same matrix."""
        name = _X264_NAMES[self.matrix]
        full = ":fullrange=on" if self.full_range else ""
        return f"colormatrix={name}:colorprim={name}:transfer={name}{full}"

    def yuv(self, rgb: tuple[int, int, int]) -> tuple[int, int, int]:
        """One colour's Y, U and V (rounded), as both conversions compute them."""
        m = self.rgb_to_yuv()
        values = m[:, :3] @ (np.array(rgb, dtype=np.float64) / 255.0) + m[:, 3]
        y, u, v = (int(np.clip(np.rint(x), 0, 255)) for x in values)
        return y, u, v


BT601 = Colour()


class I420Layout:
    """Where the planes of a width x height frame lie when each row starts on a 4-byte boundary
    (what the GPU conversion writes), and the packed (3/2 even height, even width) array PyAV's
    yuv420p `from_ndarray` takes. Odd sizes are padded to even."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        self.even = (width + width % 2, height + height % 2)
        even_w, even_h = self.even
        self.y_stride, self.y_rows = _align4(even_w), even_h
        self.uv_stride, self.uv_rows = _align4(even_w // 2), even_h // 2
        self.u_offset = self.y_stride * self.y_rows
        self.v_offset = self.u_offset + self.uv_stride * self.uv_rows
        self.nbytes = self.v_offset + self.uv_stride * self.uv_rows

    def pack(self, data: memoryview | bytes) -> Pixels:
        """The planes of a strided buffer as one packed array (a copy the caller owns)."""
        flat = np.frombuffer(data, dtype=np.uint8)
        even_w, even_h = self.even
        if self.y_stride == even_w and self.uv_stride == even_w // 2:
            return flat[: self.nbytes].reshape(even_h * 3 // 2, even_w).copy()
        y = flat[: self.u_offset].reshape(self.y_rows, self.y_stride)[:, :even_w]
        u = flat[self.u_offset : self.v_offset].reshape(self.uv_rows, self.uv_stride)[:, : even_w // 2]
        v = flat[self.v_offset : self.nbytes].reshape(self.uv_rows, self.uv_stride)[:, : even_w // 2]
        return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(even_h * 3 // 2, even_w)

    def planes(self, packed: Pixels) -> tuple[Pixels, Pixels, Pixels]:
        """Views of the Y, U and V planes of a packed array."""
        even_w, even_h = self.even
        flat = packed.reshape(-1)
        quarter = (even_h // 2) * (even_w // 2)
        y = flat[: even_w * even_h].reshape(even_h, even_w)
        u = flat[even_w * even_h : even_w * even_h + quarter].reshape(even_h // 2, even_w // 2)
        v = flat[even_w * even_h + quarter :].reshape(even_h // 2, even_w // 2)
        return y, u, v


def _align4(n: int) -> int:
    return -(-n // 4) * 4


def pad_to_even(rgb: Pixels) -> Pixels:
    """yuv420p needs even sizes: an odd width or height gets one more column or row repeating the
    edge (never a scale)."""
    height, width = rgb.shape[:2]
    if width % 2 == 0 and height % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), "edge")


def rgb_to_i420(rgb: Pixels, colour: Colour = BT601) -> Pixels:
    """(height, width, 3) RGB as packed I420 planes: the GPU conversion's arithmetic on the CPU
    (each chroma sample from the mean of its 2x2 block; odd sizes padded by the edge). Written
    with elementwise operations, never a BLAS product, so the result is the same on every run.

    Converted in bands of rows, so that each band's float32 temporaries stay in the CPU's cache:
    the same operations on every pixel as over the whole picture at once (the same bytes), about
    3x faster at 1920x1080 (a frame-buffer guest's frames are converted here)."""
    padded = pad_to_even(rgb)
    m = colour.rgb_to_yuv().astype(np.float32)
    height, width = padded.shape[:2]
    packed: Pixels = np.empty((height * 3 // 2, width), np.uint8)
    chroma = packed[height:].reshape(-1)
    half = (width // 2) * (height // 2)
    y_plane = packed[:height]
    u_plane = chroma[:half].reshape(height // 2, width // 2)
    v_plane = chroma[half:].reshape(height // 2, width // 2)
    for top in range(0, height, _BAND_ROWS):
        bottom = min(top + _BAND_ROWS, height)
        even = padded[top:bottom].astype(np.float32) / np.float32(255.0)
        # The 2x2 mean as explicit additions in a fixed order: numpy's reductions may add in
        # another order depending on the memory's alignment, and a chroma value on a .5 then
        # rounds either way.
        block = ((even[0::2, 0::2] + even[0::2, 1::2]) + (even[1::2, 0::2] + even[1::2, 1::2])) * np.float32(
            0.25
        )
        rows, chroma_rows = slice(top, bottom), slice(top // 2, bottom // 2)
        y_plane[rows] = _to_u8(_row(even, m[0]))
        u_plane[chroma_rows] = _to_u8(_row(block, m[1]))
        v_plane[chroma_rows] = _to_u8(_row(block, m[2]))
    return packed


_BAND_ROWS = 32  # even, so that a band holds whole 2x2 blocks


def _to_u8(values: npt.NDArray[np.float32]) -> Pixels:
    result: Pixels = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return result


def _row(rgb: npt.NDArray[np.float32], row: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """One row of the colour matrix applied to every pixel: offset + dot(coefficients, rgb)."""
    dot = rgb[..., 0] * row[0] + rgb[..., 1] * row[1] + rgb[..., 2] * row[2]
    result: npt.NDArray[np.float32] = dot + row[3]
    return result


def i420_to_rgb(i420: Pixels, colour: Colour = BT601) -> Pixels:
    """Packed I420 planes as (even height, even width, 3) RGB, each chroma sample shared by its
    2x2 block: the inverse of `rgb_to_i420`, up to rounding."""
    rows, width = i420.shape
    layout = I420Layout(width, rows * 2 // 3)
    y, u, v = (plane.astype(np.float32) for plane in layout.planes(i420))
    u = u.repeat(2, axis=0).repeat(2, axis=1)
    v = v.repeat(2, axis=0).repeat(2, axis=1)
    m = colour.rgb_to_yuv()
    inverse = (np.linalg.inv(m[:, :3]) * 255.0).astype(np.float32)  # YUV (offsets removed) -> RGB
    yuv = np.stack([y - m[0, 3], u - m[1, 3], v - m[2, 3]], axis=-1).astype(np.float32)
    channels = [_row(yuv, np.append(inverse[k], np.float32(0.0)).astype(np.float32)) for k in range(3)]
    rgb: Pixels = np.clip(np.rint(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)
    return rgb


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


@dataclass(frozen=True, eq=False)
class Frame:
    """One presented frame: its pixels, its number (from 0) and its guest time in seconds.

    `pixels` is (height, width, 3) RGB for "rgb24", or packed I420 planes (`I420Layout`) for
    "yuv420p", padded to even; `size` is the picture's own width and height. `colour` says how
    its YUV relates to RGB (for an RGB frame: how it is to be converted).

    `guest_seconds` is the wall time the guest spent on it (from taking the frame tick to calling
    present); `readback_seconds` the time from present until the pixels were in host memory.
    `presented_at`, `copy_submitted_at` and `read_at` are the `time.perf_counter()` of the present
    call, of the frame's copy being submitted and of the GPU finishing the copy.

    A frame may be a view of memory its producer lends (a mapped GPU buffer): a consumer that is
    done with it calls `release()`, after which `pixels` must not be read.
    """

    index: int
    time: float
    pixels: Pixels
    format: PixelFormat = "rgb24"
    size: tuple[int, int] = (0, 0)
    colour: Colour = BT601
    guest_seconds: float = 0.0
    readback_seconds: float = 0.0
    presented_at: float = 0.0
    read_at: float = 0.0
    copy_submitted_at: float = 0.0
    on_release: Callable[[], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        pixels = self.pixels
        if self.format == "rgb24":
            if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
                raise ValueError(
                    f"RGB pixels must be a uint8 array of shape (height, width, 3), got {pixels.dtype} "
                    f"{pixels.shape}; drop the alpha channel with pixels[..., :3]"
                )
        elif pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[0] % 3 or pixels.shape[1] % 2:
            raise ValueError(
                f"I420 pixels must be packed planes, a uint8 array of shape (3/2 even height, even "
                f"width), got {pixels.dtype} {pixels.shape}"
            )

    @property
    def width(self) -> int:
        return self.size[0] or int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return self.size[1] or int(self.pixels.shape[0] * (2 if self.format == "yuv420p" else 3) // 3)

    @property
    def rgb(self) -> Pixels:
        """The picture as (height, width, 3) RGB (converted with `colour` for a YUV frame)."""
        if self.format == "rgb24":
            return self.pixels
        return i420_to_rgb(self.pixels, self.colour)[: self.height, : self.width]

    def i420(self) -> Pixels:
        """The picture as packed I420 planes, padded to even (converted with `colour` for RGB)."""
        if self.format == "yuv420p":
            return self.pixels
        return rgb_to_i420(self.pixels, self.colour)

    def release(self) -> None:
        """Give lent pixel memory back (idempotent; nothing to do for a frame that owns its pixels).
        A lent frame's pixels are empty afterwards: the memory they viewed is no longer theirs."""
        callback = self.on_release
        if callback is not None:
            object.__setattr__(self, "on_release", None)
            object.__setattr__(self, "pixels", np.empty((0, 0), dtype=np.uint8))
            callback()


class PixelSource(Protocol):
    """A presented frame's pixels on their way to host memory (a presenter's readback)."""

    def pixels(self) -> tuple[Pixels, PixelFormat, tuple[int, int], float]:
        """Wait until the pixels are in host memory: (pixels, format, picture size, the
        `perf_counter()` at which the GPU had finished the copy). Raises a GuestCallError when
        they cannot be read (a lost device, a GPU wait past its limit)."""
        ...


@runtime_checkable
class LendingSource(PixelSource, Protocol):
    """A pixel source that can lend its pixels in place (`PendingFrame.result(lend=True)`)."""

    def lend(self) -> tuple[Pixels, PixelFormat, tuple[int, int], float, Callable[[], None] | None]:
        """As `pixels()`, plus the function that gives lent pixels back (None: they were copied)."""
        ...


class PendingFrame:
    """A presented frame whose pixels may still be on their way from the GPU.

    `result()` waits for them and returns the `Frame`; it may be called from any thread, while
    the guest renders its next frames (at most `GuestOptions.frames_in_flight` are pending).
    """

    def __init__(
        self,
        index: int,
        time: float,
        source: PixelSource,
        guest_seconds: float,
        presented_at: float,
        colour: Colour,
        describe: Callable[[BaseException], BaseException],
    ) -> None:
        self.index = index
        self.time = time
        self.presented_at = presented_at
        self._source = source
        self._guest_seconds = guest_seconds
        self._colour = colour
        self._describe = describe  # turns a host call's error into the guest's one-line error
        self._frame: Frame | None = None
        self._error: BaseException | None = None

    def result(self, lend: bool = False) -> Frame:
        """The frame, once its pixels are in host memory; the guest's error if they cannot be.

        `lend`: where the presenter can (I420 read back from the GPU), the frame's pixels are the
        mapped readback buffer itself, read-only, with no copy; the caller must `release()` the
        frame as soon as it is done with them (the buffer takes no other frame until then).
        """
        if self._frame is None and self._error is None:
            give_back: Callable[[], None] | None = None
            try:
                if lend and isinstance(self._source, LendingSource):
                    pixels, fmt, size, read_at, give_back = self._source.lend()
                else:
                    pixels, fmt, size, read_at = self._source.pixels()
            except Exception as exc:  # whatever failed, the caller gets a GuestError
                self._error = self._describe(exc)
            else:
                self._frame = Frame(
                    self.index,
                    self.time,
                    pixels,
                    fmt,
                    size,
                    self._colour,
                    self._guest_seconds,
                    max(0.0, read_at - self.presented_at),
                    self.presented_at,
                    read_at,
                    getattr(self._source, "submitted_at", self.presented_at),
                    give_back,
                )
        if self._error is not None:
            raise self._error
        assert self._frame is not None
        return self._frame
