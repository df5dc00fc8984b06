"""Headless render throughput: frames per second of a guest through gpu_host, readback included.

    python -m benchmarks.headless build/scenes/triangle.wasm --size 1280x720 --frames 120

Prints the adapter, the compile time, and the median / p90 wall time per frame after a warm-up
(render + present + readback to RGB on the host; no encoding). `--png` saves the last frame.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import wgpu

from gpu_host import GuestOptions, Runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("components", nargs="+", type=Path)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--png", type=Path, help="folder to save each component's last frame in")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']})")
    runtime = Runtime()
    for path in args.components:
        start = time.perf_counter()
        component = runtime.load(path)
        compiled = time.perf_counter() - start
        times = []
        with runtime.run(component, GuestOptions(name=component.name, size=(width, height))) as guest:
            for _ in range(args.warmup):
                frame = guest.next_frame()
            for _ in range(args.frames):
                start = time.perf_counter()
                frame = guest.next_frame()
                times.append(time.perf_counter() - start)
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(
            f"{component.name:14s} {width}x{height}  compile {compiled:5.1f} s  "
            f"frame median {median * 1e3:7.2f} ms  p90 {p90 * 1e3:7.2f} ms  ({1 / median:6.1f} fps)  "
            f"centre pixel {frame.rgb[height // 2, width // 2].tolist()}"
        )
        if args.png is not None:
            from PIL import Image

            args.png.mkdir(parents=True, exist_ok=True)
            Image.fromarray(frame.rgb).save(args.png / f"{component.name}.png")


if __name__ == "__main__":
    main()
