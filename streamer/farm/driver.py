"""The farm's driver: starts or joins Ray, hands out chunks, retries lost ones, assembles outputs.

Retries are the driver's own (Ray's are off): a chunk whose guest worker died, whose GPU wedged,
or whose Ray worker or node was lost is submitted again, up to `FarmOptions.retries` times, and
each retry is counted in the summary. A guest that traps or passes a limit fails its own job at
once. Outputs are assembled in a hidden folder beside the final output and renamed into place
when complete, so a failed or interrupted job never leaves a half file under the final name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import av

from gpu_host.frame import frame_rate

from ..progress import Progress
from ..video import VideoSettings
from .chunks import Chunk, JoinError, join_mp4
from .jobs import FarmJob
from .task import ChunkOutcome, ChunkSpec, ProgressBoard, render_chunk

__all__ = ["FarmError", "FarmOptions", "JobReport", "farm_video", "is_complete", "run_farm", "start_ray"]

INTERRUPTED = 130  # the exit status after Ctrl-C, as shells report SIGINT


class FarmError(Exception):
    """The farm cannot run as asked (the message says what to change); nothing was rendered."""


@dataclass(frozen=True)
class FarmOptions:
    address: str | None = None  # None: a Ray of this machine's own; "auto" or HOST:PORT: a cluster
    gpus_per_task: float = 0.0
    cpus_per_task: float = 1.0
    chunk_frames: int | None = None
    retries: int = 2
    skip_existing: bool = False
    log_dir: Path = Path("farm-logs")


@dataclass
class JobReport:
    """One job's line in the summary."""

    job: str
    line: int
    output: str
    frames: int = 0
    seconds: float = 0.0
    nodes: list[str] = field(default_factory=list)
    adapters: list[str] = field(default_factory=list)
    retries: int = 0
    result: str = "pending"  # ok, skipped, failed: …, not done

    @property
    def ok(self) -> bool:
        return self.result in ("ok", "skipped")


def is_complete(job: FarmJob) -> bool:
    """The job's output exists whole: an MP4 with all its frames, or a folder holding exactly
    its numbered frames (what `--skip-existing` skips)."""
    output = job.render.output
    frames = job.render.frames
    if job.mp4:
        if not output.is_file():
            return False
        try:
            with av.open(str(output)) as container:
                return container.streams.video[0].frames == frames
        except (av.FFmpegError, IndexError):
            return False
    if not output.is_dir():
        return False
    names = {entry.name for entry in output.iterdir() if entry.suffix == ".png"}
    return names == {f"{n:06d}.png" for n in range(1, frames + 1)}


def start_ray(options: FarmOptions) -> None:
    """Join the cluster at `options.address`, or start a Ray of this machine's own: no dashboard,
    no usage statistics, every CPU offered as a `render` slot (docs/farm.md)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if options.address is None:
        # Ray 2.60 turns token authentication on for a cluster of its own anyway, and warns
        # unless asked. A cluster joined has its own setting, which every process must share.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    import ray

    if options.address is not None:
        ray.init(address=options.address, log_to_driver=False, logging_level=logging.WARNING)
        return
    cpus = os.cpu_count() or 1
    ray.init(
        num_cpus=cpus,
        resources={"render": cpus},
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )


@dataclass
class _JobState:
    job: FarmJob
    report: JobReport
    chunks: list[Chunk]
    partial: Path
    done: set[int] = field(default_factory=set)  # chunk firsts
    started: float = field(default_factory=time.perf_counter)
    log: list[str] = field(default_factory=list)
    finished: bool = False

    @property
    def index(self) -> int:
        """The job's place in the jobs file (every job has at least one chunk)."""
        return self.chunks[0].job


@dataclass(frozen=True)
class _Attempt:
    job: int
    chunk: Chunk
    number: int  # 0 for the first try


class _Farm:
    """The state of one `run_farm`: jobs, chunks in flight, the progress bar."""

    def __init__(self, jobs: Sequence[FarmJob], options: FarmOptions, err: TextIO) -> None:
        self.options = options
        self.err = err
        self.states: list[_JobState] = []
        for index, job in enumerate(jobs):
            output = job.render.output
            report = JobReport(job.name, job.line, str(output))
            partial = output.parent / f".{output.name}.farm-partial"
            self.states.append(_JobState(job, report, job.chunks(index, options.chunk_frames), partial))
        self.pending: dict[Any, _Attempt] = {}
        self.components: dict[Path, tuple[str, Any]] = {}  # path -> (digest, object ref)
        self.frames_done = 0  # frames of finished chunks
        self.board: Any = None  # the ProgressBoard actor, once Ray runs
        self._board_answer: Any = None
        total = sum(state.job.render.frames for state in self.states if not state.finished)
        self.progress = Progress(total, stream=err)

    # --- submission -----------------------------------------------------------------------------------

    def submit(self, remote: Any, attempt: _Attempt) -> None:
        import ray

        state = self.states[attempt.job]
        job = state.job.render
        path = job.component.resolve()
        if path not in self.components:  # read, hashed and put once per component, whatever the jobs
            data = path.read_bytes()
            self.components[path] = (hashlib.sha256(data).hexdigest(), ray.put(data))
        digest, component = self.components[path]
        chunk = attempt.chunk
        spec = ChunkSpec(
            replace(
                job,
                name=job.name or Path(state.job.scene).stem,  # the nodes see the component by digest
                first_frame=chunk.first,
                frames=chunk.frames,
                video=farm_video(state.job, self.options),
            ),
            digest,
            uses_gpu=self.options.gpus_per_task > 0,
            job_index=attempt.job,
        )
        self.pending[remote.remote(spec, component, self.board)] = attempt

    # --- results --------------------------------------------------------------------------------------

    def collect(self, ref: Any, remote: Any) -> None:
        import ray

        attempt = self.pending.pop(ref)
        state = self.states[attempt.job]
        if state.finished:
            return
        try:
            outcome: ChunkOutcome = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the Ray worker or its node was lost
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            outcome = ChunkOutcome(0, lost=f"{type(exc).__name__}: {first}")
        chunk = attempt.chunk
        where = f"chunk {chunk.first + 1}-{chunk.end} try {attempt.number + 1}"
        state.log.append(f"{where} on {outcome.node or 'unknown node'}")
        state.log.extend(f"  {line}" for line in outcome.lines)
        if outcome.node and outcome.node not in state.report.nodes:
            state.report.nodes.append(outcome.node)
        if outcome.adapter and outcome.adapter not in state.report.adapters:
            state.report.adapters.append(outcome.adapter)
        if outcome.lost is not None:
            state.log.append(f"  lost: {outcome.lost}")
            if attempt.number < self.options.retries:
                state.report.retries += 1
                state.log.append("  retrying")
                self.submit(remote, replace(attempt, number=attempt.number + 1))
            else:
                self.fail(state, f"lost {self.options.retries + 1} times: {outcome.lost}")
            return
        if outcome.error is not None:
            state.log.append(f"  failed: {outcome.error}")
            self.fail(state, outcome.error)
            return
        self.store(state, chunk, outcome)
        state.log.append(f"  {outcome.frames} frames in {outcome.seconds:.1f} s")
        state.done.add(chunk.first)
        self.frames_done += chunk.frames
        self.progress.update(max(self.progress.done, self.frames_done))
        if len(state.done) == len(state.chunks):
            self.finish(state)

    def store(self, state: _JobState, chunk: Chunk, outcome: ChunkOutcome) -> None:
        """Write a chunk's files into the job's partial folder as they arrive (nothing waits in memory)."""
        state.partial.mkdir(parents=True, exist_ok=True)
        for name, data in outcome.files:
            target = state.partial / (f"chunk-{chunk.first:09d}.mp4" if state.job.mp4 else Path(name).name)
            target.write_bytes(data)

    def finish(self, state: _JobState) -> None:
        output = state.job.render.output
        try:
            if state.job.mp4:
                parts = sorted(state.partial.glob("chunk-*.mp4"))
                joined = state.partial / "joined.mp4"
                frames = join_mp4(parts, joined, frame_rate(state.job.render.fps))
                os.replace(joined, output)
                shutil.rmtree(state.partial, ignore_errors=True)
            else:
                frames = len(list(state.partial.glob("*.png")))
                if output.is_dir() and not any(output.iterdir()):
                    output.rmdir()
                state.partial.rename(output)
        except (OSError, JoinError, av.FFmpegError) as exc:
            self.fail(state, f"cannot write {output}: {exc}")
            return
        state.finished = True
        state.report.frames = frames
        state.report.seconds = time.perf_counter() - state.started
        state.report.result = "ok"

    def fail(self, state: _JobState, why: str) -> None:
        """End a job: its chunks still out are cancelled, its partial output removed."""
        import ray

        state.finished = True
        state.report.result = f"failed: {why}"
        state.report.seconds = time.perf_counter() - state.started
        for ref, attempt in list(self.pending.items()):
            if attempt.job == state.index:
                # Not by force: a forced cancel kills the Ray worker, which may by then be running
                # another job's chunk. Cancelled, the task stops its guest worker on the way out.
                ray.cancel(ref)
                del self.pending[ref]
        shutil.rmtree(state.partial, ignore_errors=True)

    def interrupt(self) -> None:
        """Ctrl-C: cancel what is out, keep the outputs already in place."""
        import ray

        for ref in self.pending:
            ray.cancel(ref, force=True)
        self.pending.clear()
        for state in self.states:
            if not state.finished:
                state.report.result = "not done (interrupted)"
                state.report.frames = sum(c.frames for c in state.chunks if c.first in state.done)
                shutil.rmtree(state.partial, ignore_errors=True)

    def poll_board(self) -> None:
        """Move the bar to the frames written so far, from the board's last answer (never waits)."""
        import ray

        if self.board is None:
            return
        if self._board_answer is not None:
            ready, _ = ray.wait([self._board_answer], timeout=0)
            if not ready:
                return
            written: dict[tuple[int, int], int] = ray.get(self._board_answer)
            finished = {i for i, state in enumerate(self.states) if state.finished}
            in_flight = sum(
                n
                for (job, first), n in written.items()
                if job not in finished and first not in self.states[job].done
            )
            self.progress.update(max(self.progress.done, self.frames_done + in_flight))
        self._board_answer = self.board.written.remote()

    def write_logs(self) -> None:
        folder = self.options.log_dir
        folder.mkdir(parents=True, exist_ok=True)
        for state in self.states:
            r = state.report
            header = [
                f"job {r.job} (line {r.line}) -> {r.output}",
                f"result: {r.result}",
                f"retries: {r.retries}",
            ]
            if state.job.mp4:
                video = farm_video(state.job, self.options)
                header.append(
                    f"encoded with --qp {video.qp} --keyint {video.keyint} "
                    "(streamer render with these gives the same frames)"
                )
            (folder / f"{r.job}.log").write_text("\n".join(header + state.log) + "\n", encoding="utf-8")


def unplaceable(resources: dict[str, float], options: FarmOptions) -> str | None:
    """Why no node of the cluster could ever run a task as asked (Ray would wait forever), or None."""
    if resources.get("render", 0) < 1:
        return (
            "no node of the cluster offers the `render` resource: start its nodes with "
            "--resources='{\"render\": N}' (docs/farm.md)"
        )
    if options.gpus_per_task > 0 and resources.get("GPU", 0) < options.gpus_per_task:
        return (
            f"--gpus-per-task {options.gpus_per_task:g} asks for GPUs the cluster does not have "
            f"({resources.get('GPU', 0):g} in all); use --gpus-per-task 0 to render on the CPU"
        )
    if resources.get("CPU", 0) < options.cpus_per_task:
        return (
            f"--cpus-per-task {options.cpus_per_task:g} is more than the cluster has "
            f"({resources.get('CPU', 0):g} CPUs in all)"
        )
    return None


DEFAULT_QP = 20  # a farm MP4's quantizer unless its job sets `qp`
DEFAULT_KEYINT = 250  # an unchunked farm MP4's keyframe interval (x264's default)


def farm_video(job: FarmJob, options: FarmOptions) -> VideoSettings:
    """How the farm encodes a job's MP4: a constant quantizer and a keyframe at every chunk's
    start, so that `streamer render --qp Q --keyint K` with these values gives the same frames."""
    video = job.render.video
    return VideoSettings(
        qp=DEFAULT_QP if video.qp is None else video.qp,
        keyint=video.keyint or options.chunk_frames or DEFAULT_KEYINT,
    )


def run_farm(
    jobs: Sequence[FarmJob], options: FarmOptions, err: TextIO | None = None
) -> tuple[list[JobReport], bool]:
    """Render every job on Ray; the reports in the jobs' order, and whether it was interrupted.
    Ray is started (or joined) here and shut down before returning."""
    err = sys.stderr if err is None else err
    farm = _Farm(jobs, options, err)
    todo = []
    for state in farm.states:
        if options.skip_existing and is_complete(state.job):
            state.finished = True
            state.report.result = "skipped"
            state.report.frames = state.job.render.frames
            state.log.append("skipped: its output is complete")
        else:
            todo.append(state)
    farm.progress.total = sum(state.job.render.frames for state in todo)
    if not todo:
        farm.write_logs()
        return [state.report for state in farm.states], False
    start_ray(options)
    import ray

    missing = unplaceable(ray.cluster_resources(), options)  # type: ignore[no-untyped-call]
    if missing is not None:
        ray.shutdown()
        raise FarmError(missing)
    remote: Any = ray.remote(render_chunk).options(
        num_cpus=options.cpus_per_task,
        num_gpus=options.gpus_per_task,
        resources={"render": 1},
        max_retries=0,  # the driver retries, and counts
    )
    farm.board = ray.remote(num_cpus=0)(ProgressBoard).remote()
    interrupted = False
    try:
        for state in todo:
            shutil.rmtree(state.partial, ignore_errors=True)  # a partial output left by an earlier run
            for chunk in state.chunks:
                farm.submit(remote, _Attempt(state.index, chunk, 0))
        while farm.pending:
            ready, _ = ray.wait(list(farm.pending), num_returns=1, timeout=0.5)
            for ref in ready:
                farm.collect(ref, remote)
            farm.poll_board()
    except KeyboardInterrupt:
        interrupted = True
        farm.interrupt()
    finally:
        farm.progress.close()
        farm.write_logs()
        ray.shutdown()
    return [state.report for state in farm.states], interrupted
