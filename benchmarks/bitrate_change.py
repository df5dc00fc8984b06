"""Whether an open encoder follows a new bitrate, and what it costs: per-second Mb/s and keyframes.

    python -m benchmarks.bitrate_change [--size 1280x720] [--fps 30] [--seconds 15]

Encodes a synthetic scrolling texture (it takes every bit it is given) and changes the target
bitrate mid-stream, 4 -> 1 -> 4 -> 2 -> 4 Mb/s every 3 s, three ways: the live encoder
(`streamer.encoder.VideoEncoder.retarget`), libx264 with its VBV in x264-params (as the encoder
was opened before) with `bit_rate` set on the open context, and libvpx with `bit_rate` set on the
open context. docs/performance.md records the result.
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

from gpu_host.frame import Frame
from streamer.encoder import EncoderSettings, VideoEncoder
from streamer.options import parse_size
from streamer.rate_control import StreamTarget

PLAN = (4_000_000, 1_000_000, 4_000_000, 2_000_000, 4_000_000)  # one target per 3 s


def texture(width: int, height: int) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 256, (height // 4 + 64, width // 4 + 64, 3), dtype=np.uint8)
    return np.kron(blocks, np.ones((4, 4, 1), np.uint8))


def picture(tex: npt.NDArray[np.uint8], width: int, height: int, index: int) -> npt.NDArray[np.uint8]:
    dy, dx = (index * 3) % 200, (index * 5) % 200
    return np.ascontiguousarray(tex[dy : dy + height, dx : dx + width])


def target_at(index: int, fps: float) -> int:
    return PLAN[min(len(PLAN) - 1, int(index / fps) // 3)]


def live(size: tuple[int, int], fps: float, frames: int) -> tuple[list[int], list[int]]:
    encoder = VideoEncoder(EncoderSettings(bitrate=PLAN[0], fps=fps, keyframe_interval=1000))
    tex = texture(*size)
    sizes, keys = [], []
    for i in range(frames):
        encoder.retarget(StreamTarget(target_at(i, fps), fps, 1.0))
        pixels = picture(tex, *size, i)
        packets = encoder.encode(Frame(i, 0.0, pixels, size=size), i)
        sizes.append(sum(len(p.data) for p in packets))
        keys.append(int(any(p.keyframe for p in packets)))
    return sizes, keys


def raw(
    codec_name: str, options: dict[str, str], size: tuple[int, int], fps: float, frames: int
) -> tuple[list[int], list[int]]:
    codec = av.CodecContext.create(codec_name, "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.options = options
    codec.width, codec.height = size
    codec.pix_fmt = "yuv420p"
    codec.framerate = Fraction(fps)
    codec.time_base = 1 / Fraction(fps)
    codec.bit_rate = PLAN[0]
    codec.gop_size = 10**6
    codec.max_b_frames = 0
    codec.thread_type = "SLICE"
    codec.open()
    tex = texture(*size)
    sizes, keys = [], []
    for i in range(frames):
        codec.bit_rate = target_at(i, fps)
        frame = av.VideoFrame.from_ndarray(picture(tex, *size, i), format="rgb24").reformat(format="yuv420p")
        frame.pts = i
        packets = codec.encode(frame)
        sizes.append(sum(p.size for p in packets))
        keys.append(int(any(p.is_keyframe for p in packets)))
    return sizes, keys


def report(name: str, sizes: list[int], keys: list[int], fps: float) -> None:
    per_second = [sum(sizes[s : s + round(fps)]) * 8 / 1e6 for s in range(0, len(sizes), round(fps))]
    print(f"{name:34s} " + " ".join(f"{x:5.2f}" for x in per_second) + f"   keyframes {sum(keys)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    size, fps = args.size, args.fps
    frames = round(args.seconds * fps)
    print(
        "target Mb/s by second:".ljust(35)
        + " ".join(f"{target_at(s * round(fps), fps) / 1e6:5.2f}" for s in range(args.seconds))
    )
    report("live encoder (VBV on the context)", *live(size, fps, frames), fps)
    vbv = f"bframes=0:vbv-maxrate={PLAN[0] // 1000}:vbv-bufsize={PLAN[0] // 1000}"
    x264 = {"preset": "ultrafast", "tune": "zerolatency", "profile": "baseline", "x264-params": vbv}
    report("libx264, VBV in x264-params", *raw("libx264", x264, size, fps, frames), fps)
    vpx = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "error-resilient": "1"}
    report("libvpx, bit_rate on the context", *raw("libvpx", vpx, size, fps, frames), fps)


if __name__ == "__main__":
    main()
