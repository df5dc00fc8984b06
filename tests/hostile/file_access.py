"""file_access: tries to read, list, create and stat files, and prints what each attempt got.

The host preopens no directory, so every attempt must fail with an OSError and nothing is read or
written. Prints one line per attempt, `{"attempt": NAME, "error": EXCEPTION_CLASS}` (or
`"value"` if it worked, which the test treats as a hole), then presents one frame cleared to blue
and ends.
"""

import os
from collections.abc import Callable

from gfxkit import clear, emit_attempts, next_frame, setup


def write_file() -> str:
    with open("/tmp/hostile-was-here", "w") as handle:
        handle.write("hostile")
    return "written"


def read_file() -> str:
    with open("/etc/passwd") as handle:
        return handle.read(64)


ATTEMPTS: dict[str, Callable[[], object]] = {
    "read": read_file,
    "write": write_file,
    "listdir_root": lambda: os.listdir("/"),
    "listdir_cwd": lambda: os.listdir("."),
    "stat": lambda: list(os.stat("/etc")),
    "mkdir": lambda: os.mkdir("/hostile"),
}


def run() -> None:
    emit_attempts(ATTEMPTS)
    device, canvas, context = setup()
    next_frame(canvas, canvas.subscribe_frame())
    clear(device, context, (0.0, 0.0, 1.0))
