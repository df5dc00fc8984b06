"""Which encoder settings to stream with: time per frame, bitrate and quality of each choice.

    python -m benchmarks.encoder [--scene orbit] [--size 1280x720] [--fps 30] [--bitrate 4M] [--frames 90]

Renders --frames frames of a scene (I420, converted on the GPU, as a streaming worker does), then
encodes the same frames with each H.264 preset and VP8 speed in `streamer.encoder`'s live settings
(zerolatency / realtime, no B-frames, the target bitrate) and prints, per setting: median and p95
ms per frame, the bitrate it produced and its quality (PSNR of the luma plane against the
rendered frames, after decoding). The fastest setting that holds the bitrate at a quality close to
the best is the one to stream with; docs/performance.md records the choice.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import replace

import av
import numpy as np
import numpy.typing as npt
import wgpu

from benchmarks import percentile
from gpu_host import Frame, GuestOptions, Runtime
from streamer.cli import parse_bitrate, parse_size
from streamer.encoder import EncoderSettings, VideoEncoder
from streamer.scenes import resolve_scene

H264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster")
VP8_SPEEDS = (16, 12, 8, 4)


def render(scene: str, size: tuple[int, int], frames: int) -> list[Frame]:
    with Runtime() as runtime:
        component = runtime.load(resolve_scene(scene), scene)
        options = GuestOptions(name=scene, size=size, frame_format="yuv420p")
        with runtime.run(component, options) as guest:
            return list(guest.frames(frames))


def luma_psnr(reference: npt.NDArray[np.uint8], decoded: npt.NDArray[np.uint8]) -> float:
    height = reference.shape[0] * 2 // 3
    error = np.mean((reference[:height].astype(np.float64) - decoded[:height].astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


def measure(settings: EncoderSettings, frames: list[Frame]) -> tuple[float, float, float, float]:
    encoder = VideoEncoder(settings)
    decoder = av.CodecContext.create("h264" if settings.codec == "h264" else "vp8", "r")
    times, sizes, quality = [], [], []
    for index, source in enumerate(frames):
        pixels = source.pixels
        start = time.perf_counter()
        packets = encoder.encode(source, index * 3000)
        times.append(time.perf_counter() - start)
        for packet in packets:
            sizes.append(len(packet.data))
            for frame in decoder.decode(av.Packet(packet.data)):
                decoded = np.asarray(frame.to_ndarray(), dtype=np.uint8)
                quality.append(luma_psnr(pixels, decoded))
    bitrate = sum(sizes) * 8 * settings.fps / len(frames)
    return (
        statistics.median(times) * 1e3,
        percentile(times, 0.95) * 1e3,
        bitrate,
        statistics.median(quality),
    )


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default="orbit")
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--bitrate", type=parse_bitrate, default=4_000_000)
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args()
    width, height = args.size
    frames = render(args.scene, (width, height), args.frames)
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; adapter {info['device']}")
    print(
        f"scene {args.scene}, {width}x{height}, {args.frames} frames, {args.fps:g} fps, "
        f"target {args.bitrate / 1e6:g} Mb/s\n"
    )
    print("| codec | setting | ms/frame | p95 | Mb/s | luma PSNR dB |")
    print("|---|---|---|---|---|---|")
    base = EncoderSettings(bitrate=args.bitrate, fps=args.fps)
    choices = [replace(base, h264_preset=p) for p in H264_PRESETS]
    choices += [replace(base, codec="vp8", vp8_speed=s) for s in VP8_SPEEDS]
    for settings in choices:
        median, p95, bitrate, psnr = measure(settings, frames)
        setting = settings.h264_preset if settings.codec == "h264" else f"cpu-used {settings.vp8_speed}"
        print(
            f"| {settings.codec} | {setting} | {median:.2f} | {p95:.2f} | {bitrate / 1e6:.2f} | {psnr:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
