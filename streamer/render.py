"""The render job: run a guest for N frames in virtual time and write them to a video or PNGs.

`render` runs the guest in this process; `render_isolated` runs the same job in a guest worker
(gpu_host/worker.py), so a guest that kills its process ends the job with one line and leaves
the caller standing. Both write the same bytes: the worker runs `render` itself.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gpu_host import ComponentError, GuestEnded, GuestError, GuestOptions, Limits, Runtime
from gpu_host.events import InputEvent, ScriptedEvent
from gpu_host.frame import PixelFormat
from gpu_host.output import LineSink, print_line
from gpu_host.worker import GuestWorker, TaskChannel, TaskDone, WorkerDied, wedged

from .progress import Progress
from .video import VideoSettings, open_sink

__all__ = ["RenderJob", "RenderProgress", "RenderResult", "RenderTask", "render", "render_isolated"]

STOP_SECONDS = 10.0  # a guest gets this long to stop after its last frame


@dataclass(frozen=True)
class RenderJob:
    component: Path
    output: Path
    frames: int = 90
    size: tuple[int, int] = (640, 360)
    fps: float = 30.0
    seed: int = 0
    events: tuple[ScriptedEvent, ...] = ()
    name: str | None = None
    limits: Limits = field(default_factory=Limits)
    args: tuple[str, ...] = ()  # the guest's command-line arguments (wasi:cli/environment)
    video: VideoSettings = field(default_factory=VideoSettings)
    # A chunk of a longer render: the guest runs through the frames before `first_frame` without
    # their pixels being read, then `frames` frames are written, numbered as the whole render would.
    first_frame: int = 0

    def frame_format(self) -> PixelFormat:
        """What the output wants: I420 converted on the GPU for video, RGB for PNG frames."""
        return "yuv420p" if self.output.suffix.lower() == ".mp4" else "rgb24"


@dataclass(frozen=True)
class RenderResult:
    frames: int
    error: str | None  # one line; None when all requested frames were written
    # The guest wedged its GPU or left a thread that would not stop: its process should end.
    retire: bool = False


@dataclass(frozen=True)
class RenderProgress:
    """A worker's render has written this many frames (for the caller's progress bar)."""

    written: int


def render(
    job: RenderJob,
    runtime: Runtime | None = None,
    progress: bool = True,
    on_frame: Callable[[int], None] | None = None,
    sink: LineSink = print_line,
) -> RenderResult:
    """Render `job`. Raises ComponentError before anything is written; guest failures keep the
    frames presented so far and are reported in the result. A runtime made here is closed here.

    The guest renders frame n+1 while frame n is read back and written. `on_frame` is called with
    the number of frames written after each; `sink` takes the guest's output lines."""
    if runtime is None:
        with Runtime() as own:
            return render(job, own, progress, on_frame, sink)
    component = runtime.load(job.component, job.name)
    by_frame: dict[int, list[InputEvent]] = defaultdict(list)
    for scripted in job.events:
        by_frame[scripted.frame].append(scripted.event)
    options = GuestOptions(
        name=component.name,
        size=job.size,
        fps=job.fps,
        seed=job.seed,
        virtual_time=True,
        limits=job.limits,
        frame_format=job.frame_format(),
        sink=sink,
        args=job.args,
    )
    written = 0
    error: GuestError | None = None
    bar = Progress(job.frames, stream=sys.stderr) if progress else None
    guest = runtime.run(component, options)
    first = job.first_frame
    try:
        with open_sink(job.output, job.fps, job.size, job.video, first + 1) as out:
            guest.skip(first, lambda index: by_frame.get(index, ()))
            for frame in guest.frames(job.frames, lambda index: by_frame.get(first + index, ())):
                try:
                    out.write(frame)
                finally:
                    frame.release()
                written += 1
                if bar is not None:
                    bar.update(written)
                if on_frame is not None:
                    on_frame(written)
    except GuestError as exc:
        error = exc
    finally:
        if bar is not None:
            bar.close()
        # After a wedge there is no use waiting for a release blocked on the GPU.
        guest.close(timeout=0.5 if wedged(error) else STOP_SECONDS)
    retire = wedged(error) or guest.running
    if isinstance(error, GuestEnded):
        return RenderResult(
            written, f"{error} of {job.frames} requested; kept {written} frames in {job.output}", retire
        )
    if error is not None:
        return RenderResult(written, f"{error}; kept {written} frames in {job.output}", retire)
    return RenderResult(written, None, retire)


@dataclass(frozen=True)
class RenderTask:
    """A render job as a guest worker's task: its result is a `RenderResult`, or the one-line
    `ComponentError` when the component cannot run. Progress and the guest's output lines go to
    the caller as `RenderProgress` and `(stream, line)` messages."""

    job: RenderJob

    def run(self, runtime: Runtime, channel: TaskChannel) -> TaskDone:
        def line(_guest: str, stream: str, text: str) -> None:
            channel.send((stream, text))

        try:
            result = render(
                self.job,
                runtime,
                progress=False,
                on_frame=lambda written: channel.send(RenderProgress(written)),
                sink=line,
            )
        except ComponentError as exc:
            return TaskDone(exc)
        return TaskDone(result, retire=result.retire)


def render_isolated(
    job: RenderJob, worker: GuestWorker | None = None, progress: bool = True, sink: LineSink = print_line
) -> RenderResult:
    """Render `job` in a guest worker (`worker`, or one made and closed here). The same output
    as `render`; a worker that dies under the guest is the result's one-line error, with the
    frames written until then kept."""
    if worker is None:
        with GuestWorker() as own:
            return render_isolated(job, own, progress, sink)
    name = job.name or job.component.stem
    bar = Progress(job.frames, stream=sys.stderr) if progress else None
    written = 0

    def on_message(message: object) -> None:
        nonlocal written
        if isinstance(message, RenderProgress):
            written = message.written
            if bar is not None:
                bar.update(written)
        elif isinstance(message, tuple):
            stream, text = message
            sink(name, stream, text)

    try:
        done = worker.run(RenderTask(job), on_message)
    except WorkerDied as exc:
        return RenderResult(written, f"guest '{name}': {exc} after writing {written} frames", True)
    finally:
        if bar is not None:
            bar.close()
    if isinstance(done.result, ComponentError):
        raise done.result
    assert isinstance(done.result, RenderResult)
    return done.result
