"""A stream that survives a real network (issue 16, docs/design.md "Adapting to the network"):
a viewer behind the test relay (tests/netlink.py) gets a capped, lossy link, and the server's
stream must fit it without freezing, then climb back when the cap lifts.

One session per viewer kind runs every phase in turn, to keep the suite short: the scene is orbit
at 1280x720, 30 fps, 4 Mb/s (tests/test_netlink.py: at least 3.5 Mb/s unconstrained).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from streamer.server import running
from streamer.viewer import Viewer
from tests.netlink import Impairment, Relay
from tests.test_netlink import UNCONSTRAINED, stream_config
from tests.viewing import Freeze, bitrate, bitrate_series, fps, freezes

CAP = 1_500_000


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
            assert fps(viewer.arrivals, capped + 5.0, lifted) >= 24
            assert not [f for f in frozen(capped + 5.0, lifted) if f.duration > 1.0]
            climbed = offered_after(relay, lifted, lossy)
            assert max(rate for _, rate in climbed) >= UNCONSTRAINED * 0.9, climbed
            assert not [f for f in frozen(lossy, end) if f.duration > 0.5]
            assert counts.lost > 0

    asyncio.run(asyncio.wait_for(scenario(), 150))
