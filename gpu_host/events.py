"""Input events: one schema for scripted renders (`streamer render --events`) and the browser.

A recorded browser session can thus be replayed as a render script. The events mirror the records
of `wasi:surface` (gpu_host/wit/deps/surface/surface.wit); docs/events.md is the user-facing description.
Range checks against the surface's size are the surface's job, not this module's.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Final, Literal, TypeAlias

__all__ = [
    "KEYS",
    "EventError",
    "InputEvent",
    "KeyDown",
    "KeyUp",
    "PointerDown",
    "PointerMove",
    "PointerUp",
    "Resize",
    "ScriptedEvent",
    "code_to_key",
    "event_to_json",
    "load_script",
    "parse_event",
]

MAX_TEXT = 16  # characters of `text` in one key event
MAX_SIZE = 8192  # largest width or height a resize event may ask for

# Generated from `enum key` in gpu_host/wit/deps/surface/surface.wit, in WIT order;
# tests/test_events.py checks it against the WIT and prints the new tuple when they differ.
# fmt: off
KEYS: Final[tuple[str, ...]] = (
    "backquote", "backslash", "bracket-left", "bracket-right", "comma",
    "digit0", "digit1", "digit2", "digit3", "digit4", "digit5", "digit6", "digit7", "digit8", "digit9",
    "equal", "intl-backslash", "intl-ro", "intl-yen",
    "key-a", "key-b", "key-c", "key-d", "key-e", "key-f", "key-g", "key-h", "key-i", "key-j", "key-k",
    "key-l", "key-m", "key-n", "key-o", "key-p", "key-q", "key-r", "key-s", "key-t", "key-u", "key-v",
    "key-w", "key-x", "key-y", "key-z",
    "minus", "period", "quote", "semicolon", "slash",
    "alt-left", "alt-right", "backspace", "caps-lock", "context-menu", "control-left", "control-right",
    "enter", "meta-left", "meta-right", "shift-left", "shift-right", "space", "tab",
    "convert", "kana-mode", "lang1", "lang2", "lang3", "lang4", "lang5", "non-convert",
    "delete", "end", "help", "home", "insert", "page-down", "page-up",
    "arrow-down", "arrow-left", "arrow-right", "arrow-up",
    "num-lock", "numpad0", "numpad1", "numpad2", "numpad3", "numpad4", "numpad5", "numpad6", "numpad7",
    "numpad8", "numpad9", "numpad-add", "numpad-backspace", "numpad-clear", "numpad-clear-entry",
    "numpad-comma", "numpad-decimal", "numpad-divide", "numpad-enter", "numpad-equal", "numpad-hash",
    "numpad-memory-add", "numpad-memory-clear", "numpad-memory-recall", "numpad-memory-store",
    "numpad-memory-subtract", "numpad-multiply", "numpad-paren-left", "numpad-paren-right",
    "numpad-star", "numpad-subtract",
    "escape", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12",
    "fn", "fn-lock", "print-screen", "scroll-lock", "pause",
    "browser-back", "browser-favorites", "browser-forward", "browser-home", "browser-refresh",
    "browser-search", "browser-stop", "eject", "launch-app1", "launch-app2", "launch-mail",
    "media-play-pause", "media-select", "media-stop", "media-track-next", "media-track-previous",
    "power", "sleep", "audio-volume-down", "audio-volume-mute", "audio-volume-up", "wake-up",
    "hyper", "super", "turbo", "abort", "resume", "suspend",
    "again", "copy", "cut", "find", "open", "paste", "props", "select", "undo",
    "hiragana", "katakana",
)
# fmt: on
_KEY_SET: Final = frozenset(KEYS)


def _code_of(key: str) -> str:
    """The UI Events `code` of a key name: the WIT enum is that table in kebab-case."""
    return "".join(part[:1].upper() + part[1:] for part in key.split("-"))


_CODE_TO_KEY: Final[Mapping[str, str]] = MappingProxyType({_code_of(key): key for key in KEYS})


def code_to_key(code: str) -> str | None:
    """Map a browser `KeyboardEvent.code` ("KeyA", "ArrowLeft") to a key name ("key-a", "arrow-left").

    `Unidentified` and codes the WIT does not list (legacy names such as "OSLeft") give None,
    which is how `wasi:surface` says "unidentified".
    """
    return _CODE_TO_KEY.get(code)


class EventError(ValueError):
    """An input event or events file that does not follow the schema in docs/events.md."""


def _check_finite(kind: str, name: str, value: float) -> None:
    if not math.isfinite(value):
        raise EventError(f"{kind}: field '{name}' must be a finite number, got {value}")


@dataclass(frozen=True)
class _PointerEvent:
    """A pointer position in surface pixels (floats: browsers report fractional positions)."""

    x: float
    y: float

    def __post_init__(self) -> None:
        kind = getattr(self, "type", "pointer event")
        _check_finite(kind, "x", self.x)
        _check_finite(kind, "y", self.y)


@dataclass(frozen=True)
class PointerMove(_PointerEvent):
    type: ClassVar[Literal["pointer-move"]] = "pointer-move"


@dataclass(frozen=True)
class PointerDown(_PointerEvent):
    type: ClassVar[Literal["pointer-down"]] = "pointer-down"


@dataclass(frozen=True)
class PointerUp(_PointerEvent):
    type: ClassVar[Literal["pointer-up"]] = "pointer-up"


@dataclass(frozen=True)
class _KeyEvent:
    """A key press or release: `key` names the physical key, `text` is what it types, if anything."""

    key: str | None
    text: str | None = None
    alt: bool = False
    ctrl: bool = False
    meta: bool = False
    shift: bool = False

    def __post_init__(self) -> None:
        kind = getattr(self, "type", "key event")
        if self.key is not None and self.key not in _KEY_SET:
            raise EventError(f"{kind}: {_unknown_key_message(self.key)}")
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise EventError(
                f"{kind}: field 'text' holds {len(self.text)} characters, at most {MAX_TEXT} are allowed"
            )


@dataclass(frozen=True)
class KeyDown(_KeyEvent):
    type: ClassVar[Literal["key-down"]] = "key-down"


@dataclass(frozen=True)
class KeyUp(_KeyEvent):
    type: ClassVar[Literal["key-up"]] = "key-up"


@dataclass(frozen=True)
class Resize:
    """Ask for a new surface size in pixels; the surface may clamp it to its own limits."""

    width: int
    height: int
    type: ClassVar[Literal["resize"]] = "resize"

    def __post_init__(self) -> None:
        for name, value in (("width", self.width), ("height", self.height)):
            if not 1 <= value <= MAX_SIZE:
                raise EventError(f"resize: field '{name}' must be between 1 and {MAX_SIZE}, got {value}")


InputEvent: TypeAlias = PointerMove | PointerDown | PointerUp | KeyDown | KeyUp | Resize

_EVENT_TYPES: Final[Mapping[str, type[InputEvent]]] = MappingProxyType(
    {cls.type: cls for cls in (PointerMove, PointerDown, PointerUp, KeyDown, KeyUp, Resize)}
)


def _unknown_key_message(key: str) -> str:
    hint = ""
    if key in _CODE_TO_KEY:
        hint = f"; '{key}' is a browser code, the key name is '{_CODE_TO_KEY[key]}'"
    elif close := difflib.get_close_matches(key, KEYS, n=1):
        hint = f"; did you mean '{close[0]}'?"
    return f"unknown key '{key}' (use a wasi:surface key name such as 'key-a' or 'arrow-left'{hint})"


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range
        return math.inf


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _optional_string(value: object) -> str | None:
    return value if isinstance(value, str) else None


_Converter = Callable[[object], object]

# JSON type of each field (by name: a name means the same thing in every event) and how to say it.
_FIELD_TYPES: Final[Mapping[str, tuple[_Converter, str]]] = MappingProxyType(
    {
        "x": (_number, "a number"),
        "y": (_number, "a number"),
        "width": (_integer, "an integer"),
        "height": (_integer, "an integer"),
        "key": (_optional_string, "a string or null"),
        "text": (_optional_string, "a string or null"),
        "alt": (_boolean, "true or false"),
        "ctrl": (_boolean, "true or false"),
        "meta": (_boolean, "true or false"),
        "shift": (_boolean, "true or false"),
    }
)
_NULLABLE: Final = frozenset({"key", "text"})


def parse_event(obj: object) -> InputEvent:
    """Build an event from decoded JSON, or raise EventError saying what to fix."""
    if not isinstance(obj, dict):
        raise EventError(f"an event must be a JSON object, got {_json_type(obj)}")
    if "type" not in obj:
        raise EventError(f"event has no 'type' field (one of: {', '.join(_EVENT_TYPES)})")
    kind = obj["type"]
    cls = _EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        shown = f"'{kind}'" if isinstance(kind, str) else f"of JSON type {_json_type(kind)}"
        raise EventError(f"unknown event type {shown} (expected one of: {', '.join(_EVENT_TYPES)})")

    known = {f.name: f for f in fields(cls)}
    extra = [name for name in obj if name != "type" and name not in known]
    if extra:
        raise EventError(f"{kind}: unknown field '{extra[0]}' (allowed: {', '.join(['type', *known])})")
    values: dict[str, object] = {}
    for name, field in known.items():
        if name not in obj:
            if field.default is MISSING:
                raise EventError(f"{kind}: missing field '{name}'")
            continue
        raw = obj[name]
        convert, expected = _FIELD_TYPES[name]
        value = convert(raw)
        if value is None and not (raw is None and name in _NULLABLE):
            raise EventError(f"{kind}: field '{name}' must be {expected}, got {_json_type(raw)}")
        values[name] = value
    return cls(**values)  # type: ignore[arg-type]  # checked field by field above


def event_to_json(event: InputEvent) -> dict[str, object]:
    """The JSON object for an event; `parse_event` reads it back to an equal event."""
    return {"type": event.type, **asdict(event)}


@dataclass(frozen=True)
class ScriptedEvent:
    """An event of a render script, delivered before frame number `frame` (0 is the first frame)."""

    frame: int
    event: InputEvent


def load_script(path: str | Path) -> list[ScriptedEvent]:
    """Read a JSON-lines events file, sorted stably by frame; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EventError(f"cannot read events file {path}: {exc}") from exc
    script: list[ScriptedEvent] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            script.append(_parse_line(stripped))
        except EventError as exc:
            raise EventError(f"{path}:{number}: {exc}") from None
    return sorted(script, key=lambda scripted: scripted.frame)


def _parse_line(line: str) -> ScriptedEvent:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EventError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise EventError(f"each line must be a JSON object, got {_json_type(obj)}")
    if "frame" not in obj:
        raise EventError("missing field 'frame' (the frame number before which the event is delivered)")
    frame = _integer(obj.pop("frame"))
    if frame is None or frame < 0:
        raise EventError("field 'frame' must be an integer >= 0")
    return ScriptedEvent(frame, parse_event(obj))
