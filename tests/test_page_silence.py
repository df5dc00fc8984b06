"""The web client notices a server that goes silent, in headless Chromium (tests/browser.py's harness).

The server's event loop is made to answer nothing (a blocking call scheduled on it): no `pong`, no
frames, no ICE replies, while the browser's ICE still calls the connection "connected" (its consent
checks take about 30 s to fail). The page must give up after about 6 s on its own: state
`disconnected` with the Reconnect button, its peer connection closed and nothing more sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from gpu_host import Runtime
from scenes.build import scene_path
from streamer.encoder import EncoderSettings
from streamer.server import ServeConfig
from streamer.stream_task import WorkerConfig
from tests.browser import LiveServer, ViewerPage, launch_chromium

# Counts what the page sends on its data channels and keeps its peer connections, for the checks.
SPY = """
window.__peers = [];
window.__sent = []; // messages sent, by peer connection
const NativePeer = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeer {
  constructor(...args) {
    super(...args);
    this.__index = window.__peers.push(this) - 1;
    window.__sent.push(0);
  }
  createDataChannel(...args) {
    const channel = super.createDataChannel(...args);
    const send = channel.send.bind(channel);
    channel.send = (data) => {
      window.__sent[this.__index] += 1;
      return send(data);
    };
    return channel;
  }
};
"""


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def test_a_silent_server_shows_disconnected_and_reconnect_recovers(browser: Browser) -> None:
    path = scene_path("triangle")
    Runtime().load(path, "triangle")  # fills the compile cache, so the worker does not wait on it
    worker = WorkerConfig(
        component=path, name="triangle", size=(320, 240), encoder=EncoderSettings(bitrate=300_000)
    )
    errors: list[str] = []
    t0 = time.monotonic()
    with LiveServer(ServeConfig(worker=worker, port=0)) as server:
        context = browser.new_context(viewport={"width": 480, "height": 400})
        try:
            context.add_init_script(SPY)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.url)
            viewer = ViewerPage(page)
            viewer.wait_playing(frames=5)
            print(f"streaming after {time.monotonic() - t0:.1f} s")
            first = page.evaluate("window.streamer.session")

            release = threading.Event()
            server._loop.call_soon_threadsafe(release.wait, 30)  # the server hears and says nothing
            try:
                silent_since = time.monotonic()
                page.wait_for_function("() => window.streamerState === 'disconnected'", timeout=10_000)
                waited = time.monotonic() - silent_since
                print(f"disconnected after {waited:.1f} s of silence")
                gone_at = time.monotonic()
                sent = page.evaluate("window.__sent[0]")
                assert "went silent" in page.evaluate("window.streamer.reason")
                assert "disconnected: the server went silent" in page.locator("#state").inner_text()
                assert page.get_by_role("button", name="Reconnect").is_visible()
                # Not before the 6 s of silence (the last pong may have come up to a ping interval,
                # 2 s, before the loop stopped), and not by waiting for ICE to fail (about 30 s).
                assert 3.5 < waited < 9.0, waited
                peer = page.evaluate("[window.__peers.length, window.__peers[0].signalingState]")
                assert peer == [1, "closed"]
            finally:
                release.set()

            page.get_by_role("button", name="Reconnect").click()
            viewer.wait_playing(frames=5)
            print(f"streaming again after {time.monotonic() - gone_at:.1f} s")
            assert page.evaluate("window.streamer.session") not in (None, first)
            assert page.evaluate("window.__peers[1].connectionState") == "connected"
            # Nothing more went out on the silent server's channel, for over a ping interval (2 s).
            page.wait_for_timeout(max(0.0, 2.5 - (time.monotonic() - gone_at)) * 1000)
            assert page.evaluate("window.__sent[0]") == sent
        finally:
            context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
