"""A network you can break on purpose: a UDP relay between a viewer and the server, on this machine.

`tc netem` is not available here (issue 16), so the tests route a session's ICE through `Relay`: two
UDP sockets, one the viewer talks to and one the server talks to. The offer's and the answer's ICE
candidates are rewritten (`Relay.rewrite_offer`, `Relay.rewrite_answer`) so that each peer sees
the relay as the other, and every datagram passes through a `Link` per direction, which can cap
the bandwidth, lose, delay and jitter datagrams, and counts what it forwards and drops.

A cap works like a bottleneck router: datagrams leave at the capped rate from a drop-tail queue
that holds `Impairment.queue` seconds of data, so too much traffic first shows as rising delay,
then as loss. That matters because the viewers' bandwidth estimates (REMB in Chromium and aiortc)
react to delay before loss.

With the aiortc viewer: `Viewer(url, rewrite_offer=relay.rewrite_offer,
rewrite_answer=relay.rewrite_answer)`. With Chromium: `route_offer_through(page, relay)`, and run
the relay on its own thread with `BackgroundRelay`, since Playwright's sync API owns the test's thread.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import json
import random
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from playwright.sync_api import Page, Route

__all__ = [
    "Address",
    "BackgroundRelay",
    "Impairment",
    "Link",
    "LinkCounts",
    "Relay",
    "replace_candidates",
    "route_offer_through",
]

Address = tuple[str, int]
T = TypeVar("T")


@dataclass(frozen=True)
class Impairment:
    """What one direction of the link does to datagrams. Replace a link's `impairment` to change it,
    at any time and from any thread (one attribute assignment; each datagram reads it once)."""

    rate: float | None = None  # bits per second of UDP payload; None: no cap
    queue: float = 0.25  # seconds of data at `rate` the bottleneck's queue holds; beyond it, drop-tail
    loss: float = 0.0  # probability that a datagram is lost (before the queue, like a lossy radio hop)
    delay: float = 0.0  # seconds added to every datagram
    # Each datagram's extra delay is uniform in [0, jitter] seconds, but no datagram overtakes the
    # one before it: the delay varies as on a real path, without the reordering that aiortc's and
    # Chromium's receivers would otherwise take for loss (and NACK). So bursts are spread, not shuffled.
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError("rate must be positive, or None for no cap")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError("loss is a probability")
        if min(self.queue, self.delay, self.jitter) < 0:
            raise ValueError("queue, delay and jitter are durations, not negative")


@dataclass
class LinkCounts:
    """What one direction did with the datagrams it was given."""

    packets: int = 0  # forwarded
    bytes: int = 0  # forwarded, UDP payload
    lost: int = 0  # dropped by random loss
    overflowed: int = 0  # dropped because the capped queue was full
    unroutable: int = 0  # arrived before the relay knew where to send them
    # (time.monotonic() when sent on, payload bytes) of every datagram forwarded: received bitrate
    # over time, comparable with the aiortc viewer's frame arrival times.
    sent: list[tuple[float, int]] = field(default_factory=list)
    # (time.monotonic() when it came in, payload bytes) of every datagram given to this direction,
    # dropped or not: what the sender offered, which is what adaptation must bring under a cap.
    offered: list[tuple[float, int]] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return self.lost + self.overflowed + self.unroutable


class Link:
    """One direction: takes datagrams in, hands each on (or drops it) as its `impairment` says.

    A single task sends the datagrams at their due times; their due times never decrease, so a
    deque in arrival order is the schedule."""

    def __init__(self, rng: random.Random) -> None:
        self.impairment = Impairment()
        self.counts = LinkCounts()
        self._rng = rng
        self._due: collections.deque[tuple[float, bytes, Address, asyncio.DatagramTransport]] = (
            collections.deque()
        )
        self._busy_until = 0.0  # when the capped sender finishes the data queued so far
        self._last_due = 0.0
        self._wake = asyncio.Event()

    def push(self, data: bytes, to: Address | None, via: asyncio.DatagramTransport | None) -> None:
        """A datagram to send on to `to` through `via` (None: nowhere known yet, dropped)."""
        self.counts.offered.append((time.monotonic(), len(data)))
        if to is None or via is None:
            self.counts.unroutable += 1
            return
        shape = self.impairment
        if shape.loss and self._rng.random() < shape.loss:
            self.counts.lost += 1
            return
        now = time.monotonic()
        leaves = now
        if shape.rate is not None:
            backlog = max(0.0, self._busy_until - now)
            serialise = len(data) * 8 / shape.rate
            if backlog + serialise > shape.queue:
                self.counts.overflowed += 1
                return
            leaves = now + backlog + serialise
            self._busy_until = leaves
        due = leaves + shape.delay + (self._rng.uniform(0.0, shape.jitter) if shape.jitter else 0.0)
        due = max(due, self._last_due)
        self._last_due = due
        self._due.append((due, data, to, via))
        self._wake.set()

    async def run(self) -> None:
        """Send each queued datagram at its due time, in order, until cancelled."""
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            due, data, to, via = self._due[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._due.popleft()
            if via.is_closing():
                continue
            via.sendto(data, to)
            self.counts.packets += 1
            self.counts.bytes += len(data)
            self.counts.sent.append((time.monotonic(), len(data)))


class _Socket(asyncio.DatagramProtocol):
    """One of the relay's two sockets: hands what it receives, with the sender, to `received`."""

    def __init__(self, received: Callable[[bytes, Address], None]) -> None:
        self._received = received

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self._received(data, (str(addr[0]), int(addr[1])))


class Relay:
    """`async with Relay() as relay:` relays one viewer's session; rewrite its offer and answer
    with `rewrite_offer` and `rewrite_answer` so that ICE goes through it.

    `to_viewer` (server to viewer: the media) and `to_server` are the two directions' links."""

    def __init__(self, host: str = "127.0.0.1", seed: int = 16) -> None:
        self.host = host
        rng = random.Random(seed)  # one generator, drawn from only on the loop: runs repeat
        self.to_viewer = Link(rng)
        self.to_server = Link(rng)
        self.viewer_address: Address | None = None  # the viewer's real candidate (learnt, then seen)
        self.server_address: Address | None = None  # the server's real candidate
        self._viewer_side: asyncio.DatagramTransport | None = None  # the viewer sends here
        self._server_side: asyncio.DatagramTransport | None = None  # the server sends here
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._viewer_side, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._from_viewer), local_addr=(self.host, 0)
        )
        self._server_side, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self._from_server), local_addr=(self.host, 0)
        )
        self._tasks = [asyncio.create_task(link.run()) for link in (self.to_viewer, self.to_server)]

    @property
    def viewer_side(self) -> Address:
        """The address the viewer is told is the server's."""
        assert self._viewer_side is not None, "start the relay first"
        host, port = self._viewer_side.get_extra_info("sockname")[:2]
        return (str(host), int(port))

    @property
    def server_side(self) -> Address:
        """The address the server is told is the viewer's."""
        assert self._server_side is not None, "start the relay first"
        host, port = self._server_side.get_extra_info("sockname")[:2]
        return (str(host), int(port))

    def rewrite_offer(self, sdp: str) -> str:
        """The viewer's offer as the server should get it: one candidate, the relay's server side."""
        self.viewer_address, rewritten = replace_candidates(sdp, self.server_side)
        return rewritten

    def rewrite_answer(self, sdp: str) -> str:
        """The server's answer as the viewer should get it: one candidate, the relay's viewer side."""
        self.server_address, rewritten = replace_candidates(sdp, self.viewer_side)
        return rewritten

    def _from_viewer(self, data: bytes, sender: Address) -> None:
        # ICE may settle on another source port than the offer named (a peer-reflexive candidate):
        # replies go wherever the viewer last sent from.
        self.viewer_address = sender
        self.to_server.push(data, self.server_address, self._server_side)

    def _from_server(self, data: bytes, sender: Address) -> None:
        self.server_address = sender
        self.to_viewer.push(data, self.viewer_address, self._viewer_side)

    async def close(self) -> None:
        """Stop forwarding: cancel the links' send tasks and close both sockets."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for transport in (self._viewer_side, self._server_side):
            if transport is not None:
                transport.close()


def replace_candidates(sdp: str, relay: Address) -> tuple[Address, str]:
    """Keep one ICE candidate, pointed at `relay`: the peer's real address, and the rewritten SDP.

    The one kept is the first UDP IPv4 host candidate of component 1 (RTP and RTCP share it, and the
    media share the first m-section's transport: both peers bundle). Every other candidate is
    removed, so ICE can only pair through the relay; `c=` lines and m-line ports naming the real
    address are rewritten too, so the SDP tells one story."""
    lines = sdp.splitlines()
    real: Address | None = None
    for line in lines:
        candidate = _host_candidate(line)
        if candidate is not None:
            real = candidate
            break
    if real is None:
        raise ValueError("the SDP has no UDP IPv4 host candidate to route through the relay")
    out = []
    for line in lines:
        if line.startswith("a=candidate:"):
            if _host_candidate(line) != real:
                continue
            fields = line.split(" ")
            fields[4], fields[5] = relay[0], str(relay[1])
            line = " ".join(fields)
        elif line == f"c=IN IP4 {real[0]}":
            line = f"c=IN IP4 {relay[0]}"
        elif line.startswith("m="):
            fields = line.split(" ")
            if fields[1] == str(real[1]):
                fields[1] = str(relay[1])
            line = " ".join(fields)
        out.append(line)
    return real, "\r\n".join(out) + "\r\n"


def _host_candidate(line: str) -> Address | None:
    """(address, port) of an `a=candidate:` line that is a UDP IPv4 host candidate for RTP."""
    if not line.startswith("a=candidate:"):
        return None
    fields = line.split(" ")
    if len(fields) < 8 or fields[1] != "1" or fields[2].lower() != "udp" or fields[7] != "host":
        return None
    try:
        address = ipaddress.ip_address(fields[4])
    except ValueError:
        return None  # an mDNS name: tests/browser.py launches Chromium with plain addresses
    if address.version != 4:
        return None
    return (fields[4], int(fields[5]))


def route_offer_through(page: Page, relay: Relay) -> None:
    """Send the page's signalling through the relay's rewriting: the offer it POSTs to /offer and
    the answer that comes back. Call before the page loads (it connects at once)."""

    def rewrite(route: Route) -> None:
        offer = route.request.post_data_json
        assert isinstance(offer, dict), "the page posts its offer as JSON"
        offer["sdp"] = relay.rewrite_offer(offer["sdp"])
        response = route.fetch(post_data=json.dumps(offer))
        answer = response.json()
        if response.ok:
            answer["sdp"] = relay.rewrite_answer(answer["sdp"])
        route.fulfill(response=response, body=json.dumps(answer))

    page.route("**/offer", rewrite)


class BackgroundRelay:
    """`with BackgroundRelay() as relay:` a `Relay` on its own event loop and thread, for tests whose
    thread belongs to Playwright's sync API. Its impairments may be replaced from the test's thread;
    its counters are read there too (ints and a list only ever appended to)."""

    def __init__(self, host: str = "127.0.0.1", seed: int = 16) -> None:
        self.relay = Relay(host, seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="relay", daemon=True)

    def __enter__(self) -> Relay:
        self._thread.start()
        self._call(self.relay.start())
        return self.relay

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._call(self.relay.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)
