"""Live video encoding with PyAV: frames in, H.264 or VP8 packets out, ready for aiortc to send.

The host encodes (docs/design.md) so the settings are ours: no B-frames and no
look-ahead (a frame's packet comes out of the call that took the frame), a keyframe on request and
at a fixed interval, and a target bitrate. Browsers decode H.264 only in the profiles aiortc
negotiates (42e01f: constrained baseline), so the encoder is told `profile=baseline`.

Colour: each frame's own (`gpu_host.Frame.colour`, BT.601 limited range for every frame the host
makes), 4:2:0. VP8 cannot say which matrix it uses and browsers assume BT.601; an H.264 stream
that says nothing is decoded by Chromium as BT.709 (saturated red comes out (255, 24, 0)), so the
H.264 stream carries the frame's colour in its VUI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, TypeAlias

import av
from av.stream import Stream
from av.video.frame import PictureType

from gpu_host.frame import BT601, Colour, Frame, frame_rate

from .av_frame import yuv_frame
from .options import BITRATE, FPS

VideoPacket: TypeAlias = "av.Packet[Stream]"  # what aiortc's packetizers read

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
    threads: int = 0  # 0: the codec picks (all cores)

    def __post_init__(self) -> None:
        if self.codec not in CODECS:
            raise ValueError(f"unknown codec {self.codec!r} (expected one of: {', '.join(CODECS)})")
        BITRATE.check(self.bitrate, "bitrate (b/s)")
        FPS.check(self.fps, "fps")


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
        self._codec: av.VideoCodecContext | None = None
        self._size = (0, 0)
        self._colour = BT601
        self._index = 0
        self._last_keyframe = -(10**9)
        self._keyframe_wanted = True
        self.frames = 0
        self.keyframes = 0

    def request_keyframe(self) -> None:
        """Make the next frame a keyframe (a new viewer, or a PLI/FIR from one)."""
        self._keyframe_wanted = True

    def encode(self, frame: Frame, timestamp: int) -> list[EncodedPacket]:
        """Encode one frame shown at `timestamp` (RTP 90 kHz units). I420 frames go in as they
        are; RGB ones are converted with their own colour (`Frame.i420`)."""
        picture = yuv_frame(frame)
        padded = (picture.width, picture.height)
        if padded != self._size or frame.colour != self._colour:
            self._open(padded, frame.colour)
        interval = max(1, round(self.settings.keyframe_interval * self.settings.fps))
        if self._keyframe_wanted or self._index - self._last_keyframe >= interval:
            picture.pict_type = PictureType.I
            self._keyframe_wanted = False
            self._last_keyframe = self._index
        picture.pts = self._index
        self._index += 1
        assert self._codec is not None
        packets = []
        for packet in self._codec.encode(picture):
            packets.append(EncodedPacket(bytes(packet), timestamp, packet.is_keyframe, padded))
            self.keyframes += packet.is_keyframe
        self.frames += 1
        return packets

    def _open(self, size: tuple[int, int], colour: Colour) -> None:
        self.close()
        s = self.settings
        if s.codec == "h264":
            codec = av.CodecContext.create("libx264", "w")
            codec.options = {
                "preset": s.h264_preset,
                "tune": "zerolatency",
                "profile": "baseline",
                "forced-idr": "1",
                "x264-params": (
                    f"bframes=0:vbv-maxrate={s.bitrate // 1000}:vbv-bufsize={s.bitrate // 1000}"
                    f":{colour.x264_params}"
                ),
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
        rate = frame_rate(s.fps)
        codec.framerate = rate
        codec.time_base = 1 / rate
        codec.bit_rate = s.bitrate
        codec.gop_size = 10**6  # keyframes come from request_keyframe and the interval only
        codec.max_b_frames = 0
        codec.thread_count = s.threads
        if s.threads == 0:
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
