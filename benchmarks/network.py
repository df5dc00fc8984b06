"""A stream over a link broken on purpose: bitrate, fps and freezes, second by second.

    python -m benchmarks.network [--viewer aiortc|chromium] [--cap 1.5M] [--loss 0.02]

Serves orbit at 1280x720, 30 fps, H.264 at 4 Mb/s (the stream adapts: docs/design.md, "Adapting
to the network") through the test relay (tests/netlink.py) on loopback, to an aiortc viewer or
headless Chromium, and runs the phases of tests/test_link_adaptation.py: 5 s unconstrained, 10 s
under `--cap`, 10 s with the cap lifted, 6 s at `--loss`. Prints, for each second: the phase,
what the server offered the link and what the link delivered (kb/s), the frames the viewer got,
and the seconds it spent frozen (aiortc: gaps past max(3 x the median interval, median + 150 ms);
Chromium: inbound-rtp's totalFreezesDuration).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable

from playwright.sync_api import sync_playwright

from streamer.cli import parse_bitrate
from streamer.server import running
from streamer.viewer import Viewer
from tests.browser import LiveServer, launch_chromium
from tests.netlink import BackgroundRelay, Impairment, Relay
from tests.test_link_adaptation import stream_config
from tests.viewing import bitrate_series, freezes, inbound_video, watch_through

Phase = tuple[str, float, Impairment]


def phases(cap: int, loss: float) -> list[Phase]:
    return [
        ("open", 5.0, Impairment()),
        (f"cap {cap / 1e6:g}M", 10.0, Impairment(rate=cap)),
        ("lifted", 10.0, Impairment()),
        (f"loss {loss:.0%}", 6.0, Impairment(loss=loss)),
    ]


def report(
    relay: Relay, began: float, marks: list[tuple[str, float]], frames: Callable[[float, float], str]
) -> None:
    counts = relay.to_viewer.counts
    end = time.monotonic()
    offered = dict(bitrate_series(counts.offered, began, end, step=1.0))
    delivered = dict(bitrate_series(counts.sent, began, end, step=1.0))
    print("second | phase | offered kb/s | delivered kb/s | viewer")
    for start, rate in offered.items():
        phase = next((name for name, at in reversed(marks) if at <= start + 0.01), marks[0][0])
        print(
            f"{start - began:6.0f} | {phase:>9} | {rate / 1e3:12.0f} "
            f"| {delivered.get(start, 0.0) / 1e3:14.0f} | {frames(start, start + 1.0)}"
        )


async def with_aiortc(plan: list[Phase]) -> None:
    async with (
        running(stream_config()) as (url, _server),
        Relay() as relay,
        Viewer(
            url, keep_frames=1, rewrite_offer=relay.rewrite_offer, rewrite_answer=relay.rewrite_answer
        ) as viewer,
    ):
        await viewer.wait_frames(1, timeout=60)
        began = time.monotonic()
        marks = []
        for name, seconds, impairment in plan:
            marks.append((name, time.monotonic()))
            relay.to_viewer.impairment = impairment
            await asyncio.sleep(seconds)

    def frames(start: float, end: float) -> str:
        got = [t for t in viewer.arrivals if start <= t < end]
        frozen = sum(f.duration for f in freezes(viewer.arrivals) if start <= f.start < end)
        return f"{len(got)} frames, {frozen:.2f} s frozen"

    report(relay, began, marks, frames)


def with_chromium(plan: list[Phase]) -> None:
    with LiveServer(stream_config()) as server, BackgroundRelay() as relay, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = watch_through(browser, server.url, relay)
            began = time.monotonic()
            marks, samples = [], []
            for name, seconds, impairment in plan:
                marks.append((name, time.monotonic()))
                relay.to_viewer.impairment = impairment
                until = time.monotonic() + seconds
                while time.monotonic() < until:
                    page.wait_for_timeout(250)
                    if (video := inbound_video(page)) is not None:
                        samples.append((time.monotonic(), video))
        finally:
            browser.close()

    def frames(start: float, end: float) -> str:
        inside = [v for t, v in samples if start <= t < end]
        if len(inside) < 2:
            return "-"
        first, last = inside[0], inside[-1]
        frozen = last.total_freezes_duration - first.total_freezes_duration
        return f"{last.frames_decoded - first.frames_decoded} frames decoded, {frozen:.2f} s frozen"

    report(relay, began, marks, frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewer", choices=("aiortc", "chromium"), default="aiortc")
    parser.add_argument("--cap", type=parse_bitrate, default=1_500_000)
    parser.add_argument("--loss", type=float, default=0.02)
    args = parser.parse_args(argv)
    plan = phases(args.cap, args.loss)
    if args.viewer == "aiortc":
        asyncio.run(with_aiortc(plan))
    else:
        with_chromium(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
