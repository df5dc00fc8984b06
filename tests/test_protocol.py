"""The data-channel protocol refuses everything malformed, with a message saying what is wrong."""

from __future__ import annotations

import json
import time

import pytest

from gpu_host.events import KeyDown, PointerUp, Resize
from streamer.protocol import Input, Ping, Probe, ProtocolError, parse_client_message, server_message


def msg(**fields: object) -> str:
    return json.dumps({"v": 1, **fields})


def test_input_events_keep_their_seq() -> None:
    assert parse_client_message(msg(type="pointer-up", x=3.5, y=4, seq=7, t=123.4)) == Input(
        PointerUp(x=3.5, y=4.0), 7
    )
    parsed = parse_client_message(msg(type="key-down", key="key-a", text="a", shift=True, seq=8))
    assert isinstance(parsed, Input) and isinstance(parsed.event, KeyDown)
    assert (parsed.event.key, parsed.event.text, parsed.event.shift) == ("key-a", "a", True)
    assert parse_client_message(msg(type="resize", width=640, height=480, seq=9)) == Input(
        Resize(640, 480), 9
    )


def test_control_messages() -> None:
    assert parse_client_message(msg(type="ping", t=5)) == Ping(5.0)
    assert parse_client_message(msg(type="ping")) == Ping(None)
    assert parse_client_message(msg(type="probe", enabled=True)) == Probe(True)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"type": "ping"}), "version"),
        (msg(type="ping", extra=1), "unknown field 'extra'"),
        (msg(type="teleport", seq=1), "unknown message type"),
        (msg(type="pointer-up", x=1, y=1), "'seq'"),
        (msg(type="pointer-up", x=1, y=1, seq=-1), "'seq'"),
        (msg(type="pointer-up", x=1, y=1, seq=1.5), "'seq'"),
        (msg(type="pointer-up", x=1, y=1, seq=True), "'seq'"),
        (msg(type="pointer-up", x="1", y=1, seq=1), "x"),
        (msg(type="pointer-up", x=2e6, y=1, seq=1), "out of range"),
        (msg(type="pointer-up", x=1, y=1, seq=1, t="now"), "'t'"),
        (msg(type="key-down", key="KeyA", seq=1), "unknown key 'KeyA'"),
        (msg(type="key-down", key="key-a", text="x" * 17, seq=1), "text"),
        (msg(type="resize", width=0, height=10, seq=1), "width"),
        (msg(type="resize", width=10.5, height=10, seq=1), "width"),
        (msg(type="probe", enabled="yes"), "enabled"),
        ('{"v": 1, "type": "ping", "t": NaN}', "'t'"),
        ("x" * 4097, "over the limit"),
        (b'{"v": 1, "type": "ping"}', "binary"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(text: str | bytes, words: str) -> None:
    with pytest.raises(ProtocolError, match=None) as info:
        parse_client_message(text)
    assert words in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_server_messages_are_versioned_json() -> None:
    assert json.loads(server_message("ended", reason="bye")) == {"v": 1, "type": "ended", "reason": "bye"}


# --- hostile input: each is one ProtocolError (never another exception), found cheaply -----------


def hostile(text: str | bytes) -> str:
    """Parse `text`, which must be refused with a ProtocolError; its one-line message."""
    with pytest.raises(ProtocolError) as info:
        parse_client_message(text)
    message = str(info.value)
    assert message and "\n" not in message and len(message) <= 300, message
    return message


@pytest.mark.parametrize(
    "text",
    [
        "[" * 4000,  # json.loads alone raises RecursionError
        "[" * 2000 + "]" * 2000,
        '{"a":' * 600 + "1" + "}" * 600,
        json.dumps({"v": 1, "type": "ping", "t": [[[[[[[[[1]]]]]]]]]}),
    ],
)
def test_deep_nesting_is_refused_before_parsing(text: str) -> None:
    assert "nested more than 8 deep" in hostile(text)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = msg(type="key-down", key="key-a", text='"[[[[[[[[[[[\\"{{{{', seq=1)
    with pytest.raises(ProtocolError, match="'text' holds"):  # the length check, not the depth one
        parse_client_message(text)
    assert parse_client_message(msg(type="key-down", key="key-a", text="[[[[[[[[[", seq=1)) == Input(
        KeyDown("key-a", "[[[[[[[[["), 1
    )


@pytest.mark.parametrize(
    "field",
    [
        '"type": "ping", "t": 1',  # float() of it overflows
        '"type": "ping", "t": -1',
        '"type": "pointer-up", "x": 1, "y": 1, "seq": 1',
        '"type": "pointer-up", "y": 1, "seq": 1, "x": 1',
        '"type": "resize", "height": 10, "seq": 1, "width": 1',
        '"v": 1, "type": "ping", "x": 1',
    ],
)
def test_huge_integers_are_refused(field: str) -> None:
    text = "{" + ("" if '"v"' in field else '"v": 1, ') + field + "0" * 400 + "}"
    assert "digits is out of range" in hostile(text)


def test_integers_just_out_of_range_keep_their_field_messages() -> None:
    assert "'seq'" in hostile(msg(type="pointer-up", x=1, y=1, seq=2**53))
    assert "'t'" in hostile('{"v": 1, "type": "ping", "t": 1e400}')  # a float literal: inf
    assert "out of range" in hostile(msg(type="pointer-up", x=10**19, y=1, seq=1))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_are_refused_wherever_they_are(literal: str) -> None:
    for fields, words in (
        (f'"type": "ping", "t": {literal}', "'t'"),
        (f'"type": "pointer-move", "x": {literal}, "y": 1, "seq": 1', "finite"),
        (f'"type": "pointer-move", "x": 1, "y": 1, "seq": {literal}', "'seq'"),
        (f'"type": "resize", "width": {literal}, "height": 1, "seq": 1', "width"),
        (f'"type": {literal}', "unknown message type"),
    ):
        assert words in hostile('{"v": 1, ' + fields + "}")
    assert "version" in hostile('{"v": ' + literal + ', "type": "ping"}')
    assert "JSON object" in hostile(literal)


@pytest.mark.parametrize("text", ["1", '"ping"', "null", "true", "[]", "[{}]", '""', "1e999"])
def test_json_that_is_not_an_object_is_refused(text: str) -> None:
    assert "JSON object" in hostile(text)


@pytest.mark.parametrize(
    "data", [b"\xff\xfe\x00{", b'{"v": 1, "type": "ping", "t": "\xc3\x28"}', b"\xed\xa0\x80", b"\x00" * 4096]
)
def test_bytes_are_refused_even_when_not_utf8(data: bytes) -> None:
    assert "binary" in hostile(data)


def test_size_is_counted_in_utf8_bytes_and_checked_before_parsing() -> None:
    assert "over the limit" in hostile(msg(type="key-down", key="key-a", text="é" * 2100, seq=1))
    assert "over the limit" in hostile("[" * 10**6)
    assert "over the limit" in hostile(b"\xff" * 10**6)


def test_lone_surrogates_and_control_characters_never_reach_the_guest_or_the_reply() -> None:
    assert "surrogate" in hostile('{"v": 1, "type": "key-down", "key": "key-a", "text": "\\ud800", "seq": 1}')
    assert "surrogate" in hostile('{"v": 1, "type": "ping", "\\udfff": 1}')
    # A field name or key name with a newline is quoted, not copied, into the one-line message.
    assert "\\n" in hostile('{"v": 1, "type": "pointer-up", "x": 1, "y": 1, "seq": 1, "a\\nb": 2}')
    assert "\\n" in hostile('{"v": 1, "type": "key-down", "key": "key\\na", "seq": 1}')
    # A surrogate pair, as JSON writes a character beyond the BMP, is one character.
    parsed = parse_client_message(msg(type="key-down", key="key-a", text="\ud83d\ude00", seq=1))
    assert isinstance(parsed, Input) and isinstance(parsed.event, KeyDown)
    assert parsed.event.text == "\N{GRINNING FACE}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "{" * 8,
        '{"v": 1, "type": "ping", "t": "' + "\\" * 3,
        '{"v": 1, "type": "ping"}' + "]" * 50,
        '{"v": 1, "type": "ping", "t": 1' + "0" * 4000 + ".5}",  # a long float: parsed as a float
        '{"v": 1, "type": ' + '"x", ' * 600 + '"y"}',
        '{"v": 1, "type": "pointer-up", "x": 1, "y": 1, "seq": 1, "' + "k" * 4000 + '": 1}',
        '{"v": 1, "type": "key-down", "key": "' + "k" * 4000 + '", "seq": 1}',
    ],
)
def test_other_garbage_is_refused_with_a_short_line(text: str) -> None:
    hostile(text)


def test_hostile_input_is_cheap() -> None:
    inputs = ["[" * 4000, '{"a":' * 800, '{"v": 1, "type": "ping", "t": 1' + "0" * 4000 + "}", "é" * 4096]
    start = time.perf_counter()
    for text in inputs * 25:
        hostile(text)
    assert time.perf_counter() - start < 1.0  # about 1 ms each, with room for a loaded machine
