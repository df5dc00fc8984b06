"""The render-farm job: run a guest for N frames in virtual time and write them to a video or PNGs."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from gpu_host import GuestEnded, GuestError, GuestOptions, Limits, Runtime
from gpu_host.events import InputEvent, ScriptedEvent

from .progress import Progress
from .video import open_sink

__all__ = ["RenderJob", "RenderResult", "render"]


@dataclass(frozen=True)
class RenderJob:
    component: Path
    output: Path
    frames: int = 60
    size: tuple[int, int] = (640, 360)
    fps: float = 30.0
    seed: int = 0
    events: tuple[ScriptedEvent, ...] = ()
    name: str | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class RenderResult:
    frames: int
    error: str | None  # one line; None when all requested frames were written


def render(job: RenderJob, runtime: Runtime | None = None, progress: bool = True) -> RenderResult:
    """Render `job`. Raises ComponentError before anything is written; guest failures keep the
    frames presented so far and are reported in the result. A runtime made here is closed here."""
    if runtime is None:
        with Runtime() as own:
            return render(job, own, progress)
    component = runtime.load(job.component, job.name)
    by_frame: dict[int, list[InputEvent]] = defaultdict(list)
    for scripted in job.events:
        by_frame[scripted.frame].append(scripted.event)
    options = GuestOptions(
        name=component.name, size=job.size, fps=job.fps, seed=job.seed, virtual_time=True, limits=job.limits
    )
    written = 0
    bar = Progress(job.frames, stream=sys.stderr) if progress else None
    try:
        with open_sink(job.output, job.fps, job.size) as sink, runtime.run(component, options) as guest:
            for index in range(job.frames):
                frame = guest.next_frame(events=by_frame.get(index, ()))
                sink.write(frame.rgb)
                written += 1
                if bar is not None:
                    bar.update(written)
    except GuestEnded as exc:
        return RenderResult(
            written, f"{exc} of {job.frames} requested; kept {written} frames in {job.output}"
        )
    except GuestError as exc:
        return RenderResult(written, f"{exc}; kept {written} frames in {job.output}")
    finally:
        if bar is not None:
            bar.close()
    return RenderResult(written, None)
