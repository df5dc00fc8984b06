"""Hostile GPU guests (tests/hostile/, the GPU programs): misuse that would make wgpu-native abort
the process, budgets, WGSL bounds and a runaway dispatch.

Each program tries its misuse inside error scopes and prints what the guest was told; the test
checks those errors, that the guest then renders (green frames), that the GPU objects return to
the baseline, and that `scenes/triangle` still draws correctly in this same process. The runaway
dispatch wedges lavapipe's threads until its process ends, so it runs in a spawned process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import pytest

from gpu_host import GuestComponent, GuestError, GuestOptions, Limits, Runtime
from scenes.build import scene_path, suite_path
from tests.conftest import Captured

Load = Callable[[str], GuestComponent]
Counts = Callable[[], dict[str, int]]

GREEN = (0, 255, 0)
ORANGE = (255, 102, 0)  # the centre of scenes/triangle
MiB = 1 << 20
VALIDATION = "GpuErrorKind_ValidationError"
OUT_OF_MEMORY = "GpuErrorKind_OutOfMemoryError"


@dataclass
class Outcome:
    checks: dict[str, Any]  # what the program printed, by check name
    frames: list[tuple[int, ...]]
    error: GuestError | None
    captured: Captured


@pytest.fixture
def hostile(
    runtime: Runtime, load: Load, captured: Captured, gpu_counts: Counts
) -> Iterator[Callable[..., Outcome]]:
    """Run a GPU hostile program for two frames; afterwards the GPU objects are back at the
    baseline and the triangle scene still draws orange in this process."""
    baseline = gpu_counts()

    def run(program: str, limits: Limits | None = None) -> Outcome:
        options = GuestOptions(
            name="hostile",
            size=(32, 24),
            args=(program,),
            limits=limits or Limits(),
            sink=captured.sink,
        )
        frames: list[tuple[int, ...]] = []
        error: GuestError | None = None
        with runtime.run(load("hostile"), options) as guest:
            try:
                for _ in range(2):
                    frames.append(tuple(int(c) for c in guest.next_frame(timeout=30).rgb[4, 4]))
            except GuestError as exc:
                error = exc
        checks = {}
        for line in captured.stdout():
            if line.startswith("{"):
                found = json.loads(line)
                checks[found["check"]] = found["value"]
        return Outcome(checks, frames, error, captured)

    yield run
    assert gpu_counts() == baseline
    with runtime.run(load("triangle"), GuestOptions(name="triangle", size=(64, 48))) as guest:
        assert tuple(int(c) for c in guest.next_frame().rgb[24, 32]) == ORANGE


def rendered_on(outcome: Outcome) -> None:
    assert outcome.error is None, outcome.error
    assert outcome.frames == [GREEN, GREEN]


def validation(outcome: Outcome, check: str) -> str:
    """The message of the validation error the program's scope caught for `check`."""
    kind, message = outcome.checks[check]
    assert kind == VALIDATION, (check, kind, message)
    return str(message)


# --- WGSL -------------------------------------------------------------------------------------------


def test_invalid_wgsl_is_a_validation_error_with_a_bounded_message(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("bad_wgsl", Limits(wgsl_bytes=64 * 1024, error_message_chars=300))
    rendered_on(outcome)
    assert "expected identifier" in validation(outcome, "syntax")
    # naga quotes the 50,000-character name; the guest gets at most error_message_chars of it.
    assert outcome.checks["long_line"] == [VALIDATION, 300, "…"]
    assert validation(outcome, "too_big") == (
        "the WGSL source is 220000 bytes, over the limit of 65536 (Limits.wgsl_bytes)"
    )


def test_deep_nesting_is_refused_before_naga_overflows_its_stack(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("deep_nesting")
    rendered_on(outcome)
    assert validation(outcome, "deep") == (
        "the WGSL source nests brackets more than 256 deep (Limits.wgsl_nesting)"
    )
    too_long = "the WGSL source has an expression of more than 4096 operators"
    assert validation(outcome, "long_chain") == too_long
    assert validation(outcome, "swizzles") == too_long
    assert validation(outcome, "else_ifs") == "the WGSL source has more than 1024 `else` branches"
    for check in ("within_limit", "chain_at_limit", "else_ifs_at_limit"):
        assert outcome.checks[check] is None, (check, outcome.checks[check])


def test_a_nul_in_wgsl_is_refused(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("wgsl_nul")
    rendered_on(outcome)
    assert validation(outcome, "nul") == (
        "the WGSL source contains a NUL character (line 2); WGSL text may not contain one"
    )


# --- validation wgpu reports itself: the process lives on ---------------------------------------------


def test_mismatched_bind_groups_are_validation_errors(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("bind_group_mismatch")
    rendered_on(outcome)
    assert "different type" in validation(outcome, "wrong_resource")
    assert "UNIFORM" in validation(outcome, "wrong_usage")
    assert "not compatible" in validation(outcome, "wrong_layout")


def test_out_of_range_copies_and_writes_are_validation_errors(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("copy_out_of_range")
    rendered_on(outcome)
    assert "overrunning the bounds of the Destination buffer" in validation(outcome, "buffer_copy")
    assert validation(outcome, "queue_write") == "writing 64 bytes at offset 240 overruns the 256-byte buffer"
    assert "overrunning the bounds of the Source texture" in validation(outcome, "texture_copy")


# --- mapping ----------------------------------------------------------------------------------------


def test_mapping_twice_and_reading_an_unmapped_buffer_are_operation_errors(
    hostile: Callable[..., Outcome],
) -> None:
    outcome = hostile("map_twice")
    rendered_on(outcome)
    assert outcome.checks == {
        "first": "ok",
        "second": "MapAsyncErrorKind_OperationError",
        "read_unmapped": "GetMappedRangeErrorKind_OperationError",
        "still_mapped": [7, 0, 0, 0],  # the queue write reached the buffer before the mapping
    }


def test_writing_outside_the_mapped_range_is_a_range_error(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("write_unmapped_range")
    rendered_on(outcome)
    assert outcome.checks == {
        "inside": "ok",
        "outside": "GetMappedRangeErrorKind_RangeError",
        "after_unmap": "GetMappedRangeErrorKind_OperationError",
    }


# --- what wgpu-native would abort the process on ------------------------------------------------------


def test_submitting_twice_is_refused(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("submit_twice")
    rendered_on(outcome)
    assert validation(outcome, "submit_twice") == "a command buffer can be submitted only once"
    assert validation(outcome, "twice_in_one_submit") == "a command buffer appears twice in one submit"
    assert validation(outcome, "finish_twice") == "the gpu-command-encoder is no longer valid"
    assert validation(outcome, "record_after_finish") == "the gpu-command-encoder is no longer valid"


def test_submitting_work_on_destroyed_or_mapped_resources_is_refused(
    hostile: Callable[..., Outcome],
) -> None:
    outcome = hostile("destroy_in_use")
    rendered_on(outcome)
    destroyed = {
        "copy_source": "gpu-buffer 'source'",
        "attachment": "gpu-texture 'attachment'",
        "resolve_target": "gpu-texture 'resolve'",
        "bind_group_buffer": "gpu-buffer 'bound'",
        "bind_group_texture": "gpu-texture 'sampled'",
        "vertex_buffer": "gpu-buffer 'vertices'",
        "index_buffer": "gpu-buffer 'indices'",
        "indirect_buffer": "gpu-buffer 'indirect'",
        "bundle_vertex_buffer": "gpu-buffer 'bundled'",
    }
    for check, what in destroyed.items():
        assert validation(outcome, check) == f"the command buffer uses the {what}, which was destroyed"
    for check, what in (("mapped_in_copy", "mappable"), ("mapped_at_creation_in_bind_group", "mapped")):
        assert validation(outcome, check) == (
            f"the command buffer uses the gpu-buffer '{what}', which is mapped; unmap it before submitting"
        )
    assert outcome.checks["bundle_mapped_at_finish"] == "finished"
    assert outcome.checks["read_destroyed_mapping"] == "GetMappedRangeErrorKind_OperationError"


def test_work_for_a_destroyed_device_is_refused(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("destroyed_device")
    rendered_on(outcome)
    assert validation(outcome, "submit") == "the gpu-device was destroyed"
    assert validation(outcome, "bundle") == "the gpu-device was destroyed"
    assert outcome.checks["map"] == "MapAsyncErrorKind_OperationError"


def test_objects_of_another_device_are_refused(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("foreign_device")
    rendered_on(outcome)
    assert validation(outcome, "copy") == "the gpu-buffer 'theirs' belongs to another gpu-device"
    assert validation(outcome, "submit") == "the gpu-command-buffer belongs to another gpu-device"
    assert (
        validation(outcome, "bind_group") == "the gpu-buffer 'their uniforms' belongs to another gpu-device"
    )


def test_invalid_render_bundle_descriptors_are_refused(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("bundle_descriptor")
    rendered_on(outcome)
    assert validation(outcome, "samples_0") == "invalid sample-count 0 (1, 2, 4, 8, 16 or 32)"
    assert validation(outcome, "samples_64") == "invalid sample-count 64 (1, 2, 4, 8, 16 or 32)"
    assert validation(outcome, "nine_colors") == "9 color formats, more than max-color-attachments (8)"
    assert validation(outcome, "finish_invalid").startswith("invalid gpu-render-bundle-encoder")


# --- budgets ----------------------------------------------------------------------------------------


def test_the_gpu_budget_is_an_out_of_memory_error(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("gpu_budget", Limits(gpu_bytes=8 * MiB, gpu_objects=200))
    rendered_on(outcome)
    assert outcome.checks["buffers"] == [
        8,
        [
            OUT_OF_MEMORY,
            (
                "a gpu-buffer of 1 MiB would bring the guest's buffers and textures to 9 MiB, over its "
                "GPU memory budget (Limits.gpu_bytes = 8 MiB); destroy some, or raise it with "
                "GuestOptions(limits=Limits(gpu_bytes=...))"
            ),
        ],
    ]
    assert outcome.checks["after_destroy"] is None  # a destroyed buffer's memory came back
    assert outcome.checks["uncaptured_kind"] is None  # a validation scope does not catch it
    count, (kind, message) = outcome.checks["samplers"]
    assert kind == OUT_OF_MEMORY and 150 < count < 200
    assert message.startswith("the guest holds 200 GPU objects, its limit (Limits.gpu_objects = 200)")


def test_a_guest_holds_only_a_few_devices(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("device_flood", Limits(gpu_devices=3))
    rendered_on(outcome)
    assert outcome.checks["held"] == 3
    assert outcome.checks["refused"] == [
        "RequestDeviceErrorKind_OperationError",
        "the guest holds 3 GPU devices (Limits.gpu_devices); destroy one before requesting another",
    ]
    assert outcome.checks["after_destroy"] == "ok"


def test_huge_textures_are_refused_before_allocation(hostile: Callable[..., Outcome]) -> None:
    outcome = hostile("huge_texture", Limits(gpu_bytes=64 * MiB))
    rendered_on(outcome)
    assert validation(outcome, "too_wide") == (
        "texture width 16384 is over the limit of 8192 (Limits.max_texture_dimension)"
    )
    kind, message = outcome.checks["too_big"]
    assert kind == OUT_OF_MEMORY and message.startswith("a gpu-texture of 1 GiB would bring")


def test_a_surface_stays_within_the_texture_limit(
    runtime: Runtime, load: Load, captured: Captured, gpu_counts: Counts
) -> None:
    """The frame is a texture: a guest asking a huge surface gets at most max_texture_dimension."""
    baseline = gpu_counts()
    options = GuestOptions(
        name="surface_probe",
        size=(64, 48),
        max_surface_size=(4096, 4096),
        limits=Limits(max_texture_dimension=100),
        sink=captured.sink,
    )
    with runtime.run(load("surface_probe"), options) as guest:
        guest.next_frame()
    found = {p["probe"]: p for p in map(json.loads, captured.stdout()) if p["probe"] != "resize"}
    assert found["huge"]["size"] == [100, 100]
    assert gpu_counts() == baseline


# --- a runaway dispatch ------------------------------------------------------------------------------


def run_runaways(results: Connection, wait_seconds: float) -> None:
    """In a spawned process: each runaway program in turn, then the triangle; what happened goes
    to `results`."""
    runtime = Runtime()
    hostile, triangle = runtime.load(suite_path("hostile")), runtime.load(scene_path("triangle"))
    reports: list[dict[str, Any]] = []
    for program, wait in RUNAWAYS:
        report: dict[str, Any] = {}
        options = GuestOptions(
            name="runaway",
            size=(32, 24),
            args=(program,),
            env=(("WAIT", wait),),
            # The loop budget off: a true runaway, so that only the wait deadline stands between.
            limits=Limits(gpu_wait_seconds=wait_seconds, shader_loop_iterations=0),
            sink=lambda *_: None,
        )
        guest = runtime.run(hostile, options)
        guest.next_frame(timeout=60)  # the program presents once, then submits the dispatch
        started = time.monotonic()
        try:
            guest.next_frame(timeout=60)
        except GuestError as exc:
            report["error"] = str(exc)
            report["limit"] = getattr(exc, "limit", None)  # a GuestLimitExceeded names the setting
        report["error_seconds"] = time.monotonic() - started
        started = time.monotonic()
        guest.close()
        report["close_seconds"] = time.monotonic() - started
        reports.append(report)
    # The devices are lost and their work still runs; another guest in this process still renders.
    started = time.monotonic()
    with runtime.run(triangle, GuestOptions(name="triangle", size=(64, 48))) as after:
        colour = [int(c) for c in after.next_frame(timeout=60).rgb[24, 32]]
    results.send((reports, colour, time.monotonic() - started))
    os._exit(0)  # lavapipe's threads run the dispatches on; the parent ends this process anyway


RUNAWAYS = (
    ("runaway", "map"),
    ("runaway", "work-done"),
    ("runaway", "submit"),
    ("runaway", "present"),
)


def test_runaway_dispatches_end_their_guests_at_the_gpu_wait_deadline() -> None:
    context = multiprocessing.get_context("spawn")
    results, sender = context.Pipe(duplex=False)
    worker = context.Process(target=run_runaways, args=(sender, 1.0), daemon=True)
    worker.start()
    try:
        assert results.poll(240), "the worker reported nothing"
        reports, colour, triangle_seconds = results.recv()
    finally:
        worker.kill()
        worker.join(10)
    calls = [
        "[method]gpu-buffer.map-async",
        "[method]gpu-queue.on-submitted-work-done",
        "[method]gpu-queue.submit",
        "[method]context.present",
    ]
    for report, call in zip(reports, calls, strict=True):
        assert report["error"] == (
            f"guest 'runaway' failed in {call}: GPU wait timed out after 1 s "
            "(Limits.gpu_wait_seconds); the device is lost and the GPU work still runs"
        )
        assert report["limit"] == "Limits.gpu_wait_seconds"
        assert 1.0 <= report["error_seconds"] < 4.0, report
        assert report["close_seconds"] < 1.0, report
    # Four lost devices' work still runs on lavapipe's threads: slow, but correct.
    assert colour == list(ORANGE)
    assert triangle_seconds < 30, triangle_seconds


# --- loops that never end -----------------------------------------------------------------------------


# lavapipe ends a loop by itself near 65,535 iterations (docs/platform-notes.md), so budgets under it show
# the host's bound here; the default budget was checked on an NVIDIA GPU (docs/sandbox.md).
@pytest.mark.parametrize("iterations", [1000, 60000])
def test_every_shader_loop_ends_at_the_iteration_budget(
    hostile: Callable[..., Outcome], iterations: int
) -> None:
    outcome = hostile("endless_loop", Limits(shader_loop_iterations=iterations))
    rendered_on(outcome)
    assert outcome.checks["shader_error"] is None
    # The endless `loop` ran exactly the budget; the `while` and `for` after it broke at once.
    assert outcome.checks["counts"] == [iterations] * 64
