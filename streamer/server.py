"""`streamer serve`: the web page, WebRTC signalling, health and metrics, one worker per viewer.

Routes: `/` and `/static/*` (streamer/web_client/), `POST /offer` (signalling, docs/protocol.md),
`GET /config` (what the page needs before it connects), `/healthz`, `/metrics` (Prometheus).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import signal
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription

from .admission import (
    AddressLimits,
    DoorSettings,
    host_allowed,
    is_loopback,
    origin_allowed,
    security_headers,
)
from .auth import AuthSettings, auth_middleware, grant_of
from .connections import ConnectionGuard
from .metrics import Metrics
from .offer import Network, read_offer
from .recording import StreamRecorder
from .session import OfferError, Session, SessionLimits
from .shared import SharedSettings, SharedStream
from .stream_task import WorkerConfig
from .tokens import Grant

__all__ = ["SERVER", "IceServer", "ServeConfig", "Server", "make_app", "running", "serve"]

log = logging.getLogger(__name__)

WEB_CLIENT = Path(__file__).resolve().parent / "web_client"  # package data: the viewer page
MAX_OFFER_BYTES = 64 * 1024  # an SDP offer is a few kB; anything far larger is not one


@dataclass(frozen=True)
class IceServer:
    url: str
    username: str | None = None
    credential: str | None = None

    def to_json(self) -> dict[str, object]:
        entry: dict[str, object] = {"urls": [self.url]}
        if self.username is not None:
            entry["username"] = self.username
            entry["credential"] = self.credential or ""
        return entry


@dataclass(frozen=True)
class ServeConfig:
    worker: WorkerConfig
    host: str = "127.0.0.1"
    port: int = 8080
    ice_servers: tuple[IceServer, ...] = ()  # none by default: no traffic leaves the machine
    max_sessions: int = 8
    limits: SessionLimits = field(default_factory=SessionLimits)
    record_dir: Path | None = None  # each session's input as a render script: <dir>/<session>.jsonl
    door: DoorSettings = field(default_factory=DoorSettings)
    networks: tuple[Network, ...] = ()  # viewers' ICE candidates must be in these (none: any)
    fd_headroom: int = 64  # file descriptors kept free: below it, an offer gets 503, not a crash
    connections_per_address: int = 64  # HTTP connections one client address may hold at once
    header_seconds: float = 10.0  # for a new connection's request headers to arrive in full
    # Shared mode (streamer/shared.py): one guest for every viewer; `max_sessions` caps the viewers.
    shared: SharedSettings | None = None
    # HTTPS for the page and signalling: a PEM certificate chain and its private key.
    certfile: Path | None = None
    keyfile: Path | None = None
    auth: AuthSettings | None = None  # `--auth token` (streamer/auth.py); None: everyone may drive
    metrics_public: bool = False  # /metrics for any address, not loopback only
    record_video: Path | None = None  # shared mode: the stream's packets to files in this folder
    record_video_bytes: int = 1 << 30  # the most its recordings may take together
    record_video_age: float | None = None  # seconds a finished recording is kept (None: no limit)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for `certfile` and `keyfile`; OSError or ssl.SSLError if they cannot be used."""
        if self.certfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    @property
    def scheme(self) -> str:
        return "https" if self.certfile is not None else "http"

    def rtc_configuration(self) -> RTCConfiguration:
        # An explicit list, even empty: aiortc falls back to a public STUN server when given none.
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=[s.url], username=s.username, credential=s.credential)
                for s in self.ice_servers
            ]
        )


class Server:
    """The application's state: its configuration, open sessions and metrics."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.sessions: dict[str, Session] = {}  # answered sessions: each holds a slot
        self._starting: set[Session] = set()  # sessions being answered: each holds a slot until it
        # is refused or moves to `sessions` (never counted in both)
        self._peers: dict[str, str] = {}  # a live session's peer (ICE ufrag and fingerprint) -> its id
        self._limits = AddressLimits(config.door.offers_per_minute, config.door.sessions_per_address)
        self._refused: set[asyncio.Task[None]] = set()  # refused sessions still closing
        self.connections: ConnectionGuard | None = None  # set by `running`, for its counts
        self.shared: SharedStream | None = None  # shared mode's stream, from the server's start
        self._token_sessions: dict[str, int] = {}  # live sessions per access token (its grant's id)

    async def start_shared(self, app: web.Application) -> None:
        """Shared mode: the scene starts with the server, before anyone watches."""
        settings = self.config.shared
        if settings is None:
            return
        recorder = None
        if self.config.record_video is not None:
            encoder = self.config.worker.encoder
            recorder = StreamRecorder(
                self.config.record_video,
                encoder.codec,
                encoder.fps,
                self.config.record_video_bytes,
                self.config.record_video_age,
            )
        self.shared = SharedStream(
            self.config.worker, self.metrics, settings, self.config.record_dir, recorder
        )
        await self.shared.start()
        mbps = self.config.worker.encoder.bitrate / 1e6
        log.info(
            "shared stream of %s: one encode for up to %d viewers; each costs about %.1f Mb/s of "
            "upload, %d viewers %.0f Mb/s",
            self.config.worker.name,
            self.config.max_sessions,
            mbps,
            self.config.max_sessions,
            mbps * self.config.max_sessions,
        )

    async def stop_shared(self, app: web.Application) -> None:
        if self.shared is not None:
            await self.shared.stop()

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_CLIENT / "index.html")

    async def client_config(self, request: web.Request) -> web.Response:
        encoder = self.config.worker.encoder
        return web.json_response(
            {
                "iceServers": [s.to_json() for s in self.config.ice_servers],
                "codec": encoder.codec,
                "fps": encoder.fps,
                "width": self.config.worker.size[0],
                "height": self.config.worker.size[1],
                "scene": self.config.worker.name,
            }
        )

    async def preflight(self, request: web.Request) -> web.Response:
        """CORS preflight for `POST /offer`: answered only for an origin allowed by `--allow-origin`."""
        origin = request.headers.get("Origin")
        if origin is None or not origin_allowed(origin, None, self.config.door.allow_origins):
            return _error(403, "cross-site offers are not allowed from this origin (see --allow-origin)")
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Vary": "Origin",
            },
        )

    async def offer(self, request: web.Request) -> web.Response:
        door = self.config.door
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, request.host, door.allow_origins):
            self.metrics.errors.labels("refused").inc()
            return _error(403, f"offers from {origin} are not allowed (see --allow-origin)")
        if request.content_type != "application/json":
            return _error(415, "the offer must be sent as Content-Type: application/json")
        try:
            body = await request.read()  # the whole body, up to client_max_size
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"offer body over {MAX_OFFER_BYTES} bytes")
        try:
            params = json.loads(body)
        except (ValueError, RecursionError):
            return _error(400, 'body must be JSON: {"sdp": "...", "type": "offer"}')
        if (
            not isinstance(params, dict)
            or params.get("type") != "offer"
            or not isinstance(params.get("sdp"), str)
            or not params["sdp"].startswith("v=0")
        ):
            return _error(400, 'body must be {"sdp": "<an SDP offer>", "type": "offer"}')
        facts = read_offer(params["sdp"], self.config.networks)
        if facts.peer.strip() and facts.peer in self._peers:
            return _error(409, "this peer already has a session; renegotiation is not supported")
        grant = grant_of(request)
        auth = self.config.auth
        if grant is not None and auth is not None:
            most = auth.connections(grant)
            if most is not None and self._token_sessions.get(grant.id, 0) >= most:
                self.metrics.auth_refused.labels("in-use").inc()
                return _error(409, f"this {grant.role} link is already in use by {most} live connection(s)")
        address = request.remote or "unknown"
        refusal = self._limits.refuse_offer(address)
        if refusal is not None:
            self.metrics.errors.labels("limited").inc()
            return _error(429, refusal)
        if await asyncio.to_thread(_free_descriptors) < self.config.fd_headroom:
            self.metrics.errors.labels("full").inc()
            return _error(503, "the server is out of file descriptors; try again later")
        # Checked and taken with no await between: offers arriving together cannot overfill it.
        if len(self.sessions) + len(self._starting) >= self.config.max_sessions:
            self.metrics.errors.labels("full").inc()
            return _error(503, f"the server is full ({self.config.max_sessions} sessions); try again later")
        session = Session(
            self.config.worker,
            self.config.rtc_configuration(),
            self.metrics,
            self.config.limits,
            self._session_closed,
            self.config.record_dir,
            max_message_size=facts.max_message_size,
            shared=self.shared,
            role=grant.role if grant is not None else "controller",
        )
        self._starting.add(session)
        try:
            return await self._answer(session, facts.sdp, facts.peer, address, grant)
        finally:
            self._starting.discard(session)

    async def _answer(
        self, session: Session, sdp: str, peer: str, address: str, grant: Grant | None
    ) -> web.Response:
        try:
            answer = await session.answer(RTCSessionDescription(sdp=sdp, type="offer"))
        except OfferError as exc:
            self._refuse(session, str(exc))
            return _error(400, str(exc))
        except Exception as exc:  # aiortc's SDP parser raises many kinds on bad input
            log.info("offer refused: %r", exc)
            self._refuse(session, "bad offer")
            return _error(400, f"the SDP offer could not be used: {type(exc).__name__}: {exc}"[:300])
        self._starting.discard(session)  # its slot is counted in `sessions` from here on
        self.sessions[session.id] = session
        session.peer, session.address = peer, address
        if grant is not None:
            session.token = grant.id
            self._token_sessions[grant.id] = self._token_sessions.get(grant.id, 0) + 1
        self._peers[peer] = session.id
        self._limits.session_started(address)
        try:
            await session.start()
        except OSError as exc:
            self.metrics.errors.labels("worker").inc()
            await session.close(f"could not start a worker: {exc}", cause="refused")
            return _error(500, f"could not start a worker process: {exc}")
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    def _refuse(self, session: Session, reason: str) -> None:
        """A refused offer gives its slot back at once; its peer connection closes in the background."""
        task = session.close(reason, cause="refused")
        self._refused.add(task)
        task.add_done_callback(self._refused.discard)

    def _session_closed(self, session: Session) -> None:
        if self.sessions.pop(session.id, None) is not None:
            self._peers.pop(session.peer, None)
            self._limits.session_ended(session.address)
            if session.token is not None:
                left = self._token_sessions.pop(session.token, 1) - 1
                if left > 0:
                    self._token_sessions[session.token] = left

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "sessions": len(self.sessions)})

    async def metrics_text(self, request: web.Request) -> web.Response:
        if not self.config.metrics_public and not is_loopback(request.remote or ""):
            return _error(403, "/metrics answers this machine only (see --metrics-public)")
        return web.Response(body=self.metrics.exposition(), content_type="text/plain", charset="utf-8")

    async def close_all(self, app: web.Application) -> None:
        await asyncio.gather(
            *(s.close("the server is shutting down", "shutdown") for s in list(self.sessions.values())),
            *self._refused,
        )


SERVER = web.AppKey("server", Server)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _free_descriptors() -> int:
    """File descriptors this process may still open (its soft limit minus those open)."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        return soft - len(os.listdir("/proc/self/fd"))
    except OSError:  # no /proc (not Linux): assume there is room
        return 1 << 20


def make_app(config: ServeConfig) -> web.Application:
    server = Server(config)

    @web.middleware
    async def check_host(request: web.Request, handler: Handler) -> web.StreamResponse:
        """A request must name this server (DNS rebinding reaches nothing)."""
        if not host_allowed(request.host, config.host, config.door.allow_hosts):
            return _error(421, f"this server does not serve {request.host!r} (see --allow-host)")
        return await handler(request)

    middlewares = [security_headers(config.door.frame_ancestors), check_host]
    if config.auth is not None:
        middlewares.append(auth_middleware(config.auth, server.metrics, secure=config.certfile is not None))
    app = web.Application(client_max_size=MAX_OFFER_BYTES, middlewares=middlewares)
    app[SERVER] = server
    app.router.add_get("/", server.index)
    app.router.add_static("/static", WEB_CLIENT)
    app.router.add_get("/config", server.client_config)
    app.router.add_post("/offer", server.offer)
    app.router.add_route("OPTIONS", "/offer", server.preflight)
    app.router.add_get("/healthz", server.healthz)
    app.router.add_get("/metrics", server.metrics_text)
    app.on_startup.append(server.start_shared)
    app.on_shutdown.append(server.close_all)
    app.on_shutdown.append(server.stop_shared)
    return app


@asynccontextmanager
async def running(config: ServeConfig) -> AsyncIterator[tuple[str, Server]]:
    """The server in this event loop, on `config.host` and `config.port` (0: a free port), until the
    block ends; yields its URL and state. Leaving the block ends every session and its worker."""
    app = make_app(config)
    # Idle keep-alive connections go after 30 s; the guard bounds the rest (streamer/connections.py).
    runner = web.AppRunner(app, keepalive_timeout=30.0)
    await runner.setup()
    listener: asyncio.Server | None = None
    try:
        assert runner.server is not None
        guard = ConnectionGuard(runner.server, config.connections_per_address, config.header_seconds)
        app[SERVER].connections = guard
        listener = await asyncio.get_running_loop().create_server(
            guard, config.host, config.port, ssl=config.ssl_context()
        )
        host, port = listener.sockets[0].getsockname()[:2]
        yield f"{config.scheme}://{host}:{port}", app[SERVER]
    finally:
        if listener is not None:
            listener.close()
        await runner.cleanup()


def serve(config: ServeConfig) -> None:
    """Run the server until interrupted (SIGINT or SIGTERM); prints the URL to open."""
    print(
        f"streamer: serving {config.worker.name} at {config.scheme}://{config.host}:{config.port}/",
        flush=True,
    )
    if not is_loopback(config.host) and config.auth is None:
        print(
            f"streamer: warning: listening on {config.host}, beyond this machine, with no authentication "
            "(--insecure-no-auth): anyone who can reach it can watch and drive the scene (docs/security.md)",
            file=sys.stderr,
            flush=True,
        )
    asyncio.run(_serve_until_stopped(config))


async def _serve_until_stopped(config: ServeConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(config):
        await stop.wait()
