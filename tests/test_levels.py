"""A shared stream's quality levels (streamer/levels.py): the ladder and one viewer's choice, pure;
then two real aiortc viewers of one stream, one of them on a link forced low (docs/design.md,
"Shared mode")."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest

from scenes.build import scene_path
from streamer.encoder import EncoderSettings
from streamer.levels import LevelChooser, ladder
from streamer.messages import EncodedFrame
from streamer.rate_control import RatePolicy, StreamTarget
from streamer.server import ServeConfig, running
from streamer.shared import SharedSettings
from streamer.stream_task import WorkerConfig
from streamer.viewer import ReceivedFrame, Viewer

from .test_adapt import RembSender, series, stream_messages
from .test_serve import ORANGE, metric, metrics, near, run, until

M = 1_000_000


def test_the_ladder_steps_from_the_ceiling_at_full_size_to_the_floor_at_half_size() -> None:
    policy = RatePolicy(ceiling=4 * M, floor=M // 2, fps=30)
    assert ladder(policy, 3) == (
        StreamTarget(4 * M, 30, 1.0),
        StreamTarget(1_414_214, 30, 0.75),
        StreamTarget(M // 2, 30, 0.5),
    )
    assert ladder(policy, 1) == (StreamTarget(4 * M, 30, 1.0),)
    # Levels closer than the policy's least step are one: a ceiling at the floor gives one level.
    assert len(ladder(RatePolicy(ceiling=M, floor=M, fps=30), 3)) == 1
    assert len(ladder(RatePolicy(ceiling=M, floor=800_000, fps=30), 5)) == 2
    with pytest.raises(ValueError):
        ladder(policy, 0)


def test_a_viewer_moves_down_to_the_level_that_fits_and_up_one_level_without_flapping() -> None:
    now = [0.0]
    policy = RatePolicy(ceiling=4 * M, floor=M // 2, fps=30)
    chooser = LevelChooser(policy, ladder(policy, 3), lambda: now[0])
    assert chooser.update(600_000, limiting=False) is None  # a still picture's low REMB: not full
    assert chooser.update(600_000) is None  # full, but the first move waits as a rung's does
    now[0] = 3.0
    assert chooser.update(600_000) == 2  # straight to the level that fits (540 kb/s of budget)
    # The budget wanders around level 1's bitrate: nothing moves until it has held 25% above.
    for t, estimate in enumerate((1_600_000, 2_200_000, 1_500_000, 2_200_000, 2_200_000), start=4):
        now[0] = float(t)
        assert chooser.update(estimate) is None, t
    now[0] = 13.0
    assert chooser.update(2_200_000) == 1  # held 5 s above 1.41 Mb/s x 1.25: one level up
    now[0] = 14.0
    assert chooser.update(10 * M) is None  # 5 s after the last move at the soonest
    now[0] = 18.0
    assert chooser.update(10 * M) == 0
    assert chooser.target == StreamTarget(4 * M, 30, 1.0)


def test_a_link_that_is_not_full_tries_a_level_up_and_backs_off_when_it_fails() -> None:
    now = [0.0]
    policy = RatePolicy(ceiling=4 * M, floor=M // 2, fps=30)
    chooser = LevelChooser(policy, ladder(policy, 3), lambda: now[0])
    now[0] = 3.0
    assert chooser.update(400_000) == 2
    # A REMB that follows what level 2 sends, never above level 1's bitrate, on a link not full:
    # after 5 s the viewer tries level 1.
    for t in range(4, 8):
        now[0] = float(t)
        assert chooser.update(700_000, limiting=False) is None, t
    now[0] = 9.0
    assert chooser.update(700_000, limiting=False) == 1
    now[0] = 12.0
    assert chooser.update(900_000) == 2  # it did not fit: back down, and the next try waits 10 s
    for t in range(13, 22):
        now[0] = float(t)
        assert chooser.update(700_000, limiting=False) is None, t
    now[0] = 23.0
    assert chooser.update(700_000, limiting=False) == 1


SIZE = (160, 120)


def shared_config(levels: int) -> ServeConfig:
    encoder = EncoderSettings(bitrate=M, min_bitrate=200_000, fps=15.0)
    worker = WorkerConfig(component=scene_path("triangle"), name="levels", size=SIZE, encoder=encoder)
    return ServeConfig(worker=worker, port=0, max_sessions=4, shared=replace(SharedSettings(), levels=levels))


def halved(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """The picture at half of each side, 2x2 blocks averaged."""
    h, w, c = rgb.shape
    return np.asarray(rgb.reshape(h // 2, 2, w // 2, 2, c).mean(axis=(1, 3)), dtype=np.float64)


def looks_like(frame: ReceivedFrame, reference: npt.NDArray[np.uint8]) -> bool:
    """`frame` shows the reference picture (full size, or half size), not a decoder's garbage."""
    expected = reference.astype(np.float64) if frame.rgb.shape == reference.shape else halved(reference)
    return frame.rgb.shape == expected.shape and float(np.abs(frame.rgb - expected).mean()) < 10


@pytest.mark.usefixtures("blocking_guard")
def test_a_viewer_on_a_slow_link_gets_a_lower_level_and_the_other_keeps_full_size() -> None:
    async def scenario() -> None:
        served = running(shared_config(levels=3))
        async with served as (url, server), Viewer(url) as fast, Viewer(url) as slow:
            shared = server.shared
            assert shared is not None
            assert [(level.bitrate, level.scale) for level in shared.levels] == [
                (M, 1.0),
                (447_214, 0.75),
                (200_000, 0.5),
            ]
            await fast.wait_frames(3)
            await slow.wait_frames(3)
            reference = fast.frames[-1].rgb
            assert near(fast.frames[-1], ORANGE) and reference.shape == (120, 160, 3)
            hello = await slow.wait_message("hello")
            session = server.sessions[str(hello["session"])]
            taken: list[tuple[int, bool]] = []  # (level, keyframe) of each frame sent to the slow viewer
            deliver = session.deliver

            def recording_deliver(frame: EncodedFrame) -> None:
                queued = session.track.frames_queued
                deliver(frame)
                if session.track.frames_queued > queued:
                    taken.append((frame.level, frame.packets[0].keyframe))

            session.deliver = recording_deliver  # type: ignore[method-assign]
            remb = RembSender(slow)
            remb.start(300)  # under even a still triangle's few kb/s: this link is full
            try:
                await until(lambda: slow.frames[-1].rgb.shape == (60, 80, 3), timeout=15)
                await slow.wait_frames(slow.frames_received + 10)
                # The other viewer kept level 0, at full size.
                await fast.wait_frames(fast.frames_received + 10)
                assert all(f.rgb.shape == (120, 160, 3) for f in fast.frames), stream_messages(fast)
                # The slow one moved at a keyframe of the new level, and every picture it decoded,
                # before and after, shows the scene.
                first = next(i for i, f in enumerate(slow.frames) if f.rgb.shape == (60, 80, 3))
                assert slow.frames[first].keyframe
                # Sent from a keyframe of the new level on, never a frame of it before one.
                switch = next(i for i, (level, _) in enumerate(taken) if level == 2)
                assert taken[switch][1] and {level for level, _ in taken[switch:]} == {2}, taken
                assert all(f.rgb.shape == (120, 160, 3) for f in slow.frames[:first])
                assert all(f.rgb.shape == (60, 80, 3) for f in slow.frames[first:])
                assert all(looks_like(f, reference) for f in slow.frames), [
                    i for i, f in enumerate(slow.frames) if not looks_like(f, reference)
                ]
                # The page and /metrics show the slow viewer's level, its bitrate and size.
                await until(lambda: stream_messages(slow)[-1].get("level") == 2)
                last = stream_messages(slow)[-1]
                assert (last["bitrate"], last["fps"], last["width"], last["height"], last["levels"]) == (
                    200_000,
                    15,
                    80,
                    60,
                    3,
                )
                text = await metrics(url)
                assert series(text, "streamer_video_bitrate_bps")[session.id] == 200_000
                assert series(text, "streamer_video_width")[session.id] == 80
                assert metric(text, 'streamer_level_viewers{level="0"}') == 1
                assert metric(text, 'streamer_level_viewers{level="2"}') == 1

                # Encodes: every frame rendered is encoded once at each level, whatever the viewers.
                before = await metrics(url)
                await fast.wait_frames(fast.frames_received + 20)
                after = await metrics(url)

                def grew(name: str) -> float:
                    return metric(after, name) - metric(before, name)

                frames = grew("streamer_frames_rendered_total")
                encodes = [grew(f'streamer_level_encodes_total{{level="{n}"}}') for n in range(3)]
                assert frames >= 18
                assert all(abs(e - frames) <= 2 for e in encodes), (frames, encodes)
                assert abs(sum(encodes) - 3 * frames) <= 3
            finally:
                await remb.stop()

    run(scenario)
