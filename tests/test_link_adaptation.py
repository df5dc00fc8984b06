"""A stream that survives a real network (issue 16, docs/design.md "Adapting to the network"):
a viewer behind the test relay (tests/netlink.py) gets a capped, lossy link, and the server's
stream must fit it without freezing, then climb back when the cap lifts.

One session per viewer kind runs every phase in turn, to keep the suite short: the scene is orbit
at 1280x720, 30 fps, H.264 at 4 Mb/s, which sends 4.2-4.5 Mb/s of UDP through the relay on the
2-core machine (the tests first check at least 3.5 Mb/s unconstrained). ICE goes through the
relay only: the offer's and answer's candidates are rewritten to point at it.

Under the cap the offered rate is checked from 5 s on, and the picture (fps, freezes) from then
too in Chromium. The cap's first second overflows the link before any feedback can come back,
and aiortc's receiver sits on a hole in its jitter buffer until 512 newer packets came, so it
stays frozen for 4-5 s at the capped rate (Chromium: about 1.5 s of freezes in all): its
picture is judged from 7 s. docs/performance.md records the curves.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.sync_api import sync_playwright

from scenes.build import scene_path
from streamer.encoder import EncoderSettings
from streamer.server import ServeConfig, running
from streamer.stream_task import WorkerConfig
from streamer.viewer import Viewer
from tests.browser import LiveServer, launch_chromium
from tests.netlink import BackgroundRelay, Impairment, Relay
from tests.viewing import (
    Freeze,
    InboundVideo,
    bitrate,
    bitrate_series,
    fps,
    freezes,
    inbound_video,
    watch_through,
)

UNCONSTRAINED = 3_500_000  # b/s the stream must reach before any cap (issue 16)


def stream_config() -> ServeConfig:
    worker = WorkerConfig(
        component=scene_path("orbit"),
        name="orbit",
        size=(1280, 720),
        encoder=EncoderSettings(codec="h264", bitrate=4_000_000, fps=30),
    )
    return ServeConfig(worker=worker, port=0)


CAP = 1_500_000
AIORTC_RECOVERED = 7.0  # seconds into the cap from which the aiortc viewer's picture is judged


def offered_after(relay: Relay, start: float, end: float) -> list[tuple[float, float]]:
    """What the server sent towards the viewer, per second, from `start` to `end`."""
    return bitrate_series(relay.to_viewer.counts.offered, start, end, step=1.0)


@pytest.mark.usefixtures("blocking_guard")
def test_an_aiortc_viewer_behind_a_cap_then_loss_keeps_its_picture() -> None:
    async def scenario() -> None:
        async with (
            running(stream_config()) as (url, _server),
            Relay() as relay,
            Viewer(
                url, keep_frames=1, rewrite_offer=relay.rewrite_offer, rewrite_answer=relay.rewrite_answer
            ) as viewer,
        ):
            counts = relay.to_viewer.counts
            await viewer.wait_frames(1, timeout=60)
            start = time.monotonic() + 1.0
            await asyncio.sleep(4.0)
            assert bitrate(counts.offered, start, time.monotonic()) >= UNCONSTRAINED

            # Under a 1.5 Mb/s cap the stream settles below it within 5 s, then keeps 24 fps or
            # more with no freeze longer than a second.
            capped = time.monotonic()
            relay.to_viewer.impairment = Impairment(rate=CAP)
            await asyncio.sleep(10.0)
            lifted = time.monotonic()

            # The cap lifts: within 10 s the stream is back near what it sent before.
            relay.to_viewer.impairment = Impairment()
            await asyncio.sleep(10.0)
            lossy = time.monotonic()

            # 2% random loss: resends and keyframes keep the picture; no freeze past 0.5 s.
            relay.to_viewer.impairment = Impairment(loss=0.02)
            await asyncio.sleep(6.0)
            end = time.monotonic()

            def frozen(start: float, stop: float) -> list[Freeze]:
                return freezes([t for t in viewer.arrivals if start <= t < stop])

            offered = offered_after(relay, capped, end)
            print("offered kb/s per second from the cap on:", [round(r / 1e3) for _, r in offered])
            print(
                "freezes: capped",
                frozen(capped, lifted),
                "lifted",
                frozen(lifted, lossy),
                "lossy",
                frozen(lossy, end),
            )
            settled = offered_after(relay, capped + 5.0, lifted)
            assert all(rate < CAP for _, rate in settled), settled
            # aiortc's receiver sits on a packet lost in the cap's first second until 512 newer
            # ones came (4-5 s at the capped rate): its picture is judged from 7 s.
            assert fps(viewer.arrivals, capped + AIORTC_RECOVERED, lifted) >= 24
            assert not [f for f in frozen(capped + AIORTC_RECOVERED, lifted) if f.duration > 1.0]
            climbed = offered_after(relay, lifted, lossy)
            assert max(rate for _, rate in climbed) >= UNCONSTRAINED * 0.9, climbed
            assert not [f for f in frozen(lossy, end) if f.duration > 0.5]
            assert counts.lost > 0

    asyncio.run(asyncio.wait_for(scenario(), 150))


def test_chromium_behind_a_cap_then_loss_keeps_its_picture() -> None:
    with LiveServer(stream_config()) as server, BackgroundRelay() as relay, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = watch_through(browser, server.url, relay)
            samples: list[tuple[float, InboundVideo]] = []

            def watch(seconds: float) -> float:
                """Sample Chromium's figures twice a second for `seconds`; the time it began."""
                began = time.monotonic()
                while time.monotonic() < began + seconds:
                    page.wait_for_timeout(500)
                    if (video := inbound_video(page)) is not None:
                        samples.append((time.monotonic(), video))
                return began

            start = watch(4.0) + 1.0
            relay.to_viewer.impairment = Impairment(rate=CAP)
            capped = watch(10.0)
            relay.to_viewer.impairment = Impairment()
            lifted = watch(10.0)
            relay.to_viewer.impairment = Impairment(loss=0.02)
            lossy = watch(6.0)
            end = time.monotonic()
        finally:
            browser.close()

    def at(when: float) -> InboundVideo:
        return min(samples, key=lambda sample: abs(sample[0] - when))[1]

    def frozen(begin: float, until: float) -> float:
        return at(until).total_freezes_duration - at(begin).total_freezes_duration

    offered = relay.to_viewer.counts.offered
    print(
        "chromium: offered kb/s per second from the cap on:",
        [round(r / 1e3) for _, r in offered_after(relay, capped, end)],
    )
    print(
        "chromium: frozen s",
        {"capped": frozen(capped, lifted), "lifted": frozen(lifted, lossy), "lossy": frozen(lossy, end)},
    )
    assert bitrate(offered, start, capped) >= UNCONSTRAINED
    settled = offered_after(relay, capped + 5.0, lifted)
    assert all(rate < CAP for _, rate in settled), settled
    decoded = at(lifted).frames_decoded - at(capped + 5.0).frames_decoded
    assert decoded / (lifted - capped - 5.0) >= 24
    assert frozen(capped + 5.0, lifted) <= 1.0
    assert max(rate for _, rate in offered_after(relay, lifted, lossy)) >= UNCONSTRAINED * 0.9
    assert frozen(lossy, end) <= 0.5
