"""Who may come in: the checks at the server's door, before a session or a worker exists.

- `POST /offer` takes only `application/json`, which a page of another site cannot send without a
  CORS preflight; a preflight or an `Origin` of another site is refused unless that origin is
  allowed (`--allow-origin`).
- The `Host` header must name this server (a loopback name, the address it is bound to, or a
  name given with `--allow-host`), so a DNS name rebound to this machine's address reaches nothing.
- Per client address: offers per minute and live sessions are limited, so one client cannot hold
  every slot.
- Pages carry a content security policy and the usual hardening headers.

docs/security.md lists each attack and the setting involved.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

__all__ = [
    "AddressLimits",
    "DoorSettings",
    "host_allowed",
    "is_loopback",
    "origin_allowed",
    "security_headers",
]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class DoorSettings:
    """The door's settings (`streamer serve` options)."""

    allow_origins: tuple[str, ...] = ()  # origins of other sites allowed to post offers
    allow_hosts: tuple[str, ...] = ()  # names this server is reached by, beyond loopback and its address
    offers_per_minute: int = 20  # per client address
    sessions_per_address: int = 4  # live sessions per client address
    frame_ancestors: str = "'self'"  # who may embed the page (a kiosk's wall page, say)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _name_of(host_header: str) -> str:
    """The host name of a `Host` header or an origin's netloc, without its port or brackets."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    if host_header.count(":") == 1:
        return host_header.partition(":")[0]
    return host_header


def host_allowed(host_header: str | None, bound: str, allowed: Iterable[str]) -> bool:
    """Does the request's `Host` name this server? Loopback names, the bound address, names given
    with `--allow-host`, and, when bound to every interface, any IP address (one of this
    machine's)."""
    if not host_header:
        return False
    name = _name_of(host_header.strip().lower())
    if is_loopback(name) or name == bound.lower() or name in {h.lower() for h in allowed}:
        return True
    if bound in ("0.0.0.0", "::", ""):
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
    return False


def origin_allowed(origin: str | None, host_header: str | None, allowed: Iterable[str]) -> bool:
    """No `Origin` (not a browser's cross-site request), the page's own origin, or one allowed."""
    if origin is None:
        return True
    if origin.rstrip("/") in {o.rstrip("/") for o in allowed}:
        return True
    netloc = urlsplit(origin).netloc.lower()
    return bool(host_header) and netloc == (host_header or "").strip().lower()


class AddressLimits:
    """Offers per minute and live sessions, per client address. Entries of addresses that have
    gone quiet are dropped, so the table stays as small as the set of recent clients."""

    def __init__(self, offers_per_minute: int, sessions_per_address: int) -> None:
        self.offers_per_minute = offers_per_minute
        self.sessions_per_address = sessions_per_address
        self._offers: dict[str, deque[float]] = {}
        self._sessions: dict[str, int] = {}

    def refuse_offer(self, address: str) -> str | None:
        """Why an offer from `address` is refused now (one line), or None after counting it."""
        now = time.monotonic()
        for other in [a for a, times in self._offers.items() if times and now - times[-1] > 60]:
            del self._offers[other]
        times = self._offers.setdefault(address, deque())
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.offers_per_minute:
            return f"too many offers from {address} ({self.offers_per_minute} a minute); wait a minute"
        if self._sessions.get(address, 0) >= self.sessions_per_address:
            return f"{address} already has {self.sessions_per_address} sessions; close one first"
        times.append(now)
        return None

    def session_started(self, address: str) -> None:
        self._sessions[address] = self._sessions.get(address, 0) + 1

    def session_ended(self, address: str) -> None:
        left = self._sessions.get(address, 0) - 1
        if left > 0:
            self._sessions[address] = left
        else:
            self._sessions.pop(address, None)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _harden(response: web.StreamResponse, policy: str) -> None:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"


def security_headers(frame_ancestors: str) -> Middleware:
    """A middleware adding the content security policy and hardening headers to every response."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a redirect or an error raised on the way: headers too
            _harden(exc, policy)
            raise
        _harden(response, policy)
        return response

    return middleware
