"""One chunk of a farm job, as it runs on a Ray node.

The Ray task writes the component (it came through Ray's object store) to this node's own folder,
picks the Vulkan adapter of the GPU Ray gave it, and runs the chunk in a guest worker
(gpu_host/worker.py): a guest that kills or wedges its process costs that process, which the
driver answers with a retry, never the Ray worker. The chunk's output files go back to the driver
as bytes, so nodes share no file system.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gpu_host import ComponentError, Runtime
from gpu_host.worker import GuestWorker, TaskChannel, TaskDone, WorkerDied

from ..render import RenderJob, RenderProgress, RenderResult, RenderTask
from .gpus import list_nvidia_gpus, vulkan_selection

__all__ = ["AdapterQuery", "ChunkOutcome", "ChunkSpec", "ProgressBoard", "render_chunk"]


@dataclass(frozen=True)
class ChunkSpec:
    """What a node needs to render one chunk: the job (its component and output paths are
    replaced on the node), the component's digest, and whether Ray gives the task GPUs."""

    job: RenderJob
    digest: str
    uses_gpu: bool
    job_index: int = 0  # the job's place in the jobs file, for the progress board


@dataclass(frozen=True)
class ChunkOutcome:
    """A chunk's end, as the driver sees it.

    `files` are the chunk's output (PNG frames by name, or the one MP4 chunk) when it finished.
    `error` is the guest's one line when the guest failed (not worth a retry); `lost` says why the
    worker's process ended under the chunk (worth a retry)."""

    frames: int
    files: tuple[tuple[str, bytes], ...] = ()
    error: str | None = None
    lost: str | None = None
    node: str = ""
    adapter: str = ""
    lines: tuple[str, ...] = ()
    seconds: float = 0.0


@dataclass(frozen=True)
class AdapterQuery:
    """A guest-worker task: the adapter a guest in this worker would be given, in words."""

    def run(self, runtime: Runtime, channel: TaskChannel) -> TaskDone:
        import wgpu

        try:
            adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
        except Exception as exc:  # no adapter at all: the render says so itself
            return TaskDone(f"no adapter ({exc})")
        info = adapter.info
        return TaskDone(f"{info['device']} ({info['backend_type']})")


def _node_name() -> str:
    try:
        import ray

        node = ray.get_runtime_context().get_node_id()[:8]
    except Exception:  # outside Ray (a test calling render_chunk directly)
        node = "local"
    return f"{socket.gethostname()}/{node}"


def _node_folder() -> Path:
    return Path(tempfile.gettempdir()) / "streamer-farm"


def _scratch_folder() -> Path:
    """A folder for one chunk's output, named by this process. A task cancelled by force dies
    without cleaning up, so the folders of processes no longer alive are removed here first."""
    base = _node_folder() / "chunks"
    base.mkdir(parents=True, exist_ok=True)
    for entry in base.iterdir():
        owner = entry.name.split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _component_file(data: bytes, digest: str) -> Path:
    """The component as a file in this node's own folder, written once per content."""
    folder = _node_folder() / "components"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.wasm"
    if not path.is_file():
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("the component's bytes do not match their digest")
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
    return path


def _gpu_environment(uses_gpu: bool) -> tuple[dict[str, str], str]:
    """The guest worker's environment for the GPU Ray assigned, and a note for the log."""
    if not uses_gpu:
        return {}, ""
    import ray

    assigned = ray.get_gpu_ids()
    try:
        gpu, env = vulkan_selection(assigned, list_nvidia_gpus())
    except ValueError as exc:
        return {}, f"GPU selection skipped: {exc}"
    return env, f"GPU {gpu.index} ({gpu.bus_id}, {gpu.name}) as Ray assigned {assigned}"


class ProgressBoard:
    """A Ray actor (made by the driver) that chunks tell how many frames they have written, so
    the driver's progress bar moves with frames, not only with finished chunks."""

    def __init__(self) -> None:
        self._written: dict[tuple[int, int], int] = {}

    def report(self, job: int, first: int, written: int) -> None:
        self._written[(job, first)] = written

    def written(self) -> dict[tuple[int, int], int]:
        return self._written


PROGRESS_INTERVAL = 0.25  # seconds between a chunk's reports to the board


def render_chunk(spec: ChunkSpec, component: bytes, board: Any = None) -> ChunkOutcome:
    """Render one chunk here; never raises for what the guest or its worker did. `board`: a
    `ProgressBoard` actor's handle, told of the frames written as they are."""
    started = time.perf_counter()
    node = _node_name()
    env, gpu_note = _gpu_environment(spec.uses_gpu)
    lines: list[str] = [gpu_note] if gpu_note else []
    work = _scratch_folder()
    try:
        output = work / spec.job.output.name
        job = replace(spec.job, component=_component_file(component, spec.digest), output=output)

        reported = 0.0

        def on_message(message: object) -> None:
            nonlocal reported
            if isinstance(message, RenderProgress):
                now = time.monotonic()
                if board is not None and (
                    now - reported >= PROGRESS_INTERVAL or message.written == job.frames
                ):
                    reported = now
                    board.report.remote(spec.job_index, job.first_frame, message.written)
            elif isinstance(message, tuple):
                stream, text = message
                lines.append(f"{stream}: {text}")
            else:
                lines.append(repr(message))

        adapter = ""
        with GuestWorker(env=env) as worker:
            try:
                adapter = str(worker.run(AdapterQuery()).result)
                lines.append(f"guest worker pid {worker.pid} on {node}, adapter {adapter}")
                done = worker.run(RenderTask(job), on_message)
            except WorkerDied as exc:
                return ChunkOutcome(0, lost=str(exc), node=node, adapter=adapter, lines=tuple(lines))
        seconds = time.perf_counter() - started
        if isinstance(done.result, ComponentError):
            return ChunkOutcome(0, error=str(done.result), node=node, adapter=adapter, lines=tuple(lines))
        result = done.result
        if not isinstance(result, RenderResult):
            return ChunkOutcome(0, lost=str(result), node=node, adapter=adapter, lines=tuple(lines))
        if result.error is not None:
            # The render names this node's scratch output; the driver's summary names the job.
            error = result.error.replace(f"; kept {result.frames} frames in {output}", "")
            outcome = ChunkOutcome(
                result.frames, node=node, adapter=adapter, lines=tuple(lines), seconds=seconds
            )
            # A wedged GPU or a thread that would not stop retires the worker: another try may
            # well succeed. A trap or a limit is the guest's own doing and would happen again.
            return replace(outcome, lost=error) if result.retire else replace(outcome, error=error)
        files = [output] if output.is_file() else sorted(output.iterdir())
        data = tuple((path.name, path.read_bytes()) for path in files)
        return ChunkOutcome(
            result.frames, data, node=node, adapter=adapter, lines=tuple(lines), seconds=seconds
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
