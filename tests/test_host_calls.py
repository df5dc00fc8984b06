"""Host calls through the host's own callbacks (gpu_host/host_calls.py) behave as they did through
wasmtime-py's trampoline: the same values reach the guest, the same errors end it.

Each guest runs twice, once per path (`GuestOptions.wasmtime_trampoline`), and what it printed,
drew or died of is compared. The probes between them call most of wasi:webgpu with records,
lists, options, enums, flags, variants, results and handles in both directions.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from gpu_host import GuestComponent, GuestError, GuestOptions, Runtime

from .conftest import Captured

Load = Callable[[str], GuestComponent]


def run_both(
    runtime: Runtime, load: Load, name: str, frames: int = 1
) -> list[tuple[list[str], str, list[np.ndarray]]]:
    """(stdout lines, error or "", frames' RGB) through the callbacks, then through the trampoline."""
    outcomes = []
    for trampoline in (False, True):
        captured = Captured()
        options = GuestOptions(name=name, size=(64, 48), sink=captured.sink, wasmtime_trampoline=trampoline)
        pictures: list[np.ndarray] = []
        error = ""
        try:
            with runtime.run(load(name), options) as guest:
                pictures = [frame.rgb for frame in guest.frames(frames)]
        except GuestError as exc:
            error = str(exc)
        outcomes.append((captured.stdout(), error, pictures))
    return outcomes


@pytest.mark.parametrize("name", ["api_probe", "webgpu_probe", "texture_probe"])
def test_probes_see_the_same_values_through_both_paths(runtime: Runtime, load: Load, name: str) -> None:
    (lines, error, frames), (old_lines, old_error, old_frames) = run_both(runtime, load, name)
    assert not error and not old_error
    checks = [json.loads(line) for line in lines if line.startswith('{"check"')]
    assert len(checks) > 10  # the probe did run
    assert lines == old_lines
    assert len(frames) == len(old_frames) == 1
    assert np.array_equal(frames[0], old_frames[0])


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unimplemented", "guest 'unimplemented': not implemented: [method]context.not-in-this-host"),
        (
            "bad_framebuffer",
            "failed in [method]buffer.set: expected 12288 bytes (64x48 pixels x 4), got 12284",
        ),
    ],
)
def test_errors_end_the_guest_with_the_same_message(
    runtime: Runtime, load: Load, name: str, message: str
) -> None:
    (_, error, _), (_, old_error, _) = run_both(runtime, load, name, frames=2)
    assert message in error
    assert error == old_error
