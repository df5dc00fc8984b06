"""`streamer render`'s options: one definition for the command line and the farm's job lines.

A farm job (docs/farm.md) takes the same long options as `streamer render`, with `-` turned into
`_`, in the same syntax and with the same defaults, so both are read through the parser built here.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from gpu_host import Limits
from gpu_host.events import ScriptedEvent

from . import options
from .options import parse_size
from .render import RenderJob
from .scenes import DEFAULT_SCENE, builtin_scenes
from .video import VideoSettings

__all__ = ["add_limit_options", "add_render_arguments", "limits_from_args", "render_job"]


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """The guest's limits a user may need to change (docs/sandbox.md has them all)."""
    default = Limits()
    group = parser.add_argument_group("guest limits (docs/sandbox.md)")
    group.add_argument(
        "--cpu-seconds",
        type=options.SECONDS.number(float),
        default=default.cpu_seconds,
        help=f"seconds a guest may run without waiting for a frame (default {default.cpu_seconds:g})",
    )
    group.add_argument(
        "--memory",
        type=options.memory,
        default=default.memory_bytes,
        metavar="SIZE",
        help=f"the guest's linear memory, e.g. 512M (default {default.memory_bytes >> 20}M)",
    )
    group.add_argument(
        "--gpu-memory",
        type=options.gpu_memory,
        default=default.gpu_bytes,
        metavar="SIZE",
        help=f"bytes of GPU buffers and textures alive at once (default {default.gpu_bytes >> 20}M)",
    )
    group.add_argument(
        "--gpu-wait",
        type=options.SECONDS.number(float),
        default=default.gpu_wait_seconds,
        metavar="SECONDS",
        help="longest wait on the GPU; past it the guest ends and its device is lost "
        f"(default {default.gpu_wait_seconds:g})",
    )


def add_render_arguments(r: argparse.ArgumentParser) -> None:
    """The options of one render job (`streamer render`, a line of `streamer farm`'s jobs)."""
    r.add_argument(
        "scene", nargs="?", default=DEFAULT_SCENE, help="a built-in scene's name or a component path"
    )
    r.add_argument("-o", "--output", type=Path, required=True, help="OUT.mp4 (H.264) or a folder for PNGs")
    r.add_argument(
        "--frames", type=options.FRAMES.number(int), default=90, help="frames to render (default 90)"
    )
    r.add_argument("--size", type=parse_size, default=(640, 360), help="surface size WxH (default 640x360)")
    r.add_argument(
        "--fps", type=options.FPS.number(float), default=30.0, help="virtual frame rate and video rate"
    )
    r.add_argument(
        "--seed", type=options.SEED.number(int), default=0, help="seed of the guest's wasi:random (default 0)"
    )
    r.add_argument("--events", type=Path, help="JSON-lines input script (docs/events.md)")
    r.add_argument(
        "--qp",
        type=options.QP.number(int),
        help="MP4: a constant quantizer, 0-51, lower is better (default: x264's CRF 23)",
    )
    r.add_argument(
        "--keyint",
        type=options.KEYINT.number(int),
        help="MP4: a keyframe every N frames exactly and no B-frames, so that the video is the "
        "same as a farm render in chunks of N (default: x264 decides)",
    )
    add_limit_options(r)


def limits_from_args(args: argparse.Namespace) -> Limits:
    """The Limits the command line asks for (startup gets at least as long as any later frame)."""
    default = Limits()
    return replace(
        default,
        cpu_seconds=args.cpu_seconds,
        startup_cpu_seconds=max(default.startup_cpu_seconds, args.cpu_seconds),
        memory_bytes=args.memory,
        gpu_bytes=args.gpu_memory,
        gpu_wait_seconds=args.gpu_wait,
    )


def render_job(args: argparse.Namespace, component: Path, events: tuple[ScriptedEvent, ...]) -> RenderJob:
    """The render job `streamer render`'s options describe."""
    return RenderJob(
        component=component,
        output=args.output,
        frames=args.frames,
        size=args.size,
        fps=args.fps,
        seed=args.seed,
        events=events,
        name=args.scene if args.scene in builtin_scenes() else None,
        limits=limits_from_args(args),
        video=VideoSettings(qp=args.qp, keyint=args.keyint),
    )
