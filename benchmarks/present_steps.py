"""Where a presented frame's time goes before its pixels are read, without a stream around it.

    python -m benchmarks.present_steps [--scene orbit] [--sizes 640x360,1280x720,1920x1080]
        [--fps 60] [--frames 90]

One guest in this process renders yuv420p frames paced at --fps, each requested, taken and read
from the lent readback buffer as a session's encoder thread does (no encoder, no viewer, the
session worker's GIL switch interval). Per size, medians after 15 frames: present called -> the
host's copy submitted, present -> the pixels read, and the host's copies' submit-to-done time
(their done callbacks, gpu_host/webgpu/gpu_wait.py): on a GPU the copy is queued behind the
guest's work, so that time holds what is left of the guest's work too.
Set beside `benchmarks/stream.py`'s steps of the same frames in a session, it tells the GPU's part
from what the session around it adds (docs/performance.md, "Present to packet").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from gpu_host import GuestOptions, Runtime
from gpu_host.webgpu import gpu_wait
from scenes.build import scene_path
from streamer.stream_task import GIL_SWITCH_SECONDS

WARM_UP = 15


def _recording_copies(into: list[gpu_wait.Submission]) -> Callable[[], None]:
    """Record the host's submissions made through `GpuWaits.submit` (frame copies); returns undo."""
    original = gpu_wait.GpuWaits.submit

    def submit(self: gpu_wait.GpuWaits, *args: Any, **kwargs: Any) -> gpu_wait.Submission:
        made = original(self, *args, **kwargs)
        if kwargs.get("host", False):
            into.append(made)
        return made

    gpu_wait.GpuWaits.submit = submit  # type: ignore[method-assign]

    def undo() -> None:
        gpu_wait.GpuWaits.submit = original  # type: ignore[method-assign]

    return undo


def measure(runtime: Runtime, scene: str, size: tuple[int, int], fps: float, frames: int) -> dict[str, float]:
    """Medians in ms for one size (see the module's docstring)."""
    copies: list[gpu_wait.Submission] = []
    undo = _recording_copies(copies)
    to_submit: list[float] = []
    to_read: list[float] = []
    options = GuestOptions(
        name=scene, size=size, frame_format="yuv420p", virtual_time=False, sink=lambda *_: None
    )
    try:
        with runtime.run(runtime.load(scene_path(scene)), options) as guest:
            for index in range(frames):
                start = time.perf_counter()
                guest.request_frame()
                frame = guest.take_frame().result(lend=True)
                if index >= WARM_UP:
                    to_submit.append(frame.copy_submitted_at - frame.presented_at)
                    to_read.append(frame.read_at - frame.presented_at)
                frame.release()
                time.sleep(max(0.0, 1 / fps - (time.perf_counter() - start)))
    finally:
        undo()
    trips = [s.done_at - s.submitted_at for s in copies[WARM_UP:] if s.done_at]
    return {
        "present -> copy submitted": statistics.median(to_submit) * 1e3,
        "present -> pixels read": statistics.median(to_read) * 1e3,
        "host's copies, submit -> done": statistics.median(trips or [0.0]) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default="orbit")
    parser.add_argument("--sizes", default="640x360,1280x720,1920x1080")
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--frames", type=int, default=90)
    args = parser.parse_args()
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    runtime = Runtime()
    for text in args.sizes.split(","):
        width, height = (int(part) for part in text.split("x"))
        figures = measure(runtime, args.scene, (width, height), args.fps, args.frames)
        print(
            f"{width}x{height}: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in figures.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
