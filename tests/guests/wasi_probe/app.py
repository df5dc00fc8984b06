"""wasi_probe: reports what the WASI imports give a guest, then clears to red forever.

Prints one JSON object per line (flushed), in this order; a probe that raised prints
{"probe": NAME, "error": EXCEPTION_CLASS_NAME} instead of "value":
  {"probe": "environ", "value": [[KEY, VALUE], ...]}    os.environ, in the order the host gave
  {"probe": "argv", "value": [...]}                      sys.argv
  {"probe": "urandom", "value": HEX}                     os.urandom(16).hex() (32 hex digits)
  {"probe": "random", "value": INT}                      random.Random(os.urandom(8)).getrandbits(64)
  {"probe": "wall", "value": [SECONDS, NANOSECONDS]}     time.time_ns() split, from wasi:clocks/wall-clock
  {"probe": "listdir", "value": [...]}                   os.listdir("/")
  {"probe": "socket", "value": "created", "stage": "create"}   socket.socket()
  {"probe": "socket", "value": "connected", "stage": "connect"} connect to 127.0.0.1:9
      (each as "error" when it raised; "connect" is skipped when "create" failed)
  {"probe": "stdin", "value": TEXT}                      sys.stdin.read() (expected "")
  {"probe": "stderr", "value": "written"}                after writing the line
                                                         "wasi_probe: a line on stderr" to stderr
  {"probe": "monotonic_ns", "value": [BEFORE, AFTER]}    time.monotonic_ns() before waiting for
                                                         frame 0 and after presenting it
Draws: every frame the whole surface red (1, 0, 0) -> pixels (255, 0, 0, 255).
"""

import os
import random
import socket
import sys
import time
from collections.abc import Callable

import wit_world
from gfxkit import clear, emit, next_frame, setup


def report(name: str, value: object, **extra: object) -> None:
    emit(probe=name, value=value, **extra)


def report_error(name: str, error: BaseException, **extra: object) -> None:
    emit(probe=name, error=type(error).__name__, **extra)


def probe(name: str, get: Callable[[], object]) -> None:
    try:
        value = get()
    except Exception as error:
        report_error(name, error)
    else:
        report(name, value)


def probe_socket() -> None:
    try:
        sock = socket.socket()
    except Exception as error:
        report_error("socket", error, stage="create")
        return
    report("socket", "created", stage="create")
    try:
        sock.connect(("127.0.0.1", 9))
    except Exception as error:
        report_error("socket", error, stage="connect")
    else:
        report("socket", "connected", stage="connect")
    finally:
        sock.close()


def write_stderr() -> str:
    sys.stderr.write("wasi_probe: a line on stderr\n")
    sys.stderr.flush()
    return "written"


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        probe("environ", lambda: [list(item) for item in os.environ.items()])
        probe("argv", lambda: list(sys.argv))
        probe("urandom", lambda: os.urandom(16).hex())
        probe("random", lambda: random.Random(os.urandom(8)).getrandbits(64))
        probe("wall", lambda: list(divmod(time.time_ns(), 1_000_000_000)))
        probe("listdir", lambda: os.listdir("/"))
        probe_socket()
        probe("stdin", lambda: sys.stdin.read())
        probe("stderr", write_stderr)

        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        before = time.monotonic_ns()
        next_frame(canvas, frame_ready)
        clear(device, context, (1.0, 0.0, 0.0))
        report("monotonic_ns", [before, time.monotonic_ns()])
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
