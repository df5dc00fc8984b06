"""The test network (tests/netlink.py): its impairments do what they say, on plain UDP datagrams
pushed through it on loopback. Sessions through it: tests/test_link_adaptation.py."""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass, field

import pytest

from tests.netlink import Address, Impairment, Relay
from tests.viewing import bitrate, bitrate_series, freezes

# --- the relay on its own -------------------------------------------------------------------------


@dataclass
class Received(asyncio.DatagramProtocol):
    """A socket that notes each datagram's sequence number, send time and arrival time."""

    got: list[tuple[int, float, float, int]] = field(default_factory=list)  # seq, sent, arrived, size

    def datagram_received(self, data: bytes, addr: object) -> None:
        seq, sent = struct.unpack_from("!Id", data)
        self.got.append((seq, sent, time.monotonic(), len(data)))


async def endpoint(protocol: asyncio.DatagramProtocol) -> tuple[asyncio.DatagramTransport, Address]:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: protocol, local_addr=("127.0.0.1", 0)
    )
    host, port = transport.get_extra_info("sockname")[:2]
    return transport, (str(host), int(port))


def datagram(seq: int, size: int) -> bytes:
    """`size` bytes that start with their sequence number and send time (what `Received` reads)."""
    return struct.pack("!Id", seq, time.monotonic()).ljust(size, b"\0")


async def send_at(
    transport: asyncio.DatagramTransport, to: Address, rate: float, seconds: float, size: int, first: int = 0
) -> int:
    """Datagrams of `size` bytes at `rate` b/s for `seconds`, by the clock, in bursts about 10 ms
    apart (however late the event loop wakes); the next seq."""
    seq, start = first, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        while seq - first < rate * elapsed / (size * 8):
            transport.sendto(datagram(seq, size), to)
            seq += 1
        await asyncio.sleep(0.010)
    return seq


def received_rate(got: list[tuple[int, float, float, int]], start: float, end: float) -> float:
    return sum(size for _, _, arrived, size in got if start <= arrived < end) * 8 / (end - start)


def test_a_cap_delivers_its_rate_queues_then_drops_and_lifts_at_runtime() -> None:
    async def scenario() -> None:
        sink = Received()
        async with Relay() as relay:
            receiver, relay.viewer_address = await endpoint(sink)
            sender, _ = await endpoint(asyncio.DatagramProtocol())
            try:
                relay.to_viewer.impairment = Impairment(rate=1_000_000, queue=0.25)
                began = time.monotonic()
                seq = await send_at(sender, relay.server_side, 2_000_000, 2.0, 1200)
                capped_end = time.monotonic()
                # Twice the cap offered: after the queue fills (0.25 s), 1 Mb/s arrives, each
                # datagram about 0.25 s late, and the rest is dropped at the tail.
                assert received_rate(sink.got, began + 0.5, capped_end) == pytest.approx(1_000_000, rel=0.1)
                delays = [arrived - sent for _, sent, arrived, _ in sink.got]
                assert max(delays) < 0.25 + 0.05
                assert min(delays[-20:]) > 0.2
                assert relay.to_viewer.counts.overflowed > 0.3 * seq

                relay.to_viewer.impairment = Impairment()
                await asyncio.sleep(0.3)  # the queue drains
                lifted = time.monotonic()
                await send_at(sender, relay.server_side, 2_000_000, 1.0, 1200, first=seq)
                assert received_rate(sink.got, lifted, time.monotonic()) == pytest.approx(2_000_000, rel=0.15)
            finally:
                sender.close()
                receiver.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_random_loss_drops_its_share_in_the_other_direction_too() -> None:
    async def scenario() -> None:
        sink = Received()
        async with Relay(seed=1) as relay:
            receiver, relay.server_address = await endpoint(sink)
            sender, _ = await endpoint(asyncio.DatagramProtocol())
            try:
                relay.to_server.impairment = Impairment(loss=0.02)
                for seq in range(5000):
                    sender.sendto(datagram(seq, 100), relay.viewer_side)
                    if seq % 25 == 0:
                        await asyncio.sleep(0.002)  # within the sockets' buffers
                await asyncio.sleep(0.2)
                counts = relay.to_server.counts
                assert 0.015 < counts.lost / 5000 < 0.025
                assert len(sink.got) == counts.packets == 5000 - counts.lost
                assert counts.overflowed == counts.unroutable == 0
            finally:
                sender.close()
                receiver.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_delay_and_jitter_delay_every_datagram_without_reordering() -> None:
    async def scenario() -> None:
        sink = Received()
        async with Relay() as relay:
            receiver, relay.viewer_address = await endpoint(sink)
            sender, _ = await endpoint(asyncio.DatagramProtocol())
            try:
                relay.to_viewer.impairment = Impairment(delay=0.1, jitter=0.03)
                await send_at(sender, relay.server_side, 100 * 8 * 200, 0.5, 100)  # 200 datagrams/s
                await asyncio.sleep(0.2)
                delays = [arrived - sent for _, sent, arrived, _ in sink.got]
                assert len(delays) > 80
                assert min(delays) >= 0.1
                assert max(delays) < 0.13 + 0.05  # and the event loop's lateness
                assert max(delays) - min(delays) > 0.015  # the jitter is there
                assert [seq for seq, *_ in sink.got] == sorted(seq for seq, *_ in sink.got)
            finally:
                sender.close()
                receiver.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


# --- the measures -------------------------------------------------------------------------------


def test_a_freeze_is_a_gap_past_three_intervals_and_150_ms_beyond_the_median() -> None:
    def steady(start: float, count: int, fps: float = 30) -> list[float]:
        return [start + i / fps for i in range(count)]

    assert freezes(steady(0, 60)) == []
    # At 30 fps the threshold is the median + 150 ms (183 ms): 170 ms is not a freeze, 500 ms is.
    last = steady(0, 60)[-1]
    assert freezes([*steady(0, 60), *steady(last + 0.170, 30)]) == []
    gaps = freezes([*steady(0, 60), *steady(last + 0.5, 30)])
    assert [(f.start, round(f.duration, 6)) for f in gaps] == [(last, 0.5)]
    # At 2 fps, three intervals (1.5 s) is the threshold.
    assert freezes([*steady(0, 10, fps=2), 4.5 + 1.4]) == []
    assert len(freezes([*steady(0, 10, fps=2), 4.5 + 1.6])) == 1


def test_bitrate_bins_count_each_datagram_once_in_its_bin() -> None:
    sent = [(10.0 + i / 100, 125) for i in range(200)]  # 100 datagrams of 1000 bits a second, for 2 s
    assert bitrate(sent, 10.0, 12.0) == pytest.approx(100_000)
    series = bitrate_series(sent, 10.0, 12.5, step=0.5)
    assert [t for t, _ in series] == [10.0, 10.5, 11.0, 11.5, 12.0]
    assert [rate for _, rate in series] == pytest.approx([100_000] * 4 + [0])
