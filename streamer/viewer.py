"""A viewer in Python (aiortc), for tests and measurements without a browser.

It does what streamer/web_client/ does, minus the page: offers to receive video and opens the `input` data
channel, sends protocol messages, and keeps the decoded frames (as RGB arrays, with their arrival
time) and the server's messages.
"""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

import aiohttp
import av
import numpy as np
import numpy.typing as npt
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

__all__ = ["ReceivedFrame", "Viewer"]


@dataclass(frozen=True)
class ReceivedFrame:
    rgb: npt.NDArray[np.uint8]
    arrived: float  # time.monotonic()
    keyframe: bool


@dataclass
class Viewer:
    """`async with Viewer(url) as viewer:` connects; frames and messages accumulate as they come."""

    url: str
    keep_frames: int = 600
    ping_interval: float | None = 2.0  # like the page; None to test the server's heartbeat timeout
    frames: list[ReceivedFrame] = field(default_factory=list)
    messages: list[dict[str, object]] = field(default_factory=list)
    frames_received: int = 0
    answer_sdp: str = ""
    session: str = ""  # the server's id for this viewer's session (the answer's `session`)
    ssl: ssl_.SSLContext | None = None  # for an https URL whose certificate the system does not trust
    cookies: dict[str, str] = field(default_factory=dict)  # e.g. the access token's (--auth token)
    # Rewrite the offer as sent and the answer as applied: tests route ICE through a relay that
    # impairs the network (tests/netlink.py).
    rewrite_offer: Callable[[str], str] | None = None
    rewrite_answer: Callable[[str], str] | None = None
    # Every frame's arrival time (time.monotonic()), however few frames `frames` keeps.
    arrivals: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # loopback only, never public STUN
        self.channel = self.pc.createDataChannel("input")
        self.channel.on("message", self._on_message)
        self._seq = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._new_frame = asyncio.Event()
        self._new_message = asyncio.Event()
        self.channel_open = asyncio.Event()
        self.channel.on("open", self._on_open)
        self.pc.on("track", self._on_track)

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        self.pc.addTransceiver("video", direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = self.pc.localDescription.sdp
        offer = {"sdp": self.rewrite_offer(sdp) if self.rewrite_offer else sdp, "type": "offer"}
        # A Cookie header, not aiohttp's cookie jar, which keeps no cookies for IP addresses.
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"Cookie": cookie} if cookie else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/offer", json=offer, ssl=self.ssl or True, headers=headers) as response,
        ):
            body = await response.json()
        if response.status != 200:
            await self.pc.close()  # its ICE sockets are open already
            raise RuntimeError(f"offer refused ({response.status}): {body.get('error')}")
        self.answer_sdp = body["sdp"]
        self.session = str(body.get("session", ""))
        answer = self.rewrite_answer(body["sdp"]) if self.rewrite_answer else body["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type=body["type"]))

    def _on_open(self) -> None:
        self.channel_open.set()
        if self.ping_interval is not None:
            self._tasks.append(asyncio.ensure_future(self._ping(self.ping_interval)))

    async def _ping(self, interval: float) -> None:
        while self.channel.readyState == "open":
            self.channel.send(json.dumps({"v": 1, "type": "ping"}))
            await asyncio.sleep(interval)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.ensure_future(self._receive(track)))

    async def _receive(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            assert isinstance(frame, av.VideoFrame)
            self.frames_received += 1
            arrived = time.monotonic()
            self.arrivals.append(arrived)
            self.frames.append(
                ReceivedFrame(
                    np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8),
                    arrived,
                    bool(frame.key_frame),
                )
            )
            del self.frames[: -self.keep_frames]
            self._new_frame.set()

    def _on_message(self, text: str) -> None:
        self.messages.append(json.loads(text))
        self._new_message.set()

    def send(self, message: dict[str, object]) -> int:
        """Send a protocol message (`v` added; input events get the next `seq`); returns the seq."""
        self._seq += 1
        self.channel.send(json.dumps({"v": 1, "seq": self._seq, **message}))
        return self._seq

    def send_raw(self, text: str) -> None:
        self.channel.send(text)

    async def wait_frames(self, count: int, timeout: float = 30.0) -> ReceivedFrame:
        """Wait until `count` frames have arrived in all; the latest frame."""
        async with asyncio.timeout(timeout):
            while self.frames_received < count:
                self._new_frame.clear()
                await self._new_frame.wait()
        return self.frames[-1]

    async def wait_message(self, kind: str, timeout: float = 30.0) -> dict[str, object]:
        """The first message of type `kind` (already received or next to come)."""
        async with asyncio.timeout(timeout):
            while True:
                for message in self.messages:
                    if message.get("type") == kind:
                        return message
                self._new_message.clear()
                await self._new_message.wait()

    async def close(self) -> None:
        await self.pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
