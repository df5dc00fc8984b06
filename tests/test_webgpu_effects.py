"""wasi:webgpu calls checked by their effect: pixels and bytes read back in the guest, error scopes.

Each guest prints {"check": NAME, "value": VALUE} lines (see its docstring for what each means);
these tests compare the values with exact expectations.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gpu_host import GuestComponent, GuestOptions, GuestTrap, Runtime
from tests.conftest import Captured

Load = Callable[[str], GuestComponent]
Options = Callable[..., GuestOptions]


def checks(captured: Captured) -> dict[str, Any]:
    lines = [json.loads(line) for line in captured.stdout() if line.startswith('{"check"')]
    errors = [line for line in lines if "error" in line]
    assert not errors, errors
    return {line["check"]: line["value"] for line in lines}


def validation(message_part: str) -> Callable[[object], bool]:
    def matches(error: object) -> bool:
        return (
            isinstance(error, dict)
            and error["kind"] == "GpuErrorKind_ValidationError"
            and message_part in error["message"]
        )

    return matches


def test_error_scopes_capture_and_the_guest_renders_on(
    runtime: Runtime,
    load: Load,
    options: Options,
    captured: Captured,
    gpu_counts: Callable[[], dict[str, int]],
) -> None:
    baseline = gpu_counts()
    with runtime.run(load("error_scopes"), options("error_scopes")) as guest:
        frames = [guest.next_frame() for _ in range(2)]
    found = checks(captured)
    assert found["no_error"] is None
    assert validation("parsing error")(found["bad_wgsl"]), found["bad_wgsl"]
    assert validation("invalid gpu-shader-module")(found["use_invalid"]), found["use_invalid"]
    assert validation("parsing error")(found["first_only"]), found["first_only"]  # not the buffer's
    inner, outer = found["nested"]
    assert inner is None  # the out-of-memory scope lets the validation error through
    assert validation("usage")(outer), outer
    mapped, created = found["map_invalid"]
    assert mapped == "MapAsyncErrorKind_OperationError"
    assert validation("usage")(created), created
    assert validation("pipeline must be set")(
        {**found["bad_commands"], "message": found["bad_commands"]["message"].lower()}
    ), found["bad_commands"]
    assert "pipeline must be set" in found["bad_bundle"]["message"].lower(), found["bad_bundle"]
    assert validation("invalid gpu-render-bundle")(found["bad_bundle_use"]), found["bad_bundle_use"]
    for frame in frames:
        assert frame.rgb[10, 10].tolist() == [0, 255, 0]
        assert (frame.rgb == frame.rgb[0, 0]).all()
    assert gpu_counts() == baseline


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ("uncaptured", "failed in [method]gpu-device.create-shader-module: In wgpuDeviceCreateShaderModule"),
        ("empty-pop", "failed in [method]gpu-device.pop-error-scope: the error scope stack is empty"),
    ],
)
def test_an_uncaptured_error_or_an_empty_pop_ends_the_guest(
    runtime: Runtime,
    load: Load,
    options: Options,
    captured: Captured,
    gpu_counts: Callable[[], dict[str, int]],
    ending: str,
    message: str,
) -> None:
    baseline = gpu_counts()
    opts = options("error_scopes", env=(("ENDING", ending),))
    with runtime.run(load("error_scopes"), opts) as guest, pytest.raises(GuestTrap) as raised:
        guest.next_frame()
    text = str(raised.value)
    assert text.startswith(f"guest 'error_scopes' {message}"), text
    assert "\n" not in text
    assert "uncaptured" not in checks(captured) and "empty_pop" not in checks(captured)
    assert gpu_counts() == baseline


# --- draw_probe: instancing, several vertex attributes, indirect draws, render bundles ---------------

QUAD_AT = {0: (0, 0), 1: (4, 0), 2: (0, 4)}  # instance -> top-left pixel of its 2x2 quad
QUAD_COLOUR = {0: (204, 0, 102, 255), 1: (204, 51, 102, 255), 2: (204, 255, 102, 255)}


def quads(*instances: int) -> np.ndarray:
    image = np.zeros((8, 8, 4), np.uint8)
    image[..., 3] = 255  # cleared to (0, 0, 0, 1)
    for i in instances:
        x, y = QUAD_AT[i]
        image[y : y + 2, x : x + 2] = QUAD_COLOUR[i]
    return image


def test_draws_bundles_and_indirect_calls_put_the_right_pixels(
    runtime: Runtime,
    load: Load,
    options: Options,
    captured: Captured,
    gpu_counts: Callable[[], dict[str, int]],
) -> None:
    baseline = gpu_counts()
    with runtime.run(load("draw_probe"), options("draw_probe", size=(64, 48))) as guest:
        frames = [guest.next_frame() for _ in range(2)]
    found = checks(captured)
    expected = {
        "instanced": quads(0, 1, 2),
        "indexed": quads(1, 2),
        "indirect": quads(0, 2),
        "bundle": quads(1, 2),
        "bundle_indirect": quads(0, 1),
        "both_bundles": quads(0, 1, 2),
    }
    for name, image in expected.items():
        got = np.frombuffer(bytes.fromhex(found[name]), np.uint8).reshape(8, 8, 4)
        assert np.array_equal(got, image), f"{name}:\n{got[..., :3].tolist()}"
    assert found["bundle_labels"] == [
        ["first bundle encoder", "first bundle encoder relabelled"],
        ["first bundle", "first bundle relabelled"],
    ]
    assert found["dispatch_indirect"] == list(range(1, 9))
    for frame in frames:  # the first bundle, executed again every frame into the 64x48 frame
        assert frame.rgb[6, 40].tolist() == [204, 51, 102]
        assert frame.rgb[30, 6].tolist() == [204, 255, 102]
        assert frame.rgb[6, 8].tolist() == [0, 0, 0]
        assert int((frame.rgb.sum(axis=2) > 0).sum()) == 2 * 16 * 12
    assert gpu_counts() == baseline
