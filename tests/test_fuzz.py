"""Property-based fuzzing (hypothesis) of what the network face parses: data-channel messages,
SDP offers and access tokens. Whatever arrives, each raises only its own one-line error.

The suite runs the `ci` profile (a few hundred cases each); `HYPOTHESIS_PROFILE=long` runs the
longer one recorded in docs/security.md.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamer.offer import read_offer
from streamer.protocol import EVENT_TYPES, ProtocolError, parse_client_message
from streamer.tokens import TokenError, TokenSigner

settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True)
settings.register_profile(
    "long", max_examples=30_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=10), children, max_size=6)
    ),
    max_leaves=30,
)
# Messages shaped like the protocol's, with every field possibly wrong.
message_like = st.fixed_dictionaries(
    {
        "v": st.one_of(st.just(1), json_values),
        "type": st.sampled_from([*EVENT_TYPES, "ping", "probe", "control", "x"]),
    },
    optional={
        "seq": json_values | st.integers(min_value=0, max_value=2**60),
        "t": json_values,
        "x": json_values | st.floats(),
        "y": json_values | st.floats(),
        "button": json_values,
        "key": json_values | st.sampled_from(["key-a", "arrow-left", "enter"]),
        "enabled": json_values,
        "take": json_values,
        "width": json_values,
        "height": json_values,
    },
)


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), message_like.map(json.dumps)))
def test_a_data_channel_message_only_ever_raises_protocol_error(text: str | bytes) -> None:
    try:
        parse_client_message(text)
    except ProtocolError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 300


@given(st.lists(st.text(max_size=120), max_size=60), st.sampled_from(["\n", "\r\n"]))
def test_an_offer_is_read_whatever_its_lines(lines: list[str], newline: str) -> None:
    sdp = newline.join(["v=0", *lines])
    facts = read_offer(sdp)
    assert facts.sdp.startswith("v=0")
    assert facts.sdp.count("a=candidate:") <= 32


@given(
    st.one_of(
        st.text(max_size=600),
        st.from_regex(r"[A-Za-z0-9_\-]{0,80}\.[A-Za-z0-9_\-]{0,40}", fullmatch=True),
    )
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_token_is_checked_with_one_kind_of_error(token: str) -> None:
    signer = TokenSigner(b"0123456789abcdef0123456789abcdef")
    try:
        signer.check(token)
    except TokenError as exc:
        assert exc.kind in ("missing", "malformed", "expired", "signature")
