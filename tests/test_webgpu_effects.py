"""wasi:webgpu calls checked by their effect: pixels and bytes read back in the guest, error scopes.

Each guest prints {"check": NAME, "value": VALUE} lines (see its docstring for what each means);
these tests compare the values with exact expectations.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import wgpu

from gpu_host import GuestComponent, GuestOptions, GuestTrap, Runtime
from gpu_host.errors import GuestGpuError
from gpu_host.webgpu.error_scope import error_filter
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
    assert validation("submitted only once")(found["submit_twice"]), found["submit_twice"]
    assert "pipeline must be set" in found["bad_bundle"]["message"].lower(), found["bad_bundle"]
    assert validation("invalid gpu-render-bundle")(found["bad_bundle_use"]), found["bad_bundle_use"]
    for frame in frames:
        assert frame.rgb[10, 10].tolist() == [0, 255, 0]
        assert (frame.rgb == frame.rgb[0, 0]).all()
    assert gpu_counts() == baseline


def test_an_empty_pop_ends_the_guest(
    runtime: Runtime,
    load: Load,
    options: Options,
    captured: Captured,
    gpu_counts: Callable[[], dict[str, int]],
) -> None:
    baseline = gpu_counts()
    opts = options("error_scopes", env=(("ENDING", "empty-pop"),))
    with runtime.run(load("error_scopes"), opts) as guest, pytest.raises(GuestTrap) as raised:
        guest.next_frame()
    text = str(raised.value)
    message = "failed in [method]gpu-device.pop-error-scope: the error scope stack is empty"
    assert text.startswith(f"guest 'error_scopes' {message}"), text
    assert "\n" not in text
    assert "empty_pop" not in checks(captured)
    assert gpu_counts() == baseline


def test_an_error_no_scope_matches_is_uncaptured_and_the_guest_renders_on(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    """Bad WGSL under an out-of-memory scope only: WebGPU's uncaptured error, a line on stderr."""
    opts = options("error_scopes", env=(("ENDING", "uncaptured"),))
    with runtime.run(load("error_scopes"), opts) as guest:
        frames = [guest.next_frame() for _ in range(2)]
        assert guest.ctx.uncaptured_errors == 1
    assert checks(captured)["uncaptured"] == "survived"
    stderr = [line for stream, line in captured.lines if stream == "stderr"]
    assert len(stderr) == 1, stderr
    assert stderr[0].startswith(
        "uncaptured validation error in [method]gpu-device.create-shader-module: "
        "In wgpuDeviceCreateShaderModule"
    ), stderr
    for frame in frames:
        assert frame.rgb[10, 10].tolist() == [0, 255, 0]


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


# --- texture_probe: formats, mip levels and views, write-texture offsets, depth, samplers ------------

FORMATS = {  # name -> (struct code, channels)
    "r8unorm": ("B", 1),
    "rg8unorm": ("B", 2),
    "r16float": ("e", 1),
    "r32uint": ("I", 1),
    "r32float": ("f", 1),
    "bgra8unorm": ("B", 4),
    "rgba16float": ("e", 4),
    "rgba32float": ("f", 4),
}


def pattern(name: str) -> bytes:
    code, channels = FORMATS[name]
    values = [
        16 * i + c if code == "B" else 1000 * i + c if code == "I" else i + c / 4 - 1.5
        for i in range(8)
        for c in range(channels)
    ]
    return struct.pack(f"<{len(values)}{code}", *values)


def rgba(hex_text: str, width: int, height: int) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(hex_text), np.uint8).reshape(height, width, 4)


def test_texture_formats_mips_depth_and_samplers_read_back(
    runtime: Runtime,
    load: Load,
    options: Options,
    captured: Captured,
    gpu_counts: Callable[[], dict[str, int]],
) -> None:
    baseline = gpu_counts()
    with runtime.run(load("texture_probe"), options("texture_probe")) as guest:
        frame = guest.next_frame()
    found = checks(captured)
    for name in FORMATS:
        assert found[f"copy:{name}"] == pattern(name).hex(), name
    assert found["clear:bgra8unorm"] == bytes((0, 51, 255, 153)).hex()  # B, G, R, A
    halves = np.frombuffer(bytes.fromhex(found["clear:rgba16float"]), "<f2")  # 0.6 rounds either way
    assert np.allclose(halves, [1.0, 0.2, 0.0, 0.6], atol=5e-4, rtol=0), halves.tolist()
    assert found["clear:r32float"] == struct.pack("<f", 1.0).hex()

    mip1 = np.zeros((4, 4, 4), np.uint8)
    mip1[2:4, 1:3] = [[[10 + k, 20 + k, 30 + k, 255] for k in row] for row in ((0, 1), (2, 3))]
    assert np.array_equal(rgba(found["mip_write"], 4, 4), mip1), rgba(found["mip_write"], 4, 4).tolist()
    blue = bytes((0, 0, 255, 255))
    assert found["mip_render"] == [(blue * 4).hex(), bytes(4).hex()]
    assert found["mip_sample"] == [(blue * 4).hex(), (blue * 4).hex()]

    colour, depth = found["depth"]
    want = np.zeros((8, 8, 4), np.uint8)
    want[:4] = (0, 255, 0, 255)
    want[4:, :4] = (255, 0, 0, 255)
    want[4:, 4:] = (0, 0, 255, 255)
    assert np.array_equal(rgba(colour, 8, 8), want)
    depths = np.frombuffer(bytes.fromhex(depth), "<f4").reshape(8, 8)
    want_depth = np.full((8, 8), 0.25, np.float32)
    want_depth[4:, :4] = 0.5
    want_depth[4:, 4:] = 0.75
    assert np.array_equal(depths, want_depth), depths.tolist()

    assert found["sampler:nearest"] == [0, 0, 255, 255]
    for name, want_red in (("linear_clamp", [0, 64, 191, 255]), ("linear_repeat", [64, 64, 191, 191])):
        got = found[f"sampler:{name}"]
        assert all(abs(g - w) <= 1 for g, w in zip(got, want_red, strict=True)), (name, got)
    assert frame.rgb[10, 10].tolist() == [255, 255, 255]
    assert gpu_counts() == baseline


@pytest.mark.parametrize(
    ("error", "filter_"),
    [
        (wgpu.GPUValidationError("Validation Error: bad usage"), "validation"),
        (wgpu.GPUOutOfMemoryError("out of memory"), "out-of-memory"),
        (wgpu.GPUValidationError("Not enough memory left."), "out-of-memory"),  # wgpu's allocation failure
        (wgpu.GPUInternalError("internal"), "internal"),
        (
            GuestGpuError("[method]gpu-queue.submit", "a command buffer can be submitted only once"),
            "validation",
        ),
    ],
)
def test_each_gpu_error_falls_under_the_filter_webgpu_gives_it(error: Exception, filter_: str) -> None:
    assert error_filter(error) == filter_
