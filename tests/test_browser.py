"""The web client end to end, in headless Chromium: video plays, input reaches the guest, state shows.

Each test opens streamer/web_client/ from a live `streamer serve` (in this process, on a free port; every
session spawns its worker) and looks at the decoded video's pixels, drawn into a canvas in the page.
Scenes: `triangle` (orange (255, 102, 0) on (13, 13, 38); each pointer-up toggles cyan (0, 153, 255))
and the test guests `solid` (one colour chosen by input, see its docstring) and `trap_after`.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from gpu_host import Runtime
from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.encoder import Codec, EncoderSettings
from streamer.server import ServeConfig
from streamer.shared import SharedSettings
from streamer.stream_task import WorkerConfig
from tests.browser import Colour, LiveServer, ViewerPage, close_to, launch_chromium

SIZE = (320, 240)
ORANGE, NAVY, CYAN = (255, 102, 0), (13, 13, 38), (0, 153, 255)
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)
CODECS: tuple[Codec, ...] = ("h264", "vp8")
# Tolerance for saturated colours after 4:2:0 and lossy coding; before the H.264 stream said BT.601
# in its VUI, Chromium decoded it as BT.709 and red came out (255, 24, 0).
SATURATED = 16

Serve = Callable[..., str]
Open = Callable[..., ViewerPage]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def serve() -> Iterator[Serve]:
    """`serve("triangle", "vp8")`: the URL of a live server for that guest and codec (one each)."""
    running: dict[tuple[str, str], LiveServer] = {}

    def start(guest: str, codec: Codec = "h264") -> str:
        if (guest, codec) not in running:
            path = scene_path(guest)
            if not path.exists():
                path = guest_path(guest)
            Runtime().load(path, guest)  # fills the compile cache, so no worker waits on the compiler
            worker = WorkerConfig(
                component=path, name=guest, size=SIZE, encoder=EncoderSettings(codec=codec, bitrate=500_000)
            )
            running[guest, codec] = LiveServer(ServeConfig(worker=worker, port=0)).__enter__()
        return running[guest, codec].url

    yield start
    for server in running.values():
        server.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Open]:
    """`open_page(url, width=480, height=400)`: a new browser context showing the client."""
    contexts = []

    def open_(url: str, width: int = 480, height: int = 400) -> ViewerPage:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        return ViewerPage(page)

    errors: list[str] = []
    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def assert_colour(seen: Colour, expected: Colour, what: str, tolerance: int = 12) -> None:
    assert close_to(seen, expected, tolerance), f"{what}: expected about {expected}, the video shows {seen}"


# --- video and input, with each codec ------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
def test_a_click_toggles_the_triangle(serve: Serve, open_page: Open, codec: Codec) -> None:
    viewer = open_page(serve("triangle", codec))
    viewer.wait_playing()
    before = viewer.wait_colour(ORANGE)
    assert_colour(before, ORANGE, "the triangle before any click")
    assert_colour(viewer.pixel(0.05, 0.5), NAVY, "the background")
    viewer.click_centre()
    after = viewer.wait_colour(CYAN)
    assert_colour(after, CYAN, "the triangle after one click")
    assert not close_to(before, after, 40)
    viewer.page.wait_for_function("() => window.streamerStats.codec !== null")
    assert viewer.page.evaluate("window.streamerStats.codec").lower() == codec
    # A private session asks for a playout delay of zero: the browser shows each frame as soon as
    # it is decoded instead of holding it in its jitter buffer (about 6 ms a frame here otherwise).
    inbound = viewer.page.evaluate("window.streamerStats.inbound")
    held_ms = inbound["jitterBufferDelay"] / inbound["jitterBufferEmittedCount"] * 1000
    assert held_ms < 2, f"frames waited {held_ms:.1f} ms on average in the browser's jitter buffer"


@pytest.mark.parametrize("codec", CODECS)
def test_keys_reach_the_guest(serve: Serve, open_page: Open, codec: Codec) -> None:
    viewer = open_page(serve("solid", codec))
    viewer.wait_playing()
    assert_colour(viewer.wait_colour(RED, SATURATED), RED, "solid at start", SATURATED)
    page = viewer.page
    page.focus("#stage")
    page.keyboard.press("w")
    assert_colour(viewer.wait_colour(WHITE), WHITE, "solid after key-w")
    sent = page.evaluate("window.streamer.sent")
    down = next(e for e in sent if e["type"] == "key-down")
    assert down["key"] == "key-w" and down["text"] == "w" and not down["shift"]
    assert isinstance(down["seq"], int) and isinstance(down["t"], float | int)
    page.keyboard.press("r")
    assert_colour(viewer.wait_colour(RED, SATURATED), RED, "solid after key-r", SATURATED)


@pytest.mark.parametrize("codec", ["h264", "vp8"])
def test_colours_are_faithful(
    serve: Serve, open_page: Open, codec: Codec, solid_colours: dict[str, Colour]
) -> None:
    """Saturated red, green and blue and a mid grey, as Chromium decodes and draws them, within 3
    of the guest's own RGB (the stream's colour is the frame layer's, gpu_host/frame.py)."""
    viewer = open_page(serve("solid", codec))
    viewer.wait_playing(frames=5)
    page = viewer.page
    box = viewer.video_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def nothing() -> None:
        pass

    def key_g() -> None:
        page.focus("#stage")
        page.keyboard.press("g")

    steps: list[tuple[str, Callable[[], None]]] = [
        ("red", nothing),
        ("green", page.mouse.down),
        ("blue", page.mouse.up),
        ("grey", key_g),
    ]
    for name, act in steps:
        act()
        expected = solid_colours[name]
        seen = viewer.wait_colour(expected, tolerance=3, timeout=5)
        assert_colour(seen, expected, f"solid {name} through {codec}", tolerance=3)


# --- the page's own parts ------------------------------------------------------------------------


def test_two_pages_are_two_sessions(serve: Serve, open_page: Open) -> None:
    url = serve("triangle")
    first, second = open_page(url), open_page(url)
    first.wait_playing()
    second.wait_playing()
    sessions = {v.page.evaluate("window.streamer.session") for v in (first, second)}
    assert len(sessions) == 2 and None not in sessions
    first.click_centre()
    assert_colour(first.wait_colour(CYAN), CYAN, "the clicked page")
    second.page.wait_for_timeout(500)  # time enough for a wrongly routed click to show
    assert_colour(second.pixel(), ORANGE, "the other page")


def test_a_guest_ending_shows_why_and_reconnect_starts_a_new_session(serve: Serve, open_page: Open) -> None:
    viewer = open_page(serve("trap_after"))
    page = viewer.page
    page.wait_for_function("() => window.streamerState === 'ended'", timeout=30_000)
    first = page.evaluate("window.streamer.session")
    state = page.locator("#state")
    assert "guest ended" in state.inner_text()
    assert "'trap_after" in state.inner_text() and "trapped" in state.inner_text()
    assert "trapped" in page.locator("#banner").inner_text()
    reconnect = page.get_by_role("button", name="Reconnect")
    assert reconnect.is_visible()
    reconnect.click()
    page.wait_for_function("() => window.streamerState !== 'ended'")
    page.wait_for_function("() => window.streamerState === 'ended'", timeout=30_000)
    assert page.evaluate("window.streamer.session") not in (None, first)


def test_pointer_mapping_skips_the_bars(
    serve: Serve, open_page: Open, capfd: pytest.CaptureFixture[str]
) -> None:
    # A wide page for a 4:3 picture: bars left and right of it.
    viewer = open_page(serve("solid"), width=900, height=300)
    viewer.wait_playing()
    page = viewer.page
    box = viewer.video_box()
    scale = min(box["width"] / SIZE[0], box["height"] / SIZE[1])
    left = box["x"] + (box["width"] - SIZE[0] * scale) / 2
    top = box["y"] + (box["height"] - SIZE[1] * scale) / 2
    assert left - box["x"] > 100, "the page should have bars beside the picture"

    page.mouse.click(box["x"] + 20, box["y"] + box["height"] / 2)  # on the left bar
    page.wait_for_timeout(300)
    assert page.evaluate("window.streamer.sent.filter(e => e.type.startsWith('pointer-')).length") == 0
    assert_colour(viewer.pixel(), RED, "after a click on the bar", SATURATED)

    target = (80.0, 60.0)  # surface pixels
    page.mouse.click(left + target[0] * scale, top + target[1] * scale)
    assert_colour(viewer.wait_colour(BLUE, SATURATED), BLUE, "after a click on the picture", SATURATED)
    sent = page.evaluate("window.streamer.sent")
    down = next(e for e in sent if e["type"] == "pointer-down")
    tolerance = 1 / scale + 0.01  # the mouse lands on whole CSS pixels
    assert abs(down["x"] - target[0]) <= tolerance and abs(down["y"] - target[1]) <= tolerance, down
    # The guest itself got those coordinates (it prints each event; its worker shares our stdout).
    page.wait_for_timeout(200)
    received = [
        json.loads(line.split("] ", 1)[1])
        for line in capfd.readouterr().out.splitlines()
        if '"event"' in line
    ]
    guest_down = next(e for e in received if e["event"] == "pointer-down")
    assert abs(guest_down["x"] - down["x"]) < 0.01 and abs(guest_down["y"] - down["y"]) < 0.01


def test_mapping_function_with_letterbox_and_pillarbox(serve: Serve, open_page: Open) -> None:
    viewer = open_page(serve("solid"))
    page = viewer.page
    page.wait_for_function("() => window.streamer !== undefined")
    mapped = page.evaluate(
        """() => {
            const m = window.streamer.mapToSurface;
            const tall = {left: 10, top: 20, width: 400, height: 400};  // 320x240 shown 400x300 at y=70
            const wide = {left: 0, top: 0, width: 600, height: 240};    // shown 320x240 at x=140
            return [m(210, 70, tall, 320, 240), m(410, 370, tall, 320, 240), m(210, 60, tall, 320, 240),
                    m(140, 0, wide, 320, 240), m(300, 120, wide, 320, 240), m(100, 120, wide, 320, 240),
                    m(5, 5, tall, 0, 0),
                    // a 240x180 picture encoded from a 320x240 surface (a poor link): same places
                    m(210, 70, tall, 240, 180, 320, 240), m(110, 145, tall, 240, 180, 320, 240)];
        }"""
    )
    assert mapped[0] == {"x": 160, "y": 0, "inside": True}
    assert mapped[1] == {"x": 320, "y": 240, "inside": False}  # the far corner is just outside
    assert mapped[2] == {"x": 160, "y": 0, "inside": False}  # in the top bar: clamped
    assert mapped[3] == {"x": 0, "y": 0, "inside": True}
    assert mapped[4] == {"x": 160, "y": 120, "inside": True}
    assert mapped[5] == {"x": 0, "y": 120, "inside": False}
    assert mapped[6] is None  # no video yet
    assert mapped[7] == {"x": 160, "y": 0, "inside": True}
    assert mapped[8] == {"x": 80, "y": 60, "inside": True}


def test_key_names_follow_the_hello(serve: Serve, open_page: Open) -> None:
    viewer = open_page(serve("solid"))
    page = viewer.page
    page.wait_for_function("() => window.streamer.hello !== null", timeout=30_000)
    known = "KeyA:key-a Digit0:digit0 ArrowLeft:arrow-left Numpad0:numpad0 NumpadAdd:numpad-add F1:f1"
    known += " ShiftLeft:shift-left Space:space"
    expected: dict[str, str | None] = {code: name for code, name in (p.split(":") for p in known.split())}
    expected |= {"OSLeft": None, "Unidentified": None, "X": None}  # legacy, unknown, not a code
    names = page.evaluate("codes => codes.map(window.streamer.keyName)", list(expected))
    assert dict(zip(expected, names, strict=True)) == expected


def test_stats_overlay_measures_input_to_photon(serve: Serve, open_page: Open) -> None:
    viewer = open_page(serve("triangle"))
    viewer.wait_playing()
    page = viewer.page
    overlay = page.locator("#stats")
    assert overlay.is_hidden()
    page.focus("#stage")
    page.keyboard.press("Control+Shift+S")  # the shortcut: opens the overlay, never reaches the guest
    assert overlay.is_visible()
    sent = page.evaluate("window.streamer.sent")
    assert not [e for e in sent if e.get("key") == "key-s"], sent
    corner = (4 / SIZE[0], 4 / SIZE[1])  # inside marker cell 0, white while the probe is on
    page.wait_for_function("() => window.streamerStats.lastMarker !== null", timeout=10_000)
    assert_colour(viewer.pixel(*corner), WHITE, "marker cell 0")
    for _ in range(4):
        viewer.click_centre()
        page.wait_for_timeout(250)
    page.wait_for_function("() => window.streamerStats.latencies.length >= 8", timeout=10_000)
    latencies = page.evaluate("window.streamerStats.latencies")
    assert all(0 < value < 2000 for value in latencies), latencies
    assert page.evaluate("window.streamerStats.lastMarker") == page.evaluate("window.streamer.seq") % 65536
    page.wait_for_function("() => document.getElementById('stat-latency').textContent.endsWith('ms')")
    no_value = "\u2013"  # the en dash the overlay shows before it has a figure
    page.wait_for_function(
        f"() => document.getElementById('stat-fps').textContent !== '{no_value}'", timeout=5000
    )

    page.get_by_role("button", name="Stats").click()
    assert overlay.is_hidden()
    page.wait_for_timeout(300)
    assert_colour(viewer.pixel(*corner), NAVY, "the corner once the probe is off")


def test_match_window_size_resizes_the_surface(serve: Serve, open_page: Open) -> None:
    viewer = open_page(serve("solid"), width=500, height=400)
    viewer.wait_playing()
    page = viewer.page
    page.get_by_label("Match window size").check()
    stage = page.locator("#stage").bounding_box()
    assert stage is not None
    want = (round(stage["width"]), round(stage["height"]))
    page.wait_for_function(
        "([w, h]) => { const v = document.getElementById('video');"
        " return Math.abs(v.videoWidth - w) <= 1 && Math.abs(v.videoHeight - h) <= 1; }",
        arg=list(want),
        timeout=10_000,
    )
    resize = [e for e in page.evaluate("window.streamer.sent") if e["type"] == "resize"]
    assert resize[-1]["width"] == want[0] and resize[-1]["height"] == want[1]


def sessions_open(url: str) -> int:
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        return int(json.load(response)["sessions"])


def test_closing_the_tab_ends_its_session(serve: Serve, open_page: Open) -> None:
    url = serve("triangle")
    viewer = open_page(url)
    viewer.wait_playing(frames=5)
    before = sessions_open(url)
    assert before >= 1
    viewer.page.close()
    # The page closes its connection on pagehide, so this takes well under a second here; the bound
    # leaves room for the 10 s heartbeat, which catches a connection lost without a word.
    deadline = time.monotonic() + 12
    while sessions_open(url) >= before:
        assert time.monotonic() < deadline, "the session outlived its tab"
        time.sleep(0.2)


# --- shared mode (streamer serve --shared) ------------------------------------------------------


def shared_server(**settings: object) -> LiveServer:
    worker = WorkerConfig(component=scene_path("triangle"), name="triangle", size=(640, 360))
    shared = SharedSettings(**settings)  # type: ignore[arg-type]
    return LiveServer(ServeConfig(worker=worker, port=0, shared=shared, max_sessions=4))


def test_shared_pages_watch_one_guest_and_only_the_driver_changes_it(open_page: Open) -> None:
    with shared_server() as server:
        driver, watcher = open_page(server.url), open_page(server.url)
        driver.wait_playing()
        watcher.wait_playing()
        driver.page.get_by_role("button", name="Take control").click()
        driver.page.wait_for_function("() => window.streamer.control?.driver === 'you'")
        watcher.page.wait_for_function("() => window.streamer.control?.driver === 'other'")
        assert "view only" in watcher.page.locator("#control").inner_text()
        assert "2 watching" in watcher.page.locator("#control").inner_text()

        driver.click_centre()
        assert_colour(driver.wait_colour(CYAN), CYAN, "the driver's picture after its click")
        assert_colour(watcher.wait_colour(CYAN), CYAN, "the watcher's picture after the driver's click")
        watcher.click_centre()
        watcher.page.wait_for_timeout(500)  # time enough for a wrongly passed click to show
        assert_colour(watcher.pixel(), CYAN, "the watcher's picture after its own click")
        assert_colour(driver.pixel(), CYAN, "the driver's picture after the watcher's click")

        # Control handed over: the driver gives it up, the watcher takes it and drives.
        driver.page.get_by_role("button", name="Give up control").click()
        watcher.page.wait_for_function("() => window.streamer.control?.driver === 'none'")
        watcher.page.get_by_role("button", name="Take control").click()
        driver.page.wait_for_function("() => window.streamer.control?.driver === 'other'")
        watcher.click_centre()
        assert_colour(driver.wait_colour(ORANGE), ORANGE, "the first page after the new driver's click")

        # A third page joins mid-stream: its first frame shows within a second of connecting.
        late = open_page(server.url)
        late.page.wait_for_function("() => window.streamer.joinMs !== null", timeout=30_000)
        join_ms = late.page.evaluate("window.streamer.joinMs")
        assert join_ms <= 1000, f"the third page's first frame came {join_ms:.0f} ms after it connected"


def test_the_kiosk_page_reconnects_by_itself_after_a_restart(open_page: Open) -> None:
    server = shared_server()
    server.__enter__()
    try:
        kiosk = open_page(server.url + "/?kiosk=1")
        kiosk.wait_playing()
        assert not kiosk.page.locator("header").is_visible()
        first = kiosk.page.evaluate("window.streamer.session")
        port = server.url.rsplit(":", 1)[1]
    finally:
        server.close()
    kiosk.page.wait_for_function("() => window.streamerState === 'disconnected'", timeout=30_000)
    worker = WorkerConfig(component=scene_path("triangle"), name="triangle", size=(640, 360))
    again = ServeConfig(worker=worker, port=int(port), shared=SharedSettings(), max_sessions=4)
    with LiveServer(again):
        kiosk.page.wait_for_function("() => window.streamerState === 'streaming'", timeout=60_000)
        assert kiosk.page.evaluate("window.streamer.session") not in (None, first)
