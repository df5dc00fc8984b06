"""The data-channel protocol between the web client and the server (docs/protocol.md), version 1.

Every message is one JSON object in one text message, with `"v": 1` and a `type`. Input events are
the objects of docs/events.md (`gpu_host.events.parse_event` checks them) plus an envelope: `seq`,
the client's own event counter, which comes back in each frame's marker (streamer/marker.py), and
an optional client timestamp `t`. Anything malformed is refused with one line saying what is wrong;
nothing unchecked reaches a guest. Checking is bounded: size first, then nesting depth (counted
without recursion), then integer length while json.loads parses.
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
    "Control",
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
MAX_DEPTH = 8  # arrays and objects nested deeper are refused before parsing (a message needs 1)
MAX_INT_DIGITS = 20  # longer integers are refused while parsing (MAX_SEQ has 16 digits)
MAX_REASON_CHARS = 300  # an error message is cut to this length
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
class Control:
    """Take control of a shared stream (`take`: true) or give it up (false)."""

    take: bool


@dataclass(frozen=True)
class Probe:
    """Turn the latency marker on or off for this session's frames."""

    enabled: bool


ClientMessage = Input | Ping | Probe | Control


def _seq(obj: dict[str, object]) -> int:
    seq = obj.get("seq")
    if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
        raise ProtocolError(f"'seq' must be an integer from 0 to {MAX_SEQ}, got {json.dumps(seq)[:40]}")
    return seq


def _timestamp(obj: dict[str, object]) -> float | None:
    t = obj.get("t")
    if t is None:
        return None
    value = _finite(t)
    if value is None:
        raise ProtocolError("'t' must be a finite number (a client timestamp in ms)")
    return value


def _finite(value: object) -> float | None:
    """A JSON number as a finite float, or None (not a number, NaN, infinite, beyond float range)."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Check one data-channel message; raise ProtocolError saying what is wrong with it, in one line.

    ProtocolError is the only exception it raises, whatever the message holds: a hostile viewer
    must not be able to end its own session (or anything else) through a parsing failure.
    """
    try:
        return _parse(text)
    except ProtocolError as exc:
        raise ProtocolError(_one_line(str(exc))) from None
    except Exception as exc:  # a case the checks below missed: still the viewer's mistake, not ours
        raise ProtocolError(f"malformed message ({_one_line(type(exc).__name__)})") from None


def _parse(text: str | bytes) -> ClientMessage:
    if len(text) > MAX_MESSAGE_BYTES:  # cheap, before anything that costs in proportion to the size
        raise ProtocolError(f"message of {len(text)} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    if isinstance(text, bytes):
        raise ProtocolError("binary messages are not part of the protocol; send JSON text")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes is over the limit of {MAX_MESSAGE_BYTES}")
    _check_depth(text)
    try:
        obj = json.loads(text, parse_int=_bounded_int)
    except ProtocolError:
        raise
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("a message must be a JSON object")
    for key, value in obj.items():
        if not _is_unicode(key) or (isinstance(value, str) and not _is_unicode(value)):
            raise ProtocolError(f"field {key!r}: strings must be Unicode text (no lone surrogates)")
    if obj.get("v") != VERSION:
        raise ProtocolError(
            f"unsupported protocol version {json.dumps(obj.get('v'))[:20]} (this server speaks 1)"
        )
    kind = obj.get("type")
    if kind == "ping":
        _only(obj, ("type", "v", "t"))
        return Ping(_timestamp(obj))
    if kind == "control":
        _only(obj, ("type", "v", "take"))
        if type(obj.get("take")) is not bool:
            raise ProtocolError("control: 'take' must be true or false")
        return Control(bool(obj["take"]))
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
    known = ", ".join(("ping", "probe", "control", *EVENT_TYPES))
    raise ProtocolError(f"unknown message type {json.dumps(kind)[:40]} (expected one of: {known})")


def _check_depth(text: str) -> None:
    """Refuse arrays and objects nested deeper than MAX_DEPTH, before json.loads recurses into them.

    Linear and without recursion: brackets are counted outside strings. For text that is not JSON
    the count may be off, but such text is refused either way.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # every message the protocol defines; no scan needed
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ProtocolError(f"arrays or objects nested more than {MAX_DEPTH} deep")
        elif char in "]}":
            depth -= 1


def _bounded_int(digits: str) -> int:
    """json.loads's integer parser, refusing integers no field could take before converting them."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ProtocolError(
            f"an integer of {len(digits.lstrip('-'))} digits is out of range (at most {MAX_INT_DIGITS})"
        )
    return int(digits)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which a `\udxxx` escape can produce
        return False
    return True


def _one_line(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """`text` as one printable line of at most `limit` characters (it may quote the viewer's input)."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


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
