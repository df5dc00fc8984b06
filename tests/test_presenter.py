"""The presenter and the frame layer: readback overlaps the guest's next frame without changing
what a render shows, and every output shows the guest's own colours (gpu_host/frame.py)."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from wgpu.backends.wgpu_native import _poller

from gpu_host import GuestComponent, GuestOptions, GuestRunner, PendingFrame, Runtime
from gpu_host.events import InputEvent, load_script
from gpu_host.webgpu import gpu_wait
from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.render import RenderJob, render
from tests.conftest import SOLID_SCRIPT


def test_readback_overlaps_the_next_frame(runtime: Runtime, load: Callable[[str], GuestComponent]) -> None:
    """Frame n+1 is presented before the GPU has finished copying frame n, with two frames in
    flight; with one, never (present waits for its readback)."""
    gaps: dict[int, list[float]] = {}
    for depth in (1, 2):
        options = GuestOptions(name="still", size=(1280, 720), frame_format="yuv420p", frames_in_flight=depth)
        with runtime.run(load("still"), options) as guest:
            frames = list(guest.frames(24))[4:]
        # Positive: frame n's copy finished after frame n+1's present began.
        gaps[depth] = [a.read_at - b.presented_at for a, b in itertools.pairwise(frames)]
    assert max(gaps[1]) < 0, gaps[1]
    assert statistics.median(gaps[2]) > 0, gaps[2]
    assert all(frame.readback_seconds > 0 for frame in frames)


def test_pipelined_renders_are_the_frames_of_sequential_ones(
    runtime: Runtime, load: Callable[[str], GuestComponent], tmp_path: Path
) -> None:
    """Same ticks, time and input in the same order: orbit's frames (driven by a script) are equal
    pixel for pixel with one, two or three frames in flight."""
    drag = [{"frame": 2, "type": "pointer-down", "x": 10, "y": 30}]
    drag += [{"frame": f, "type": "pointer-move", "x": 10 + 9 * f, "y": 30 + f} for f in range(3, 8)]
    drag += [
        {"frame": 8, "type": "pointer-up", "x": 80, "y": 38},
        {"frame": 9, "type": "key-down", "key": "key-s"},
    ]
    script = tmp_path / "drag.jsonl"
    script.write_text("".join(json.dumps(line) + "\n" for line in drag))
    by_frame: dict[int, list[InputEvent]] = {}
    for scripted in load_script(script):
        by_frame.setdefault(scripted.frame, []).append(scripted.event)
    renders = []
    for depth in (1, 2, 3):
        options = GuestOptions(name="orbit", size=(96, 64), frames_in_flight=depth, sink=lambda *_: None)
        with runtime.run(load("orbit"), options) as guest:
            renders.append([f.pixels for f in guest.frames(12, lambda i: by_frame.get(i, []))])
    for other in renders[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(renders[0], other, strict=True))
    assert not np.array_equal(renders[0][0], renders[0][-1])  # the script moved the camera


def test_a_copy_queued_behind_the_guests_work_reads_the_same_frames(
    runtime: Runtime, load: Callable[[str], GuestComponent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a GPU the host's copy is submitted at once, behind the guest's work in the queue, not
    after waiting for it (gpu_host/webgpu/gpu_wait.py); lavapipe is made to take that path here:
    orbit's frames are the same, with one wait for the guest's work a frame instead of two."""
    waits: list[int] = []
    work_done = gpu_wait.GpuWaits.work_done

    def counted(self: gpu_wait.GpuWaits, call: str) -> None:
        waits[-1] += 1
        work_done(self, call)

    monkeypatch.setattr(gpu_wait.GpuWaits, "work_done", counted)
    options = GuestOptions(name="orbit", size=(320, 180), frame_format="yuv420p", sink=lambda *_: None)
    renders = []
    for blocks in (True, False):
        monkeypatch.setattr(gpu_wait, "submit_blocks", lambda _info, blocks=blocks: blocks)
        waits.append(0)
        with runtime.run(load("orbit"), options) as guest:
            renders.append([f.pixels.copy() for f in guest.frames(6)])
    assert all(np.array_equal(a, b) for a, b in zip(*renders, strict=True))
    assert waits[1] <= waits[0] - 6, waits  # one wait fewer in each frame's present


def test_the_poll_thread_polls_a_few_times_a_frame_not_in_a_loop(
    runtime: Runtime, load: Callable[[str], GuestComponent], monkeypatch: pytest.MonkeyPatch
) -> None:
    """wgpu-py's poll thread polls while someone waits for the GPU. A guest's submission is polled
    for only when a wait needs it (gpu_host/webgpu/gpu_wait.py): on lavapipe, polling for it at
    once had the thread spin through thousands of polls that returned at once, in bursts, taking
    the GIL from the guest's thread (13-20 thousand polls for these 60 frames). orbit's frames take
    a few polls each; wgpu-py's `map_async` takes its token before it registers the mapping, which
    can still make a burst now and then (up to 1,600 polls seen)."""
    polls: list[bool] = []
    count = 60
    start = _poller.PollThread.__init__

    def counting(self: _poller.PollThread, poll: Callable[[bool], None]) -> None:
        def counted(wait: bool) -> None:
            polls.append(wait)
            poll(wait)

        start(self, counted)

    monkeypatch.setattr(_poller.PollThread, "__init__", counting)
    options = GuestOptions(
        name="orbit", size=(640, 360), frame_format="yuv420p", virtual_time=False, sink=lambda *_: None
    )
    with runtime.run(load("orbit"), options) as guest:
        for _ in range(count):  # paced as a session's are, the pixels lent as to its encoder
            due = time.perf_counter() + 1 / 30
            guest.request_frame()
            frame = guest.take_frame().result(lend=True)
            assert frame.pixels.any()
            frame.release()
            time.sleep(max(0.0, due - time.perf_counter()))
    assert count <= len(polls) <= 40 * count, len(polls)


def test_the_mp4_shows_the_guests_colours(
    runtime: Runtime, tmp_path: Path, solid_colours: dict[str, tuple[int, int, int]]
) -> None:
    """Saturated red, green, blue and a mid grey, decoded from `streamer render`'s MP4, within 3 of
    the guest's own RGB; the stream says BT.601 limited range, as the live stream does."""
    script = tmp_path / "colours.jsonl"
    script.write_text(SOLID_SCRIPT)
    output = tmp_path / "colours.mp4"
    job = RenderJob(guest_path("solid"), output, frames=4, size=(64, 48), events=tuple(load_script(script)))
    assert render(job, runtime, progress=False).error is None
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.colorspace == 6 and stream.codec_context.color_range == 1  # smpte170m
        decoded = [frame.to_ndarray(format="rgb24")[24, 32].astype(int) for frame in container.decode(stream)]
    expected = [solid_colours[name] for name in ("red", "green", "blue", "grey")]
    for index, (seen, colour) in enumerate(zip(decoded, expected, strict=True)):
        assert np.abs(seen - colour).max() <= 3, (index, colour, seen)
    assert solid_colours["grey"][0] in (127, 128)


@pytest.mark.parametrize("size", [(320, 240), (321, 241)], ids=["even", "odd"])
def test_a_frame_buffer_guest_is_converted_with_the_same_colour(
    runtime: Runtime, tmp_path: Path, size: tuple[int, int]
) -> None:
    """A frame-buffer guest's RGB frames reach the MP4 through the frame layer's CPU conversion."""
    output = tmp_path / "fb.mp4"
    assert (
        render(
            RenderJob(scene_path("framebuffer"), output, frames=2, size=size), runtime, progress=False
        ).error
        is None
    )
    png = tmp_path / "fb"
    assert (
        render(RenderJob(scene_path("framebuffer"), png, frames=2, size=size), runtime, progress=False).error
        is None
    )
    with av.open(str(output)) as container:
        last = (
            list(container.decode(video=0))[-1].to_ndarray(format="rgb24")[: size[1], : size[0]].astype(int)
        )
    with Image.open(png / "000002.png") as image:
        truth = np.asarray(image).astype(int)
    # Lossy H.264 (the render job's CRF) on colour bars: close, not exact; another matrix would
    # move the saturated bars by 10 or more.
    error = np.abs(last - truth).max(axis=2)
    assert np.median(error) <= 2 and np.mean(error <= 6) > 0.98, (np.median(error), np.mean(error <= 6))


def pending(guest: GuestRunner) -> PendingFrame:
    guest.request_frame()
    return guest.take_frame()


def test_a_lent_frame_is_the_mapped_readback_until_given_back(
    runtime: Runtime, load: Callable[[str], GuestComponent]
) -> None:
    """The encoder's frames (`result(lend=True)`) are the readback buffer itself, read-only: the
    guest renders on meanwhile without that buffer taking another frame, and the frame equals the
    one a copy gives. Once given back its pixels are gone."""
    options = GuestOptions(name="orbit", size=(64, 48), frame_format="yuv420p", sink=lambda *_: None)
    with runtime.run(load("orbit"), options) as guest:
        copied = [pending(guest).result() for _ in range(6)]
    with runtime.run(load("orbit"), options) as guest:
        lent = pending(guest).result(lend=True)
        assert lent.on_release is not None and not lent.pixels.flags.writeable
        held = lent.pixels.copy()
        later = [pending(guest).result() for _ in range(5)]  # more frames than buffers
        assert np.array_equal(lent.pixels, held)
        lent.release()
        lent.release()
    assert lent.pixels.size == 0
    assert np.array_equal(held, copied[0].pixels)
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(later, copied[1:], strict=True))
    assert not np.array_equal(copied[0].pixels, copied[5].pixels)  # orbit moves: a reuse would show


def test_a_frame_whose_planes_are_padded_is_copied_instead(
    runtime: Runtime, load: Callable[[str], GuestComponent]
) -> None:
    options = GuestOptions(name="orbit", size=(66, 48), frame_format="yuv420p", sink=lambda *_: None)
    with runtime.run(load("orbit"), options) as guest:
        frame = pending(guest).result(lend=True)
    assert frame.on_release is None and frame.pixels.flags.writeable and frame.pixels.shape == (72, 66)
