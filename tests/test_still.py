"""An idle session costs little (streamer/still.py): a still picture is resent once a refresh
period, not every tick, yet a keyframe request, input and a changing scene are sent at once.

Real server in-process, a real worker with a real guest on lavapipe, a real aiortc viewer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace

import numpy as np
import pytest

from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.server import ServeConfig, Server, running
from streamer.still import IDLE_AFTER, StillFilter, same_pixels
from streamer.viewer import Viewer
from tests.test_serve import CYAN, config, near, run, until

pytestmark = pytest.mark.usefixtures("blocking_guard")


def still_config(scene: str = "triangle", refresh: float = 1.0, tick: float | None = None) -> ServeConfig:
    base = config(guest_path(scene) if scene == "still" else scene_path(scene))
    return replace(base, worker=replace(base.worker, still_refresh=refresh, still_tick=tick))


def only_session(server: Server) -> tuple[float, ...]:
    """When each frame with packets reached the main process (the server's only session)."""
    (session,) = server.sessions.values()
    return tuple(t for t, f in session.recent_frames if f.packets)


def test_the_still_filter_skips_repeats_until_refresh_or_forced() -> None:
    picture = np.zeros((90, 130), np.uint8)  # 11700 bytes: 8-byte words and a tail of 4
    changed = picture.copy()
    changed[-1, -1] = 1  # in the tail
    still = StillFilter(refresh=1.0)

    def send(pixels: np.ndarray, now: float, forced: bool = False) -> bool:
        sent = still.send(pixels, now, forced)
        if sent:
            still.keep(pixels)  # as the encoder thread does once the packets are out
        return sent

    assert send(picture, 0.0)  # the first frame
    assert send(picture, 0.1)  # and the one after it, which completes it at some receivers
    assert not send(picture.copy(), 0.5)
    assert send(picture, 0.6, forced=True)  # a keyframe asked for
    assert send(picture, 0.7)  # followed
    assert send(changed, 0.8)
    assert send(changed, 0.9)  # followed
    assert not send(changed, 1.0)
    assert send(changed, 1.95)  # the refresh, not followed
    assert not send(changed, 2.0)
    assert still.skipped == 3
    assert not still.idle(0.8 + IDLE_AFTER - 0.01)
    assert still.idle(0.8 + IDLE_AFTER + 0.01)  # IDLE_AFTER since the last change
    assert still.send(picture, 2.1) and still.send(picture, 2.2)  # a change, not kept (its encode failed)
    assert still.send(picture, 2.3), "no frame is skipped against a reference that was not kept"
    assert not same_pixels(picture, changed)
    assert same_pixels(picture[:, ::2], np.zeros((90, 65), np.uint8))  # not contiguous
    assert not same_pixels(picture, picture[:60])


def test_a_still_picture_is_resent_once_a_second_not_every_tick() -> None:
    async def scenario() -> None:
        async with running(still_config("still")) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(1)
            start = time.monotonic()
            await asyncio.sleep(2.6)
            arrivals = [t for t in viewer.arrivals if t >= start]
            gaps = [b - a for a, b in itertools.pairwise([start, *arrivals])]
            assert 2 <= len(arrivals) < 20, arrivals  # 78 ticks at 30 fps
            assert max(gaps) < 1.6, gaps  # at least one a second
            assert near(viewer.frames[-1], (128, 128, 128))  # the picture, still grey
            assert len(only_session(server)) >= len(arrivals)

    run(scenario)


def test_a_keyframe_request_and_input_are_answered_at_once_on_a_still_picture() -> None:
    async def scenario() -> None:
        # Slow ticks, and a slower refresh: a frame within 2 s of the request is its answer,
        # not the next tick (3 s after the last) nor the refresh (6 s).
        cfg = still_config("triangle", refresh=6.0, tick=3.0)
        async with running(cfg) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(1)
            (session,) = server.sessions.values()

            async def slow_tick() -> float:
                """Wait for the guest's next (skipped) frame; the time since the one before it."""
                seen = len(session.recent_frames)
                await until(lambda: len(session.recent_frames) > seen, timeout=10.0)
                return session.recent_frames[-1][0] - session.recent_frames[-2][0]

            await asyncio.sleep(3.0)  # still for IDLE_AFTER (2 s): from then on, ticked every 3 s
            assert await slow_tick() > 2.0
            before = viewer.frames_received
            receiver = viewer.pc.getTransceivers()[0].receiver
            (ssrc,) = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
            asked = time.monotonic()
            await receiver._send_rtcp_pli(ssrc)  # what a browser sends when it lost pictures
            await viewer.wait_frames(before + 1, timeout=2.0)
            answer = next(f for t, f in session.recent_frames if t >= asked and f.packets)
            assert answer.packets[0].keyframe

            await asyncio.sleep(0.2)  # the keyframe and the frame that follows it
            await slow_tick()
            viewer.send({"type": "pointer-up", "x": 5, "y": 5})  # the triangle turns cyan
            await until(lambda: near(viewer.frames[-1], CYAN), timeout=2.0)

    run(scenario)


def test_a_changing_scene_still_sends_every_frame() -> None:
    async def scenario() -> None:
        async with running(still_config("cube")) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(5)
            start, received = time.monotonic(), viewer.frames_received
            await asyncio.sleep(1.5)
            (session,) = server.sessions.values()
            rendered = [f for t, f in session.recent_frames if t >= start]
            assert len(rendered) >= 15
            assert all(f.packets for f in rendered)  # none skipped: each picture differed
            assert viewer.frames_received - received >= len(rendered) - 3

    run(scenario)
