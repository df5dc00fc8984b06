"""The data-channel protocol refuses everything malformed, with a message saying what is wrong."""

from __future__ import annotations

import json

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
