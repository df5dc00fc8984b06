"""What the browser tests and the latency benchmark share: a live server and a headless Chromium.

`LiveServer` runs `streamer serve`'s application in this process, on 127.0.0.1 and a free port, with
its own event loop on a background thread (the sessions still spawn their worker processes).
`launch_chromium` starts Debian's Chromium through Playwright (never a downloaded browser).
`ViewerPage` wraps a Playwright page showing streamer/web_client/ with the calls the tests need.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import Future
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from playwright.sync_api import Browser, FloatRect, Page, Playwright

from streamer.server import ServeConfig, running

__all__ = ["CHROMIUM_ARGS", "LiveServer", "ViewerPage", "chromium_path", "launch_chromium"]

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
    # Plain host candidates instead of mDNS names: aiortc then pairs with them directly.
    "--disable-features=WebRtcHideLocalIpsWithMdns",
)

Colour = tuple[int, int, int]
T = TypeVar("T")


def chromium_path() -> str:
    """Debian's Chromium, or the one named by STREAMER_CHROMIUM."""
    path = os.environ.get("STREAMER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("no chromium found: install Debian's chromium or set STREAMER_CHROMIUM")
    return path


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=list(CHROMIUM_ARGS), headless=True
    )


class LiveServer:
    """`with LiveServer(config) as server:` serves on `server.url` until the block ends."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live server", daemon=True)
        self._running = AsyncExitStack()
        self._started = False

    def __enter__(self) -> Self:
        self._thread.start()
        self.url = self._call(self._start())
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._started:
            self._call(self._running.aclose())  # ends every session and its worker
            self._started = False
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._loop.is_running():
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=60)

    async def _start(self) -> str:
        url, _server = await self._running.enter_async_context(running(self.config))
        self._started = True
        return url


@dataclass
class ViewerPage:
    """A page showing the web client, with the measurements the tests make on it."""

    page: Page

    def wait_playing(self, frames: int = 30, timeout: float = 30.0) -> None:
        """Until the page says `streaming` and the video has shown more than `frames` frames."""
        self.page.wait_for_function(
            "n => window.streamerState === 'streaming'"
            " && document.getElementById('video').getVideoPlaybackQuality().totalVideoFrames > n",
            arg=frames,
            timeout=timeout * 1000,
        )

    def state(self) -> str:
        return str(self.page.evaluate("window.streamerState"))

    def pixel(self, fx: float = 0.5, fy: float = 0.5) -> Colour:
        """The decoded video's pixel at a fraction of its intrinsic size (drawn into a canvas)."""
        rgb = self.page.evaluate(
            """([fx, fy]) => {
                const v = document.getElementById('video');
                const c = document.createElement('canvas');
                c.width = v.videoWidth; c.height = v.videoHeight;
                const ctx = c.getContext('2d');
                ctx.drawImage(v, 0, 0);
                const d = ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data;
                return [d[0], d[1], d[2]];
            }""",
            [fx, fy],
        )
        return (int(rgb[0]), int(rgb[1]), int(rgb[2]))

    def wait_colour(self, expected: Colour, tolerance: int = 12, timeout: float = 10.0) -> Colour:
        """Poll the centre pixel until it is `expected` (± tolerance per channel); the last sample."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.pixel()
            if close_to(seen, expected, tolerance) or time.monotonic() > deadline:
                return seen
            self.page.wait_for_timeout(50)

    def video_box(self) -> FloatRect:
        box = self.page.locator("#video").bounding_box()
        assert box is not None, "the video element is not displayed"
        return box

    def click_centre(self) -> None:
        box = self.video_box()
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def close_to(seen: Colour, expected: Colour, tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(seen, expected, strict=True))
