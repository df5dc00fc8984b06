"""The wasi:webgpu fuzzer (benchmarks/gpu_fuzz/): its short profile, and every abort and host
failure it found.

Both run the `gpu_fuzz` guest in a child process (wgpu-native aborting would end pytest itself):
the regression cases must each be refused with the message the guest is shown, and the short
profile, a fixed seed's random calls, must end with no finding: no dead child, no host failure,
no hang, and every wgpu object freed after each guest. docs/sandbox.md has the long runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from benchmarks.gpu_fuzz.cases import CASES, Case
from benchmarks.gpu_fuzz.run import Child, fuzz

CI_SEED = 17
CI_CALLS = 4000  # host calls: about 10-15 s here


class Children:
    """One child for the module's cases, replaced after one dies, so that each case fails alone."""

    def __init__(self) -> None:
        self.current: Child | None = None

    def get(self) -> Child:
        if self.current is not None and not self.current.alive:
            self.current.close()
            self.current = None
        if self.current is None:
            self.current = Child()
        return self.current


@pytest.fixture(scope="module")
def children() -> Iterator[Children]:
    held = Children()
    yield held
    if held.current is not None:
        held.current.close()


def shown(result: dict[str, object]) -> list[str]:
    """The values (or WIT errors) the guest printed, then its scopes' messages, as text."""
    found = result["shown"]
    assert isinstance(found, list)
    return [str(item.get("value", item.get("err"))) for item in found]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_what_the_fuzzer_found_is_refused_and_the_child_lives(children: Children, case: Case) -> None:
    result = children.get().run(case.script())  # a ChildDied here is the abort come back
    assert result["outcome"] == "done", result["error"]
    messages = shown(result)
    assert len(messages) == len(case.expected), messages
    for message, expected in zip(messages, case.expected, strict=True):
        assert expected in message, (message, expected)
    assert result["leaked"] == {}


def test_the_short_profile_finds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    report = fuzz(CI_SEED, CI_CALLS, shrink_tries=0)
    with capsys.disabled():
        print(
            f"\ngpu_fuzz seed {CI_SEED}: {report.calls} calls in {report.seconds:.1f} s, "
            f"{report.calls_per_second:.0f} calls/s, {report.episodes} guests"
        )
    assert report.findings == [], json.dumps(report.as_dict()["findings"], indent=1)
    assert report.restarts == 0
    assert report.calls >= CI_CALLS
