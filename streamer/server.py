"""`streamer serve`: the web page, WebRTC signalling, health and metrics, one worker per viewer.

Routes: `/` and `/static/*` (streamer/web_client/), `POST /offer` (signalling, docs/protocol.md),
`GET /config` (what the page needs before it connects), `/healthz`, `/metrics` (Prometheus).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiortc import RTCConfiguration, RTCIceServer, RTCSessionDescription

from .metrics import Metrics
from .session import OfferError, Session, SessionLimits
from .stream_task import WorkerConfig

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
        self.sessions: dict[str, Session] = {}

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

    async def offer(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_OFFER_BYTES:
            return _error(413, f"offer body over {MAX_OFFER_BYTES} bytes")
        body = await request.content.read(MAX_OFFER_BYTES + 1)
        if len(body) > MAX_OFFER_BYTES:
            return _error(413, f"offer body over {MAX_OFFER_BYTES} bytes")
        try:
            params = json.loads(body)
        except ValueError:
            return _error(400, 'body must be JSON: {"sdp": "...", "type": "offer"}')
        if (
            not isinstance(params, dict)
            or params.get("type") != "offer"
            or not isinstance(params.get("sdp"), str)
            or not params["sdp"].startswith("v=0")
        ):
            return _error(400, 'body must be {"sdp": "<an SDP offer>", "type": "offer"}')
        if len(self.sessions) >= self.config.max_sessions:
            self.metrics.errors.labels("full").inc()
            return _error(503, f"the server is full ({self.config.max_sessions} sessions); try again later")
        session = Session(
            self.config.worker,
            self.config.rtc_configuration(),
            self.metrics,
            self.config.limits,
            self._session_closed,
            self.config.record_dir,
        )
        self.sessions[session.id] = session
        try:
            answer = await session.answer(RTCSessionDescription(sdp=params["sdp"], type="offer"))
        except OfferError as exc:
            await session.close(str(exc), cause="refused")
            return _error(400, str(exc))
        except Exception as exc:  # aiortc's SDP parser raises many kinds on bad input
            log.info("offer refused: %r", exc)
            await session.close("bad offer", cause="refused")
            return _error(400, f"the SDP offer could not be used: {type(exc).__name__}: {exc}"[:300])
        try:
            await session.start()
        except OSError as exc:
            self.metrics.errors.labels("worker").inc()
            await session.close(f"could not start a worker: {exc}", cause="refused")
            return _error(500, f"could not start a worker process: {exc}")
        return web.json_response({"sdp": answer.sdp, "type": answer.type, "session": session.id})

    def _session_closed(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "sessions": len(self.sessions)})

    async def metrics_text(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), content_type="text/plain", charset="utf-8")

    async def close_all(self, app: web.Application) -> None:
        await asyncio.gather(
            *(s.close("the server is shutting down", "shutdown") for s in list(self.sessions.values()))
        )


SERVER = web.AppKey("server", Server)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def make_app(config: ServeConfig) -> web.Application:
    server = Server(config)
    app = web.Application(client_max_size=MAX_OFFER_BYTES)
    app[SERVER] = server
    app.router.add_get("/", server.index)
    app.router.add_static("/static", WEB_CLIENT)
    app.router.add_get("/config", server.client_config)
    app.router.add_post("/offer", server.offer)
    app.router.add_get("/healthz", server.healthz)
    app.router.add_get("/metrics", server.metrics_text)
    app.on_shutdown.append(server.close_all)
    return app


@asynccontextmanager
async def running(config: ServeConfig) -> AsyncIterator[tuple[str, Server]]:
    """The server in this event loop, on `config.host` and `config.port` (0: a free port), until the
    block ends; yields its URL and state. Leaving the block ends every session and its worker."""
    app = make_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}", app[SERVER]
    finally:
        await runner.cleanup()


def serve(config: ServeConfig) -> None:
    """Run the server until interrupted; prints the URL to open."""
    app = make_app(config)
    print(f"streamer: serving {config.worker.name} at http://{config.host}:{config.port}/", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None)
