"""What a viewer sees, measured: frame rate, freezes and received bitrate over time.

For the aiortc viewer (streamer/viewer.py) the measures work on its frames' arrival times
(`Viewer.arrivals`) and on the datagrams a relay forwarded to it (tests/netlink.py,
`LinkCounts.sent`), which give the received bitrate exactly. A freeze is a gap between frames
longer than max(3 x the median frame interval, the median + 150 ms), as issue 16 defines it.
For Chromium, `inbound_video` reads the video's inbound-rtp statistics, whose `freezeCount` and
`totalFreezesDuration` are Chromium's own measure of the same thing.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser import ViewerPage
from tests.netlink import Relay, route_offer_through

__all__ = [
    "Freeze",
    "InboundVideo",
    "bitrate",
    "bitrate_series",
    "fps",
    "freezes",
    "inbound_video",
    "keep_peer_connections",
    "watch_through",
]


@dataclass(frozen=True)
class Freeze:
    start: float  # arrival time of the last frame before the gap
    duration: float  # seconds until the next frame


def freezes(arrivals: Sequence[float]) -> list[Freeze]:
    """The gaps in `arrivals` (ascending times) long enough to be freezes, judged against these
    arrivals' own median interval."""
    intervals = [b - a for a, b in itertools.pairwise(arrivals)]
    if not intervals:
        return []
    median = statistics.median(intervals)
    threshold = max(3 * median, median + 0.150)
    return [Freeze(a, b - a) for a, b in itertools.pairwise(arrivals) if b - a > threshold]


def fps(arrivals: Sequence[float], start: float, end: float) -> float:
    """Frames per second that arrived in [start, end)."""
    return sum(start <= t < end for t in arrivals) / (end - start)


def bitrate(sent: Sequence[tuple[float, int]], start: float, end: float) -> float:
    """Bits per second of the (time, bytes) datagrams sent in [start, end)."""
    return sum(size for t, size in sent if start <= t < end) * 8 / (end - start)


def bitrate_series(
    sent: Sequence[tuple[float, int]], start: float, end: float, step: float = 0.5
) -> list[tuple[float, float]]:
    """(bin start, bits per second) for consecutive bins of `step` seconds from `start` to `end`."""
    bins = [0] * max(0, int((end - start) / step))
    for t, size in sent:
        index = int((t - start) // step)
        if 0 <= index < len(bins) and t >= start:
            bins[index] += size
    return [(start + i * step, total * 8 / step) for i, total in enumerate(bins)]


@dataclass(frozen=True)
class InboundVideo:
    """Chromium's inbound-rtp statistics for the video (a subset; seconds and bytes)."""

    frames_decoded: int
    frames_per_second: float  # Chromium's own, over its last second
    freeze_count: int
    total_freezes_duration: float
    bytes_received: int  # RTP payload bytes
    packets_lost: int


# Chromium's getStats() needs the page's RTCPeerConnection, which the web client does not expose:
# wrap the constructor before the page's scripts run, and keep every connection made.
_KEEP_PEER_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
  Object.defineProperty(window, "testPeerConnections", { value: made });
})();
"""

_INBOUND_VIDEO = """
async () => {
  const pc = window.testPeerConnections.at(-1);
  if (!pc) return null;
  for (const s of (await pc.getStats()).values()) {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      return [s.framesDecoded ?? 0, s.framesPerSecond ?? 0, s.freezeCount ?? 0,
              s.totalFreezesDuration ?? 0, s.bytesReceived ?? 0, s.packetsLost ?? 0];
    }
  }
  return null;
}
"""


def keep_peer_connections(context: BrowserContext | Page) -> None:
    """Let `inbound_video` find the page's peer connection; call before the page loads."""
    context.add_init_script(_KEEP_PEER_CONNECTIONS)


def inbound_video(page: Page) -> InboundVideo | None:
    """The latest peer connection's inbound video statistics (None before the video's first packet)."""
    values = page.evaluate(_INBOUND_VIDEO)
    if values is None:
        return None
    decoded, per_second, count, duration, received, lost = values
    return InboundVideo(
        int(decoded), float(per_second), int(count), float(duration), int(received), int(lost)
    )


def watch_through(browser: Browser, url: str, relay: Relay) -> Page:
    """A new page of the web client at `url` whose WebRTC goes through `relay`, once it plays,
    with `inbound_video` able to read it."""
    context = browser.new_context(viewport={"width": 640, "height": 400})
    keep_peer_connections(context)
    page = context.new_page()
    route_offer_through(page, relay)
    page.goto(url)
    ViewerPage(page).wait_playing(frames=30, timeout=60)
    return page
