"""The guest worker (gpu_host/worker.py) runs render jobs in a process it starts itself: healthy
guests share one worker, and after a guest that wedged the GPU or a worker that died, the next job
runs in a fresh one. `streamer render --isolate` is the same job through the same worker."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gpu_host import Limits
from gpu_host.worker import AsyncGuestWorker, GuestWorker
from scenes import build
from streamer.cli import main
from streamer.messages import Credit, Started
from streamer.render import RenderJob, RenderResult, render_isolated
from streamer.stream_task import StreamTask, WorkerConfig
from tests.conftest import Captured

ORANGE = (255, 102, 0)  # the centre of scenes/triangle
SMALL = (64, 48)


@pytest.fixture(scope="module")
def worker() -> Iterator[GuestWorker]:
    with GuestWorker() as owned:
        yield owned


def centre(folder: Path, index: int) -> tuple[int, ...]:
    with Image.open(folder / f"{index:06d}.png") as image:
        return tuple(int(c) for c in np.asarray(image)[24, 32])


def job(component: Path, output: Path, frames: int, **kwargs: object) -> RenderJob:
    return RenderJob(component, output, frames=frames, size=SMALL, **kwargs)  # type: ignore[arg-type]


def render_triangle(worker: GuestWorker, tmp_path: Path) -> tuple[int | None, tuple[int, ...]]:
    folder = tmp_path / f"triangle-{worker.workers_started}-{len(list(tmp_path.iterdir()))}"
    result = render_isolated(job(build.scene_path("triangle"), folder, 2), worker, progress=False)
    assert result == RenderResult(2, None)
    return worker.pid, centre(folder, 2)


def test_healthy_guests_share_one_worker(worker: GuestWorker, tmp_path: Path, captured: Captured) -> None:
    pid, colour = render_triangle(worker, tmp_path)
    assert colour == ORANGE and pid is not None and pid != os.getpid()
    probe = render_isolated(
        job(build.test_guest_path("wasi_probe"), tmp_path / "probe", 1),
        worker,
        progress=False,
        sink=captured.sink,
    )
    assert probe.error is None and worker.pid == pid and centre(tmp_path / "probe", 1) == (255, 0, 0)
    assert ("stderr", "wasi_probe: a line on stderr") in captured.lines  # output reaches the sink
    # A guest that fails in an ordinary way leaves the worker fit for the next one.
    failed = render_isolated(
        job(build.test_guest_path("trap_after"), tmp_path / "t", 9, name="t"), worker, progress=False
    )
    assert failed.frames == 3 and worker.pid == pid and not failed.retire
    assert failed.error is not None and failed.error.startswith("guest 't' trapped:")
    assert render_triangle(worker, tmp_path) == (pid, ORANGE)


def test_a_guest_that_wedges_the_gpu_gets_a_fresh_worker_after_it(
    worker: GuestWorker, tmp_path: Path
) -> None:
    before, _ = render_triangle(worker, tmp_path)
    limits = Limits(gpu_wait_seconds=1.0, shader_loop_iterations=0)  # a true runaway: no loop budget
    runaway = job(build.suite_path("hostile"), tmp_path / "runaway", 2, args=("runaway",), limits=limits)
    result = render_isolated(runaway, worker, progress=False)
    assert result.frames == 1 and result.retire
    assert result.error is not None and "GPU wait timed out after 1 s" in result.error, result.error
    assert "\n" not in result.error
    assert worker.pid is None  # retired
    after, colour = render_triangle(worker, tmp_path)
    assert after != before and colour == ORANGE


def test_a_killed_worker_is_one_line_and_the_next_guest_gets_a_new_one(
    worker: GuestWorker, tmp_path: Path
) -> None:
    pid = worker.start()
    # The guest spins before its first wait (allowed 60 s here); the worker is killed under it.
    limits = Limits(startup_cpu_seconds=60.0)
    hostile = build.suite_path("hostile")
    victim = job(hostile, tmp_path / "victim", 1, args=("spin_startup",), limits=limits, name="victim")
    killer = threading.Timer(3.0, os.kill, (pid, signal.SIGKILL))
    killer.start()
    try:
        result = render_isolated(victim, worker, progress=False)
    finally:
        killer.cancel()
    assert result.error == (
        f"guest 'victim': the guest worker (pid {pid}) was killed by signal 9 after writing 0 frames"
    )
    assert result.retire and worker.pid is None
    after, colour = render_triangle(worker, tmp_path)
    assert after != pid and colour == ORANGE


def test_render_isolate_writes_the_same_bytes_and_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--frames", "4", "--size", "96x64"]
    assert main(["render", "orbit", "-o", str(tmp_path / "in.mp4"), *common]) == 0
    assert main(["render", "orbit", "-o", str(tmp_path / "out.mp4"), "--isolate", *common]) == 0
    assert (tmp_path / "in.mp4").read_bytes() == (tmp_path / "out.mp4").read_bytes()
    capsys.readouterr()
    trap = str(build.test_guest_path("trap_after"))
    assert main(["render", trap, "-o", str(tmp_path / "trap"), "--isolate", *common]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("streamer:")]
    assert len(err) == 1 and "trapped" in err[0] and "kept 3 frames" in err[0], err


def test_a_message_to_a_stopping_worker_is_dropped_not_raised() -> None:
    """A session's credit can come back while its worker stops (the stream's last frames still
    arriving): once the end of the pipe is written, `send` says the message was dropped."""

    async def scenario() -> None:
        started = asyncio.Event()
        task = StreamTask(WorkerConfig(component=build.scene_path("triangle"), name="stop", size=SMALL))
        worker = AsyncGuestWorker(task, lambda m: started.set() if isinstance(m, Started) else None)
        await worker.start()
        await asyncio.wait_for(started.wait(), 60)
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(0)  # `stop` has written the end of the pipe and waits for the exit
        assert worker.send(Credit(1)) is False
        await stopping
        assert worker.exitcode == 0

    asyncio.run(scenario())
