"""Guests of both entry styles run; every way a guest can end is reported in one line; WASI is sandboxed."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from gpu_host import GuestComponent, GuestEnded, GuestError, GuestExit, GuestOptions, GuestTrap, Runtime
from gpu_host.events import KeyDown, KeyUp, PointerDown, PointerMove, PointerUp, Resize
from tests.conftest import Captured

Load = Callable[[str], GuestComponent]
Options = Callable[..., GuestOptions]


def colour(frame_rgb: np.ndarray) -> tuple[int, ...]:
    return tuple(int(c) for c in frame_rgb[10, 10])


def test_run_export_guest_runs_unchanged(runtime: Runtime, load: Load, options: Options) -> None:
    component = load("run_export")
    assert component.entry.startswith("wasi:cli/run@0.2.")
    with runtime.run(component, options("run_export")) as guest:
        frames = [guest.next_frame() for _ in range(3)]
    assert [f.index for f in frames] == [0, 1, 2]
    assert colour(frames[2].rgb) == (255, 0, 0)


def test_input_events_reach_the_guest_through_the_surface(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    with runtime.run(load("solid"), options("solid")) as guest:
        red = guest.next_frame()
        green = guest.next_frame(events=[PointerDown(x=5, y=6)])
        blue = guest.next_frame(events=[PointerUp(x=7.5, y=8)])
        white = guest.next_frame(events=[KeyDown(key="key-w", text="w", shift=True)])
        resized = guest.next_frame(events=[Resize(width=32, height=20), KeyDown(key="key-r")])
        guest.next_frame(events=[PointerMove(x=1, y=1), KeyUp(key=None, text=None, ctrl=True)])
    assert colour(red.rgb) == (255, 0, 0)
    assert colour(green.rgb) == (0, 255, 0)
    assert colour(blue.rgb) == (0, 0, 255)
    assert colour(white.rgb) == (255, 255, 255)
    assert resized.rgb.shape == (20, 32, 3) and colour(resized.rgb) == (255, 0, 0)
    events = [json.loads(line) for line in captured.stdout()]
    assert {"event": "pointer-down", "x": 5.0, "y": 6.0} in events
    assert {"event": "pointer-up", "x": 7.5, "y": 8.0} in events
    key = next(e for e in events if e["event"] == "key-down")
    assert (key["key"], key["text"], key["shift"], key["ctrl"]) == ("key-w", "w", True, False)
    assert {"event": "resize", "width": 32, "height": 20, "surface": [32, 20]} in events
    assert {"event": "pointer-move", "x": 1.0, "y": 1.0} in events
    up = next(e for e in events if e["event"] == "key-up")
    assert (up["key"], up["text"], up["ctrl"]) == (None, None, True)


def test_pointer_coordinates_are_clamped_to_the_surface(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    with runtime.run(load("solid"), options("solid")) as guest:
        guest.next_frame(events=[PointerDown(x=1e9, y=-5)])
    assert {"event": "pointer-down", "x": 64.0, "y": 0.0} in [json.loads(x) for x in captured.stdout()]


def test_guest_output_is_forwarded_line_by_line(runtime: Runtime, load: Load, options: Options) -> None:
    lines: list[tuple[str, str, str]] = []
    opts = GuestOptions(name="probe", size=(32, 32), sink=lambda g, s, line: lines.append((g, s, line)))
    with runtime.run(load("wasi_probe"), opts) as guest:
        guest.next_frame()
    assert ("probe", "stderr", "wasi_probe: a line on stderr") in lines
    assert all(g == "probe" for g, _, _ in lines)


def probes(captured: Captured) -> dict[str, dict[str, object]]:
    return {p["probe"]: p for p in map(json.loads, captured.stdout()) if "probe" in p}


def test_wasi_grants_nothing(runtime: Runtime, load: Load, options: Options, captured: Captured) -> None:
    with runtime.run(load("wasi_probe"), options("wasi_probe")) as guest:
        guest.next_frame()
    found = probes(captured)
    assert found["environ"]["value"] == []
    assert found["argv"]["value"] == []
    assert found["listdir"]["error"] == "FileNotFoundError"  # no preopened directory at all
    assert found["socket"]["error"] == "PermissionError"  # access-denied
    assert found["stdin"]["value"] == ""


def test_render_mode_time_and_randomness_are_reproducible(
    runtime: Runtime, load: Load, captured: Captured
) -> None:
    def run(seed: int) -> dict[str, dict[str, object]]:
        captured.lines.clear()
        opts = GuestOptions(name="w", size=(16, 16), seed=seed, sink=captured.sink)
        with runtime.run(load("wasi_probe"), opts) as guest:
            guest.next_frame()
            guest.next_frame()  # the probe prints its clock readings after presenting frame 0
        return probes(captured)

    first, second, other = run(7), run(7), run(8)
    assert first["urandom"] == second["urandom"] and first["random"] == second["random"]
    assert first["urandom"] != other["urandom"]
    # Frame 0 is at 0 s; once it is presented the guest is in frame 1, at 1/30 s.
    assert first["wall"]["value"] == [0, 0] and first["monotonic_ns"]["value"] == [0, 33_333_333]


def test_virtual_clock_advances_by_frame(runtime: Runtime, load: Load, options: Options) -> None:
    with runtime.run(load("solid"), options("solid", fps=25.0)) as guest:
        times = [guest.next_frame().time for _ in range(3)]
        assert guest.ctx.clock.monotonic_ns() == 120_000_000  # the guest is on frame 3 now
    assert times == [0.0, 0.04, 0.08]


@pytest.mark.parametrize(
    ("name", "error", "message", "frames"),
    [
        ("trap_after", GuestTrap, "guest 'trap_after' trapped: wasm trap: wasm `unreachable`", 3),
        ("ends_early", GuestEnded, "guest 'ends_early' ended after 2 frames", 2),
        ("exit_code", GuestExit, "guest 'exit_code' exited with status 1", 1),
        (
            "unimplemented",
            GuestTrap,
            "guest 'unimplemented': not implemented: [method]context.not-in-this-host",
            1,
        ),
        (
            "destroy_frame",
            GuestTrap,
            "guest 'destroy_frame' failed in [method]context.present: the gpu-texture was destroyed",
            0,
        ),
    ],
)
def test_a_guest_that_ends_badly_gets_one_line_and_frees_its_gpu_objects(
    runtime: Runtime,
    load: Load,
    options: Options,
    gpu_counts: Callable[[], dict[str, int]],
    name: str,
    error: type[GuestError],
    message: str,
    frames: int,
) -> None:
    baseline = gpu_counts()
    with runtime.run(load(name), options(name)) as guest:
        kept = []
        with pytest.raises(error) as raised:
            for _ in range(10):
                kept.append(guest.next_frame(timeout=60))
    text = str(raised.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert len(kept) == frames == guest.frames_presented
    assert gpu_counts() == baseline
    # The host is still fine: the next guest renders.
    with runtime.run(load("solid"), options("solid")) as guest:
        assert colour(guest.next_frame().rgb) == (255, 0, 0)


def test_bad_shader_is_an_uncaptured_error_and_the_guest_renders_on(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    """WebGPU: invalid WGSL with no error scope is an uncaptured error, not the end of the guest."""
    with runtime.run(load("bad_shader"), options("bad_shader")) as guest:
        frames = [guest.next_frame() for _ in range(2)]
        assert guest.ctx.uncaptured_errors == 1
    assert [json.loads(line)["event"] for line in captured.stdout()] == ["creating-shader", "shader-created"]
    stderr = [line for stream, line in captured.lines if stream == "stderr"]
    assert len(stderr) == 1
    assert stderr[0].startswith("uncaptured validation error in [method]gpu-device.create-shader-module: ")
    assert "parsing error" in stderr[0] and "\n" not in stderr[0]
    assert all(colour(frame.rgb) == (255, 0, 0) for frame in frames)


def test_frame_buffer_of_the_wrong_length_is_an_error_for_the_guest(
    runtime: Runtime, load: Load, options: Options
) -> None:
    component, opts = load("bad_framebuffer"), options("bad_framebuffer", size=(16, 8))
    with runtime.run(component, opts) as guest, pytest.raises(GuestTrap) as raised:
        guest.next_frame()
    assert str(raised.value) == (
        "guest 'bad_framebuffer' failed in [method]buffer.set: expected 512 bytes (16x8 pixels x 4), got 508"
    )


def test_surface_size_requests_and_connect_order(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    opts = options("surface_probe", size=(64, 48), max_surface_size=(128, 96))
    with runtime.run(load("surface_probe"), opts) as guest:
        frames = [guest.next_frame() for _ in range(2)]
    found = {p["probe"]: p for p in map(json.loads, captured.stdout()) if p["probe"] != "resize"}
    assert found["created"]["size"] == [50, 40]  # create-desc is honoured
    assert found["set"]["size"] == [70, 30]  # request-set-size takes height first
    assert found["huge"]["size"] == [128, 96]  # clamped to the host's limit
    assert found["width-only"]["size"] == [60, 30]
    resizes = [
        (p["width"], p["height"]) for p in map(json.loads, captured.stdout()) if p["probe"] == "resize"
    ]
    assert resizes == [(70, 30), (128, 96), (60, 30)]
    # Surface connected before the device: frames still come, at the surface's size, green.
    assert all(f.rgb.shape == (30, 60, 3) for f in frames)
    assert colour(frames[1].rgb) == (0, 255, 0)


def test_api_probe_buffers_textures_and_pipelines(
    runtime: Runtime, load: Load, options: Options, captured: Captured
) -> None:
    with runtime.run(load("api_probe"), options("api_probe", size=(64, 48))) as guest:
        frame = guest.next_frame()
    checks = [json.loads(line) for line in captured.stdout() if line.startswith('{"check"')]
    assert not [c for c in checks if "error" in c], checks
    wrong = [c for c in checks if "expected" in c and c["value"] != c["expected"]]
    assert not wrong
    names = {c["check"] for c in checks}
    assert {
        "map_read_offset",
        "mapped_write",
        "map_range_offset",
        "map_write_range",
        "write_buffer_data_offset",
        "texture_roundtrip",
    } <= names
    # explicit-layout pipeline: uniform colour (0.25, 0.5, 0.75); auto-layout quad: yellow, top left
    assert np.all(np.abs(frame.rgb[40, 50].astype(int) - (64, 128, 191)) <= 1), frame.rgb[40, 50]
    assert colour(frame.rgb) == (255, 255, 0)
