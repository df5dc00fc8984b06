"""The project's patches of aiortc's private API, in one place. Checked against aiortc 1.16.0
(pinned in pyproject.toml); re-check each when the pin moves.

- `on_keyframe_request`: aiortc acts on a viewer's PLI/FIR only for frames it encodes itself; ours
  come encoded, so the request must reach our encoder (docs/platform-notes.md, aiortc).
- `guard_text_messages`: aiortc decodes a text data-channel message as UTF-8 itself, and invalid
  UTF-8 raises inside its SCTP receive loop, ending the association: one bad message would end the
  session. Such a message is handed on as bytes instead, which the protocol refuses like any
  other bad message (streamer/protocol.py).
- `on_rtcp_feedback`: the viewer's REMB and receiver reports, read from the raw RTCP packets
  before aiortc handles them; aiortc would only hand REMB to its own encoder, clamped to
  0.5-3 Mb/s (streamer/bandwidth.py).
- `keep_retransmissions`: aiortc keeps the last 128 packets for NACKs, 75 ms at 20 Mb/s; a
  history sized by the ceiling bitrate replaces it, and the session decides whether each NACKed
  packet is resent (aiortc resends whatever is asked, as often as asked: on a full link the
  resends would crowd out the stream; streamer/retransmission.py).
- `zero_playout_delay`: aiortc knows only a fixed set of RTP header extensions. The playout-delay
  extension, with a delay of zero, tells the browser to show each frame as soon as it is decoded
  instead of holding it for its jitter buffer and render delay (docs/performance.md, latency).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
    RtpPacket,
    pack_header_extensions,
    unpack_header_extensions,
    unpack_remb_fci,
)
from aiortc.sdp import SessionDescription

from .bandwidth import Feedback, LossReport, Remb

__all__ = [
    "guard_text_messages",
    "keep_retransmissions",
    "on_keyframe_request",
    "on_rtcp_feedback",
    "zero_playout_delay",
]

PLAYOUT_DELAY = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
ZERO_DELAY = b"\x00\x00\x00"  # 12 bits of minimum, 12 bits of maximum delay, in 10 ms units

WEBRTC_STRING = 51  # the SCTP payload protocol identifier of a text message (RFC 8831)
RTP_CLOCK = 90_000  # video's RTP clock: receiver-report jitter comes in its ticks
HISTORY_SECONDS = 0.5  # of stream kept for retransmission, at the ceiling bitrate
MIN_HISTORY = 128  # aiortc's own
PACKET_BITS = 8 * 1000  # a video packet's payload, on the small side (aiortc's are up to about 1200 bytes)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call `callback` whenever the viewer asks `sender` for a keyframe (PLI or FIR)."""
    original = sender._send_keyframe

    def keyframe_requested() -> None:
        original()
        callback()

    sender._send_keyframe = keyframe_requested  # type: ignore[method-assign]


def guard_text_messages(pc: RTCPeerConnection) -> None:
    """Deliver text messages that are not UTF-8 as bytes (after setRemoteDescription)."""
    transport: Any = pc.sctp
    if transport is None:
        return
    receive: Callable[[int, int, bytes], Awaitable[None]] = transport._data_channel_receive

    async def receive_guarded(stream_id: int, pp_id: int, data: bytes) -> None:
        if pp_id == WEBRTC_STRING:
            try:
                data.decode("utf8")
            except UnicodeDecodeError:
                channel = transport._data_channels.get(stream_id)
                if channel is not None:
                    channel.emit("message", bytes(data))
                return
        await receive(stream_id, pp_id, data)

    transport._data_channel_receive = receive_guarded


def on_rtcp_feedback(sender: RTCRtpSender, callback: Callable[[Feedback], None]) -> None:
    """Call `callback` with each REMB and receiver-report block the viewer sends about `sender`'s
    stream, before aiortc handles the packet."""
    original = sender._handle_rtcp_packet

    async def handle(packet: AnyRtcpPacket) -> None:
        for feedback in _feedback(packet, sender._ssrc):
            callback(feedback)
        await original(packet)

    sender._handle_rtcp_packet = handle  # type: ignore[method-assign]


def _feedback(packet: AnyRtcpPacket, ssrc: int) -> list[Feedback]:
    if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
        return [
            LossReport(report.fraction_lost / 256, report.jitter / RTP_CLOCK)
            for report in packet.reports
            if report.ssrc == ssrc
        ]
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
        try:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
        except ValueError:  # an application-layer packet that is not REMB
            return []
        return [Remb(bitrate)] if ssrc in ssrcs else []
    return []


def keep_retransmissions(sender: RTCRtpSender, ceiling: int, decide: Callable[[int, int | None], int]) -> int:
    """Keep `HISTORY_SECONDS` of `sender`'s packets at `ceiling` b/s for NACKs (at least aiortc's
    128). For each packet a NACK asks for, `decide(sequence_number, size)` (size None: no longer
    kept) says how many copies to resend. Returns the history's size."""
    size = max(MIN_HISTORY, math.ceil(ceiling * HISTORY_SECONDS / PACKET_BITS))
    history = _History(size)
    sender._RTCRtpSender__rtp_history = history  # type: ignore[attr-defined]
    original = sender._retransmit

    async def retransmit(sequence_number: int) -> None:
        packet = history.packets.get(sequence_number)
        for _ in range(decide(sequence_number, None if packet is None else len(packet.payload))):
            history.wanted = sequence_number
            await original(sequence_number)  # reads `history.get` before its first await

    sender._retransmit = retransmit  # type: ignore[method-assign]
    return size


class _History:
    """Stands in for aiortc's history dict, which it indexes by sequence number modulo 128: packets
    are kept by their own sequence number, the last `size` of them, and `get` answers for the
    sequence number being retransmitted (`wanted`), whatever key aiortc passes."""

    def __init__(self, size: int) -> None:
        self.packets: dict[int, RtpPacket] = {}
        self._order: deque[int] = deque()
        self._size = size
        self.wanted = -1

    def __setitem__(self, key: int, packet: RtpPacket) -> None:
        seq = packet.sequence_number
        if seq not in self.packets:
            self._order.append(seq)
        self.packets[seq] = packet
        while len(self._order) > self._size:
            self.packets.pop(self._order.popleft(), None)

    def get(self, key: int) -> RtpPacket | None:
        return self.packets.get(self.wanted)


class _PlayoutDelayMap(HeaderExtensionsMap):
    """aiortc's header extension map plus playout-delay (zero) on every packet, once negotiated."""

    def __init__(self) -> None:
        super().__init__()
        self._playout_delay_id = 0

    def configure(self, parameters: RTCRtpParameters) -> None:
        super().configure(parameters)
        for extension in parameters.headerExtensions:
            if extension.uri == PLAYOUT_DELAY:
                self._playout_delay_id = extension.id

    def set(self, values: HeaderExtensions) -> tuple[int, bytes]:
        profile, value = super().set(values)
        if not self._playout_delay_id:
            return profile, value
        extensions = unpack_header_extensions(profile, value) if value else []
        return pack_header_extensions([*extensions, (self._playout_delay_id, ZERO_DELAY)])


def zero_playout_delay(transceiver: RTCRtpTransceiver, offer_sdp: str) -> None:
    """Answer the offer's playout-delay extension, if it has one, and send a delay of zero with
    every packet of `transceiver`'s sender. Call after setRemoteDescription(offer), before
    createAnswer."""
    for media in SessionDescription.parse(offer_sdp).media:
        if media.kind != "video":
            continue
        for extension in media.rtp.headerExtensions:
            if extension.uri == PLAYOUT_DELAY:
                negotiated: list[RTCRtpHeaderExtensionParameters] = transceiver._headerExtensions
                negotiated.append(RTCRtpHeaderExtensionParameters(id=extension.id, uri=PLAYOUT_DELAY))
                transceiver.sender._RTCRtpSender__rtp_header_extensions_map = _PlayoutDelayMap()  # type: ignore[attr-defined]
                return
