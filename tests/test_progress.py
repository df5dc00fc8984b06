"""The render progress bar: silent off a terminal, rate-limited on one."""

from __future__ import annotations

import io

from streamer.progress import Progress


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_silent_when_not_a_tty() -> None:
    stream = io.StringIO()
    with Progress(10, stream) as progress:
        progress.update(10)
    assert stream.getvalue() == ""


def test_draws_in_place_at_most_ten_times_a_second() -> None:
    stream, clock = FakeTty(), FakeClock()
    progress = Progress(100, stream, clock)
    for done in range(1, 13):
        clock.now += 0.01
        progress.update(done)
    assert stream.getvalue().count("\r") == 2  # first update, then once 0.1 s had passed
    progress.close()
    progress.close()
    out = stream.getvalue()
    assert out.count("\r") == 3 and out.endswith("\n")
    assert "[##..................] 12/100 frames 100.0 fps" in out.splitlines()[-1]


def test_line_with_unknown_total() -> None:
    clock = FakeClock()
    progress = Progress(0, FakeTty(), clock)
    clock.now += 2
    progress.update(5)
    assert progress.line(clock.now) == "[####################] 5/0 frames 2.5 fps"
