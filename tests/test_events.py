"""The input event schema: parsing, validation messages, script files and the key tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gpu_host.events import (
    KEYS,
    EventError,
    KeyDown,
    KeyUp,
    PointerDown,
    PointerMove,
    PointerUp,
    Resize,
    ScriptedEvent,
    code_to_key,
    event_to_json,
    load_script,
    parse_event,
)
from gpu_host.wit import WIT_DIR

SURFACE_WIT = WIT_DIR / "deps" / "surface" / "surface.wit"


def wit_key_enum(path: Path) -> tuple[str, ...]:
    """The cases of `enum key` in a WIT file, comments removed."""
    text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
    match = re.search(r"\benum\s+key\s*\{([^}]*)\}", text)
    assert match, f"no `enum key` in {path}"
    return tuple(name.strip() for name in match.group(1).split(",") if name.strip())


def test_keys_match_the_wit_enum() -> None:
    wit_keys = wit_key_enum(SURFACE_WIT)
    assert KEYS == wit_keys, (
        "gpu_host/events.py KEYS is out of date with surface.wit; replace it with:\n" + repr(wit_keys)
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "pointer-move", "x": 1.5, "y": 2}, PointerMove(1.5, 2.0)),
        ({"type": "pointer-down", "x": 0, "y": 0}, PointerDown(0.0, 0.0)),
        ({"type": "pointer-up", "x": -3.25, "y": 1e4}, PointerUp(-3.25, 1e4)),
        ({"type": "key-down", "key": "key-a", "text": "a"}, KeyDown("key-a", "a")),
        ({"type": "key-up", "key": None}, KeyUp(None)),
        (
            {"type": "key-down", "key": "arrow-left", "text": None, "shift": True, "ctrl": True},
            KeyDown("arrow-left", None, ctrl=True, shift=True),
        ),
        (
            {"type": "key-down", "key": "digit0", "alt": True, "meta": True},
            KeyDown("digit0", alt=True, meta=True),
        ),
        ({"type": "key-down", "key": None, "text": "é" * 16}, KeyDown(None, "é" * 16)),
        ({"type": "resize", "width": 1, "height": 8192}, Resize(1, 8192)),
    ],
)
def test_valid_events(obj: dict[str, object], expected: object) -> None:
    event = parse_event(obj)
    assert event == expected
    assert event.type == obj["type"]
    assert parse_event(json.loads(json.dumps(event_to_json(event)))) == event


def test_pointer_numbers_become_floats() -> None:
    event = parse_event({"type": "pointer-move", "x": 3, "y": 4})
    assert isinstance(event, PointerMove)
    assert type(event.x) is float and type(event.y) is float


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "an event must be a JSON object, got array"),
        ({"x": 1, "y": 2}, "event has no 'type' field"),
        ({"type": "pointer-click", "x": 1, "y": 2}, "unknown event type 'pointer-click'"),
        ({"type": 3}, "unknown event type of JSON type number"),
        ({"type": "pointer-move", "x": 1}, "pointer-move: missing field 'y'"),
        ({"type": "pointer-move", "x": 1, "y": 2, "z": 3}, "pointer-move: unknown field 'z'"),
        ({"type": "pointer-move", "x": "1", "y": 2}, "pointer-move: field 'x' must be a number, got string"),
        ({"type": "pointer-move", "x": True, "y": 2}, "field 'x' must be a number, got boolean"),
        ({"type": "pointer-move", "x": None, "y": 2}, "field 'x' must be a number, got null"),
        ({"type": "pointer-up", "x": float("nan"), "y": 2}, "pointer-up: field 'x' must be a finite number"),
        ({"type": "pointer-up", "x": 1, "y": float("-inf")}, "field 'y' must be a finite number"),
        ({"type": "pointer-down", "x": 10**400, "y": 0}, "field 'x' must be a finite number"),
        ({"type": "key-down"}, "key-down: missing field 'key'"),
        ({"type": "key-down", "key": "key-aa"}, "unknown key 'key-aa'"),
        ({"type": "key-down", "key": "KeyA"}, "'KeyA' is a browser code, the key name is 'key-a'"),
        ({"type": "key-down", "key": "arow-left"}, "did you mean 'arrow-left'?"),
        ({"type": "key-down", "key": 65}, "field 'key' must be a string or null, got number"),
        ({"type": "key-up", "key": None, "text": "x" * 17}, "'text' holds 17 characters, at most 16"),
        ({"type": "key-up", "key": None, "shift": 1}, "field 'shift' must be true or false, got number"),
        ({"type": "key-up", "key": None, "keyCode": 65}, "key-up: unknown field 'keyCode'"),
        ({"type": "resize", "width": 0, "height": 10}, "field 'width' must be between 1 and 8192, got 0"),
        ({"type": "resize", "width": 10, "height": 8193}, "field 'height' must be between 1 and 8192"),
        ({"type": "resize", "width": 10.0, "height": 10}, "field 'width' must be an integer, got number"),
    ],
)
def test_invalid_events(obj: object, message: str) -> None:
    with pytest.raises(EventError, match=re.escape(message)):
        parse_event(obj)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(EventError, match="finite"):
        PointerMove(float("inf"), 0.0)
    with pytest.raises(EventError, match="unknown key"):
        KeyUp("nope")
    with pytest.raises(EventError):
        Resize(0, 1)


def test_event_error_is_a_value_error() -> None:
    assert issubclass(EventError, ValueError)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_script_sorts_stably_and_skips_comments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# a scripted drag\n"
        "\n"
        '{"frame": 5, "type": "pointer-up", "x": 30, "y": 40}\n'
        '{"frame": 0, "type": "pointer-down", "x": 10, "y": 20}\n'
        "   # indented comment\n"
        '{"frame": 5, "type": "key-down", "key": "space", "text": " "}\n'
        '{"type": "resize", "width": 320, "height": 200, "frame": 0}\n',
    )
    assert load_script(path) == [
        ScriptedEvent(0, PointerDown(10.0, 20.0)),
        ScriptedEvent(0, Resize(320, 200)),
        ScriptedEvent(5, PointerUp(30.0, 40.0)),
        ScriptedEvent(5, KeyDown("space", " ")),
    ]


def test_load_script_empty_file(tmp_path: Path) -> None:
    assert load_script(write(tmp_path, "")) == []


@pytest.mark.parametrize(
    ("line3", "message"),
    [
        ('{"frame": 1, "type": "pointer-click", "x": 1, "y": 1}', ":3: unknown event type 'pointer-click'"),
        ('{"type": "pointer-move", "x": 1, "y": 1}', ":3: missing field 'frame'"),
        (
            '{"frame": -1, "type": "pointer-move", "x": 1, "y": 1}',
            ":3: field 'frame' must be an integer >= 0",
        ),
        ('{"frame": 1.5, "type": "pointer-move", "x": 1, "y": 1}', ":3: field 'frame' must be an integer"),
        ('{"frame": 1, "type": "pointer-move", "x": 1,}', ":3: not valid JSON"),
        ("[1, 2]", ":3: each line must be a JSON object, got array"),
        ('{"frame": 2, "type": "key-up", "key": "shiftleft"}', ":3: key-up: unknown key 'shiftleft'"),
    ],
)
def test_load_script_errors_name_file_and_line(tmp_path: Path, line3: str, message: str) -> None:
    path = write(tmp_path, f'# header\n{{"frame": 0, "type": "resize", "width": 8, "height": 8}}\n{line3}\n')
    with pytest.raises(EventError, match=re.escape(f"{path}{message}")):
        load_script(path)


def test_load_script_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EventError, match="cannot read events file"):
        load_script(tmp_path / "absent.jsonl")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("KeyA", "key-a"),
        ("KeyZ", "key-z"),
        ("Digit0", "digit0"),
        ("ArrowLeft", "arrow-left"),
        ("Space", "space"),
        ("ShiftLeft", "shift-left"),
        ("ControlRight", "control-right"),
        ("Numpad0", "numpad0"),
        ("NumpadClearEntry", "numpad-clear-entry"),
        ("F1", "f1"),
        ("F12", "f12"),
        ("IntlRo", "intl-ro"),
        ("LaunchApp1", "launch-app1"),
        ("Lang1", "lang1"),
        ("AudioVolumeMute", "audio-volume-mute"),
        ("Unidentified", None),
        ("OSLeft", None),
        ("", None),
        ("keya", None),
    ],
)
def test_code_to_key(code: str, key: str | None) -> None:
    assert code_to_key(code) == key


def test_every_key_has_a_code() -> None:
    codes = {key: code for key in KEYS if (code := _code_for(key))}
    assert len(codes) == len(KEYS)


def _code_for(key: str) -> str | None:
    """Find the code that maps to `key` among the PascalCase spellings (independent of the module)."""
    code = "".join(part.capitalize() for part in key.split("-"))
    return code if code_to_key(code) == key else None
