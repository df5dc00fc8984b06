"""Runs guests one at a time in a worker process that the supervisor starts and replaces itself.

The render-farm entry point: a guest can wedge the GPU (submitted work cannot be cancelled; the
sure way to reclaim the device is to end its process, FIELD-NOTES) or take its process down
(wgpu-native aborts on some misuse). The supervisor keeps the host safe from both: each guest runs
in a spawned worker (never forked: the parent has threads and maybe a GPU), the worker is reused
for the next guest while it is healthy, and a fresh one is started when the previous guest lost
its device to a GPU wait timeout (`Limits.gpu_wait_seconds`), left a thread that would not stop,
or when the worker died.

    with Supervisor() as supervisor:
        result = supervisor.render(Path("scene.wasm"), GuestOptions(name="scene"), frames=60)
        result.frames[0]  # (height, width, 3) RGB; result.error is one line or None
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt

from .component import GuestComponent
from .errors import ComponentError, GpuWaitTimeout, GuestError, GuestLimitExceeded, HostError
from .guest import GuestOptions
from .limits import Limits
from .output import print_line
from .runtime import Runtime

__all__ = ["RenderResult", "Supervisor"]

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0  # a worker asked to stop gets this long before it is killed
WEDGED = "GPU wait timed out after"  # how a guest that wedged the GPU ends (GpuWaitTimeout)


@dataclass(frozen=True)
class RenderResult:
    """What one guest did: its frames (RGB, when kept), its error (one line), which worker ran it."""

    presented: int
    error: str | None  # None when every frame asked for was presented
    worker_pid: int
    frames: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    output: list[tuple[str, str]] = field(default_factory=list)  # (stream, line), as the guest wrote
    fresh_worker: bool = False  # the worker was replaced after this guest (wedged GPU, died, stuck)


@dataclass(frozen=True)
class _Job:
    component: Path
    options: GuestOptions
    frames: int
    keep_frames: bool
    frame_timeout: float


@dataclass(frozen=True)
class _Done:
    presented: int
    error: str | None
    frames: list[npt.NDArray[np.uint8]]
    output: list[tuple[str, str]]
    retire: bool  # the worker cannot be trusted with another guest and is exiting


class Supervisor:
    """Runs guests in a worker process it owns; `close()` (or `with`) stops the worker.

    `limits`, when given, replace the `GuestOptions.limits` of every guest it runs. Not
    thread-safe: one `render` at a time.
    """

    def __init__(self, limits: Limits | None = None, start_timeout: float = 120.0) -> None:
        self.limits = limits
        self.start_timeout = start_timeout
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.workers_started = 0

    # --- lifecycle --------------------------------------------------------------------------------

    @property
    def worker_pid(self) -> int | None:
        """The pid of the current worker, None when none is running."""
        return self._process.pid if self._process is not None else None

    def start(self) -> int:
        """Start a worker unless one is running and ready; returns its pid."""
        if self._process is not None and self._process.is_alive():
            assert self._process.pid is not None
            return self._process.pid
        self._discard()
        conn, child = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child,), name="guest worker", daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, conn
        self.workers_started += 1
        if not conn.poll(self.start_timeout):
            pid = process.pid
            self._discard()
            raise HostError(f"the guest worker (pid {pid}) did not start within {self.start_timeout:.0f} s")
        try:
            conn.recv()  # "ready"
        except (EOFError, OSError):
            reason = self._death_reason()
            self._discard()
            raise HostError(f"the guest worker {reason} while starting") from None
        assert process.pid is not None
        return process.pid

    def close(self) -> None:
        """Stop the worker (idempotent); one that does not stop in time is killed."""
        if self._conn is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
        if self._process is not None:
            self._process.join(STOP_SECONDS)
        self._discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- guests -----------------------------------------------------------------------------------

    def render(
        self,
        component: Path,
        options: GuestOptions,
        frames: int,
        keep_frames: bool = True,
        frame_timeout: float = 60.0,
    ) -> RenderResult:
        """Run the guest for `frames` frames in the worker; its output goes to `options.sink`
        when it has ended. Errors of the guest, and the worker dying under it, are the result's
        one-line `error`; the next call then runs in a fresh worker where needed."""
        limits = self.limits or options.limits
        sink = options.sink
        job = _Job(
            Path(component).resolve(),
            replace(options, limits=limits, sink=print_line),  # the worker collects the output itself
            frames,
            keep_frames,
            frame_timeout,
        )
        pid = self.start()
        conn = self._conn
        assert conn is not None
        # The worker answers unless it dies or hangs: the guest's own limits bound every frame.
        budget = 30.0 + frames * (frame_timeout + limits.gpu_wait_seconds)
        try:
            conn.send(job)
            answered = conn.poll(budget)
            done: _Done | None = conn.recv() if answered else None
        except (EOFError, OSError):
            done = None
            answered = True
        if done is None:
            if answered:
                reason = f"the guest worker (pid {pid}) {self._death_reason()}"
            else:
                reason = f"the guest worker (pid {pid}) did not answer within {budget:.0f} s; it was killed"
            self._discard()
            return RenderResult(0, f"guest '{options.name}': {reason}", pid, fresh_worker=True)
        for stream, line in done.output:
            sink(options.name, stream, line)
        if done.retire:
            self.close()  # it exits by itself; killed if it cannot
        return RenderResult(done.presented, done.error, pid, done.frames, done.output, done.retire)

    # --- internals --------------------------------------------------------------------------------

    def _death_reason(self) -> str:
        process = self._process
        if process is None:
            return "is gone"
        process.join(STOP_SECONDS)
        code = process.exitcode
        if code is None:
            return "stopped answering"
        if code < 0:
            return f"was killed by signal {-code}"
        return f"exited with status {code}"

    def _discard(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(STOP_SECONDS)
        if conn is not None:
            conn.close()


# --- the worker process ---------------------------------------------------------------------------


def _worker_main(conn: Connection) -> None:
    """Runs jobs until told to stop or until a guest leaves it untrustworthy; then exits at once
    (a thread stuck in a GPU wait or in a dropped device must not keep the process alive)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    try:
        with Runtime() as runtime:
            loaded: dict[Path, GuestComponent] = {}
            conn.send("ready")
            while (job := conn.recv()) is not None:
                done = _run_job(runtime, loaded, job)
                conn.send(done)
                if done.retire:
                    break
    except (EOFError, OSError):
        pass  # the supervisor went away
    finally:
        conn.close()
        os._exit(0)


def _run_job(runtime: Runtime, loaded: dict[Path, GuestComponent], job: _Job) -> _Done:
    output: list[tuple[str, str]] = []
    options = replace(job.options, sink=lambda _guest, stream, line: output.append((stream, line)))
    try:
        component = loaded.get(job.component)
        if component is None:
            component = loaded[job.component] = runtime.load(job.component, options.name)
    except ComponentError as exc:
        return _Done(0, str(exc), [], output, False)
    frames: list[npt.NDArray[np.uint8]] = []
    presented = 0
    error: str | None = None
    wedged = False
    runner = runtime.run(component, options)
    try:
        runner.start()
        for _ in range(job.frames):
            frame = runner.next_frame(timeout=job.frame_timeout)
            presented += 1
            if job.keep_frames:
                frames.append(frame.rgb)
    except GuestError as exc:
        error = str(exc)
        # The device is lost and its work may still run: only ending this process reclaims it.
        wedged = (
            isinstance(exc, GuestLimitExceeded) and exc.limit == GpuWaitTimeout.limit
        ) or WEDGED in error
    finally:
        # After a wedge the worker retires anyway: no use waiting for a release blocked on the GPU.
        runner.close(timeout=0.5 if wedged else STOP_SECONDS)
    stuck = runner.running
    return _Done(presented, error, frames, output, wedged or stuck)
