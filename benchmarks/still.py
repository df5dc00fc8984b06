"""What an idle session costs, with still pictures skipped (streamer/still.py) and without.

    python -m benchmarks.still [--scene triangle] [--size 1280x720] [--fps 30] [--seconds 10] [--runs 2]

First the cost of telling a repeat: comparing a frame's I420 planes with the last one sent (equal:
the whole frame read; changed at the top: stopped early) and copying a changed one. Then one
session of the scene, which nobody drives (the triangle does not move by itself), with one
depacketizing viewer (benchmarks/viewers.py), in turn `--still-refresh 0` (every frame encoded
and sent, as before), `--still-refresh 1` (repeats not encoded) and `--still-refresh 1
--still-tick T` (nor rendered but every T seconds), `--runs` times each: the CPU of the session's
worker and of the main process, in cores, over --seconds, and the frames the viewer received per
second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import timeit

import numpy as np
import wgpu

from benchmarks.stream import CpuSampler, GpuSampler, measure_round
from streamer.admission import DoorSettings
from streamer.cli import parse_size
from streamer.encoder import EncoderSettings
from streamer.scenes import resolve_scene
from streamer.server import ServeConfig, running
from streamer.still import same_pixels
from streamer.stream_task import WorkerConfig


def compare_costs(width: int, height: int) -> str:
    """Milliseconds to compare an equal frame, a frame changed in its first row, and to copy one."""
    frame = np.random.default_rng(1).integers(0, 256, (height * 3 // 2, width), dtype=np.uint8)
    equal, changed, copy = frame.copy(), frame.copy(), np.empty_like(frame)
    changed[0, 0] ^= 1
    n = 200
    costs = [
        timeit.timeit(lambda: same_pixels(frame, equal), number=n) / n * 1e3,
        timeit.timeit(lambda: same_pixels(frame, changed), number=n) / n * 1e3,
        timeit.timeit(lambda: np.copyto(copy, frame), number=n) / n * 1e3,
    ]
    equal_ms, changed_ms, copy_ms = costs
    return (
        f"{width}x{height}: equal {equal_ms:.3f} ms, changed at the top {changed_ms:.3f} ms, "
        f"copy {copy_ms:.3f} ms"
    )


async def idle_session(
    args: argparse.Namespace, refresh: float | None, tick: float | None
) -> tuple[float, float, float]:
    """(worker cores, main process cores, frames per second at the viewer) of one idle session."""
    config = ServeConfig(
        worker=WorkerConfig(
            component=resolve_scene(args.scene),
            name=args.scene,
            size=args.size,
            max_surface_size=args.size,
            encoder=EncoderSettings(fps=args.fps),
            still_refresh=refresh,
            still_tick=tick,
        ),
        port=0,
        max_sessions=1,
        door=DoorSettings(offers_per_minute=10_000, sessions_per_address=1024),
    )
    async with running(config) as (url, server):
        cpu, gpu = CpuSampler(server), GpuSampler(command=None)
        sampler = asyncio.create_task(cpu.run())
        try:
            result = await measure_round(args, url, server, cpu, gpu, 1)
        finally:
            sampler.cancel()
    return result.worker_cores, result.main_cores, result.sessions[0].viewer.fps


async def measure(args: argparse.Namespace) -> None:
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']})")
    for size in ((1280, 720), (1920, 1080)):
        print("compare:", compare_costs(*size))
    width, height = args.size
    print(f"\none idle {args.scene} session, {width}x{height} at {args.fps:g} fps, {args.seconds:g} s each")
    print("| still pictures | worker cores | main process cores | session total | frames/s at the viewer |")
    print("|---|---|---|---|---|")
    variants = {
        "every frame sent (before)": (None, None),
        "resent every 1 s": (1.0, None),
        f"resent every 1 s, ticked every {args.still_tick:g} s": (1.0, args.still_tick),
    }
    results: dict[str, list[float]] = {label: [] for label in variants}
    for _ in range(args.runs):
        for label, (refresh, tick) in variants.items():
            worker, main, fps = await idle_session(args, refresh, tick)
            results[label].append(worker + main)
            print(f"| {label} | {worker:.3f} | {main:.3f} | {worker + main:.3f} | {fps:.1f} |", flush=True)
    before = statistics.median(results["every frame sent (before)"])
    print()
    for label, totals in results.items():
        total = statistics.median(totals)
        print(f"median session total, {label}: {total:.3f} cores ({total / before:.2f}x)")


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default="triangle")
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--still-tick", type=float, default=0.25, help="seconds, the third variant's")
    parser.set_defaults(decoding=0, stagger=0.0)  # one viewer, which only depacketizes
    args = parser.parse_args()
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
