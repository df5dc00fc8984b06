"""The project's patches of aiortc's private API, in one place. Checked against aiortc 1.16.0
(pinned in pyproject.toml); re-check each when the pin moves.

- `on_keyframe_request`: aiortc acts on a viewer's PLI/FIR only for frames it encodes itself; ours
  come encoded, so the request must reach our encoder (docs/platform-notes.md, aiortc).
- `guard_text_messages`: aiortc decodes a text data-channel message as UTF-8 itself, and invalid
  UTF-8 raises inside its SCTP receive loop, ending the association: one bad message would end the
  session. Such a message is handed on as bytes instead, which the protocol refuses like any
  other bad message (streamer/protocol.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection
from aiortc.rtcrtpsender import RTCRtpSender

__all__ = ["guard_text_messages", "on_keyframe_request"]

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
