"""Shared mode at scale: N viewers of one shared stream, encoded once.

    python -m benchmarks.kiosk [--scene orbit] [--size 1280x720] [--fps 30] [--bitrate 4M]
                               [--viewers 1,5,10,20] [--seconds 10]

Serves the scene with `--shared` in this process (so that this process's CPU is the main
process's: it sends every viewer's RTP from one event loop), then for each N connects N viewers in
processes of their own (benchmarks/viewers.py: they only depacketize, one of them decodes as a
check) and measures for --seconds: each viewer's frames per second and frame interval, the encodes
per second, and the main process's CPU. Prints a table; docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time

import wgpu

from benchmarks.viewers import ViewerReport, watch
from streamer.admission import DoorSettings
from streamer.cli import parse_bitrate, parse_size
from streamer.encoder import EncoderSettings
from streamer.scenes import builtin_scenes, resolve_scene
from streamer.server import ServeConfig, running
from streamer.shared import SharedSettings
from streamer.stream_task import WorkerConfig


async def measure(args: argparse.Namespace) -> None:
    counts = [int(n) for n in args.viewers.split(",")]
    encoder = EncoderSettings(bitrate=args.bitrate, fps=args.fps)
    worker = WorkerConfig(
        component=resolve_scene(args.scene),
        name=args.scene if args.scene in builtin_scenes() else "scene",
        size=args.size,
        encoder=encoder,
    )
    config = ServeConfig(
        worker=worker,
        port=0,
        max_sessions=max(counts) + 1,
        shared=SharedSettings(),
        door=DoorSettings(offers_per_minute=10_000, sessions_per_address=1024),
    )
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"{platform.node()}, {os.cpu_count()} cores, {info['device']} ({info['backend_type']})")
    print(f"{args.scene} {args.size[0]}x{args.size[1]} {args.fps:g} fps {args.bitrate / 1e6:g} Mb/s, shared")
    print("viewers  min fps  median fps  worst p95 interval ms  encodes/s  main CPU %  decoding viewer fps")
    async with running(config) as (url, server):
        shared = server.shared
        assert shared is not None
        samples: list[tuple[float, int, float]] = []  # (time, frames encoded, this process's CPU)

        async def sample() -> None:
            while True:
                samples.append((time.monotonic(), shared.frames_encoded, time.process_time()))
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        for count in counts:
            loop = asyncio.get_running_loop()
            reports: list[ViewerReport] = await loop.run_in_executor(None, watch, url, count, args.seconds)
            # Over the window every viewer measured in, not the processes' start.
            begin, end = max(r.started for r in reports), min(r.started + r.seconds for r in reports)
            window = [s for s in samples if begin <= s[0] <= end] or samples[-2:]
            (t0, e0, c0), (t1, e1, c1) = window[0], window[-1]
            encodes = (e1 - e0) / max(t1 - t0, 1e-9)
            main_cpu = (c1 - c0) / max(t1 - t0, 1e-9) * 100
            fps = sorted(r.fps for r in reports)
            decoding = [r.fps for r in reports if r.decoded]
            print(
                f"{count:7d}  {fps[0]:7.1f}  {fps[len(fps) // 2]:10.1f}  "
                f"{max(r.interval_p95_ms for r in reports):21.1f}  {encodes:9.1f}  {main_cpu:10.0f}  "
                f"{decoding[0] if decoding else float('nan'):.1f}",
                flush=True,
            )
            await asyncio.sleep(2)  # the sessions close
        sampler.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default="orbit")
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--bitrate", type=parse_bitrate, default=4_000_000)
    parser.add_argument("--viewers", default="1,5,10,20")
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
