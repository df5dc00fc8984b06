"""A guard in front of aiohttp's connections: slow or numerous clients cannot starve the process.

aiohttp has no deadline for a request's headers, so a client that sends them a byte at a time
holds a connection (a file descriptor, buffers) for as long as it likes, and thousands of them
exhausted the server's descriptors. The guard wraps aiohttp's protocol factory: a client address
may hold at most `per_address` connections at once, and a connection whose first request's
headers are not complete within `header_seconds` is closed. Idle keep-alive connections are
aiohttp's to time out (`keepalive_timeout`, set by the server).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["ConnectionGuard"]

HEADERS_END = b"\r\n\r\n"


class ConnectionGuard:
    """A protocol factory for `loop.create_server`, around aiohttp's (`runner.server`)."""

    def __init__(
        self, factory: Callable[[], asyncio.Protocol], per_address: int = 64, header_seconds: float = 10.0
    ) -> None:
        self._factory = factory
        self.per_address = per_address
        self.header_seconds = header_seconds
        self.open: dict[str, int] = {}  # connections per client address
        self.refused = 0  # connections closed at once: their address held too many
        self.timed_out = 0  # connections closed because their headers did not come in time

    def __call__(self) -> asyncio.Protocol:
        return _Guarded(self._factory(), self)

    def _opened(self, address: str) -> bool:
        if self.open.get(address, 0) >= self.per_address:
            self.refused += 1
            return False
        self.open[address] = self.open.get(address, 0) + 1
        return True

    def _closed(self, address: str) -> None:
        left = self.open.get(address, 0) - 1
        if left > 0:
            self.open[address] = left
        else:
            self.open.pop(address, None)


class _Guarded(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol, watching the first request's headers."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._address: str | None = None
        self._head = b""
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else "unix"
        if not self._guard._opened(address):
            transport.abort()
            return
        self._address = address
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.header_seconds, self._too_slow, transport
        )
        self._inner.connection_made(transport)

    def _too_slow(self, transport: asyncio.Transport) -> None:
        self._deadline = None
        self._guard.timed_out += 1
        transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            self._head = (self._head + data)[-(len(HEADERS_END) + len(data)) :]
            if HEADERS_END in self._head:
                self._deadline.cancel()
                self._deadline = None
                self._head = b""
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._address is None:
            return  # refused at once: aiohttp never saw it
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._guard._closed(self._address)
        self._inner.connection_lost(exc)
