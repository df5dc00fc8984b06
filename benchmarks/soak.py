"""Soak: viewers joining and leaving a shared stream, then private sessions starting and stopping,
and what the main process holds afterwards.

    python -m benchmarks.soak [--joins 1000] [--cycles 200] [--at-once 4]

Serves triangle at 320x240 in this process. Shared: --joins viewers join (each waits for its first
frame) and leave, --at-once at a time. Private: --cycles sessions start (first frame) and stop.
After a warm-up of 20, and again at the middle and the end of each part, it reads this process's
open file descriptors, threads and resident memory (/proc/self). What must hold: descriptors and
threads back at their baseline, memory within 5% of it or flat over the second half.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

from streamer.admission import DoorSettings
from streamer.encoder import EncoderSettings
from streamer.scenes import resolve_scene
from streamer.server import ServeConfig, Server, running
from streamer.shared import SharedSettings
from streamer.stream_task import WorkerConfig
from streamer.viewer import Viewer


def holdings() -> tuple[int, int, float]:
    """Open descriptors, threads, resident MiB of this process."""
    fds = len(os.listdir("/proc/self/fd"))
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return fds, int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


async def settle(server: Server, seconds: float = 3.0) -> None:
    """Wait for the sessions to finish closing."""
    deadline = time.monotonic() + seconds
    while server.sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)


async def churn(url: str, server: Server, total: int, at_once: int, label: str) -> None:
    async def one() -> None:
        async with Viewer(url, ping_interval=None) as viewer:
            await viewer.wait_frames(1, timeout=60)

    warmup = 20
    for _ in range(warmup // at_once):
        await asyncio.gather(*(one() for _ in range(at_once)))
    await settle(server)
    base = holdings()
    gpu_base = await server.shared.gpu_objects() if server.shared is not None else {}
    marks: dict[str, tuple[int, int, float]] = {}
    started = time.monotonic()
    done = 0
    while done < total:
        await asyncio.gather(*(one() for _ in range(at_once)))
        done += at_once
        if done >= total // 2 and "mid" not in marks:
            await settle(server)
            marks["mid"] = holdings()
    await settle(server)
    end = holdings()
    gpu_end = await server.shared.gpu_objects() if server.shared is not None else {}
    same = "unchanged" if gpu_end == gpu_base else f"{gpu_base} -> {gpu_end}"
    gpu = f"; shared worker's wgpu objects {same}" if server.shared is not None else ""
    mid = marks.get("mid", end)
    elapsed = time.monotonic() - started
    print(
        f"{label}: {done} in {elapsed:.0f} s; fds {base[0]} -> {mid[0]} -> {end[0]}, "
        f"threads {base[1]} -> {mid[1]} -> {end[1]}, RSS {base[2]:.0f} -> {mid[2]:.0f} -> {end[2]:.0f} MiB "
        f"({(end[2] / base[2] - 1) * 100:+.1f}%, second half {(end[2] / mid[2] - 1) * 100:+.1f}%)" + gpu,
        flush=True,
    )


async def main(args: argparse.Namespace) -> None:
    worker = WorkerConfig(
        component=resolve_scene("triangle"),
        name="triangle",
        size=(320, 240),
        encoder=EncoderSettings(bitrate=500_000),
    )
    door = DoorSettings(offers_per_minute=100_000, sessions_per_address=1024)
    shared = ServeConfig(worker=worker, port=0, max_sessions=64, shared=SharedSettings(), door=door)
    async with running(shared) as (url, server):
        await churn(url, server, args.joins, args.at_once, "shared joins")
    private = ServeConfig(worker=worker, port=0, max_sessions=64, door=door)
    async with running(private) as (url, server):
        await churn(url, server, args.cycles, 1, "private sessions")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--joins", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--at-once", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
