"""Hostile guests (tests/hostile/): each gets an error or ends with one line naming what happened,
the host frees everything it held, and the next guest renders correctly in the same process.

The programs run in one component (`load("hostile")`), chosen by the guest's argument; the limits
are small so that the suite stays fast. GPU hostile programs are tested in test_hostile_gpu.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from gpu_host import (
    GuestComponent,
    GuestEnded,
    GuestError,
    GuestExit,
    GuestOptions,
    GuestTrap,
    Limits,
    Runtime,
)
from gpu_host.errors import GuestLimitExceeded
from gpu_host.guest import GuestContext
from gpu_host.interfaces import GuestInterfaces
from gpu_host.linking import WitErr
from gpu_host.output import MAX_LINE
from tests.conftest import Captured

Load = Callable[[str], GuestComponent]
Counts = Callable[[], dict[str, int]]

ORANGE = (255, 102, 0)  # the centre of scenes/triangle
SMALL = Limits(cpu_seconds=1.0, startup_cpu_seconds=2.0, memory_bytes=128 << 20, handles=300)


@dataclass
class Outcome:
    """How a hostile program ended: the frames it presented, its error, and its output."""

    frames: list[tuple[int, ...]]  # the colour at (4, 4) of each frame
    error: GuestError | None
    seconds: float
    captured: Captured

    def json_lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.captured.stdout() if line.startswith("{")]


@pytest.fixture
def hostile(
    runtime: Runtime, load: Load, captured: Captured, gpu_counts: Counts
) -> Iterator[Callable[..., Outcome]]:
    """Run a hostile program for up to `frames` frames; afterwards the GPU objects are back at the
    baseline and `scenes/triangle` still draws orange in this process."""
    baseline = gpu_counts()

    def run(
        program: str, frames: int = 5, limits: Limits = SMALL, env: tuple[tuple[str, str], ...] = ()
    ) -> Outcome:
        options = GuestOptions(
            name="hostile", size=(32, 24), args=(program,), env=env, limits=limits, sink=captured.sink
        )
        colours: list[tuple[int, ...]] = []
        error: GuestError | None = None
        component = load("hostile")  # compiled once per session, before the clock starts
        started = time.monotonic()
        with runtime.run(component, options) as guest:
            try:
                for _ in range(frames):
                    colours.append(tuple(int(c) for c in guest.next_frame(timeout=30).rgb[4, 4]))
            except GuestError as exc:
                error = exc
        return Outcome(colours, error, time.monotonic() - started, captured)

    yield run
    assert gpu_counts() == baseline
    with runtime.run(load("triangle"), GuestOptions(name="triangle", size=(64, 48))) as guest:
        assert tuple(int(c) for c in guest.next_frame().rgb[24, 32]) == ORANGE


def one_line(error: GuestError | None) -> str:
    assert error is not None
    text = str(error)
    assert "\n" not in text and len(text) < 500, text
    return text


# --- CPU ----------------------------------------------------------------------------------------


def test_spinning_before_the_first_wait_is_interrupted(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("spin_startup")
    assert one_line(outcome.error) == (
        "guest 'hostile' ran for more than 2 s before its first wait (Limits.startup_cpu_seconds); "
        "it was interrupted"
    )
    assert isinstance(outcome.error, GuestLimitExceeded)
    assert outcome.error.limit == "Limits.startup_cpu_seconds"
    assert outcome.frames == []
    assert 2.0 <= outcome.seconds < 6.0  # generous: the machine may be busy


def test_spinning_inside_a_frame_is_interrupted(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("spin_frame")
    assert outcome.frames == [(0, 255, 0)] * 2
    assert one_line(outcome.error) == (
        "guest 'hostile' ran for more than 1 s without waiting (Limits.cpu_seconds); it was interrupted"
    )
    assert 1.0 <= outcome.seconds < 5.0


def test_calling_the_host_in_a_loop_without_waiting_is_interrupted(
    hostile: Callable[..., Outcome],
) -> None:
    outcome = hostile("host_call_loop")
    assert outcome.frames == [(0, 255, 0)]
    assert one_line(outcome.error).endswith("without waiting (Limits.cpu_seconds); it was interrupted")


def test_time_blocked_waiting_for_frames_does_not_count(runtime: Runtime, load: Load) -> None:
    """A guest that waits 1.2 s for each frame under a 1 s CPU limit is never interrupted."""
    options = GuestOptions(name="triangle", size=(32, 24), limits=SMALL, virtual_time=False)
    with runtime.run(load("triangle"), options) as guest:
        for _ in range(3):
            guest.next_frame()
            time.sleep(1.2)
        assert guest.next_frame().index == 3


# --- memory -------------------------------------------------------------------------------------


def test_memory_growth_fails_inside_the_guest_which_carries_on(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("memory_growth", frames=2, limits=Limits(memory_bytes=64 << 20))
    (report,) = outcome.json_lines()
    assert 32 << 20 < int(str(report["memory_error"])) <= 64 << 20  # the MemoryError came at the limit
    assert outcome.error is None
    assert outcome.frames == [(0, 0, 255)] * 2


def test_uncaught_memory_error_ends_the_guest_in_one_line(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("memory_growth_uncaught", limits=Limits(memory_bytes=64 << 20))
    assert isinstance(outcome.error, GuestTrap)
    assert one_line(outcome.error).startswith("guest 'hostile' trapped: ")
    assert "MemoryError" in "\n".join(line for _, line in outcome.captured.lines)


@pytest.mark.parametrize(
    ("limits", "setting"),
    [
        (Limits(memory_bytes=4 << 20), "Limits.memory_bytes"),
        (Limits(table_elements=100), "Limits.table_elements"),
    ],
)
def test_a_component_needing_more_than_its_limits_does_not_start(
    hostile: Callable[..., Outcome], limits: Limits, setting: str
) -> None:
    outcome = hostile("env_probe", limits=limits)
    assert isinstance(outcome.error, GuestLimitExceeded) and outcome.error.limit == setting
    assert one_line(outcome.error).startswith(f"guest 'hostile' cannot start within {setting}: ")
    assert outcome.frames == [] and outcome.captured.lines == []


# --- handles ------------------------------------------------------------------------------------


def test_handle_table_exhaustion_ends_the_guest_and_frees_its_objects(
    hostile: Callable[..., Outcome],
) -> None:
    outcome = hostile("handle_flood")
    assert isinstance(outcome.error, GuestLimitExceeded) and outcome.error.limit == "Limits.handles"
    assert one_line(outcome.error) == (
        "guest 'hostile' failed in [method]gpu-device.create-buffer: the guest holds 300 handles "
        "(Limits.handles); drop some before creating more"
    )
    assert outcome.json_lines() == [{"created": 100}, {"created": 200}]
    # The fixture checks that the 290-odd buffers were freed (GPU objects back at the baseline).


def test_a_forged_handle_traps_before_the_host_runs(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("forged_handle")
    (report,) = outcome.json_lines()
    assert report["attributes"] == ["finalizer", "handle"]
    forging = report["forging"]
    assert isinstance(forging, list) and len(forging) == 1
    forged = forging[0]
    assert one_line(outcome.error) == f"guest 'hostile' trapped: unknown handle index {forged}"


def test_a_dropped_handle_traps_before_the_host_runs(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("use_after_drop")
    (report,) = outcome.json_lines()
    assert one_line(outcome.error) == f"guest 'hostile' trapped: unknown handle index {report['handle']}"


def test_a_destroyed_buffer_is_a_validation_error_for_the_guest(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("use_destroyed", frames=2)
    (report,) = outcome.json_lines()
    assert report == {
        "write": ["GpuErrorKind_ValidationError", "the gpu-buffer was destroyed"],
        "submit": ["GpuErrorKind_ValidationError", "the gpu-buffer was destroyed"],
    }
    assert outcome.error is None and outcome.frames == [(0, 0, 255)] * 2


# --- no files, no sockets, no environment -------------------------------------------------------


def attempts(outcome: Outcome) -> dict[str, object]:
    return {str(line["attempt"]): line.get("error", line.get("value")) for line in outcome.json_lines()}


def test_every_file_access_fails(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("file_access")
    assert attempts(outcome) == {
        name: "FileNotFoundError"  # no preopened directory: no path resolves to anything
        for name in ("read", "write", "listdir_root", "listdir_cwd", "stat", "mkdir")
    }
    assert isinstance(outcome.error, GuestEnded) and outcome.frames == [(0, 0, 255)]


def test_every_socket_and_name_lookup_is_denied(runtime: Runtime, load: Load, captured: Captured) -> None:
    options = GuestOptions(name="hostile", size=(32, 24), args=("socket_access",), sink=captured.sink)
    with runtime.run(load("hostile"), options) as guest:
        guest.next_frame()
        calls = dict(guest.ctx.calls)
    found = {
        str(line["attempt"]): line.get("error", line.get("value"))
        for line in map(json.loads, captured.stdout())
    }
    assert found == {
        "tcp_connect": "PermissionError",  # access-denied
        "udp_send": "PermissionError",
        "tcp_listen": "PermissionError",
        "lookup": "LookupError",  # Python's name for a refused resolve-addresses
        "lookup_localhost": "LookupError",
    }
    # The socket refusals came from the host, not from the guest's own library.
    assert calls["create-tcp-socket"] == 2 and calls["create-udp-socket"] == 1
    # A componentize-py guest's name lookup fails inside its libc before reaching the host
    # (`resolve-addresses` is never called); a guest calling the import itself is refused too.
    assert "resolve-addresses" not in calls
    interfaces = GuestInterfaces(GuestContext(GuestOptions())).all
    lookup = next(iface for iface in interfaces if iface.interface == "wasi:sockets/ip-name-lookup")
    with pytest.raises(WitErr) as refused:
        lookup.implementations()["resolve-addresses"](None, "example.com")
    assert refused.value.payload == "access-denied"


def test_the_environment_is_what_the_host_passes(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("env_probe", env=(("SCENE_MODE", "demo"),))
    assert outcome.json_lines() == [
        {"environ": [["SCENE_MODE", "demo"]]},  # only what GuestOptions.env holds; none by default
        {"argv": ["env_probe"]},
        {"cwd": "/"},  # componentize-py's own default: the host gives no working directory
        {"stdin": ""},
    ]


def test_no_environment_by_default(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("env_probe")
    assert outcome.json_lines()[0] == {"environ": []}


# --- exits and traps ----------------------------------------------------------------------------


def test_noise_before_an_exit_stays_in_the_output(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("exit_noise")
    assert isinstance(outcome.error, GuestExit)
    assert one_line(outcome.error) == "guest 'hostile' exited with status 1"
    lines = [line for _, line in outcome.captured.lines]
    assert len(lines) == 2000 + 100_000 // MAX_LINE + 1
    assert max(map(len, lines)) == MAX_LINE


def test_a_noisy_trap_ends_in_one_line(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("trap_noise")
    assert one_line(outcome.error) == (
        "guest 'hostile' trapped: wasm trap: wasm `unreachable` instruction executed"
    )
    assert ("stderr", "line 999 of a very noisy error") in outcome.captured.lines


def test_an_unknown_program_is_named(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("no_such_program")
    assert isinstance(outcome.error, GuestExit)
    assert any("hostile: no program 'no_such_program'" in line for _, line in outcome.captured.lines)
