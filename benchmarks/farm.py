"""Render farm throughput on one machine: concurrent tasks against one `streamer render`.

    python -m benchmarks.farm [--scene orbit] [--size 1920x1080] [--frames 300] [--jobs 8]
                              [--tasks 1,2,4,8] [--gpu] [--long 1200] [--chunk-frames 300]

First one `streamer render` of a job (MP4 at the farm's settings: --qp 20 --keyint 250), whose
frames per second are the baseline. Then the same batch of --jobs jobs through `streamer farm`
(a Ray of this machine's own) at each concurrency in --tasks: each task asks for cores/T CPUs and,
with --gpu, 1/T of the GPU, so T tasks run at once. Throughput is the batch's frames over its
makespan (the longest job's seconds, counted from submission, so Ray's own start is left out).
Last, one long job of --long frames, unchunked and in chunks of --chunk-frames, run at
len(chunks) tasks at once: what fast-forwarding costs against what chunking spreads.
Prints a table and writes JSON to --json-out; docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import wgpu

from streamer.cli import parse_size


def adapter_name() -> str:
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    return f"{info['device']} ({info['backend_type']})"


def single_render(scene: str, size: str, frames: int, folder: Path) -> float:
    """Seconds of one `streamer render` (its process start and the guest's compilation excluded
    by a warm-up run of 2 frames first)."""
    base = [
        sys.executable,
        "-m",
        "streamer.cli",
        "render",
        scene,
        "--size",
        size,
        "--qp",
        "20",
        "--keyint",
        "250",
    ]
    subprocess.run([*base, "-o", str(folder / "warm.mp4"), "--frames", "2"], check=True, capture_output=True)
    start = time.perf_counter()
    subprocess.run(
        [*base, "-o", str(folder / "one.mp4"), "--frames", str(frames)], check=True, capture_output=True
    )
    return time.perf_counter() - start


def farm(jobs: list[dict[str, object]], folder: Path, *options: str) -> list[dict[str, object]]:
    (folder / "jobs.jsonl").write_text("".join(json.dumps(job) + "\n" for job in jobs))
    done = subprocess.run(
        [sys.executable, "-m", "streamer.cli", "farm", "jobs.jsonl", "--json", *options],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"streamer farm failed ({done.returncode}):\n{done.stderr[-3000:]}")
    reports: list[dict[str, object]] = json.loads(done.stdout)["jobs"]
    for job in jobs:
        output = folder / str(job["output"])
        output.unlink(missing_ok=True)
    return reports


def makespan(reports: list[dict[str, object]]) -> float:
    return max(float(r["seconds"]) for r in reports)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default="orbit")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--frames", type=int, default=300, help="frames per job")
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--tasks", default="1,2,4,8", help="concurrencies to measure")
    parser.add_argument("--gpu", action="store_true", help="tasks share the GPU by fractions (1/T each)")
    parser.add_argument("--long", type=int, default=0, help="frames of the long job (0: skip)")
    parser.add_argument("--chunk-frames", type=int, default=300)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    parse_size(args.size)
    cores = os.cpu_count() or 1
    adapter = adapter_name()
    results: dict[str, object] = {
        "machine": f"{platform.node()} ({cores} cores)",
        "adapter": adapter,
        "scene": args.scene,
        "size": args.size,
        "frames_per_job": args.frames,
        "jobs": args.jobs,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seconds = single_render(args.scene, args.size, args.frames, folder)
        baseline = args.frames / seconds
        results["single_render_fps"] = baseline
        print(f"{adapter}, {cores} cores; {args.scene} {args.size}, {args.jobs} jobs of {args.frames} frames")
        print(f"streamer render: {baseline:.1f} frames/s")
        rows = []
        for tasks in (int(t) for t in args.tasks.split(",")):
            options = ["--cpus-per-task", f"{cores / tasks:g}"]
            if args.gpu:
                options += ["--gpus-per-task", f"{1 / tasks:g}"]
            jobs: list[dict[str, object]] = [
                {"scene": args.scene, "output": f"job{n}.mp4", "frames": args.frames, "size": args.size}
                for n in range(args.jobs)
            ]
            reports = farm(jobs, folder, *options)
            fps = args.frames * args.jobs / makespan(reports)
            rows.append({"tasks": tasks, "fps": fps, "vs_single": fps / baseline})
            print(f"farm, {tasks} tasks at once: {fps:.1f} frames/s, {fps / baseline:.2f}x streamer render")
        results["concurrency"] = rows
        if args.long:
            chunks = -(-args.long // args.chunk_frames)
            long_job: list[dict[str, object]] = [
                {"scene": args.scene, "output": "long.mp4", "frames": args.long, "size": args.size}
            ]
            options = ["--cpus-per-task", f"{cores / chunks:g}"]
            if args.gpu:
                options += ["--gpus-per-task", f"{1 / chunks:g}"]
            whole = makespan(farm(long_job, folder, *options))
            split = makespan(farm(long_job, folder, *options, "--chunk-frames", str(args.chunk_frames)))
            results["long"] = {"frames": args.long, "chunks": chunks, "whole_s": whole, "chunked_s": split}
            print(
                f"long job of {args.long} frames: {whole:.1f} s whole, {split:.1f} s in {chunks} chunks "
                f"({whole / split:.2f}x)"
            )
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
