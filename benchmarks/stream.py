"""Streaming throughput at a Python viewer: fps and bitrate delivered, and where a frame's time goes.

    python -m benchmarks.stream [--scene NAME|PATH] [--size 1920x1080] [--fps 60] [--bitrate 20M]
                                [--codec h264|vp8] [--seconds 10] [--viewers 1] [--no-adapt]

Starts `streamer serve` in this process on 127.0.0.1, connects aiortc viewers (loopback, no ICE
servers), lets them warm up, then measures for --seconds:

- at each viewer: frames decoded per second (median of 1 s windows) and bitrate (RTP bytes
  received, from getStats);
- at the server, per frame: the interval between encoded frames leaving the worker (median, p95),
  guest ms, readback ms (present to I420 in host memory, converted on the GPU), encode ms, and
  present-to-packet (readback + encode, the latency the pipeline adds after the guest presents).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import wgpu

from benchmarks import percentile
from streamer.cli import parse_bitrate, parse_size
from streamer.encoder import CODECS, EncoderSettings
from streamer.scenes import DEFAULT_SCENE, builtin_scenes, resolve_scene
from streamer.server import ServeConfig, running
from streamer.stream_task import WorkerConfig
from streamer.viewer import Viewer


async def bytes_received(viewer: Viewer) -> int:
    report = await viewer.pc.getStats()
    # aiortc counts bytes per transport, not per stream; the transport carries the video and
    # a few small data-channel and RTCP messages.
    return sum(int(s.bytesReceived) for s in report.values() if s.type == "transport")


async def measure(args: argparse.Namespace) -> None:
    width, height = args.size
    component = resolve_scene(args.scene)
    name = args.scene if args.scene in builtin_scenes() else Path(args.scene).stem
    encoder = EncoderSettings(codec=args.codec, bitrate=args.bitrate, fps=args.fps, adapt=not args.no_adapt)
    config = ServeConfig(
        worker=WorkerConfig(
            component=component,
            name=name,
            size=(width, height),
            max_surface_size=(width, height),
            encoder=encoder,
        ),
        port=0,
        max_sessions=args.viewers,
    )
    async with running(config) as (url, server):
        viewers = [Viewer(url, keep_frames=2) for _ in range(args.viewers)]
        try:
            for viewer in viewers:
                await viewer.connect()
            for viewer in viewers:
                await viewer.wait_frames(args.fps * 2, timeout=120)  # warm-up: start, JIT of the guest
            start = time.monotonic()
            counts = [[v.frames_received] for v in viewers]
            bytes_at_start = [await bytes_received(v) for v in viewers]
            for _ in range(int(args.seconds)):
                await asyncio.sleep(1.0)
                for viewer, series in zip(viewers, counts, strict=True):
                    series.append(viewer.frames_received)
            elapsed = time.monotonic() - start
            bytes_at_end = [await bytes_received(v) for v in viewers]
            sessions = list(server.sessions.values())
        finally:
            for viewer in viewers:
                await viewer.close()

    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']})")
    print(
        f"scene {name}, {width}x{height}, {args.fps:g} fps asked, {args.codec} at "
        f"{args.bitrate / 1e6:g} Mb/s, {args.viewers} viewer(s), {elapsed:.1f} s measured, "
        f"adaptation {'off' if args.no_adapt else 'on'}"
    )
    for i, (series, b0, b1) in enumerate(zip(counts, bytes_at_start, bytes_at_end, strict=True)):
        per_second = [b - a for a, b in itertools.pairwise(series)]
        print(
            f"viewer {i}: median {statistics.median(per_second):.1f} fps decoded "
            f"(min {min(per_second)}), {(b1 - b0) * 8 / elapsed / 1e6:.2f} Mb/s received"
        )
    for session in sessions:
        frames = [(t, f) for t, f in session.recent_frames if t >= start]
        if len(frames) < 3:
            continue
        intervals = [(b[0] - a[0]) * 1e3 for a, b in itertools.pairwise(frames)]
        p2p = [f.readback_ms + f.encode_ms for _, f in frames]
        print(
            f"server: frame interval median {statistics.median(intervals):.2f} ms "
            f"(p95 {percentile(intervals, 0.95):.2f}); "
            f"guest {statistics.median(f.guest_ms for _, f in frames):.2f} ms, "
            f"readback {statistics.median(f.readback_ms for _, f in frames):.2f} ms, "
            f"encode {statistics.median(f.encode_ms for _, f in frames):.2f} ms, "
            f"present-to-packet median {statistics.median(p2p):.2f} ms (p95 {percentile(p2p, 0.95):.2f})"
        )
        target = session.link.target
        print(
            f"server: target at the end {target.bitrate / 1e6:.2f} Mb/s, {target.fps:g} fps,"
            f" scale {target.scale:g}"
        )


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default=DEFAULT_SCENE)
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=parse_bitrate, default=4_000_000)
    parser.add_argument("--codec", choices=CODECS, default="h264")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--viewers", type=int, default=1)
    parser.add_argument("--no-adapt", action="store_true", help="a fixed bitrate (serve --no-adapt)")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
