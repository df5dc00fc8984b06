"""The wasi:webgpu conformance suite (tests/conformance): one guest, a module per interface group.

The guest prints {"group", "check", "value"} lines; each test here compares one group's values
with numbers computed on this side (numpy, wgpu-py asked directly, the WGSL text itself).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import wgpu

from gpu_host import GuestComponent, GuestEnded, GuestError, GuestOptions, GuestTrap, Limits, Runtime
from gpu_host.webgpu.device_events import LOGGED_IN_FULL, MAX_UNCAPTURED
from gpu_host.webgpu.objects import GpuDevice
from gpu_host.webgpu.wgsl_features import supported_wgsl_features
from tests.conftest import Captured

Load = Callable[[str], GuestComponent]
GROUPS = ["adapter", "buffers", "textures", "shaders", "bind-groups", "render", "compute", "errors"]
FRAMES = 3
BU, TU = wgpu.BufferUsage, wgpu.TextureUsage


@dataclass
class Suite:
    values: dict[tuple[str, str], Any]
    errors: list[str]
    done: list[str] | None
    frames: list[np.ndarray]
    stderr: list[str]
    uncaptured: int
    seconds: float


def run_suite(runtime: Runtime, load: Load, *args: str, limits: Limits | None = None) -> Suite:
    captured = Captured()
    options = GuestOptions(
        name="conformance", size=(64, 48), sink=captured.sink, args=args, limits=limits or Limits()
    )
    started = time.monotonic()
    with runtime.run(load("conformance"), options) as guest:
        frames = [guest.next_frame(timeout=120).rgb for _ in range(FRAMES)]
    values: dict[tuple[str, str], Any] = {}
    errors, done = [], None
    for line in captured.stdout():
        item = json.loads(line)
        if "done" in item:
            done = item["done"]
        elif "error" in item:
            errors.append(f"{item['group']}/{item['check']}: {item['error']}")
        else:
            values[(item["group"], item["check"])] = item["value"]
    stderr = [line for stream, line in captured.lines if stream == "stderr"]
    return Suite(
        values, errors, done, frames, stderr, guest.ctx.uncaptured_errors, time.monotonic() - started
    )


@pytest.fixture(scope="module")
def suite(runtime: Runtime, load: Load) -> Suite:
    """The whole suite, run once: no argument runs every group."""
    return run_suite(runtime, load)


def group(suite: Suite, name: str) -> dict[str, Any]:
    return {check: value for (g, check), value in suite.values.items() if g == name}


def test_every_group_ran_without_a_failed_step(suite: Suite) -> None:
    assert not suite.errors, "\n".join(suite.errors)
    assert suite.done == [*GROUPS, "frames"]
    assert {g for g, _ in suite.values} == {*GROUPS, "frames"}
    assert suite.seconds < 60


def test_adapter_and_device(suite: Suite) -> None:
    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    device = adapter.request_device_sync()
    found = group(suite, "adapter")
    assert found["request-adapter"] is True
    assert found["preferred-format"] == "rgba8unorm"
    assert found["adapter-vendor"] == adapter.info["vendor"]
    assert found["adapter-max-texture-2d"] == adapter.limits["max-texture-dimension-2d"]
    assert found["device-max-bind-groups"] == device.limits["max-bind-groups"]
    assert found["adapter-has-timestamp-query"] == ("timestamp-query" in adapter.features)
    assert found["device-has-timestamp-query"] is False  # a device has only the features it asked for
    assert found["device-with-feature"] == [True, "destroyed"]
    assert found["unknown-limit"] == "RequestDeviceErrorKind_OperationError"


def test_buffers_mapping_and_copies(suite: Suite) -> None:
    found = group(suite, "buffers")
    assert found["mapped-at-creation"] == [10, 20, 30, 40]
    assert found["getters"] == [48, int(BU.MAP_READ | BU.COPY_DST), "getters"]
    states, part, outside = found["map-states"]
    assert states == ["unmapped", "mapped", "unmapped"]
    assert part == [3, 4]  # bytes 8..16 of [1, 2, 3, 4], mapped with offset 8 size 8
    assert outside == "GetMappedRangeErrorKind_RangeError"
    assert found["map-write-offset"] == [0, 0, 77, 88]
    # no MAP_READ usage, an offset not a multiple of 8: operation errors; a destroyed buffer: abort
    assert found["map-errors"] == [
        "MapAsyncErrorKind_OperationError",
        "MapAsyncErrorKind_OperationError",
        "MapAsyncErrorKind_AbortError",
    ]
    want = np.full(8, 99)
    want[4:7] = [3, 4, 5]  # copy of src[2:5] to dst[4:7]
    want[0:2] = 0  # clear-buffer offset 0 size 8
    want[7] = 0  # clear-buffer offset 28 to the end
    assert found["copy-and-clear"] == want.tolist()


def test_textures_layers_mips_views_and_samplers(suite: Suite) -> None:
    found = group(suite, "textures")
    assert found["getters"] == [
        4,
        4,
        2,
        2,
        1,
        "d2",
        "rgba8unorm",
        int(TU.COPY_SRC | TU.COPY_DST | TU.RENDER_ATTACHMENT),
    ]
    texels = bytes(range(16))
    assert found["write-layer1-mip1"] == texels.hex()
    # a view of layer 1 cleared blue leaves layer 0 as it was (zero)
    assert found["render-into-layer1"] == ["00000000", "0000ffff"]
    corner = np.zeros((4, 4, 4), np.uint8)
    corner[2:4, 2:4] = np.frombuffer(texels, np.uint8).reshape(2, 2, 4)
    assert found["copy-mip-to-corner"] == corner.tobytes().hex()
    linear, nearest = found["sampler-filters"]["linear"], found["sampler-filters"]["nearest"]
    assert abs(linear[0] - 0.5) <= 1 / 255 and linear[1] == 0.0  # texels 0 and 1 (red 0, 255) mixed
    assert nearest == [1.0, 0.0]


def test_compilation_info_constants_and_async_pipelines(suite: Suite) -> None:
    found = group(suite, "shaders")
    assert found["valid-module-messages"] == []
    bad = found["invalid-module-messages"]
    code: str = bad["code"]
    at = code.index("undefined_name")
    line = code[:at].count("\n") + 1
    column = at - code.rfind("\n", 0, at)
    assert (line, column) == (4, 17)
    assert bad["popped"] is True
    [message] = bad["messages"]
    assert message["type"] == "error"
    assert "undefined_name" in message["message"]
    assert (message["line_num"], message["line_pos"], message["offset"], message["length"]) == (
        line,
        column,
        at,
        len("undefined_name"),
    )
    invalid = found["validation-error-messages"]
    code = invalid["code"]
    [message] = invalid["messages"]
    at = code.index("var<uniform>")
    declaration = code[at : code.index("\n", at)]  # naga underlines the whole declaration
    assert (message["line_num"], message["line_pos"], message["offset"], message["length"]) == (
        2,
        at - code.index("\n"),
        at,
        len(declaration),
    )
    assert message["message"].startswith("Global variable [0] 'u' is invalid: ")
    assert "stride 4" in message["message"]  # naga's note, after its headline

    # `has` agrees with what this host's naga compiles (the guest's own shaders), and with the
    # host's probes
    languages = found["wgsl-language-features"]
    assert all(has == compiles for has, compiles in languages.values()), languages
    assert {name for name, (has, _) in languages.items() if has} == set(supported_wgsl_features())
    assert languages["pointer_composite_access"] == [True, True]
    assert languages["unrestricted_pointer_parameters"] == [False, False]  # the naga of wgpu-py 0.32 lacks it

    assert found["pipeline-constants"] == {"default": [1, 20], "overridden": [7, 5]}
    assert found["compute-pipeline-async"] == [1, 20]
    for kind, reason, text in found["pipeline-async-errors"]:
        assert (kind, reason) == ("CreatePipelineErrorKind_GpuPipelineError", "validation")
        assert "entry point" in text.lower() or "entry_point" in text.lower(), text


def test_bind_groups_with_dynamic_offsets(suite: Suite) -> None:
    found = group(suite, "bind-groups")
    assert found["dynamic-offsets"] == [1 + 2, 30 + 40]
    assert found["layout-label"] == "dynamic"


def test_queries_bundles_and_multisampling(suite: Suite) -> None:
    found = group(suite, "render")
    assert found["query-set-getters"] == ["occlusion", 5, "occ", "renamed"]
    scissored, rest, occluded, empty = found["occlusion-queries"]
    # WebGPU promises only zero / non-zero; lavapipe counts samples exactly (8x8 target, 2x2 corner)
    assert (occluded, empty) == (0, 0)
    assert scissored > 0 and rest > 0
    assert (scissored, rest) == (4, 60)
    kind, (render_begin, render_end, compute_begin, compute_end) = found["timestamp-queries"]
    assert kind == "timestamp"
    assert 0 < render_begin <= render_end <= compute_begin <= compute_end
    green, red = "00ff00ff", "ff0000ff"
    assert found["render-bundle"] == [green, red, "bundle encoder", "bundle"]
    assert found["multisample-resolve"] == green
    # draw-indirect, draw-indexed-indirect (1 instance each), draw-indirect with 0 instances
    assert found["indirect-draws"] == [green, green, red]


def test_compute_dispatches(suite: Suite) -> None:
    found = group(suite, "compute")
    # workgroup size 4x2: 2x3x4 groups -> 192 invocations, largest id (7, 5, 3)
    assert found["dispatch"] == [2 * 3 * 4 * 8, 753]
    # indirect (3, 1, 2) read at offset 8 -> 48 invocations, largest id (11, 1, 1)
    assert found["dispatch-indirect"] == [3 * 1 * 2 * 8, 1111]


def test_queue_scopes_uncaptured_errors_and_device_loss(suite: Suite) -> None:
    found = group(suite, "errors")
    assert found["write-buffer-offsets"] == [0, 6, 7, 0]
    internal, oom, validation = found["nested-scopes"]
    assert internal is None and oom is None
    assert validation[0] == "GpuErrorKind_ValidationError" and "usage" in validation[1].lower()
    uncaptured = found["uncaptured"]
    # subscribed before: not ready, then ready after the bad module; subscribed after: ready only
    # after the second uncaptured error (the failed async pipeline is not one)
    assert uncaptured["ready"] == [False, True, False, False, True]
    assert uncaptured["pipeline"] == "CreatePipelineErrorKind_GpuPipelineError"
    assert uncaptured["mapped"] == "MapAsyncErrorKind_OperationError"
    assert uncaptured["messages"] == 1
    assert suite.uncaptured == 2
    lines = [line for line in suite.stderr if line.startswith("uncaptured ")]
    assert len(lines) == 2
    assert lines[0].startswith("uncaptured validation error in [method]gpu-device.create-shader-module: ")
    assert "undefined_name" in lines[0]
    assert lines[1].startswith("uncaptured validation error in [method]gpu-device.create-buffer: ")
    type_error, too_many = found["query-set-errors"]
    assert type_error == "CreateQuerySetErrorKind_TypeError"  # timestamp without the feature
    assert too_many[0] == "GpuErrorKind_ValidationError" and "4096" in too_many[1]
    assert found["device-lost"] == [
        "destroyed",
        "the device was destroyed by gpu-device.destroy",
        "destroyed",
    ]


def test_frames_keep_coming_after_uncaptured_errors(suite: Suite) -> None:
    found = group(suite, "frames")
    assert found["frame-texture"] == [
        64,
        48,
        "rgba8unorm",
        int(TU.RENDER_ATTACHMENT | TU.COPY_SRC | TU.COPY_DST | TU.TEXTURE_BINDING),
    ]
    for n, rgb in enumerate(suite.frames):
        assert rgb.shape == (48, 64, 3)
        assert (rgb[:, :32] == (255, 0, 0)).all()
        green = round(min(1.0, n / 10) * 255)
        assert np.abs(rgb[:, 32:].astype(int) - (0, green, 0)).max() <= 1, n


# --- the suite's special arguments -------------------------------------------------------------------


def test_a_group_argument_runs_that_group_only(runtime: Runtime, load: Load) -> None:
    only = run_suite(runtime, load, "compute")
    assert only.done == ["compute"]
    assert {g for g, _ in only.values} == {"compute", "frames"}
    assert group(only, "compute")["dispatch"] == [192, 753]


def test_messages_are_cut_to_the_guests_limit(runtime: Runtime, load: Load) -> None:
    cut = run_suite(runtime, load, "errors", limits=Limits(error_message_chars=40))
    lines = [line for line in cut.stderr if line.startswith("uncaptured ")]
    assert lines
    for line in lines:
        message = line.split(": ", 1)[1]
        assert len(message) <= 40 and message.endswith("…"), line
    assert len(group(cut, "errors")["query-set-errors"][1][1]) <= 40


def test_lost_on_a_live_device_blocks_until_the_host_stops_the_guest(runtime: Runtime, load: Load) -> None:
    captured = Captured()
    options = GuestOptions(name="lost", size=(16, 16), sink=captured.sink, args=("lost-live",))
    runner = runtime.run(load("conformance"), options)
    with pytest.raises(GuestError, match="presented no frame within 2 s"):
        runner.next_frame(timeout=2)
    assert [json.loads(line) for line in captured.stdout()] == [{"calling": "lost"}]
    started = time.monotonic()
    runner.close()
    assert time.monotonic() - started < 2
    assert runner.error is None  # stopped by the host, not failed


def test_lost_returns_unknown_when_the_host_gives_the_device_up(runtime: Runtime, load: Load) -> None:
    captured = Captured()
    options = GuestOptions(name="lost", size=(16, 16), sink=captured.sink, args=("lost-live",))
    with runtime.run(load("conformance"), options) as runner:
        with pytest.raises(GuestError, match="presented no frame within 1 s"):
            runner.next_frame(timeout=1)
        # The guest is blocked in `lost`; the host gives its device up (as a GPU wait timeout does).
        devices = []
        for rep in range(1, 100):
            with contextlib.suppress(KeyError):
                obj = runner.ctx.table.get(rep)
                if isinstance(obj, GpuDevice):
                    devices.append(obj)
        [device] = devices
        device.lose("unknown", "given up by the test")
        with pytest.raises(GuestEnded):  # `lost` returned, the guest printed it and returned
            runner.next_frame(timeout=10)
    lines = [json.loads(line) for line in captured.stdout()]
    assert lines == [{"calling": "lost"}, {"lost": "unknown", "message": "given up by the test"}]


def test_a_guest_flooding_uncaptured_errors_is_bounded_and_ended(runtime: Runtime, load: Load) -> None:
    captured = Captured()
    options = GuestOptions(name="flood", size=(16, 16), sink=captured.sink, args=("uncaptured-flood",))
    started = time.monotonic()
    with runtime.run(load("conformance"), options) as guest, pytest.raises(GuestTrap) as raised:
        guest.next_frame(timeout=120)
    seconds = time.monotonic() - started
    text = str(raised.value)
    assert text.startswith(
        "guest 'flood' failed in [method]gpu-device.create-buffer: "
        f"more than {MAX_UNCAPTURED} uncaptured GPU errors"
    ), text
    assert guest.ctx.uncaptured_errors == MAX_UNCAPTURED + 1
    made = [json.loads(line)["made"] for line in captured.stdout()]
    assert made[-1] == MAX_UNCAPTURED
    stderr = [line for stream, line in captured.lines if stream == "stderr"]
    full = [line for line in stderr if line.startswith("uncaptured validation error in")]
    summaries = [line for line in stderr if "more uncaptured errors" in line]
    assert len(full) == LOGGED_IN_FULL
    assert len(summaries) <= seconds + 1  # one a second at most
