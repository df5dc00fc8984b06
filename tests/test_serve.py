"""`streamer serve` end to end with a Python viewer (aiortc on loopback): frames, input, failures.

Each test starts the server in-process on 127.0.0.1 (port 0); every session spawns a real worker
process that runs a real guest on lavapipe and encodes with PyAV. The browser tests are in
test_browser.py; these are the quick checks of counts, keyframes, messages and clean-up.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from PIL import Image

from gpu_host import Limits
from gpu_host.events import PointerMove, PointerUp, load_script
from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.encoder import EncoderSettings
from streamer.marker import read_marker
from streamer.render import RenderJob, render
from streamer.server import ServeConfig, running
from streamer.session import SessionLimits
from streamer.stream_task import WorkerConfig
from streamer.viewer import ReceivedFrame, Viewer
from tests.test_scenes import BARS

pytestmark = pytest.mark.usefixtures("blocking_guard")

ORANGE = (255, 102, 0)
CYAN = (0, 153, 255)
SIZE = (160, 120)


def near(frame: ReceivedFrame, colour: tuple[int, int, int], tol: int = 14) -> bool:
    h, w = frame.rgb.shape[:2]
    pixel = frame.rgb[h // 2, w // 2].astype(int)
    return bool(np.all(np.abs(pixel - np.array(colour)) <= tol))


def config(
    component: Path | None = None, codec: str = "h264", size: tuple[int, int] = SIZE, **limits: float
) -> ServeConfig:
    worker = WorkerConfig(
        component=component or scene_path("triangle"),
        name="test",
        size=size,
        encoder=EncoderSettings(codec=codec, bitrate=1_000_000),  # type: ignore[arg-type]
    )
    return ServeConfig(worker=worker, port=0, limits=replace(SessionLimits(), **limits))  # type: ignore[arg-type]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 120))


async def until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


async def metrics(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        return await response.text()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_viewer_sees_the_scene_and_its_click_changes_the_colour(codec: str) -> None:
    async def scenario() -> None:
        async with running(config(codec=codec)) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(10)
            # The stream starts with a keyframe (libvpx's decoder does not flag keyframes; a
            # decoded first VP8 frame is one anyway). Checked among the first frames: in about
            # 1 run in 8 the first frame aiortc decodes is not flagged as one (seen before the
            # network changes too; the cause is not pinned down).
            assert any(f.keyframe for f in viewer.frames[:10]) or codec == "vp8"
            assert f"{codec.upper()}/90000" in viewer.answer_sdp.upper()
            assert near(await viewer.wait_frames(31), ORANGE)
            hello = await viewer.wait_message("hello")
            assert (hello["width"], hello["height"], hello["codec"]) == (*SIZE, codec)

            viewer.send({"type": "pointer-up", "x": 5, "y": 5})
            await until(lambda: near(viewer.frames[-1], CYAN))
            text = await metrics(url)
            assert metric(text, "streamer_sessions") == 1
            assert metric(text, "streamer_frames_sent_total") >= 31
            assert metric(text, "streamer_input_events_total") == 1

    run(scenario)


def test_keyframes_at_the_interval_and_on_a_picture_loss_report() -> None:
    async def scenario() -> None:
        cfg = config()
        cfg = replace(
            cfg, worker=replace(cfg.worker, encoder=replace(cfg.worker.encoder, keyframe_interval=0.5))
        )
        async with running(cfg) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(40)
            keyframes = [i for i, f in enumerate(viewer.frames) if f.keyframe]
            assert len(keyframes) >= 3, keyframes  # frame 0, then every 15 frames at 30 fps
            assert all(b - a >= 14 for a, b in itertools.pairwise(keyframes)), keyframes

        async with running(config()) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(10)
            before = sum(f.keyframe for f in viewer.frames)
            receiver = viewer.pc.getTransceivers()[0].receiver
            (ssrc,) = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]  # its one stream
            await receiver._send_rtcp_pli(ssrc)  # what a browser sends when it lost pictures
            count = viewer.frames_received
            await viewer.wait_frames(count + 10)
            assert sum(f.keyframe for f in viewer.frames) > before
            assert metric(await metrics(url), "streamer_keyframe_requests_total") >= 1

    run(scenario)


def test_the_marker_carries_the_last_applied_input() -> None:
    async def scenario() -> None:
        async with running(config(size=(320, 240))) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(5)
            assert read_marker(viewer.frames[-1].rgb) is None  # off until a viewer asks
            viewer.send_raw('{"v": 1, "type": "probe", "enabled": true}')
            seq = viewer.send({"type": "pointer-move", "x": 10, "y": 10})
            await until(lambda: read_marker(viewer.frames[-1].rgb) == seq)
            seq = viewer.send({"type": "pointer-up", "x": 10, "y": 10})
            await until(lambda: read_marker(viewer.frames[-1].rgb) == seq)
            assert near(viewer.frames[-1], CYAN)  # the frame that carries the seq shows its effect

    run(scenario)


def test_bad_messages_are_refused_and_the_session_carries_on() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(3)
            for bad in (
                "not json",
                '{"v": 2, "type": "ping"}',
                '{"v": 1, "type": "pointer-click", "seq": 1}',
                '{"v": 1, "type": "pointer-up", "x": 1e300, "y": 0, "seq": 2}',
                '{"v": 1, "type": "key-down", "key": "KeyA", "seq": 3}',
                '{"v": 1, "type": "pointer-up", "x": 1, "y": 1}',
                "x" * 5000,
            ):
                viewer.send_raw(bad)
            error = await viewer.wait_message("error")
            assert isinstance(error["message"], str) and error["message"]
            viewer.send({"type": "pointer-up", "x": 5, "y": 5})
            await until(lambda: near(viewer.frames[-1], CYAN))  # the good event still got through
            viewer.send_raw('{"v": 1, "type": "ping", "t": 12.5}')
            await until(lambda: {"v": 1, "type": "pong", "t": 12.5} in viewer.messages)
            text = await metrics(url)
            assert metric(text, 'streamer_input_dropped_total{reason="invalid"}') == 7
            assert metric(text, "streamer_input_events_total") == 1

    run(scenario)


def test_an_input_flood_is_rate_limited() -> None:
    async def scenario() -> None:
        async with running(config(event_rate=50, event_burst=100)) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(3)
            for i in range(400):
                viewer.send({"type": "pointer-move", "x": i % 100, "y": 5})
            error = await viewer.wait_message("error")
            assert "too many input events" in str(error["message"])
            count = viewer.frames_received
            await viewer.wait_frames(count + 10)  # still rendering
            text = await metrics(url)
            dropped = metric(text, 'streamer_input_dropped_total{reason="rate"}')
            accepted = metric(text, "streamer_input_events_total")
            # The burst (100) always passes; how many more the refill (50/s) lets through depends on
            # how long the 400 messages take to arrive, which a loaded machine stretches.
            assert dropped + accepted == 400 and accepted >= 100 and dropped >= 50, (accepted, dropped)

    run(scenario)


def test_a_guest_that_traps_ends_its_session_with_the_reason_and_others_carry_on() -> None:
    async def scenario() -> None:
        cfg = config(guest_path("trap_after"))
        async with running(cfg) as (url, server):
            async with Viewer(url) as doomed:
                ended = await doomed.wait_message("ended")
                assert "trapped" in str(ended["reason"]), ended
                assert "RuntimeError: trap_after: deliberate trap after 3 frames" in str(ended["reason"])
                assert 1 <= doomed.frames_received <= 3
            await until(lambda: not server.sessions)
            async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
                assert (await response.json())["status"] == "ok"
            assert metric(await metrics(url), 'streamer_sessions_ended_total{cause="guest"}') == 1

    run(scenario)


def test_a_recorded_session_replays_with_streamer_render(tmp_path: Path) -> None:
    sessions: list[str] = []

    async def scenario() -> None:
        cfg = replace(config(), record_dir=tmp_path)
        async with running(cfg) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(3)
            viewer.send({"type": "pointer-move", "x": 20.5, "y": 30})
            viewer.send({"type": "pointer-up", "x": 20.5, "y": 30})
            await until(lambda: near(viewer.frames[-1], CYAN))
            sessions.extend(server.sessions)

    run(scenario)
    (recording,) = tmp_path.glob("*.jsonl")
    assert recording.name == f"{sessions[0]}.jsonl"
    script = load_script(recording)
    assert [e.event for e in script] == [PointerMove(x=20.5, y=30.0), PointerUp(x=20.5, y=30.0)]
    # Sent one after the other, they reach the guest before the same frame or (on a loaded
    # machine) before consecutive ones; the click shows from the frame it came before.
    assert 1 <= script[0].frame <= script[1].frame
    up = script[1].frame
    header = recording.read_text().splitlines()[1]
    seed = int(header.rsplit("--seed ", 1)[1])
    out = tmp_path / "replay"
    job = RenderJob(
        scene_path("triangle"),
        out,
        frames=up + 2,
        size=SIZE,
        seed=seed,
        events=tuple(script),
    )
    result = render(job, progress=False)
    assert result.error is None
    frames = sorted(out.glob("*.png"))
    first_after = np.asarray(Image.open(frames[up]))
    last_before = np.asarray(Image.open(frames[up - 1]))
    assert tuple(first_after[60, 80]) == CYAN and tuple(last_before[60, 80]) == ORANGE


def test_a_hung_guest_ends_its_session_and_its_worker() -> None:
    async def scenario() -> None:
        cfg = config(guest_path("spin"))
        cfg = replace(cfg, worker=replace(cfg.worker, frame_timeout=2.0))
        async with running(cfg) as (url, server), Viewer(url) as viewer:
            ended = await viewer.wait_message("ended", timeout=40)
            assert "presented no frame within 2 s" in str(ended["reason"]), ended
            await until(lambda: not server.sessions)

    run(scenario)


def test_a_spinning_guest_is_interrupted_at_the_sessions_cpu_limit() -> None:
    async def scenario() -> None:
        cfg = config(guest_path("spin"))
        cfg = replace(cfg, worker=replace(cfg.worker, limits=Limits(cpu_seconds=1.0)))
        async with running(cfg) as (url, server), Viewer(url) as viewer:
            ended = await viewer.wait_message("ended", timeout=40)
            reason = str(ended["reason"])
            assert reason.endswith(
                "ran for more than 1 s without waiting (Limits.cpu_seconds); it was interrupted"
            )
            await until(lambda: not server.sessions)

    run(scenario)


def test_a_resize_from_the_viewer_changes_the_stream() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(3)
            viewer.send({"type": "resize", "width": 200, "height": 150})
            await until(lambda: viewer.frames[-1].rgb.shape == (150, 200, 3))
            assert near(viewer.frames[-1], ORANGE)
            viewer.send({"type": "resize", "width": 5000, "height": 5000})  # past the maximum
            await until(lambda: viewer.frames[-1].rgb.shape == (1080, 1920, 3))

    run(scenario)


def bars_seen(frame: ReceivedFrame, tol: int = 20) -> list[tuple[int, ...]]:
    """The framebuffer scene's eight bars as the viewer decoded them, where they differ from what
    the scene draws (scenes/framebuffer/app.py): sampled a quarter of the way down, mid-bar."""
    h, w = frame.rgb.shape[:2]
    wrong = []
    for i, colour in enumerate(BARS):
        pixel = frame.rgb[h // 4, (2 * i + 1) * w // 16].astype(int)
        if np.any(np.abs(pixel - np.array(colour)) > tol):
            wrong.append(tuple(int(c) for c in pixel))
    return wrong


def test_a_frame_buffer_guest_streams_at_720p_and_when_the_viewer_resizes_to_1080p() -> None:
    """Both sizes are past what one `list<u8>` may carry into the host (2,796,202 bytes): the
    frame-buffer adapter carries each frame whole, in the session's worker process too."""

    async def scenario() -> None:
        cfg = config(scene_path("framebuffer"), size=(1280, 720))
        async with running(cfg) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(2)
            assert viewer.frames[-1].rgb.shape == (720, 1280, 3)
            assert not bars_seen(viewer.frames[-1])
            viewer.send({"type": "resize", "width": 1920, "height": 1080})
            await until(lambda: viewer.frames[-1].rgb.shape == (1080, 1920, 3))
            await viewer.wait_frames(viewer.frames_received + 1)
            assert viewer.frames[-1].rgb.shape == (1080, 1920, 3)
            assert not bars_seen(viewer.frames[-1])
            assert not any(m["type"] == "ended" for m in viewer.messages)

    run(scenario)


def test_a_killed_worker_ends_only_its_own_session() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server), Viewer(url) as first, Viewer(url) as second:
            await first.wait_frames(5)
            await second.wait_frames(5)
            victim, survivor = list(server.sessions.values())
            assert victim.worker is not None and victim.worker.pid is not None
            os.kill(victim.worker.pid, signal.SIGKILL)  # a driver crash, as far as the server can tell
            by_session = {str((await v.wait_message("hello"))["session"]): v for v in (first, second)}
            ended = await by_session[victim.id].wait_message("ended", timeout=8)
            assert "killed by signal 9" in str(ended["reason"]), ended
            alive = survivor.frames_sent
            await until(lambda: survivor.frames_sent > alive + 10)
            assert list(server.sessions.values()) == [survivor]
            assert not any(m["type"] == "ended" for m in by_session[survivor.id].messages)

    run(scenario)


def test_closing_the_viewer_stops_its_worker() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server):
            viewer = Viewer(url)
            await viewer.connect()
            await viewer.wait_frames(3)
            (session,) = server.sessions.values()
            assert session.worker is not None
            pid = session.worker.pid
            await viewer.close()
            await asyncio.wait_for(session.closed.wait(), 10)
            assert not server.sessions
            assert session.worker.exitcode is not None, f"worker {pid} still running"
            assert metric(await metrics(url), "streamer_sessions") == 0

    run(scenario)


def test_a_failing_worker_stop_still_gives_the_slot_back() -> None:
    """Stopping the worker raises: the session still leaves the table, the worker is killed, and
    the one slot of the server takes the next viewer."""

    async def scenario() -> None:
        async with running(replace(config(), max_sessions=1)) as (url, server):
            viewer = Viewer(url)
            await viewer.connect()
            await viewer.wait_frames(2)
            (session,) = server.sessions.values()
            assert session.worker is not None

            async def broken_stop(timeout: float = 5.0) -> None:
                raise RuntimeError("stop failed")

            session.worker.stop = broken_stop  # type: ignore[method-assign]
            await viewer.close()
            await asyncio.wait_for(session.closed.wait(), 10)
            assert not server.sessions
            await until(lambda: session.worker is not None and session.worker.exitcode is not None, 10)
            assert metric(await metrics(url), "streamer_sessions") == 0
            second = Viewer(url)
            await second.connect()
            await second.wait_frames(2)
            await second.close()

    run(scenario)


def test_a_cancelled_close_still_gives_the_slot_back() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server):
            viewer = Viewer(url)
            await viewer.connect()
            await viewer.wait_frames(2)
            (session,) = server.sessions.values()
            closing = session.close("test", cause="closed")
            await asyncio.sleep(0.05)  # inside its teardown, before the worker is stopped
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
            assert not server.sessions and session.closed.is_set()
            assert session.worker is not None and session.worker.exitcode is not None
            await viewer.close()

    run(scenario)


def test_a_viewer_that_never_opens_its_data_channel_is_dropped() -> None:
    async def scenario() -> None:
        async with running(config(connect_timeout=2.0)) as (url, server):
            bare = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            bare.addTransceiver("video", direction="recvonly")
            await bare.setLocalDescription(await bare.createOffer())
            offer = {"sdp": bare.localDescription.sdp, "type": "offer"}
            async with aiohttp.ClientSession() as http, http.post(f"{url}/offer", json=offer) as response:
                answer = await response.json()
            await bare.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
            (session,) = server.sessions.values()
            await asyncio.wait_for(session.closed.wait(), 15)
            assert session.ended_reason is not None and "no data channel" in session.ended_reason
            await bare.close()

    run(scenario)


def test_a_silent_viewer_is_dropped_after_the_heartbeat_timeout() -> None:
    async def scenario() -> None:
        cfg = config(heartbeat_timeout=2.0)
        async with running(cfg) as (url, server), Viewer(url, ping_interval=None) as viewer:
            ended = await viewer.wait_message("ended", timeout=10)
            assert "silent" in str(ended["reason"])
            await until(lambda: not server.sessions)

    run(scenario)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"not json", 400, "JSON"),
        (b'{"type": "answer", "sdp": "v=0"}', 400, "offer"),
        (b'{"type": "offer", "sdp": 5}', 400, "offer"),
        (b'{"type": "offer", "sdp": "v=0\\r\\nm=video nonsense"}', 400, "could not be used"),
        (b'{"type": "offer", "sdp": "' + b"v=0" + b"x" * 70000 + b'"}', 413, "over"),
        (b'{"type": "offer", "sdp": "v=0\\r\\n"}', 400, "no video"),
    ],
    ids=["not-json", "not-an-offer", "sdp-not-text", "broken-sdp", "too-large", "no-video"],
)
def test_bad_offers_get_a_clear_error(body: bytes, status: int, words: str) -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server), aiohttp.ClientSession() as http:
            headers = {"Content-Type": "application/json"}
            async with http.post(f"{url}/offer", data=body, headers=headers) as response:
                assert response.status == status
                assert words in (await response.json())["error"]
            assert not server.sessions
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200

    run(scenario)


def test_a_full_server_says_so() -> None:
    async def scenario() -> None:
        cfg = replace(config(), max_sessions=1)
        async with running(cfg) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(1)
            with pytest.raises(RuntimeError, match=r"503.*full"):
                await Viewer(url).connect()

    run(scenario)


def test_the_page_config_and_health_endpoints() -> None:
    async def scenario() -> None:
        async with running(config(codec="vp8")) as (url, _server), aiohttp.ClientSession() as http:
            async with http.get(f"{url}/config") as response:
                assert await response.json() == {
                    "iceServers": [],
                    "codec": "vp8",
                    "fps": 30.0,
                    "width": SIZE[0],
                    "height": SIZE[1],
                    "scene": "test",
                }
            async with http.get(f"{url}/") as response:
                assert response.status == 200 and "<video" in await response.text()
            text = await metrics(url)
            assert metric(text, "streamer_sessions") == 0 and "streamer_encode_ms_bucket" in text

    run(scenario)
