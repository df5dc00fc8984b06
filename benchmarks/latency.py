"""Input-to-photon latency in a real browser: from a DOM input event to the presented video frame.

    python -m benchmarks.latency [--scene triangle] [--codec h264] [--size 1280x720] [--fps 30]
                                 [--events 200] [--interval 0.1] [--input move|click|key]

Serves the scene in this process (127.0.0.1, a free port; one worker process per session, as
`streamer serve`), opens streamer/web_client/ in headless Chromium (Debian's, through Playwright), opens the
stats overlay (the server then stamps each frame with the seq of the last input it applied) and sends
`--events` input events `--interval` seconds apart: pointer moves over the picture by default. The
page times each event from its DOM timestamp to the `requestVideoFrameCallback` presentation time of
the first frame whose marker shows it; this prints their p50/p95/min/max, the data channel's ping
round trip for contrast, and the server's per-frame guest, readback and encode times.

The figure includes the frame clock's wait (up to half a frame period before the guest sees the event),
guest, readback, encode, packetization, loopback network, the jitter buffer, decode and compositing;
it excludes the input device and display scan-out. Compare figures only from the same machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import urllib.request

from playwright.sync_api import Page, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import percentile
from streamer.cli import parse_size
from streamer.encoder import CODECS, EncoderSettings
from streamer.scenes import DEFAULT_SCENE, builtin_scenes, resolve_scene
from streamer.server import ServeConfig
from streamer.stream_task import WorkerConfig
from tests.browser import LiveServer, ViewerPage, launch_chromium

HEADER_PX = 48  # the page's bar above the video, so the viewport shows the picture at about 1:1


def send_events(viewer: ViewerPage, kind: str, count: int, interval: float) -> None:
    """`count` input events on the picture, `interval` seconds apart."""
    page = viewer.page
    box = viewer.video_box()
    rng = random.Random(0)
    page.focus("#stage")
    for i in range(count):
        x = box["x"] + box["width"] * rng.uniform(0.3, 0.7)
        y = box["y"] + box["height"] * rng.uniform(0.3, 0.7)
        if kind == "move":
            page.mouse.move(x, y)
        elif kind == "click":
            page.mouse.click(x, y)  # a down and an up: two events
        else:
            page.keyboard.press("KeyA" if i % 2 else "KeyB")  # a key-down and a key-up
        page.wait_for_timeout(interval * 1000)


def server_means(url: str) -> dict[str, float]:
    """Mean guest, readback and encode milliseconds per frame, from the server's /metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    means: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        samples = {s.name: s.value for s in family.samples}
        total, count = samples.get(f"{family.name}_sum"), samples.get(f"{family.name}_count")
        if total is not None and count:
            means[family.name.removeprefix("streamer_").removesuffix("_ms")] = total / count
    return means


def measure(page: Page, expected: int, timeout: float = 5.0) -> list[float]:
    """The page's latencies, once every event has been seen in a frame (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        latencies: list[float] = page.evaluate("window.streamerStats.latencies")
        if len(latencies) >= expected or time.monotonic() > deadline:
            return latencies
        page.wait_for_timeout(100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", default=DEFAULT_SCENE, help="a built-in scene or a component path")
    parser.add_argument("--codec", choices=CODECS, default="h264")
    parser.add_argument("--size", type=parse_size, default=(1280, 720), help="surface size, WxH")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=200, help="input events to send")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between events")
    parser.add_argument("--input", choices=("move", "click", "key"), default="move")
    args = parser.parse_args(argv)

    name = args.scene if args.scene in builtin_scenes() else resolve_scene(args.scene).stem
    worker = WorkerConfig(
        component=resolve_scene(args.scene),
        name=name,
        size=args.size,
        encoder=EncoderSettings(codec=args.codec, fps=args.fps),
    )
    width, height = args.size
    per_event = 2 if args.input != "move" else 1
    with LiveServer(ServeConfig(worker=worker, port=0)) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": height + HEADER_PX})
        page.goto(server.url)
        viewer = ViewerPage(page)
        viewer.wait_playing(frames=30, timeout=120)
        page.evaluate("window.streamer.toggleStats(true)")
        page.wait_for_function("() => window.streamerStats.lastMarker !== null", timeout=10_000)
        started = time.monotonic()
        send_events(viewer, args.input, args.events, args.interval)
        latencies = measure(page, args.events * per_event)
        elapsed = time.monotonic() - started
        stats = page.evaluate("window.streamerStats")
        browser.close()
        means = server_means(server.url)

    sent = args.events * per_event
    print(
        f"scene {name}, {args.codec}, {width}x{height} at {args.fps:g} fps, headless Chromium over loopback"
    )
    print(f"input: {args.events} x {args.input} ({sent} events) every {args.interval * 1000:.0f} ms")
    print(
        f"stream: {stats['fps'] or 0:.1f} fps decoded, {stats['framesDropped']} frames dropped, "
        f"{elapsed:.0f} s"
    )
    if not latencies:
        print("no latency measured: no frame showed a marker past the events sent", file=sys.stderr)
        return 1
    print(
        f"input-to-photon: {len(latencies)}/{sent} events measured; p50 {percentile(latencies, 0.5):.1f} ms,"
        f" p95 {percentile(latencies, 0.95):.1f} ms, min {min(latencies):.1f} ms, max {max(latencies):.1f} ms"
    )
    rtts = stats["channelRtts"]
    if rtts:
        print(
            f"data-channel ping RTT: {len(rtts)} pings; median {statistics.median(rtts):.1f} ms,"
            f" min {min(rtts):.1f} ms, max {max(rtts):.1f} ms"
        )
    if means:
        print("server, mean per frame: " + ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(means.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
