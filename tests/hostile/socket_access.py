"""socket_access: tries TCP and UDP sockets, a connect, a bind and a name lookup.

Every socket is refused with `access-denied` and every lookup too: each attempt must fail with an
OSError (PermissionError for access-denied). Prints one line per attempt,
`{"attempt": NAME, "error": EXCEPTION_CLASS}` (or `"value"` if it worked: a hole), then presents
one frame cleared to blue and ends.
"""

import socket
from collections.abc import Callable

from gfxkit import clear, emit_attempts, next_frame, setup


def tcp_connect() -> str:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect(("127.0.0.1", 9))
    finally:
        sock.close()
    return "connected"


def udp_send() -> str:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(b"hostile", ("127.0.0.1", 9))
    finally:
        sock.close()
    return "sent"


def tcp_listen() -> str:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        sock.bind(("::", 8080))
        sock.listen()
    finally:
        sock.close()
    return "listening"


ATTEMPTS: dict[str, Callable[[], object]] = {
    "tcp_connect": tcp_connect,
    "udp_send": udp_send,
    "tcp_listen": tcp_listen,
    "lookup": lambda: socket.getaddrinfo("example.com", 80),
    "lookup_localhost": lambda: socket.getaddrinfo("localhost", 80),
}


def run() -> None:
    emit_attempts(ATTEMPTS)
    device, canvas, context = setup()
    next_frame(canvas, canvas.subscribe_frame())
    clear(device, context, (0.0, 0.0, 1.0))
