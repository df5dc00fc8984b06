"""Live video encoding with PyAV: frames in, H.264 or VP8 packets out, ready for aiortc to send.

The host encodes (docs/design.md) so the settings are ours: no B-frames and no
look-ahead (a frame's packet comes out of the call that took the frame), a keyframe on request and
at a fixed interval, and a target bitrate. Browsers decode H.264 only in the profiles aiortc
negotiates (42e01f: constrained baseline), so the encoder is told `profile=baseline`.

Colour: each frame's own (`gpu_host.Frame.colour`, BT.601 limited range for every frame the host
makes), 4:2:0. VP8 cannot say which matrix it uses and browsers assume BT.601; an H.264 stream
that says nothing is decoded by Chromium as BT.709 (saturated red comes out (255, 24, 0)), so the
H.264 stream carries the frame's colour in its VUI.

The target follows the viewer's link (streamer/rate_control.py) through `retarget`. libx264 takes
a new bitrate between frames, without a keyframe, when its VBV is set on the codec context
(`maxrate`/`bufsize` options at the ceiling) rather than in x264-params; libvpx ignores a new
bitrate on an open context, so VP8 reopens (a keyframe). A new frame rate or picture scale
reopens either codec. Measured in docs/performance.md ("Changing the bitrate of an open encoder").
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, TypeAlias

import av
from av.stream import Stream
from av.video.frame import PictureType

from gpu_host.frame import BT601, Colour, Frame, frame_rate

from .av_frame import Picture, tag_colour
from .options import BITRATE, FPS
from .rate_control import StreamTarget

VideoPacket: TypeAlias = "av.Packet[Stream]"  # what aiortc's packetizers read

# The H.264 VBV: its buffer holds this many seconds at its rate, which bounds a keyframe (about
# 26 KB at 1.3 Mb/s, 720p) under what a bottleneck's queue takes (docs/design.md, "Adapting to the
# network"). A bitrate is changed in place down to VBV_REOPEN_BELOW of the rate the codec was
# opened with; further down, or above it, the codec reopens (a keyframe) with the new rate.
VBV_SECONDS = 0.25
VBV_REOPEN_BELOW = 0.7

__all__ = ["CODECS", "EncodedPacket", "EncoderSettings", "VideoEncoder"]

Codec = Literal["h264", "vp8"]
CODECS: tuple[Codec, ...] = ("h264", "vp8")
RTP_CLOCK = 90_000  # the RTP clock rate of every video codec


@dataclass(frozen=True)
class EncoderSettings:
    """What a viewer's stream is encoded with. Presets were picked by measurement (docs/performance.md)."""

    codec: Codec = "h264"
    bitrate: int = 4_000_000  # bits per second
    fps: float = 30.0
    keyframe_interval: float = 2.0  # seconds between keyframes when nobody asks for one
    h264_preset: str = "ultrafast"
    vp8_speed: int = 8  # libvpx cpu-used in realtime mode: 8 is its fastest
    threads: int = 0  # 0: the codec picks (all cores); `threads_per_session` shares them out
    min_bitrate: int = 500_000  # the floor a viewer's link may take the bitrate down to (--min-bitrate)
    adapt: bool = True  # follow the viewer's link (streamer/rate_control.py); False: a fixed bitrate

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise ValueError(f"unknown codec {self.codec!r} (expected one of: {', '.join(CODECS)})")
        BITRATE.check(self.bitrate, "bitrate (b/s)")
        BITRATE.check(self.min_bitrate, "minimum bitrate (b/s)")
        FPS.check(self.fps, "fps")

    @property
    def floor(self) -> int:
        """The floor, never above the ceiling (a low --bitrate lowers the default floor with it)."""
        return min(self.min_bitrate, self.bitrate)

    @property
    def codec_library(self) -> str:
        return "libx264" if self.codec == "h264" else "libvpx"

    @property
    def live_bitrate(self) -> bool:
        """Whether the codec takes a new bitrate without reopening (measured: libx264 yes, libvpx no)."""
        return self.codec == "h264"


def threads_per_session(sessions: int, cores: int | None = None) -> int:
    """Encoder threads for each of `sessions` sessions sharing this machine's cores.

    Each session's encoder left to pick would take every core, so that a full node runs
    sessions x cores threads fighting for them; a share each keeps one frame's encode short
    without that (docs/performance.md, "Sessions per node").
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, sessions))


@dataclass(frozen=True)
class EncodedPacket:
    """One encoded frame: its bytes, its RTP timestamp (90 kHz) and whether it is a keyframe."""

    data: bytes
    timestamp: int
    keyframe: bool
    size: tuple[int, int] = field(default=(0, 0))

    def to_av(self) -> VideoPacket:
        """The packet aiortc's packetizers take (they read bytes, pts and time_base)."""
        packet = av.Packet(self.data)
        packet.pts = self.timestamp
        packet.time_base = Fraction(1, RTP_CLOCK)
        return packet


class VideoEncoder:
    """Encodes frames of any size: a new size restarts the codec (its first frame is a keyframe)."""

    def __init__(self, settings: EncoderSettings) -> None:
        self.settings = settings
        self.target = StreamTarget(settings.bitrate, settings.fps, 1.0)  # what the codec is open with
        self._wanted = self.target  # set from another thread by `retarget`, applied at the next frame
        self._codec: av.VideoCodecContext | None = None
        self._picture = Picture()  # reused from frame to frame
        self.steps: tuple[tuple[str, float], ...] = ()  # the last encode's, in seconds
        self._size = (0, 0)
        self._colour = BT601
        self._index = 0
        self._last_keyframe = -(10**9)
        self._keyframe_wanted = True
        self._vbv_rate = settings.bitrate  # H.264: the rate limit the codec was opened with
        self.frames = 0
        self.keyframes = 0

    def request_keyframe(self) -> None:
        """Make the next frame a keyframe (a new viewer, or a PLI/FIR from one)."""
        self._keyframe_wanted = True

    @property
    def must_encode(self) -> bool:
        """Whether the next frame must be encoded even if its picture repeats the last: a keyframe
        is wanted, a new target waits, or the codec is not open yet."""
        return self._keyframe_wanted or self._wanted != self.target or self._codec is None

    def retarget(self, target: StreamTarget) -> None:
        """Encode at `target` from the next frame on (safe from another thread: one assignment)."""
        self._wanted = target

    def encode(self, frame: Frame, timestamp: int) -> list[EncodedPacket]:
        """Encode one frame shown at `timestamp` (RTP 90 kHz units). I420 frames go in as they
        are; RGB ones are converted with their own colour (`Frame.i420`)."""
        started = time.perf_counter()
        picture = self._picture.fill(frame)
        filled = time.perf_counter()
        wanted = self._wanted
        size = scaled((picture.width, picture.height), wanted.scale)
        if size != (picture.width, picture.height):
            picture = tag_colour(picture.reformat(width=size[0], height=size[1]), frame.colour)
        reopen = wanted.fps != self.target.fps or (
            wanted.bitrate != self.target.bitrate
            and not (self.settings.live_bitrate and self._vbv_fits(wanted.bitrate))
        )
        if size != self._size or frame.colour != self._colour or reopen:
            self.target = wanted
            self._open(size, frame.colour)
        else:
            if wanted.bitrate != self.target.bitrate:
                assert self._codec is not None
                self._codec.bit_rate = wanted.bitrate  # libx264 reconfigures before the next frame
            self.target = wanted
        interval = max(1, round(self.settings.keyframe_interval * self.target.fps))
        if self._keyframe_wanted or self._index - self._last_keyframe >= interval:
            picture.pict_type = PictureType.I
            self._keyframe_wanted = False
            self._last_keyframe = self._index
        picture.pts = self._index
        self._index += 1
        assert self._codec is not None
        packets = []
        coding = time.perf_counter()
        for packet in self._codec.encode(picture):
            packets.append(EncodedPacket(bytes(packet), timestamp, packet.is_keyframe, size))
            self.keyframes += packet.is_keyframe
        self.frames += 1
        self.steps = (("planes to picture", filled - started), ("settings", coding - filled))
        self.steps += ((self.settings.codec_library, time.perf_counter() - coding),)
        return packets

    def _vbv_fits(self, bitrate: int) -> bool:
        """Whether `bitrate` can be set in place: within the VBV the codec was opened with. Below
        `VBV_REOPEN_BELOW` of it the VBV's buffer would still let a keyframe take as many bytes
        as at the old rate, which a link that made us step down may not hold."""
        return VBV_REOPEN_BELOW * self._vbv_rate <= bitrate <= self._vbv_rate

    def _open(self, size: tuple[int, int], colour: Colour) -> None:
        self.close()
        s = self.settings
        self._vbv_rate = self.target.bitrate
        if s.codec == "h264":
            codec = av.CodecContext.create("libx264", "w")
            codec.options = {
                "preset": s.h264_preset,
                "tune": "zerolatency",
                "profile": "baseline",
                "forced-idr": "1",
                # The VBV on the context, not in x264-params: FFmpeg's wrapper then hands a new
                # `bit_rate` to x264 between frames (with it in x264-params, a change is ignored).
                # Its buffer bounds a frame's size: a keyframe must fit a bottleneck's queue.
                "maxrate": str(self._vbv_rate),
                "bufsize": str(round(self._vbv_rate * VBV_SECONDS)),
                "x264-params": f"bframes=0:{colour.x264_params}",
            }
        else:
            codec = av.CodecContext.create("libvpx", "w")
            codec.options = {
                "deadline": "realtime",
                "cpu-used": str(s.vp8_speed),
                "lag-in-frames": "0",
                "error-resilient": "1",
            }
        assert isinstance(codec, av.VideoCodecContext)
        codec.width, codec.height = size
        codec.pix_fmt = "yuv420p"
        rate = frame_rate(self.target.fps)
        codec.framerate = rate
        codec.time_base = 1 / rate
        codec.bit_rate = self.target.bitrate
        codec.gop_size = 10**6  # keyframes come from request_keyframe and the interval only
        codec.max_b_frames = 0
        codec.thread_count = s.threads
        if s.threads != 1:
            codec.thread_type = "SLICE"  # frame threads add a frame of delay per thread
        codec.open()
        self._codec = codec
        self._size = size
        self._colour = colour
        self._keyframe_wanted = True

    def close(self) -> None:
        """Free the codec; a later `encode` opens a new one."""
        if self._codec is not None:
            self._codec = None
            self._size = (0, 0)


def scaled(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """`size` scaled by `scale` to even sides (4:2:0), at least 2x2; `size` itself at scale 1."""
    if scale == 1.0:
        return size
    return tuple(max(2, round(side * scale / 2) * 2) for side in size)  # type: ignore[return-value]
