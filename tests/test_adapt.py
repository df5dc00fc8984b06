"""A viewer's link, end to end with real aiortc peers: its REMB becomes the server's estimate, the
page is told what is sent (`stream`) and the surface size (`surface`), and a link shown to be full
takes the bitrate down, then the frame rate (docs/design.md, "Adapting to the network")."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import aiohttp
import pytest
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtp import RTCP_PSFB_APP, AnyRtcpPacket, RtcpPsfbPacket, pack_remb_fci, unpack_remb_fci

from scenes.build import scene_path
from streamer.encoder import EncoderSettings
from streamer.server import ServeConfig, running
from streamer.stream_task import WorkerConfig
from streamer.viewer import Viewer

pytestmark = pytest.mark.usefixtures("blocking_guard")

SIZE = (160, 120)


def config(scene: str = "triangle", **encoder: object) -> ServeConfig:
    settings = replace(EncoderSettings(bitrate=1_000_000), **encoder)  # type: ignore[arg-type]
    worker = WorkerConfig(component=scene_path(scene), name="test", size=SIZE, encoder=settings)
    return ServeConfig(worker=worker, port=0)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 60))


async def metrics(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        return await response.text()


def series(text: str, name: str) -> dict[str, float]:
    """Each session's value of a per-session metric."""
    pattern = re.compile(rf'^{name}\{{session="(\w+)"\}} (\S+)$', re.M)
    return {session: float(value) for session, value in pattern.findall(text)}


def stream_messages(viewer: Viewer) -> list[dict[str, object]]:
    return [m for m in viewer.messages if m.get("type") == "stream"]


def rembs_sent(viewer: Viewer) -> list[int]:
    """Record each REMB the viewer's own receiver sends (aiortc's estimator, on abs-send-time)."""
    receiver = viewer.pc.getTransceivers()[0].receiver
    sent: list[int] = []
    original = receiver._send_rtcp

    async def send(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            sent.append(unpack_remb_fci(packet.fci)[0])
        await original(packet)

    receiver._send_rtcp = send  # type: ignore[method-assign]
    return sent


def test_the_viewers_remb_is_the_estimate_and_metrics_and_the_page_show_it() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, _server), Viewer(url) as viewer:
            sent = rembs_sent(viewer)
            hello = await viewer.wait_message("hello")
            await viewer.wait_frames(1)
            deadline = time.monotonic() + 15
            while not any(m["estimate"] is not None for m in stream_messages(viewer)):
                assert time.monotonic() < deadline, "no estimate reached the page"
                await asyncio.sleep(0.2)
            assert sent, "aiortc's receiver sent no REMB"
            estimates = {m["estimate"] for m in stream_messages(viewer)} - {None}
            assert estimates <= set(sent), (estimates, sent)  # the REMB as sent, unclamped
            text = await metrics(url)
            session = str(hello["session"])
            assert series(text, "streamer_bandwidth_estimate_bps")[session] in sent
            # A still triangle sends far under its REMB: nothing shows the link full, so the
            # stream keeps its ceiling, frame rate and size.
            last = stream_messages(viewer)[-1]
            assert (last["bitrate"], last["fps"], last["width"], last["height"]) == (1_000_000, 30, *SIZE)
            assert series(text, "streamer_video_bitrate_bps")[session] == 1_000_000
            assert series(text, "streamer_video_fps")[session] == 30
            assert (
                series(text, "streamer_video_width")[session],
                series(text, "streamer_video_height")[session],
            ) == SIZE
            assert 'streamer_retransmissions_total{outcome="resent"}' not in text

            # NACKs, as a viewer that lost packets sends them: the last packet is resent, one
            # far older than the history is counted as missed.
            receiver = viewer.pc.getTransceivers()[0].receiver
            ((ssrc, stream),) = receiver._RTCRtpReceiver__remote_streams.items()  # type: ignore[attr-defined]
            # (sorted: aiortc packs a NACK list in ascending order)
            await receiver._send_rtcp_nack(ssrc, sorted([stream.max_seq, (stream.max_seq - 5000) % 65536]))
            deadline = time.monotonic() + 5
            while 'streamer_retransmissions_total{outcome="missed"} 1.0' not in (text := await metrics(url)):
                assert time.monotonic() < deadline, "the NACK was not counted"
                await asyncio.sleep(0.1)
            assert 'streamer_retransmissions_total{outcome="resent"} 1.0' in text

            viewer.send({"type": "resize", "width": 200, "height": 150})
            surface = await viewer.wait_message("surface", timeout=10)
            assert (surface["width"], surface["height"]) == (200, 150)

    run(scenario)


class RembSender:
    """Stands in for the viewer's own estimator: sends the REMB the test says, five times a second."""

    def __init__(self, viewer: Viewer) -> None:
        self.receiver: RTCRtpReceiver = viewer.pc.getTransceivers()[0].receiver
        self.receiver._RTCRtpReceiver__remote_bitrate_estimator = None  # type: ignore[attr-defined]
        self.bitrate = 0
        self._task: asyncio.Task[None] | None = None

    def start(self, bitrate: int) -> None:
        self.bitrate = bitrate
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            streams = self.receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
            if streams:
                packet = RtcpPsfbPacket(
                    fmt=RTCP_PSFB_APP,
                    ssrc=self.receiver._RTCRtpReceiver__rtcp_ssrc,  # type: ignore[attr-defined]
                    media_ssrc=0,
                    fci=pack_remb_fci(self.bitrate, list(streams)),
                )
                await self.receiver._send_rtcp(packet)
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def frame_rate(viewer: Viewer, seconds: float) -> float:
    recent = [f.arrived for f in viewer.frames if f.arrived > time.monotonic() - seconds]
    return (len(recent) - 1) / (recent[-1] - recent[0])


async def wait_stream(viewer: Viewer, condition: Callable[[dict[str, object]], bool], timeout: float) -> None:
    """Wait for a `stream` message, from now on, that meets `condition`."""
    seen = len(stream_messages(viewer))
    deadline = time.monotonic() + timeout
    while not any(condition(m) for m in stream_messages(viewer)[seen:]):
        assert time.monotonic() < deadline, stream_messages(viewer)[-3:]
        await asyncio.sleep(0.1)


def test_a_full_link_takes_the_bitrate_to_the_floor_then_the_frame_rate_and_both_come_back() -> None:
    async def scenario() -> None:
        async with running(config("orbit", min_bitrate=200_000)) as (url, _server), Viewer(url) as viewer:
            # The first frame first: a worker that compiles the scene (a cold compile cache, as in
            # a fresh checkout) takes seconds before it streams, and REMB needs the stream.
            await viewer.wait_frames(1, timeout=60)
            remb = RembSender(viewer)
            remb.start(20_000)  # far under what the moving scene sends: the link is full
            try:
                await wait_stream(viewer, lambda m: m["bitrate"] == 200_000 and m["fps"] == 30, 10)
                await wait_stream(viewer, lambda m: m["fps"] == 20, 10)
                await asyncio.sleep(1.5)
                assert 15 <= frame_rate(viewer, 1.2) <= 24
                text = await metrics(url)
                assert metric(text, 'streamer_rate_changes_total{what="bitrate"}') >= 1
                assert metric(text, 'streamer_rate_changes_total{what="fps"}') == 1
                remb.bitrate = 10_000_000  # the link recovers
                await wait_stream(viewer, lambda m: m["bitrate"] == 1_000_000 and m["fps"] == 30, 10)
                await asyncio.sleep(1.5)
                assert frame_rate(viewer, 1.2) >= 26
            finally:
                await remb.stop()

    run(scenario)


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)
