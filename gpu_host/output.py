"""Guest stdout/stderr, split into lines and handed to the host prefixed with the guest's name."""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["GuestOutput", "LineSink", "print_line"]

LineSink = Callable[[str, str, str], None]  # (guest name, "stdout" | "stderr", line)
MAX_LINE = 8192  # longer lines are cut into pieces of this many characters


def print_line(guest: str, stream: str, line: str) -> None:
    """The default sink: the guest's stream goes to ours, each line prefixed `[guest] `."""
    out = sys.stdout if stream == "stdout" else sys.stderr
    out.write(f"[{guest}] {line}\n")
    out.flush()


class GuestOutput:
    def __init__(self, guest: str, sink: LineSink) -> None:
        self._guest = guest
        self._sink = sink
        self._partial: dict[str, bytes] = {}

    def write(self, stream: str, data: bytes) -> None:
        buf = self._partial.get(stream, b"") + data
        *lines, rest = buf.split(b"\n")
        while len(rest) > MAX_LINE:
            lines.append(rest[:MAX_LINE])
            rest = rest[MAX_LINE:]
        self._partial[stream] = rest
        for line in lines:
            self._sink(self._guest, stream, line.decode("utf-8", "replace").rstrip("\r"))

    def line(self, stream: str, text: str) -> None:
        """One whole line from the host on the guest's stream (its partial line stays pending)."""
        self._sink(self._guest, stream, text[:MAX_LINE])

    def flush(self) -> None:
        for stream, rest in self._partial.items():
            if rest:
                self._sink(self._guest, stream, rest.decode("utf-8", "replace"))
        self._partial.clear()
