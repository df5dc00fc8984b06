"""Input before the frame (docs/design.md): a tick that finds input waiting is held until the guest
has taken the input, so a guest that services its frame first still shows the input in this frame.

The `frame_first` test guest draws its frame before it reads its pointer-ups; each pointer-up
toggles its picture between black and white.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gpu_host import GuestComponent, GuestOptions, Runtime
from gpu_host.events import PointerMove, PointerUp
from scenes.build import test_guest_path as guest_path
from streamer.cli import main
from streamer.encoder import EncoderSettings
from streamer.marker import read_marker
from streamer.server import ServeConfig, running
from streamer.stream_task import WorkerConfig
from streamer.viewer import ReceivedFrame, Viewer

BLACK, WHITE = 0, 255


def shade(picture: np.ndarray) -> int:
    """The grey level at the centre of a frame (the marker sits in the top-left corner)."""
    h, w = picture.shape[:2]
    return int(picture[h // 2, w // 2].mean())


def is_white(frame: ReceivedFrame) -> bool:
    return shade(frame.rgb) > 200


def test_render_shows_each_event_in_the_frame_it_was_given_before(tmp_path: Path) -> None:
    script = tmp_path / "clicks.jsonl"
    script.write_text(
        "\n".join(json.dumps({"frame": n, "type": "pointer-up", "x": 1, "y": 1}) for n in (2, 4)) + "\n"
    )
    out = tmp_path / "frames"
    guest = str(guest_path("frame_first"))
    assert (
        main(["render", guest, "-o", str(out), "--frames", "6", "--size", "32x24", "--events", str(script)])
        == 0
    )
    shades = [shade(np.asarray(Image.open(p).convert("L"))) for p in sorted(out.iterdir())]
    assert shades == [BLACK, BLACK, WHITE, WHITE, BLACK, BLACK]


def live(options: Callable[..., GuestOptions], **kwargs: object) -> GuestOptions:
    return options("frame_first", virtual_time=False, frame_format="rgb24", **kwargs)


def test_a_live_click_shows_in_the_next_frame_and_a_slow_guest_only_delays_it(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    click = PointerUp(x=1.0, y=1.0)
    with runtime.run(load("frame_first"), live(options)) as guest:
        assert shade(guest.next_frame().pixels) == BLACK
        frame = guest.next_frame(events=[click])
        assert shade(frame.pixels) == WHITE and not guest.input_late
        assert guest.ctx.frames.holds == 1 and guest.ctx.frames.holds_expired == 0

    # A bound of zero: the tick goes ahead before the guest reads its input, which then shows in
    # the frame after; the runner says so, and that is the frame a recording names.
    with runtime.run(load("frame_first"), live(options, input_settle=0.0)) as guest:
        guest.next_frame()
        frame = guest.next_frame(events=[click])
        assert shade(frame.pixels) == BLACK and guest.input_late
        assert shade(guest.next_frame().pixels) == WHITE and not guest.input_late


def test_input_a_guest_does_not_poll_does_not_hold_its_frame(
    runtime: Runtime, load: Callable[[str], GuestComponent], options: Callable[..., GuestOptions]
) -> None:
    # frame_first polls pointer-ups only: moves queue up unread and never hold a tick.
    with runtime.run(load("frame_first"), live(options, input_settle=1000.0)) as guest:
        for n in range(5):
            frame = guest.next_frame(events=[PointerMove(x=float(n), y=1.0)])
            assert shade(frame.pixels) == BLACK
        # (The first move comes before the guest has a surface, so it holds nothing.) With a bound
        # of 1000 s, a hold that waited for the unread moves would have stopped this test.
        assert guest.ctx.frames.holds == 4 and guest.ctx.frames.holds_expired == 0


@pytest.mark.usefixtures("blocking_guard")
def test_a_viewers_click_shows_in_the_first_frame_rendered_after_it_arrives() -> None:
    worker = WorkerConfig(
        component=guest_path("frame_first"),
        name="frame_first",
        size=(320, 240),
        encoder=EncoderSettings(bitrate=1_000_000),
    )

    async def scenario() -> None:
        async with running(ServeConfig(worker=worker, port=0)) as (url, _server), Viewer(url) as viewer:
            await viewer.wait_frames(5)
            # The marker carries the seq of the last input given to the guest before each frame.
            viewer.send_raw('{"v": 1, "type": "probe", "enabled": true}')
            while read_marker(viewer.frames[-1].rgb) is None:
                await viewer.wait_frames(viewer.frames_received + 1)
            for clicks in range(1, 5):
                seq = viewer.send({"type": "pointer-up", "x": 5, "y": 5})
                while (marker := read_marker(viewer.frames[-1].rgb)) != seq:
                    assert is_white(viewer.frames[-1]) == (clicks % 2 == 0), marker
                    await viewer.wait_frames(viewer.frames_received + 1)
                # The first frame rendered with the click already shows it.
                assert is_white(viewer.frames[-1]) == (clicks % 2 == 1)

    asyncio.run(asyncio.wait_for(scenario(), 120))
