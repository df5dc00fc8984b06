"""Input-to-photon latency in a real browser: from a DOM input event to the presented video frame.

    python -m benchmarks.latency [--scene triangle] [--codec h264] [--size 1280x720] [--fps 30]
                                 [--events 200] [--interval 0.1] [--input move|click|key]

Serves the scene in this process (127.0.0.1, a free port; one worker process per session, as
`streamer serve`), opens streamer/web_client/ in headless Chromium (Debian's, through Playwright), opens the
stats overlay (the server then stamps each frame with the seq of the last input it gave the guest)
and sends `--events` input events `--interval` seconds apart: pointer moves over the picture by
default. Two figures, side by side, each from the event's DOM timestamp to the
`requestVideoFrameCallback` presentation time of a frame:

- marker: the first frame whose marker shows the guest had been given the event. It says nothing of
  whether the frame shows the event's effect.
- pixel (clicks only): the first frame whose centre pixel differs from the last frame presented
  before the click, that is the first frame that shows the click to the viewer. For scenes whose
  click changes the colour at the centre and which are otherwise still (triangle, the
  `frame_first` test guest); clicks should be far enough apart for the picture to settle.

It also prints the data channel's ping round trip, the server's per-frame guest, readback and
encode times, and the browser's receive-side times (inbound-rtp: assembly, decode, jitter buffer),
which together say where the milliseconds go. `--scene` also takes a test guest's name
(`frame_first`) in a source checkout. Compare figures only from the same machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from prometheus_client.parser import text_string_to_metric_families

from benchmarks import percentile
from scenes.build import test_guest_path
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


# Collects, from the page, the centre pixel of every presented frame and the DOM time of every
# pointer-up on the stage (both in the page's performance.now() time base).
PIXEL_PROBE = """() => {
    const video = document.getElementById('video');
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d', { willReadFrequently: true });
    window.benchFrames = [];
    window.benchClicks = [];
    const frame = (now, meta) => {
        video.requestVideoFrameCallback(frame);
        context.drawImage(video, Math.floor(meta.width / 2), Math.floor(meta.height / 2), 1, 1, 0, 0, 1, 1);
        const d = context.getImageData(0, 0, 1, 1).data;
        const shown = meta.presentationTime ?? meta.expectedDisplayTime;
        window.benchFrames.push([shown, d[0], d[1], d[2], meta.receiveTime ?? shown]);
    };
    video.requestVideoFrameCallback(frame);
    const stage = document.getElementById('stage');
    stage.addEventListener('pointerup', (e) => window.benchClicks.push(e.timeStamp), true);
}"""
CHANGED = 60  # a channel this far from the colour before the click: the frame shows the click

# inbound-rtp totals (seconds) and what they time, per frame, on the browser's side.
RECEIVE_TIMES = (
    ("totalAssemblyTime", "framesAssembledFromMultiplePackets", "assembly"),
    ("totalDecodeTime", "framesDecoded", "decode"),
    ("jitterBufferDelay", "jitterBufferEmittedCount", "jitter buffer"),
    ("totalProcessingDelay", "framesDecoded", "receive to decoded"),
)


def wait_measured(page: Page, kind: str, timeout: float = 5.0) -> list[float]:
    """The page's marker latencies of `kind` events, once every one sent has been seen in a frame
    (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        stats = page.evaluate("window.streamerStats")
        latencies = [m["latency"] for m in stats["measured"] if m["type"] == kind]
        if len(latencies) >= stats["sentWhileProbing"].get(kind, 0) or time.monotonic() > deadline:
            return latencies


def pixel_latencies(frames: list[list[float]], clicks: list[float]) -> tuple[list[float], list[float]]:
    """For each click, the presentation time of the first frame after it whose centre differs from
    the last frame before it, minus the click's time; and of those, the part after the frame's
    last packet arrived (`receiveTime`). Clicks no frame showed are left out."""
    latencies, in_browser = [], []
    for clicked in clicks:
        before = [f for f in frames if f[0] <= clicked]
        if not before:
            continue
        base = before[-1][1:4]
        for shown, r, g, b, received in frames:
            if shown > clicked and max(abs(a - c) for a, c in zip((r, g, b), base, strict=True)) >= CHANGED:
                latencies.append(shown - clicked)
                in_browser.append(shown - received)
                break
    return latencies, in_browser


def describe(latencies: list[float]) -> str:
    return (
        f"p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms,"
        f" min {min(latencies):.1f} ms, max {max(latencies):.1f} ms"
    )


def receive_times(page: Page) -> dict[str, float]:
    """The browser's mean receive-side milliseconds per frame (inbound-rtp)."""
    page.wait_for_timeout(1100)  # the page reads its statistics once a second
    inbound: dict[str, float] = page.evaluate("window.streamerStats.inbound") or {}
    times = {}
    for total, count, name in RECEIVE_TIMES:
        if inbound.get(total) is not None and inbound.get(count):
            times[name] = inbound[total] / inbound[count] * 1e3
    return times


def scene_component(scene: str) -> tuple[str, Path]:
    """A built-in scene, a component path, or (in a source checkout) a test guest's name."""
    if scene in builtin_scenes():
        return scene, resolve_scene(scene)
    guest = test_guest_path(scene)
    if guest.exists():
        return scene, guest
    path = resolve_scene(scene)
    return path.stem, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scene", default=DEFAULT_SCENE, help="a built-in scene, a test guest or a component path"
    )
    parser.add_argument("--codec", choices=CODECS, default="h264")
    parser.add_argument("--size", type=parse_size, default=(1280, 720), help="surface size, WxH")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=200, help="input actions to send (a click is one)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between actions")
    parser.add_argument("--input", choices=("move", "click", "key"), default="move")
    args = parser.parse_args(argv)

    name, component = scene_component(args.scene)
    worker = WorkerConfig(
        component=component,
        name=name,
        size=args.size,
        encoder=EncoderSettings(codec=args.codec, fps=args.fps),
    )
    width, height = args.size
    kind = {"move": "pointer-move", "click": "pointer-up", "key": "key-down"}[args.input]
    with LiveServer(ServeConfig(worker=worker, port=0)) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": width, "height": height + HEADER_PX})
        page.goto(server.url)
        viewer = ViewerPage(page)
        viewer.wait_playing(frames=30, timeout=120)
        page.evaluate("window.streamer.toggleStats(true)")
        page.wait_for_function("() => window.streamerStats.lastMarker !== null", timeout=10_000)
        page.evaluate(PIXEL_PROBE)
        started = time.monotonic()
        send_events(viewer, args.input, args.events, args.interval)
        marker = wait_measured(page, kind)
        elapsed = time.monotonic() - started
        stats = page.evaluate("window.streamerStats")
        pixel, in_browser = pixel_latencies(
            page.evaluate("window.benchFrames"), page.evaluate("window.benchClicks")
        )
        browser_ms = receive_times(page)
        browser.close()
        means = server_means(server.url)

    sent = stats["sentWhileProbing"].get(kind, 0)
    print(
        f"scene {name}, {args.codec}, {width}x{height} at {args.fps:g} fps, headless Chromium over loopback"
    )
    print(f"input: {args.events} x {args.input} every {args.interval * 1000:.0f} ms ({sent} {kind} events)")
    print(
        f"stream: {stats['fps'] or 0:.1f} fps decoded, {stats['framesDropped']} frames dropped, "
        f"{elapsed:.0f} s"
    )
    if not marker:
        print("no latency measured: no frame showed a marker past the events sent", file=sys.stderr)
        return 1
    print(f"marker (input given to the guest): {len(marker)}/{sent} {kind} events; {describe(marker)}")
    if args.input == "click":
        if pixel:
            print(f"pixel (the click's effect shown): {len(pixel)}/{sent} clicks; {describe(pixel)}")
            print(f"  of which from the frame's last packet to its presentation: {describe(in_browser)}")
        else:
            print("pixel: no frame changed colour at the centre after a click", file=sys.stderr)
    rtts = stats["channelRtts"]
    if rtts:
        print(
            f"data-channel ping RTT: {len(rtts)} pings; median {statistics.median(rtts):.1f} ms,"
            f" min {min(rtts):.1f} ms, max {max(rtts):.1f} ms"
        )
    if means:
        print("server, mean per frame: " + ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(means.items())))
    if browser_ms:
        print("browser, mean per frame: " + ", ".join(f"{k} {v:.1f} ms" for k, v in browser_ms.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
