"""The `streamer` command: `serve` (stream to browsers), `render` (headless job), `farm` (many
jobs on Ray), `doctor`, `scenes`."""

from __future__ import annotations

import argparse
import logging
import os
import ssl
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from gpu_host import ComponentError, Runtime
from gpu_host.events import EventError, load_script

from . import options
from .admission import DoorSettings, is_loopback
from .auth import AuthSettings
from .doctor import doctor
from .encoder import CODECS, EncoderSettings, threads_per_session
from .farm.command import add_farm_arguments, farm_command
from .options import parse_bitrate, parse_bytes, parse_duration, parse_size
from .render import render, render_isolated
from .render_args import add_limit_options, add_render_arguments, limits_from_args, render_job
from .scenes import DEFAULT_SCENE, build_scenes, builtin_scenes, resolve_scene, scene_summary
from .server import IceServer, ServeConfig, serve
from .shared import SharedSettings
from .stream_task import WorkerConfig
from .tokens import ROLES, TokenSigner, load_secret

__all__ = [
    "build_parser",
    "limits_from_args",
    "main",
    "parse_bitrate",
    "parse_bytes",
    "parse_size",
    "render_job",
    "serve_config",
    "worker_config",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("render", help="render a scene headless to an MP4 or a folder of PNGs")
    add_render_arguments(r)
    r.add_argument(
        "--isolate",
        action="store_true",
        help="run the guest in a worker process of its own: a guest that kills it ends the render "
        "in one line (the output is the same)",
    )

    t = sub.add_parser("token", help="print a link carrying a signed access token (serve --auth token)")
    t.add_argument("--role", choices=ROLES, required=True, help="viewer (watches) or controller (may drive)")
    t.add_argument(
        "--ttl",
        type=parse_duration,
        default=3600.0,
        help="how long it is valid, e.g. 45m, 1h, 7d (default 1h)",
    )
    t.add_argument("--url", required=True, help="the server's base URL, e.g. https://kiosk.example:8443")
    t.add_argument("--secret-file", type=Path, help="the signing secret (default: $STREAMER_SECRET)")

    f = sub.add_parser("farm", help="render many jobs, or long jobs in chunks, on Ray (docs/farm.md)")
    add_farm_arguments(f)

    d = sub.add_parser("doctor", help="show the GPU adapter and the wasi:webgpu coverage")
    d.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list the functions not implemented and, apart, the unreachable ones",
    )

    sc = sub.add_parser("scenes", help="list the built-in scenes, one per line: name, then what it shows")
    sc.add_argument(
        "--build",
        action="store_true",
        help="build them into $STREAMER_SCENES_DIR or the user's cache (needs the dev extra)",
    )

    s = sub.add_parser("serve", help="stream a scene to browsers over WebRTC, one worker per viewer")
    s.add_argument("--scene", default=DEFAULT_SCENE, help="a built-in scene's name or a component path")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument(
        "--port", type=options.PORT.number(int), default=8080, help="port (default 8080; 0: any free one)"
    )
    s.add_argument(
        "--size", type=parse_size, default=(1280, 720), help="initial surface size (default 1280x720)"
    )
    s.add_argument(
        "--fps", type=options.FPS.number(float), default=30.0, help="frames per second (default 30)"
    )
    s.add_argument("--codec", choices=CODECS, default="h264", help="video codec (default h264)")
    s.add_argument(
        "--bitrate",
        type=parse_bitrate,
        default=4_000_000,
        help="bitrate on a link that carries it, e.g. 4M or 800k: the ceiling a viewer's stream adapts under",
    )
    s.add_argument(
        "--min-bitrate",
        type=parse_bitrate,
        default=500_000,
        help="the floor: below it a viewer's stream lowers its frame rate, then its encoded size "
        "(default 500k; never above --bitrate)",
    )
    s.add_argument(
        "--no-adapt",
        dest="adapt",
        action="store_false",
        help="send every viewer --bitrate at --fps and full size, whatever its link (still estimated)",
    )
    s.add_argument(
        "--still-refresh",
        type=options.STILL_REFRESH.number(float),
        default=1.0,
        metavar="SECONDS",
        help="a picture that has not changed is sent again this often, its other frames skipped, so an "
        "idle session costs little; a keyframe request or input is answered at once "
        "(default 1; 0: send every frame)",
    )
    s.add_argument(
        "--still-tick",
        type=options.STILL_REFRESH.number(float),
        default=None,
        metavar="SECONDS",
        help="once a picture has been still for 2 s, render it only this often (at most "
        "--still-refresh) until it changes; input and keyframe requests render at once, and a scene "
        "that starts moving by itself shows it up to this late (default 0.25, or --still-refresh if "
        "shorter; 0: every tick)",
    )
    s.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="a STUN or TURN server (repeatable; none by default, so no traffic leaves the machine)",
    )
    s.add_argument("--ice-username", help="username for the TURN servers")
    s.add_argument("--ice-credential", help="credential for the TURN servers")
    s.add_argument(
        "--max-sessions", type=options.MAX_SESSIONS.number(int), default=8, help="viewers at once (default 8)"
    )
    s.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another site's origin (https://example.org) allowed to post offers (repeatable)",
    )
    s.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a name this server is reached by, beyond loopback and --host (repeatable)",
    )
    s.add_argument(
        "--allow-network",
        action="append",
        default=[],
        type=options.network,
        metavar="CIDR",
        help="accept viewers only from these networks, e.g. 192.168.1.0/24 (repeatable; default any)",
    )
    s.add_argument(
        "--offers-per-minute",
        type=options.OFFERS_PER_MINUTE.number(int),
        default=20,
        help="offers per client address a minute (default 20)",
    )
    s.add_argument(
        "--sessions-per-address",
        type=options.SESSIONS_PER_ADDRESS.number(int),
        default=4,
        help="live sessions per client address (default 4)",
    )
    s.add_argument(
        "--frame-ancestors",
        default="'self'",
        metavar="SOURCES",
        help="who may embed the page, as CSP frame-ancestors (default 'self'; 'none' forbids it)",
    )
    s.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="write each session's input to DIR/SESSION.jsonl as a render script (shared mode: "
        "DIR/shared-N.jsonl for the Nth start of the guest)",
    )
    a = s.add_argument_group("access (docs/security.md)")
    a.add_argument(
        "--auth",
        choices=("none", "token"),
        default="none",
        help="token: the page and signalling need a signed token (`streamer token` prints a link)",
    )
    a.add_argument("--secret-file", type=Path, help="the tokens' signing secret (default: $STREAMER_SECRET)")
    a.add_argument(
        "--metrics-public", action="store_true", help="serve /metrics to any address, not loopback only"
    )
    a.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="listen beyond loopback without --auth token: anyone who reaches it may watch and drive",
    )
    s.add_argument("--certfile", type=Path, help="serve over HTTPS with this PEM certificate (chain)")
    s.add_argument("--keyfile", type=Path, help="the certificate's PEM private key (if not in --certfile)")
    k = s.add_argument_group("shared mode: one guest, encoded once, for every viewer")
    k.add_argument(
        "--shared",
        action="store_true",
        help="run one guest for all viewers, started with the server; one viewer at a time drives",
    )
    k.add_argument(
        "--max-viewers",
        type=options.MAX_SESSIONS.number(int),
        default=50,
        help="viewers of the shared stream at once (default 50)",
    )
    k.add_argument(
        "--levels",
        type=options.LEVELS.number(int),
        default=3,
        metavar="N",
        help="encode the shared stream at N quality levels, --bitrate at full size down to "
        "--min-bitrate at half size; each viewer gets the one its link carries (default 3; 1: one encode)",
    )
    k.add_argument(
        "--control-idle",
        type=options.IDLE_SECONDS.number(float),
        default=60.0,
        metavar="SECONDS",
        help="the driver loses control after this long without input (default 60)",
    )
    k.add_argument(
        "--record-video",
        type=Path,
        metavar="DIR",
        help="write the shared stream as sent (H.264: fragmented MP4, VP8: WebM) to DIR, "
        "a file per start of the guest",
    )
    k.add_argument(
        "--record-video-max",
        type=lambda text: parse_bytes(text, options.GPU_MEMORY),
        default=1 << 30,
        metavar="SIZE",
        help="the most the recordings may take together; the oldest go first (default 1G)",
    )
    k.add_argument(
        "--record-video-max-age",
        type=parse_duration,
        metavar="AGE",
        help="delete finished recordings older than this, e.g. 7d (default: kept until the size cap)",
    )
    k.add_argument(
        "--idle-reset",
        type=options.IDLE_SECONDS.number(float),
        metavar="SECONDS",
        help="start the scene over after this long without input (a booth's attract state)",
    )
    k.add_argument(
        "--restart-on-exit",
        action="store_true",
        help="start the guest again when it ends (backing off when it dies at once); viewers stay",
    )
    add_limit_options(s)
    return parser


def _serve(args: argparse.Namespace) -> int:
    # Sessions starting and ending (and why) are what an operator watches; the rest stays quiet.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("streamer").setLevel(logging.INFO)
    if args.still_refresh and args.still_tick and not args.still_tick <= args.still_refresh:
        return _fail(
            f"--still-tick {args.still_tick:g} may not exceed --still-refresh {args.still_refresh:g} "
            "(a still picture is resent at least that often; 0 turns both off)"
        )
    try:
        component = resolve_scene(args.scene)
        name = args.scene if args.scene in builtin_scenes() else component.stem
        with Runtime() as runtime:
            runtime.load(component, name)  # a missing or broken scene fails here, in one line
    except ComponentError as exc:
        return _fail(str(exc))
    worker = worker_config(args, component, name)
    if args.record is not None:
        try:
            args.record.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _fail(f"cannot record into {args.record}: {exc.strerror or exc}")
    if args.auth == "none" and not is_loopback(args.host) and not args.insecure_no_auth:
        return _fail(
            f"refusing to listen on {args.host} without authentication: add --auth token "
            "(and hand out `streamer token` links), or --insecure-no-auth to let anyone in"
        )
    try:
        auth = AuthSettings(TokenSigner(load_secret(args.secret_file))) if args.auth == "token" else None
    except ValueError as exc:
        return _fail(str(exc))
    if args.record_video is not None and not args.shared:
        return _fail("--record-video records the shared stream: add --shared")
    config = replace(
        serve_config(args, worker),
        auth=auth,
        metrics_public=args.metrics_public,
        record_video=args.record_video,
        record_video_bytes=args.record_video_max,
        record_video_age=args.record_video_max_age,
    )
    if config.keyfile is not None and config.certfile is None:
        return _fail("--keyfile needs --certfile")
    try:
        config.ssl_context()
    except (OSError, ssl.SSLError) as exc:
        return _fail(f"cannot use --certfile {config.certfile} / --keyfile {config.keyfile}: {exc}")
    try:
        serve(config)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return 0


def worker_config(args: argparse.Namespace, component: Path, name: str) -> WorkerConfig:
    """What each session's worker runs, as `streamer serve`'s options say."""
    width, height = args.size
    return WorkerConfig(
        component=component,
        name=name,
        size=args.size,
        # Viewers may resize the surface up to 1920x1080, or up to --size when that is larger.
        max_surface_size=(max(width, 1920), max(height, 1080)),
        encoder=EncoderSettings(
            codec=args.codec,
            bitrate=args.bitrate,
            fps=args.fps,
            min_bitrate=args.min_bitrate,
            adapt=args.adapt,
            # A shared stream is one session: its levels' encoders may take every core.
            threads=0 if args.shared else threads_per_session(args.max_sessions),
        ),
        limits=limits_from_args(args),
        still_refresh=args.still_refresh or None,
        still_tick=still_tick(args.still_refresh, args.still_tick),
    )


STILL_TICK = 0.25  # seconds: keeps an idle 720p30 session under 0.1 core (docs/performance.md)


def still_tick(refresh: float, tick: float | None) -> float | None:
    """How often a still picture is rendered: --still-tick, by default STILL_TICK or the refresh
    if shorter; None (every tick) with 0, or when still pictures are not skipped at all."""
    if not refresh:
        return None
    return (min(STILL_TICK, refresh) if tick is None else tick) or None


def serve_config(args: argparse.Namespace, worker: WorkerConfig) -> ServeConfig:
    """The server's configuration from `streamer serve`'s options."""
    ice = tuple(
        IceServer(url, args.ice_username, args.ice_credential) if url.startswith("turn") else IceServer(url)
        for url in args.ice_server
    )
    return ServeConfig(
        worker=worker,
        host=args.host,
        port=args.port,
        ice_servers=ice,
        max_sessions=args.max_viewers if args.shared else args.max_sessions,
        certfile=args.certfile,
        keyfile=args.keyfile,
        record_dir=args.record,
        shared=SharedSettings(
            control_idle=args.control_idle,
            restart_on_exit=args.restart_on_exit,
            idle_reset=args.idle_reset,
            levels=args.levels,
        )
        if args.shared
        else None,
        door=DoorSettings(
            allow_origins=tuple(args.allow_origin),
            allow_hosts=tuple(args.allow_host),
            offers_per_minute=args.offers_per_minute,
            sessions_per_address=args.sessions_per_address,
            frame_ancestors=args.frame_ancestors,
        ),
        networks=tuple(args.allow_network),
    )


def _fail(message: str) -> int:
    print(f"streamer: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # The Vulkan loader complains on every start when this is unset (headless servers).
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    if args.command == "doctor":
        return doctor(verbose=args.verbose)
    if args.command == "serve":
        return _serve(args)
    if args.command == "farm":
        return farm_command(args)
    if args.command == "token":
        try:
            signer = TokenSigner(load_secret(args.secret_file))
        except ValueError as exc:
            return _fail(str(exc))
        role_page = "&role=controller" if args.role == "controller" else ""
        print(f"{args.url.rstrip('/')}/?token={signer.issue(args.role, args.ttl)}{role_page}")
        return 0
    if args.command == "scenes" and args.build:
        try:
            print(f"streamer: {build_scenes()}")
        except ComponentError as exc:
            return _fail(str(exc))
        return 0
    if args.command == "scenes":
        names = builtin_scenes()
        width = max(map(len, names), default=0)
        for name in names:
            summary = scene_summary(name)
            default = " (default)" if name == DEFAULT_SCENE else ""
            print(f"{name:<{width}}  {summary}{default}".rstrip())
        return 0
    try:
        events = tuple(load_script(args.events)) if args.events else ()
        component = resolve_scene(args.scene)
    except (EventError, ComponentError) as exc:
        return _fail(str(exc))
    job = render_job(args, component, events)
    try:
        if args.isolate:
            result = render_isolated(job, progress=sys.stderr.isatty())
        else:
            result = render(job, progress=sys.stderr.isatty())
    except ComponentError as exc:
        return _fail(str(exc))
    if result.error is not None:
        return _fail(result.error)
    print(f"wrote {result.frames} frames to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
