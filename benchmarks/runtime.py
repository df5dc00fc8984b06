"""The runtime's figures: per-scene frame time split by stage, cold and warm start, one host call.

    python -m benchmarks.runtime [--size 1280x720] [--frames 60] [--scenes cube,orbit]

For each built-in scene at the given size, on this machine's adapter, after a warm-up, the
render job's own loop (`streamer render` to MP4: I420 converted on the GPU, libx264 through
streamer/video.py's Mp4Writer), run twice in alternation:

- one frame at a time (`GuestOptions.frames_in_flight=1`: present waits for its readback) and
  pipelined (the default, 2: the guest renders frame n+1 while frame n is read back and encoded);
  fps of each and the gain;
- ms per frame (medians, pipelined) split into guest (its wasm and host calls, from its frame
  tick to present), gpu+readback (present to the GPU having copied the frame) and encode;
- cold start (compile with an empty compile cache, instantiate, first frame) and warm start (the
  same with the cache filled by the cold start: a second process's start).

Then the cost of one guest-to-host call (`gpu-supported-limits.max-bind-groups`) in microseconds,
timed by the `call_loop` test guest inside wasm, minus the same loop without the call: through the
host's own callbacks (gpu_host/host_calls.py) and, in alternation, through wasmtime-py's generic
trampoline (the path before them). `--calls-only` measures only that.

Numbers are medians; compare them only with figures from the same run (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import wgpu

from gpu_host import GuestError, GuestOptions, Runtime
from scenes.build import scene_path, test_guest_path
from streamer.cli import parse_size
from streamer.scenes import builtin_scenes
from streamer.video import Mp4Writer


@dataclass
class SceneFigures:
    name: str
    fps_sequential: float
    fps: float
    total_ms: float
    guest_ms: float
    readback_ms: float
    encode_ms: float
    cold_s: float
    warm_s: float


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1e3


def start_time(runtime: Runtime, path: Path, size: tuple[int, int]) -> float:
    """Seconds from `load` to the first frame's pixels."""
    start = time.perf_counter()
    component = runtime.load(path)
    with runtime.run(component, GuestOptions(name=component.name, size=size)) as guest:
        guest.next_frame()
    return time.perf_counter() - start


def measure_scene(
    name: str, size: tuple[int, int], frames: int, warmup: int, trampoline: bool = False
) -> SceneFigures:
    path = scene_path(name)
    with tempfile.TemporaryDirectory() as cache:
        with Runtime(cache_dir=Path(cache)) as cold_runtime:
            cold = start_time(cold_runtime, path, size)
        warm_runtime = Runtime(cache_dir=Path(cache))
        warm = start_time(warm_runtime, path, size)

    component = warm_runtime.load(path)
    intervals: dict[int, list[float]] = {1: [], 2: []}
    guest_s: list[float] = []
    readback_s: list[float] = []
    encode_s: list[float] = []
    with tempfile.TemporaryDirectory() as out:
        for round_ in range(4):  # sequential and pipelined in alternation, so both see the same machine
            depth = 1 + round_ % 2
            options = GuestOptions(
                name=name,
                size=size,
                frame_format="yuv420p",
                frames_in_flight=depth,
                wasmtime_trampoline=trampoline,
            )
            with (
                Mp4Writer(Path(out) / f"{round_}.mp4", 30, size) as writer,
                warm_runtime.run(component, options) as guest,
            ):
                last = time.perf_counter()
                for frame in guest.frames(warmup + frames // 2):
                    written = time.perf_counter()
                    writer.write(frame)
                    now = time.perf_counter()
                    if frame.index >= warmup:
                        intervals[depth].append(now - last)
                        if depth == 2:
                            guest_s.append(frame.guest_seconds)
                            readback_s.append(frame.readback_seconds)
                            encode_s.append(now - written)
                    last = now
    warm_runtime.close()
    return SceneFigures(
        name, 1 / statistics.median(intervals[1]), 1 / statistics.median(intervals[2]),
        ms(intervals[2]), ms(guest_s), ms(readback_s), ms(encode_s), cold, warm,
    )  # fmt: skip


def call_cost_us(runtime: Runtime, calls: int = 20000, trampoline: bool = False) -> tuple[float, int]:
    """Median microseconds per `max-bind-groups` call over the guest's rounds, and the value it read.

    `trampoline`: through wasmtime-py's generic trampoline, the path before gpu_host/host_calls.py.
    """
    lines: list[str] = []
    options = GuestOptions(
        name="call_loop",
        size=(64, 64),
        virtual_time=False,
        env=(("CALLS", str(calls)),),
        sink=lambda _g, _s, line: lines.append(line),
        wasmtime_trampoline=trampoline,
    )
    with runtime.run(runtime.load(test_guest_path("call_loop")), options) as guest:
        guest.next_frame()
    rounds = [json.loads(line) for line in lines]
    per_call = [(r["call_ns"] - r["loop_ns"]) / r["calls"] / 1e3 for r in rounds]
    return statistics.median(per_call), int(rounds[-1]["max_bind_groups"])


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())  # else the Vulkan loader complains
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size", type=parse_size, default=(1280, 720), help="WIDTHxHEIGHT (default 1280x720)"
    )
    parser.add_argument("--frames", type=int, default=60, help="frames measured per scene (default 60)")
    parser.add_argument("--warmup", type=int, default=10, help="frames before measuring (default 10)")
    parser.add_argument("--scenes", help="comma-separated scene names (default: every built-in scene)")
    parser.add_argument("--calls-only", action="store_true", help="only the host-call figures")
    parser.add_argument(
        "--trampoline", action="store_true", help="scenes' host calls through wasmtime-py's trampoline"
    )
    args = parser.parse_args()
    width, height = args.size
    scenes = args.scenes.split(",") if args.scenes else builtin_scenes()
    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    print(
        f"machine: {platform.machine()}, {platform.processor() or platform.system()}, "
        f"python {platform.python_version()}"
    )
    print(
        f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']}), {info['description']}"
    )
    print(f"size {width}x{height}, {args.frames} frames after {args.warmup} warm-up, medians\n")
    header = (
        "scene",
        "fps, 1 in flight",
        "fps, pipelined",
        "gain",
        "ms/frame",
        "guest",
        "gpu+readback",
        "encode",
        "cold start",
        "warm start",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in [] if args.calls_only else scenes:
        try:
            f = measure_scene(name, (width, height), args.frames, args.warmup, args.trampoline)
        except GuestError as exc:  # a scene that fails at this size: reported in its row
            print(f"| {name} | cannot run at {width}x{height}: {exc} |", flush=True)
            continue
        print(
            f"| {f.name} | {f.fps_sequential:.1f} | {f.fps:.1f} | {f.fps / f.fps_sequential:.2f}x | "
            f"{f.total_ms:.2f} | {f.guest_ms:.2f} | {f.readback_ms:.2f} | {f.encode_ms:.2f} | "
            f"{f.cold_s:.2f} s | {f.warm_s:.2f} s |",
            flush=True,
        )
    costs: dict[bool, list[float]] = {False: [], True: []}
    with Runtime() as runtime:
        for round_ in range(6):  # the two paths in alternation, so both see the same machine
            trampoline = round_ % 2 == 1
            cost, value = call_cost_us(runtime, trampoline=trampoline)
            costs[trampoline].append(cost)
    direct, generic = statistics.median(costs[False]), statistics.median(costs[True])
    print(
        f"\nguest-to-host call (gpu-supported-limits.max-bind-groups -> {value}), median of 3 guests: "
        f"{direct:.2f} us; through wasmtime-py's trampoline {generic:.2f} us ({generic / direct:.1f}x)"
    )


if __name__ == "__main__":
    main()
