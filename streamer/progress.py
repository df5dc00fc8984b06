"""A one-line progress bar for render jobs, drawn only on a terminal so logs and pipes stay clean."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TextIO

__all__ = ["Progress"]

BAR_WIDTH = 20
MIN_INTERVAL = 0.1  # seconds between redraws: at most 10 per second


class Progress:
    """`[#####...............] 12/100 frames 34.5 fps`, redrawn in place with a carriage return."""

    def __init__(
        self, total: int, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = max(total, 0)
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self._enabled = _is_tty(self._stream)
        self._clock = clock
        self._start = clock()
        self._last_draw: float | None = None
        self._closed = False

    def update(self, done: int) -> None:
        """Set the number of frames done so far (not an increment); redraws at most 10 times a second."""
        self.done = done
        if not self._enabled or self._closed:
            return
        now = self._clock()
        if self._last_draw is None or now - self._last_draw >= MIN_INTERVAL:
            self._draw(now)

    def close(self) -> None:
        """Draw the final state and end the line; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        if self._enabled:
            self._draw(self._clock())
            self._stream.write("\n")
            self._stream.flush()

    def line(self, now: float) -> str:
        """The text of the bar at time `now` (of the same clock)."""
        fraction = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(fraction * BAR_WIDTH)
        elapsed = now - self._start
        fps = self.done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        return f"[{bar}] {self.done}/{self.total} frames {fps:.1f} fps"

    def _draw(self, now: float) -> None:
        self._last_draw = now
        self._stream.write("\r" + self.line(now) + "\x1b[K")  # clear what a longer line left behind
        self._stream.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-like stream without a terminal
        return False
