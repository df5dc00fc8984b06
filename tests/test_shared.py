"""Shared mode (`streamer serve --shared`): one guest, encoded once, for every viewer, with real
aiortc viewers on loopback."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.encoder import Codec, EncoderSettings
from streamer.metrics import Metrics
from streamer.recording import StreamRecorder
from streamer.server import ServeConfig, running
from streamer.shared import SharedSettings, SharedStream
from streamer.stream_task import WorkerConfig
from streamer.viewer import Viewer

from .test_serve import CYAN, ORANGE, metric, metrics, near, run, until

pytestmark = pytest.mark.usefixtures("blocking_guard")

FPS = 15.0


def shared_config(component: Path | None = None, **settings: object) -> ServeConfig:
    worker = WorkerConfig(
        component=component or scene_path("triangle"),
        name="shared",
        size=(160, 120),
        encoder=EncoderSettings(bitrate=1_000_000, fps=FPS),
    )
    return ServeConfig(
        worker=worker,
        port=0,
        max_sessions=6,
        shared=replace(SharedSettings(), **settings),  # type: ignore[arg-type]
    )


def control(viewer: Viewer) -> str:
    """Who drives, as the latest `control` message told this viewer."""
    last = [m for m in viewer.messages if m.get("type") == "control"]
    return str(last[-1]["driver"]) if last else "?"


def test_viewers_watch_one_guest_and_only_the_driver_changes_it() -> None:
    async def scenario() -> None:
        async with running(shared_config()) as (url, server):
            # The scene runs before anyone watches.
            await until(lambda: server.shared is not None and server.shared.frames_encoded >= 3)
            async with Viewer(url) as a, Viewer(url) as b:
                await a.wait_frames(3)
                await b.wait_frames(3)
                assert near(a.frames[-1], ORANGE) and near(b.frames[-1], ORANGE)
                assert (await a.wait_message("hello"))["shared"] is True
                await until(lambda: control(a) == control(b) == "none")

                a.send({"type": "pointer-up", "x": 5, "y": 5})  # nobody drives: the first click takes it
                await until(lambda: near(a.frames[-1], CYAN) and near(b.frames[-1], CYAN))
                await until(lambda: (control(a), control(b)) == ("you", "other"))

                b.send({"type": "pointer-up", "x": 5, "y": 5})  # a viewer that does not drive
                error = await b.wait_message("error")
                assert "view only" in str(error["message"])
                seen = a.frames_received
                await a.wait_frames(seen + 8)
                assert near(a.frames[-1], CYAN) and near(b.frames[-1], CYAN)

                a.send_raw('{"v": 1, "type": "control", "take": false}')
                await until(lambda: control(b) == "none")
                b.send_raw('{"v": 1, "type": "control", "take": true}')
                await until(lambda: (control(a), control(b)) == ("other", "you"))
                b.send({"type": "pointer-up", "x": 5, "y": 5})
                await until(lambda: near(a.frames[-1], ORANGE) and near(b.frames[-1], ORANGE))

                await asyncio.sleep(1.1)  # errors are reported at most once a second
                b.send_raw(
                    '{"v": 1, "type": "probe", "enabled": true}'
                )  # the marker would mark everyone's video
                await until(lambda: any("latency marker" in str(m.get("message")) for m in b.messages))
            # Viewers leaving never stop the guest.
            shared = server.shared
            assert shared is not None
            encoded = shared.frames_encoded
            await until(lambda: shared.frames_encoded > encoded + 3)

    run(scenario)


def test_one_encode_per_frame_whatever_the_number_of_viewers() -> None:
    async def encodes_per_second(url: str, seconds: float = 2.0) -> float:
        start = metric(await metrics(url), "streamer_frames_encoded_total")
        began = time.monotonic()
        await asyncio.sleep(seconds)
        return (metric(await metrics(url), "streamer_frames_encoded_total") - start) / (
            time.monotonic() - began
        )

    async def scenario() -> None:
        async with running(shared_config()) as (url, _server):
            async with Viewer(url) as one:
                await one.wait_frames(5)
                alone = await encodes_per_second(url)
                async with Viewer(url) as two, Viewer(url) as three:
                    await two.wait_frames(5)
                    await three.wait_frames(5)
                    crowd = await encodes_per_second(url)
        # Paced by the clock at --fps, once, whoever watches (a loaded 2-core machine may lag a little).
        assert FPS * 0.7 <= alone <= FPS * 1.1
        assert FPS * 0.7 <= crowd <= FPS * 1.1

    run(scenario)


def test_a_stalled_viewer_skips_to_a_keyframe_and_the_other_keeps_its_frames() -> None:
    async def scenario() -> None:
        async with running(shared_config()) as (url, server):
            async with Viewer(url) as fast, Viewer(url) as slow:
                await fast.wait_frames(5)
                await slow.wait_frames(5)
                stalled = next(
                    s for s in server.sessions.values() if s.track.frames_queued >= 0 and s.id != ""
                )
                sessions = list(server.sessions.values())
                stalled = sessions[1]
                transport = stalled.pc.getSenders()[0].transport
                send_rtp = transport._send_rtp
                blocked = asyncio.Event()

                stall_until = 0.0

                async def stalled_send(data: bytes) -> None:
                    # This viewer's send path, and only it, stops for 2 s from its first send:
                    # every send meanwhile (media, retransmissions) waits for the end of the stall.
                    nonlocal stall_until
                    if not blocked.is_set():
                        blocked.set()
                        stall_until = time.monotonic() + 2.0
                    if (wait := stall_until - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    await send_rtp(data)

                await asyncio.sleep(2.0)  # the other viewer's baseline, with nobody stalled
                baseline_end = time.monotonic()
                transport._send_rtp = stalled_send  # type: ignore[method-assign]
                queued = []
                fast_before = fast.frames_received
                shared = server.shared
                assert shared is not None
                encoded_before = shared.frames_encoded
                await blocked.wait()
                for _ in range(40):
                    queued.append(stalled.track.frames_queued)
                    await asyncio.sleep(0.05)
                encoded = shared.frames_encoded - encoded_before
                before = window(fast, baseline_end - 2.0, baseline_end)
                during = window(fast, time.monotonic() - 2.0, time.monotonic())
                # Its frame rate and p95 frame interval within 10% of its own, just before, unstalled.
                assert during[0] >= 0.9 * before[0] and during[1] <= 1.1 * before[1], (before, during)
                # The other viewer took the frames encoded meanwhile; the stalled one's queue stayed bounded.
                assert fast.frames_received - fast_before >= 0.8 * encoded
                assert max(queued) <= server.config.limits.viewer_frames
                assert stalled.frames_dropped > 0
                # After the stall it catches up from a keyframe, and pictures flow again.
                resumed = slow.frames_received
                await slow.wait_frames(resumed + 10)
                assert any(frame.keyframe for frame in slow.frames[-10:])
                assert near(slow.frames[-1], ORANGE)

    run(scenario)


def window(viewer: Viewer, start: float, end: float) -> tuple[float, float]:
    """A viewer's frames per second and p95 frame interval (ms) between two monotonic times."""
    times = [f.arrived for f in viewer.frames if start <= f.arrived <= end]
    gaps = sorted((b - a) * 1e3 for a, b in itertools.pairwise(times)) or [0.0]
    return len(times) / (end - start), gaps[min(len(gaps) - 1, round(0.95 * (len(gaps) - 1)))]


class FakeViewer:
    def __init__(self, name: str) -> None:
        self.id = name
        self.level = 0

    def deliver(self, frame: object) -> None:
        pass

    def control_changed(self, driver: str | None, viewers: int) -> None:
        pass

    def stream_ended(self, reason: str) -> None:
        pass


def test_keyframe_requests_are_coalesced_and_each_viewer_budgeted() -> None:
    async def scenario() -> None:
        metrics_ = Metrics()
        worker = WorkerConfig(component=scene_path("triangle"), name="unstarted")
        stream = SharedStream(
            worker, metrics_, SharedSettings(keyframe_interval=0.5, viewer_keyframe_interval=2.0)
        )
        viewers = [FakeViewer(f"v{n}") for n in range(10)]
        for viewer in viewers:
            stream.viewers[viewer.id] = viewer  # joined long ago: their budgets are full
        granted = [stream.request_keyframe(v) for v in viewers for _ in range(5)]  # a burst of PLIs
        assert granted.count(True) == 10  # one per viewer; the rest wait for the periodic keyframe
        await asyncio.sleep(0.7)
        forced = metric(metrics_.exposition().decode(), "streamer_keyframe_requests_total")
        assert forced == 2  # one at once, one for everything asked within the next 0.5 s
        assert (
            metric(metrics_.exposition().decode(), 'streamer_input_dropped_total{reason="keyframe-budget"}')
            == 40
        )

    run(scenario)


def test_the_guest_ending_tells_every_viewer_or_restarts_with_viewers_staying() -> None:
    async def scenario() -> None:
        async with running(shared_config(guest_path("ends_early"))) as (url, server):
            await until(lambda: server.shared is not None and server.shared.ended is not None)
            with pytest.raises(Exception):  # noqa: B017  # a session ends as soon as it starts
                async with Viewer(url) as late:
                    await late.wait_message("ended", timeout=10)
                    raise RuntimeError("ended")
        async with running(
            shared_config(scene_path("triangle"), restart_on_exit=True, restart_delay=0.2)
        ) as (url, server):
            async with Viewer(url) as viewer:
                await viewer.wait_frames(5)
                assert server.shared is not None
                worker = server.shared._worker
                assert worker is not None
                worker.kill()  # the guest's process dies under the stream
                await until(lambda: server.shared is not None and server.shared.restarts == 1)
                seen = viewer.frames_received
                await viewer.wait_frames(seen + 10)
                assert not [m for m in viewer.messages if m.get("type") == "ended"]

    run(scenario)


@pytest.mark.parametrize(("codec", "suffix"), [("h264", ".mp4"), ("vp8", ".webm")])
def test_the_shared_stream_is_recorded_as_sent(tmp_path: Path, codec: Codec, suffix: str) -> None:
    async def scenario() -> None:
        (tmp_path / "input").mkdir()  # as `serve --record` makes it
        served = replace(shared_config(), record_video=tmp_path, record_dir=tmp_path / "input")
        served = replace(
            served, worker=replace(served.worker, encoder=replace(served.worker.encoder, codec=codec))
        )
        async with running(served) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(10)
            viewer.send({"type": "pointer-up", "x": 5, "y": 5})
            await until(lambda: near(viewer.frames[-1], CYAN))
            assert server.shared is not None
            encoded = server.shared.frames_encoded
            await viewer.wait_frames(viewer.frames_received + 5)
        (recording,) = sorted(tmp_path.glob(f"*{suffix}"))
        # --record still writes the input as a render script: the driver's click is in it.
        script = (tmp_path / "input" / "shared-1.jsonl").read_text()
        assert '"type": "pointer-up"' in script
        with av.open(str(recording)) as container:
            frames = [(frame.time, frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]
        # Every frame from the first keyframe on, encoded once: the recording is the stream.
        assert encoded - 2 <= len(frames) <= encoded + 40
        middle = [rgb[60, 80].astype(int) for _, rgb in frames]
        assert (
            any(abs(p - np.array(ORANGE)).max() <= 20 for p in middle)
            and abs(middle[-1] - np.array(CYAN)).max() <= 20
        )
        times = [t for t, _ in frames]
        assert times == sorted(times) and times[-1] == pytest.approx(len(frames) / FPS, rel=0.3)

    run(scenario)


def test_idle_reset_starts_the_scene_over() -> None:
    async def scenario() -> None:
        async with running(shared_config(idle_reset=1.5)) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(5)
            viewer.send({"type": "pointer-up", "x": 5, "y": 5})
            await until(lambda: near(viewer.frames[-1], CYAN))
            # Nobody touches it: the booth goes back to its attract state, the viewer stays.
            await until(lambda: near(viewer.frames[-1], ORANGE), timeout=15)
            assert server.shared is not None and server.shared.resets == 1
            assert not [m for m in viewer.messages if m.get("type") == "ended"]

    run(scenario)


def test_recordings_past_their_size_or_age_are_deleted_oldest_first(tmp_path: Path) -> None:
    recorder = StreamRecorder(tmp_path, "h264", 30.0, max_bytes=1 << 20, max_age=3600)
    old, recent = tmp_path / "shared-old.mp4", tmp_path / "shared-recent.mp4"
    for path, age in ((old, 7200), (recent, 60)):
        path.write_bytes(b"x" * 1000)
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        recorder.files.append(path)
    recorder.files.append(tmp_path / "current.mp4")  # the file being written is never pruned
    recorder._prune()
    assert (not old.exists(), recent.exists()) == (True, True)
    recorder.max_bytes = 500  # the folder over its size cap: the oldest go until it fits
    recorder._prune()
    assert not recent.exists()
    recorder.close()
