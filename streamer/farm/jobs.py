"""The farm's jobs file: JSON lines, one render per line, read and checked before anything runs.

Each line is an object whose keys are `streamer render`'s long options with `-` turned into `_`
(`scene`, `output`, `frames`, `size`, `fps`, `seed`, `events`, `qp`, `keyint`, `cpu_seconds`,
`memory`, `gpu_memory`, `gpu_wait`). Values use the command line's syntax ("640x360", "512M", or
numbers) and defaults, through the same parser (streamer/render_args.py). docs/farm.md has the
format.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from gpu_host import ComponentError
from gpu_host.events import EventError, load_script

from ..render import RenderJob
from ..render_args import add_render_arguments, render_job
from ..scenes import resolve_scene
from ..video import output_kind
from .chunks import Chunk, plan_chunks

__all__ = ["FarmJob", "JobsError", "job_keys", "read_jobs"]


class JobsError(Exception):
    """The jobs file cannot be run as written; the message names the line and the field."""


@dataclass(frozen=True)
class FarmJob:
    """One line of the jobs file, checked: what to render, and where it came from."""

    line: int
    scene: str  # as written: a built-in scene's name or a component path
    render: RenderJob

    @property
    def name(self) -> str:
        """What the summary and the logs call this job: its output's name."""
        return self.render.output.name

    @property
    def mp4(self) -> bool:
        return output_kind(self.render.output) == "mp4"

    def chunks(self, index: int, chunk_frames: int | None) -> list[Chunk]:
        return plan_chunks(index, self.render.frames, chunk_frames)


def _option_table() -> tuple[argparse.ArgumentParser, dict[str, argparse.Action]]:
    parser = argparse.ArgumentParser(add_help=False)
    add_render_arguments(parser)
    table: dict[str, argparse.Action] = {}
    for action in parser._actions:  # argparse keeps no public list of a parser's options
        if action.dest != argparse.SUPPRESS:
            table[action.dest] = action
    return parser, table


def job_keys() -> list[str]:
    """The keys a job line may have."""
    return sorted(_option_table()[1])


def _value(action: argparse.Action, key: str, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(
            f"{key}: expected a string or a number as on the command line, got {json.dumps(value)}"
        )
    text = str(value)
    convert = action.type
    if convert is None:
        return text
    try:
        return convert(text)  # type: ignore[operator]  # argparse types are plain callables
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise ValueError(f"{key}: {exc}") from None


def _read_line(
    number: int, text: str, table: dict[str, argparse.Action], defaults: argparse.Namespace
) -> FarmJob:
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON object: {exc.msg} at column {exc.colno}") from None
    if not isinstance(fields, dict):
        raise ValueError('expected a JSON object such as {"scene": "orbit", "output": "orbit.mp4"}')
    unknown = sorted(set(fields) - set(table))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown key; the keys are {', '.join(sorted(table))}")
    if "output" not in fields:
        raise ValueError("output: missing; every job needs an output (OUT.mp4 or a folder for PNGs)")
    args = argparse.Namespace(**vars(defaults))
    for key, value in fields.items():
        setattr(args, key, _value(table[key], key, value))
    try:
        output_kind(args.output)
    except ValueError as exc:
        raise ValueError(f"output: {exc}") from None
    try:
        events = tuple(load_script(args.events)) if args.events is not None else ()
    except EventError as exc:
        raise ValueError(f"events: {exc}") from None
    try:
        component = resolve_scene(args.scene)
    except ComponentError as exc:
        raise ValueError(f"scene: {exc}") from None
    if not component.is_file():
        raise ValueError(f"scene: {component} is neither a built-in scene nor a component file")
    return FarmJob(number, args.scene, render_job(args, component, events))


def read_jobs(path: Path, chunk_frames: int | None = None) -> list[FarmJob]:
    """Every job of a jobs file, checked; JobsError for the first bad line ("LINE N: FIELD: why").
    Blank lines and lines starting with `#` are skipped. Two jobs with one output are refused,
    and so is an MP4 job whose `keyint` does not divide `chunk_frames` (a chunk must start with
    a keyframe)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JobsError(f"cannot read the jobs file {path}: {exc}") from None
    parser, table = _option_table()
    defaults = parser.parse_args(["--output", "-"])
    jobs: list[FarmJob] = []
    outputs: dict[Path, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            job = _read_line(number, stripped, table, defaults)
        except ValueError as exc:
            raise JobsError(f"{path}: line {number}: {exc}") from None
        output = job.render.output.resolve()
        if output in outputs:
            raise JobsError(
                f"{path}: line {number}: output: {job.render.output} is also line {outputs[output]}'s output"
            )
        outputs[output] = number
        keyint = job.render.video.keyint
        if job.mp4 and chunk_frames is not None and keyint is not None and chunk_frames % keyint:
            raise JobsError(
                f"{path}: line {number}: keyint: {keyint} does not divide --chunk-frames {chunk_frames}; "
                "every chunk must start with a keyframe"
            )
        jobs.append(job)
    if not jobs:
        raise JobsError(f"{path} holds no jobs: write one JSON object per line (docs/farm.md)")
    return jobs
