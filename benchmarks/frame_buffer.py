"""Frame-buffer guests per size, with the adapter (gpu_host/frame_buffer_adapter.py) and without.

    python -m benchmarks.frame_buffer [--sizes 640x360,1280x720,1920x1080] [--frames 30]

The `framebuffer` scene (colour bars and a moving square, drawn in the guest's Python, whole frame
passed in `buffer.set`) at each size, loaded twice: without the adapter (the guest's `list<u8>`
lifted by wasmtime for the host function, the path before the adapter; it traps past 2,796,202
bytes, so only where a frame fits) and with it (the pixels sent on as one latin1 string). For
each: frames per second taking frames as fast as the host can (pixels on the CPU as RGB, no
encoding), and the guest's share of a frame (its frame tick to its present: drawing in wasm and
the `buffer.set` crossing), medians after a warm-up. The ratio is against the path without the
adapter at the same size, in the same run. Compare figures only within one run
(docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass

import wgpu

from gpu_host import GuestOptions, Runtime
from gpu_host.component import GuestComponent
from scenes.build import scene_path
from streamer.cli import parse_size

HOSTCALL_LIST_LIMIT = 2_796_202  # bytes of one `list<u8>` into a host function (docs/runtime.md)


@dataclass
class Figures:
    fps: float
    guest_ms: float


def measure(
    runtime: Runtime, component: GuestComponent, size: tuple[int, int], frames: int, warmup: int
) -> Figures:
    intervals: list[float] = []
    guest_s: list[float] = []
    with runtime.run(component, GuestOptions(name=component.name, size=size)) as guest:
        last = time.perf_counter()
        for frame in guest.frames(warmup + frames):
            now = time.perf_counter()
            if frame.index >= warmup:
                intervals.append(now - last)
                guest_s.append(frame.guest_seconds)
            last = now
    return Figures(1 / statistics.median(intervals), statistics.median(guest_s) * 1e3)


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())  # else the Vulkan loader complains
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="640x360,1280x720,1920x1080", help="comma-separated WIDTHxHEIGHT")
    parser.add_argument(
        "--frames", type=int, default=30, help="frames measured per size and path (default 30)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="frames before measuring (default 5)")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']})")
    print(f"framebuffer scene, {args.frames} frames after {args.warmup} warm-up, medians\n")
    print("| size | fps without adapter | guest ms without | fps with adapter | guest ms with | fps ratio |")
    print("|---|---|---|---|---|---|")
    with Runtime() as runtime:
        path = scene_path("framebuffer")
        direct = runtime.load(path, "framebuffer", adapt=False)
        adapted = runtime.load(path, "framebuffer")
        assert adapted.adapted and not direct.adapted
        for width, height in sizes:
            before = None
            if width * height * 4 <= HOSTCALL_LIST_LIMIT:
                before = measure(runtime, direct, (width, height), args.frames, args.warmup)
            after = measure(runtime, adapted, (width, height), args.frames, args.warmup)
            without = (
                f"{before.fps:.1f} | {before.guest_ms:.1f}"
                if before
                else f"traps (over {HOSTCALL_LIST_LIMIT:,} bytes) | -"
            )
            ratio = f"{after.fps / before.fps:.1f}x" if before else "-"
            print(
                f"| {width}x{height} | {without} | {after.fps:.1f} | {after.guest_ms:.1f} | {ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
