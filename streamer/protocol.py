"""The data-channel protocol between the web client and the server (docs/protocol.md), version 1.

Every message is one JSON object in one text message, with `"v": 1` and a `type`. Input events are
the objects of docs/events.md (`gpu_host.events.parse_event` checks them) plus an envelope: `seq`,
the client's own event counter, which comes back in each frame's marker (streamer/marker.py), and
an optional client timestamp `t`. Anything malformed is refused with one line saying what is wrong;
nothing unchecked reaches a guest.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from gpu_host.events import KEYS, EventError, InputEvent, parse_event

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_SEQ",
    "VERSION",
    "ClientMessage",
    "Input",
    "Ping",
    "Probe",
    "ProtocolError",
    "parse_client_message",
    "server_message",
]

VERSION = 1
MAX_MESSAGE_BYTES = 4096
MAX_SEQ = 2**53 - 1  # what a JavaScript number holds exactly
MAX_COORDINATE = 1_000_000.0  # pointer positions beyond this are garbage, not an off-surface pointer
EVENT_TYPES = ("pointer-move", "pointer-down", "pointer-up", "key-down", "key-up", "resize")
ENVELOPE = ("v", "seq", "t")


class ProtocolError(ValueError):
    """A client message that cannot be used; the text says why, in one line."""


@dataclass(frozen=True)
class Input:
    event: InputEvent
    seq: int


@dataclass(frozen=True)
class Ping:
    """Keeps the session alive (the server ends a session silent for too long) and measures RTT."""

    t: float | None


@dataclass(frozen=True)
class Probe:
    """Turn the latency marker on or off for this session's frames."""

    enabled: bool


ClientMessage = Input | Ping | Probe


def _seq(obj: dict[str, object]) -> int:
    seq = obj.get("seq")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise ProtocolError(f"'seq' must be an integer from 0 to {MAX_SEQ}, got {json.dumps(seq)[:40]}")
    return seq


def _timestamp(obj: dict[str, object]) -> float | None:
    t = obj.get("t")
    if t is None:
        return None
    if type(t) not in (int, float) or not math.isfinite(float(t)):  # type: ignore[arg-type]
        raise ProtocolError("'t' must be a finite number (a client timestamp in ms)")
    return float(t)  # type: ignore[arg-type]


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Check one data-channel message; raise ProtocolError saying what is wrong with it."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(text)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    if isinstance(text, bytes):
        raise ProtocolError("binary messages are not part of the protocol; send JSON text")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("a message must be a JSON object")
    if obj.get("v") != VERSION:
        raise ProtocolError(
            f"unsupported protocol version {json.dumps(obj.get('v'))[:20]} (this server speaks 1)"
        )
    kind = obj.get("type")
    if kind == "ping":
        _only(obj, ("type", "v", "t"))
        return Ping(_timestamp(obj))
    if kind == "probe":
        _only(obj, ("type", "v", "enabled"))
        if type(obj.get("enabled")) is not bool:
            raise ProtocolError("probe: 'enabled' must be true or false")
        return Probe(bool(obj["enabled"]))
    if kind in EVENT_TYPES:
        seq = _seq(obj)
        _timestamp(obj)
        fields = {k: v for k, v in obj.items() if k not in ENVELOPE}
        try:
            event = parse_event(fields)
        except EventError as exc:
            raise ProtocolError(str(exc)) from None
        for axis in ("x", "y"):
            value = getattr(event, axis, 0.0)
            if abs(value) > MAX_COORDINATE:
                raise ProtocolError(f"{kind}: {axis}={value} is out of range (at most {MAX_COORDINATE:g})")
        return Input(event, seq)
    known = ", ".join(("ping", "probe", *EVENT_TYPES))
    raise ProtocolError(f"unknown message type {json.dumps(kind)[:40]} (expected one of: {known})")


def _only(obj: dict[str, object], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise ProtocolError(f"{obj['type']}: unknown field {extra[0]!r}")


def server_message(kind: str, **fields: object) -> str:
    """One server-to-client message: `hello`, `ended`, `error`, `pong` (docs/protocol.md)."""
    return json.dumps({"v": VERSION, "type": kind, **fields})


def key_names() -> list[str]:
    """The wasi:surface key names a client may send, for its code-to-key table."""
    return list(KEYS)
