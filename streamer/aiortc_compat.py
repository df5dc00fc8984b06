"""The project's patches of aiortc's private API, in one place. Checked against aiortc 1.16.0
(pinned in pyproject.toml); re-check each when the pin moves.

- `on_keyframe_request`: aiortc acts on a viewer's PLI/FIR only for frames it encodes itself; ours
  come encoded, so the request must reach our encoder (docs/platform-notes.md, aiortc).
- `guard_text_messages`: aiortc decodes a text data-channel message as UTF-8 itself, and invalid
  UTF-8 raises inside its SCTP receive loop, ending the association: one bad message would end the
  session. Such a message is handed on as bytes instead, which the protocol refuses like any
  other bad message (streamer/protocol.py).
- `zero_playout_delay`: aiortc knows only a fixed set of RTP header extensions. The playout-delay
  extension, with a delay of zero, tells the browser to show each frame as soon as it is decoded
  instead of holding it for its jitter buffer and render delay (docs/performance.md, latency).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, pack_header_extensions, unpack_header_extensions
from aiortc.sdp import SessionDescription

__all__ = ["guard_text_messages", "on_keyframe_request", "zero_playout_delay"]

PLAYOUT_DELAY = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
ZERO_DELAY = b"\x00\x00\x00"  # 12 bits of minimum, 12 bits of maximum delay, in 10 ms units

WEBRTC_STRING = 51  # the SCTP payload protocol identifier of a text message (RFC 8831)


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
