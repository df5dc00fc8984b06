"""`streamer serve --auth token`: the page, its files, `/config` and the signalling request need a
signed token (streamer/tokens.py); `/healthz` stays open, and `/metrics` answers loopback only
unless `--metrics-public`.

The token arrives in the page's URL (`?token=`). The first load moves it into an HttpOnly cookie
and redirects to the same URL without it, so it does not stay in the address bar, the history or
a Referer. Every later request, the offer included, carries the cookie; its expiry is checked on
each one, so a wall screen's long-lived token keeps reconnecting until it expires. A refused
request costs nothing: no session, no worker.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from .metrics import Metrics
from .tokens import Grant, TokenError, TokenSigner

__all__ = ["COOKIE", "GRANT", "AuthSettings", "auth_middleware", "grant_of"]

COOKIE = "streamer_token"
GRANT = web.RequestKey("grant", Grant)
OPEN_PATHS = frozenset({"/healthz", "/metrics"})  # /metrics has a check of its own

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class AuthSettings:
    signer: TokenSigner
    controller_connections: int | None = 1  # live sessions per controller token (None: any)
    viewer_connections: int | None = None  # live sessions per viewer token (None: any)

    def connections(self, grant: Grant) -> int | None:
        return self.controller_connections if grant.role == "controller" else self.viewer_connections


def grant_of(request: web.Request) -> Grant | None:
    """The token's grant for this request; None when the server runs without `--auth`."""
    return request.get(GRANT)


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def auth_middleware(
    settings: AuthSettings, metrics: Metrics, secure: bool
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS:
            return await handler(request)
        in_url = request.query.get("token")
        try:
            grant = settings.signer.check(in_url or request.cookies.get(COOKIE))
        except TokenError as exc:
            metrics.auth_refused.labels(exc.kind).inc()
            return _refuse(401, str(exc))
        if request.query.get("role") == "controller" and grant.role != "controller":
            metrics.auth_refused.labels("role").inc()
            return _refuse(403, "this link may watch, not drive: a controller page needs a controller token")
        request[GRANT] = grant
        if in_url is not None:
            # Into a cookie the page's scripts cannot read, and out of the address bar.
            query = {k: v for k, v in request.query.items() if k != "token"}
            target = request.rel_url.with_query(query)
            response = web.HTTPFound(str(target))
            response.set_cookie(
                COOKIE,
                in_url,
                max_age=max(0, int(grant.expires - time.time())),
                path="/",
                httponly=True,
                secure=secure,
                samesite="Strict",
            )
            raise response
        return await handler(request)

    return check_token
