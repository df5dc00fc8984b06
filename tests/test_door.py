"""The server's network face under attack (docs/security.md): each attack that was found is a
regression test here, against the real server on loopback with real aiortc peers and raw sockets."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack

from streamer.admission import DoorSettings, host_allowed, origin_allowed
from streamer.offer import MAX_CANDIDATES, read_offer
from streamer.server import running
from streamer.viewer import Viewer
from tests.test_serve import config, metric, metrics, run, until

pytestmark = pytest.mark.usefixtures("blocking_guard")


async def browser_offer(
    audio: bool = False, max_message_size: int | None = None
) -> tuple[RTCPeerConnection, str]:
    """A peer like the page's (recvonly video and the `input` data channel), and its offer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("input")
    pc.addTransceiver("video", direction="recvonly")
    if audio:
        pc.addTrack(AudioStreamTrack())  # a page that added a microphone
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    if max_message_size is not None:
        sdp = "\r\n".join(
            f"a=max-message-size:{max_message_size}" if line.startswith("a=max-message-size:") else line
            for line in sdp.splitlines()
        )
    return pc, sdp


async def post(url: str, body: bytes, **headers: str) -> tuple[int, dict[str, object], dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.post(f"{url}/offer", data=body, headers=headers) as r:
        return r.status, json.loads(await r.text() or "{}"), dict(r.headers)


async def raw_request(url: str, chunks: list[bytes], pause: float = 0.0005) -> tuple[int, bytes]:
    """Send `chunks` as separate TCP writes; the status and body of the reply."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(pause)
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_bodies_are_read_whole_and_bad_ones_get_4xx_never_500() -> None:
    async def scenario() -> None:
        async with running(config(connect_timeout=2.0)) as (url, _server):
            pc, sdp = await browser_offer()
            body = json.dumps({"sdp": sdp, "type": "offer"}).encode()
            head = (
                f"POST /offer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            status, reply = await raw_request(url, [head + body[:100], body[100:]])  # two TCP writes
            assert status == 200 and b'"answer"' in reply, reply[:200]
            await pc.close()
            chunked = (
                b"POST /offer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            big = b"x" * 70_000
            status, _ = await raw_request(url, [chunked, b"%x\r\n" % len(big) + big + b"\r\n0\r\n\r\n"])
            assert status == 413
            status, reply_json, _ = await post(url, b"[" * 60_000, **{"Content-Type": "application/json"})
            assert status == 400 and "JSON" in str(reply_json["error"])

    run(scenario)


def test_cross_site_posts_preflights_and_foreign_hosts_are_refused() -> None:
    async def scenario() -> None:
        cfg = replace(config(), door=DoorSettings(allow_origins=("https://kiosk.example",)))
        async with running(cfg) as (url, server):
            pc, sdp = await browser_offer()
            await pc.close()  # only its offer is needed
            body = json.dumps({"sdp": sdp, "type": "offer"}).encode()
            # A text/plain post needs no preflight from any page: refused before any work.
            status, reply, _ = await post(url, body, **{"Content-Type": "text/plain"})
            assert status == 415 and "application/json" in str(reply["error"])
            status, reply, _ = await post(
                url, body, **{"Content-Type": "application/json", "Origin": "https://evil.example"}
            )
            assert status == 403
            async with aiohttp.ClientSession() as http:
                evil = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
                async with http.options(f"{url}/offer", headers=evil) as response:
                    assert response.status == 403
                kiosk = {**evil, "Origin": "https://kiosk.example"}
                async with http.options(f"{url}/offer", headers=kiosk) as response:
                    assert response.status == 204
                    assert response.headers["Access-Control-Allow-Origin"] == "https://kiosk.example"
                # DNS rebinding: a foreign name pointing at this machine reaches nothing.
                async with http.get(f"{url}/healthz", headers={"Host": "attacker.example"}) as response:
                    assert response.status == 421
                async with http.get(f"{url}/") as response:
                    assert response.status == 200
                    policy = response.headers["Content-Security-Policy"]
                    assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy
                    assert response.headers["X-Content-Type-Options"] == "nosniff"
                    assert response.headers["Referrer-Policy"] == "no-referrer"
            assert not server.sessions

    run(scenario)


def test_refused_offers_hold_no_slot_and_one_address_cannot_take_them_all() -> None:
    async def scenario() -> None:
        door = DoorSettings(offers_per_minute=100, sessions_per_address=1)
        async with running(replace(config(), max_sessions=2, door=door)) as (url, server):
            junk = json.dumps({"sdp": "v=0\r\nbroken", "type": "offer"}).encode()
            results = await asyncio.gather(
                *(post(url, junk, **{"Content-Type": "application/json"}) for _ in range(30))
            )
            assert {status for status, _, _ in results} == {400}
            assert not server.sessions  # refused offers never sat in the table
            await until(lambda: not server._refused)
            assert metric(await metrics(url), 'streamer_sessions_ended_total{cause="refused"}') == 30
            async with Viewer(url) as first:
                await first.wait_frames(2)
                with pytest.raises(RuntimeError, match=r"429.*already has 1 sessions"):
                    await Viewer(url).connect()  # the same address, over its share
                (session,) = server.sessions.values()
                # The same peer offering again (renegotiation) starts no second worker.
                status, _, _ = await post(
                    url,
                    json.dumps({"sdp": first.pc.localDescription.sdp, "type": "offer"}).encode(),
                    **{"Content-Type": "application/json"},
                )
                assert status == 409 and list(server.sessions.values()) == [session]

    run(scenario)


def test_offers_per_minute_are_limited_per_address() -> None:
    async def scenario() -> None:
        door = DoorSettings(offers_per_minute=3)
        async with running(replace(config(), door=door)) as (url, _server):
            junk = json.dumps({"sdp": "v=0\r\nbroken", "type": "offer"}).encode()
            statuses = [(await post(url, junk, **{"Content-Type": "application/json"}))[0] for _ in range(5)]
            assert statuses == [400, 400, 400, 429, 429]

    run(scenario)


def test_unsolicited_media_is_answered_inactive_and_memory_stays_flat() -> None:
    """A page that also sends a microphone: the answer refuses that media, nothing decodes it,
    and the server's memory does not grow while it sends (it grew 1.7 MB/s before)."""

    async def scenario() -> None:
        async with running(config()) as (url, server):
            viewer = Viewer(url, keep_frames=1)  # the viewer runs in this process: keep no frames
            viewer.pc.addTrack(AudioStreamTrack())
            await viewer.connect()
            audio = next(line for line in viewer.answer_sdp.split("m=")[1:] if line.startswith("audio"))
            assert "a=inactive" in audio
            await viewer.wait_frames(5)
            before = _rss()
            await asyncio.sleep(8)
            grown = _rss() - before
            assert viewer.frames_received > 100
            assert grown < 6 << 20, f"the server grew {grown >> 20} MB in 8 s while the viewer sent audio"
            await viewer.close()
            await until(lambda: not server.sessions)

    run(scenario)


def test_a_peer_that_never_acknowledges_is_bounded_then_ended() -> None:
    """A viewer that keeps pinging but never acknowledges SCTP data: replies queue up to a bound,
    the rest are dropped and counted, and a session stuck over the bound ends with the reason
    (the main process grew by 0.56 MB/s before: the queue had no bound)."""

    async def scenario() -> None:
        cfg = config(outgoing_bytes=4096, outgoing_stall=2.0)
        async with running(cfg) as (url, server):
            viewer = Viewer(url, keep_frames=1, ping_interval=0.01)
            await viewer.connect()
            await asyncio.wait_for(viewer.channel_open.wait(), 20)
            sctp: Any = viewer.pc.sctp

            async def no_ack() -> None:
                return None

            sctp._send_sack = no_ack  # its pings still arrive; our replies are never acknowledged
            (session,) = server.sessions.values()
            await until(lambda: session.messages_dropped > 20, 10)
            assert session.channel is not None and session.channel.bufferedAmount <= 4096 + 1024  # bounded
            await asyncio.wait_for(session.closed.wait(), 20)
            assert session.ended_reason is not None and "has not taken our messages" in session.ended_reason
            assert metric(await metrics(url), 'streamer_input_dropped_total{reason="outgoing"}') > 0
            await viewer.close()

    run(scenario)


def test_no_data_channel_message_ends_a_session() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server), Viewer(url) as viewer:
            await viewer.wait_frames(3)
            extra = viewer.pc.createDataChannel("another")
            for text in ("[" * 2000 + "]" * 2000, '{"v": 1, "type": "ping", "t": ' + "9" * 400 + "}"):
                viewer.send_raw(text)
            # A text message that is not UTF-8 (aiortc's own API cannot send one: its internals can).
            sctp = viewer.pc.sctp
            assert sctp is not None and viewer.channel.id is not None
            await sctp._send(viewer.channel.id, 51, b'{"v": 1, "type": "ping", "t": "\xff\xfe"}')
            await until(lambda: sum(m["type"] == "error" for m in viewer.messages) >= 1)
            extra.close()  # closing another channel does not touch the session
            seen = viewer.frames_received
            await until(lambda: viewer.frames_received > seen + 15)
            assert len(server.sessions) == 1 and not any(m["type"] == "ended" for m in viewer.messages)
            assert metric(await metrics(url), 'streamer_input_dropped_total{reason="channel"}') == 1

    run(scenario)


def test_a_tiny_max_message_size_is_refused_in_one_line() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server):
            pc, sdp = await browser_offer(max_message_size=100)
            status, reply, _ = await post(
                url,
                json.dumps({"sdp": sdp, "type": "offer"}).encode(),
                **{"Content-Type": "application/json"},
            )
            assert status == 400 and "max-message-size 100" in str(reply["error"])
            await pc.close()
            assert not server.sessions

    run(scenario)


def test_each_end_is_counted_by_its_cause_and_a_viewer_leaving_is_no_error() -> None:
    async def scenario() -> None:
        async with running(config()) as (url, server):
            async with Viewer(url) as viewer:
                await viewer.wait_frames(3)
            await until(lambda: not server.sessions)
            text = await metrics(url)
            assert metric(text, 'streamer_sessions_ended_total{cause="disconnected"}') == 1
            assert 'streamer_errors_total{kind="guest"}' not in text or (
                metric(text, 'streamer_errors_total{kind="guest"}') == 0
            )
            last = Viewer(url)
            await last.connect()
            await last.wait_frames(2)
            registry = server.metrics
        await last.close()  # the server shut down under it
        text = registry.exposition().decode()
        assert metric(text, 'streamer_sessions_ended_total{cause="shutdown"}') == 1

    run(scenario)


def test_slow_and_numerous_connections_are_cut_off() -> None:
    """Slowloris: headers sent a byte at a time are cut at the deadline, and one address cannot
    hold more than its share of connections; a real client still gets through meanwhile."""

    async def scenario() -> None:
        cfg = replace(config(), connections_per_address=5, header_seconds=1.0)
        async with running(cfg) as (url, server):
            host, port = url.removeprefix("http://").split(":")
            slow = [await asyncio.open_connection(host, int(port)) for _ in range(8)]
            for _reader, writer in slow:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            guard = server.connections
            assert guard is not None
            await until(lambda: guard.refused == 3, 5)
            await until(lambda: guard.timed_out == 5, 5)
            for reader, writer in slow:
                assert await reader.read() == b""  # closed by the server
                writer.close()
            async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
                assert response.status == 200
            assert not guard.open

    run(scenario)


def test_candidates_are_capped_and_filtered() -> None:
    lines = ["v=0", "a=ice-ufrag:abcd", "a=fingerprint:sha-256 AA:BB"]
    lines += [
        f"a=candidate:{i} 1 udp 1 10.0.{i // 250}.{i % 250 + 1} {9000 + i} typ host" for i in range(900)
    ]
    lines += [
        "a=candidate:x 1 udp 1 0.0.0.0 9 typ host",
        "a=candidate:y 1 udp 1 224.0.0.1 9 typ host",
        "a=candidate:z 1 udp 1 255.255.255.255 9 typ host",
    ]
    facts = read_offer("\r\n".join(lines))
    assert facts.candidates_kept == MAX_CANDIDATES and facts.candidates_dropped == 900 + 3 - MAX_CANDIDATES
    assert "0.0.0.0" not in facts.sdp and "224.0.0.1" not in facts.sdp and "255.255.255.255" not in facts.sdp
    only = read_offer("\r\n".join(lines[:10]), [ipaddress.ip_network("192.168.0.0/16")])
    assert only.candidates_kept == 0 and only.peer == "abcd sha-256 AA:BB"


def test_host_and_origin_rules() -> None:
    assert host_allowed("127.0.0.1:8080", "127.0.0.1", ()) and host_allowed("localhost", "127.0.0.1", ())
    assert not host_allowed("rebound.example:8080", "127.0.0.1", ())
    assert host_allowed("kiosk.lan:8080", "0.0.0.0", ("kiosk.lan",)) and host_allowed("[::1]:80", "::", ())
    assert host_allowed("192.168.1.20:8080", "0.0.0.0", ()) and not host_allowed("x.example", "0.0.0.0", ())
    assert origin_allowed(None, "127.0.0.1:8080", ()) and origin_allowed(
        "http://127.0.0.1:8080", "127.0.0.1:8080", ()
    )
    assert not origin_allowed("https://evil.example", "127.0.0.1:8080", ())


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
