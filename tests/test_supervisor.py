"""The supervisor runs guests in a worker process it starts itself: healthy guests share one worker,
and after a guest that wedged the GPU or a worker that died, the next guest runs in a fresh one."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import numpy as np
import pytest

from gpu_host import GuestOptions, Limits
from gpu_host.supervisor import Supervisor
from scenes import build
from tests.conftest import Captured

ORANGE = (255, 102, 0)  # the centre of scenes/triangle
SMALL = (64, 48)


@pytest.fixture(scope="module")
def supervisor() -> Iterator[Supervisor]:
    with Supervisor() as owned:
        yield owned


def centre(frame: np.ndarray) -> tuple[int, ...]:
    return tuple(int(c) for c in frame[24, 32])


def render_triangle(supervisor: Supervisor) -> tuple[int, tuple[int, ...]]:
    result = supervisor.render(
        build.scene_path("triangle"), GuestOptions(name="triangle", size=SMALL), frames=2
    )
    assert result.error is None and result.presented == 2
    return result.worker_pid, centre(result.frames[-1])


def test_healthy_guests_share_one_worker(supervisor: Supervisor, captured: Captured) -> None:
    pid, colour = render_triangle(supervisor)
    assert colour == ORANGE and pid != os.getpid()
    options = GuestOptions(name="probe", size=SMALL, sink=captured.sink)
    probe = supervisor.render(build.test_guest_path("wasi_probe"), options, frames=1)
    assert probe.worker_pid == pid and centre(probe.frames[0]) == (255, 0, 0)
    assert ("stderr", "wasi_probe: a line on stderr") in captured.lines  # output reaches the sink
    # A guest that fails in an ordinary way leaves the worker fit for the next one.
    failed = supervisor.render(
        build.test_guest_path("trap_after"), GuestOptions(name="t", size=SMALL), frames=9
    )
    assert failed.presented == 3 and failed.worker_pid == pid and not failed.fresh_worker
    assert failed.error is not None and failed.error.startswith("guest 't' trapped:")
    assert render_triangle(supervisor) == (pid, ORANGE)


def test_a_guest_that_wedges_the_gpu_gets_a_fresh_worker_after_it(supervisor: Supervisor) -> None:
    before, _ = render_triangle(supervisor)
    limits = Limits(gpu_wait_seconds=1.0, shader_loop_iterations=0)  # a true runaway: no loop budget
    options = GuestOptions(name="runaway", size=SMALL, args=("runaway",), limits=limits)
    result = supervisor.render(build.suite_path("hostile"), options, frames=2, frame_timeout=20.0)
    assert result.worker_pid == before and result.presented == 1
    assert result.error is not None and "GPU wait timed out after 1 s" in result.error, result.error
    assert "\n" not in result.error
    assert result.fresh_worker
    after, colour = render_triangle(supervisor)
    assert after != before and colour == ORANGE


def test_a_killed_worker_is_one_line_and_the_next_guest_gets_a_new_one(supervisor: Supervisor) -> None:
    pid = supervisor.start()
    # The guest spins before its first wait (allowed 60 s here); the worker is killed under it.
    limits = Limits(startup_cpu_seconds=60.0)
    options = GuestOptions(name="victim", size=SMALL, args=("spin_startup",), limits=limits)
    killer = threading.Timer(3.0, os.kill, (pid, signal.SIGKILL))
    killer.start()
    try:
        result = supervisor.render(build.suite_path("hostile"), options, frames=1)
    finally:
        killer.cancel()
    assert result.error == f"guest 'victim': the guest worker (pid {pid}) was killed by signal 9"
    assert result.worker_pid == pid and result.fresh_worker
    after, colour = render_triangle(supervisor)
    assert after != pid and colour == ORANGE
