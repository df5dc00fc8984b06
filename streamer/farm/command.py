"""`streamer farm JOBS`: its options, its checks before anything runs, and its summary."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from .. import options
from .driver import INTERRUPTED, FarmError, FarmOptions, JobReport, is_complete, run_farm
from .jobs import FarmJob, JobsError, read_jobs

__all__ = ["add_farm_arguments", "farm_command", "summary_table"]


def add_farm_arguments(f: argparse.ArgumentParser) -> None:
    f.add_argument("jobs", type=Path, help="a JSON-lines file, one render per line (docs/farm.md)")
    f.add_argument(
        "--address",
        help="join a Ray cluster: 'auto' (this node's cluster) or HOST:PORT; without it, Ray runs on "
        "this machine alone",
    )
    f.add_argument(
        "--gpus-per-task",
        type=options.TASK_GPUS.number(float),
        default=0.0,
        metavar="F",
        help="GPUs each task asks Ray for; 0.25 shares a GPU among four tasks (default 0: none)",
    )
    f.add_argument(
        "--cpus-per-task",
        type=options.TASK_CPUS.number(float),
        default=1.0,
        metavar="N",
        help="CPUs each task asks Ray for (default 1; a software GPU uses every core it gets)",
    )
    f.add_argument(
        "--chunk-frames",
        type=options.CHUNK_FRAMES.number(int),
        metavar="N",
        help="split each job into chunks of N frames rendered in parallel (default: one chunk a job)",
    )
    f.add_argument(
        "--retries",
        type=options.RETRIES.number(int),
        default=2,
        metavar="N",
        help="times a chunk whose process died or whose GPU wedged is tried again (default 2)",
    )
    f.add_argument("--skip-existing", action="store_true", help="skip jobs whose output is already complete")
    f.add_argument("--json", action="store_true", help="print the summary as JSON, for scripts")
    f.add_argument(
        "--log-dir",
        type=Path,
        default=Path("farm-logs"),
        metavar="DIR",
        help="where each job's log goes, as DIR/OUTPUT-NAME.log (default ./farm-logs)",
    )


def _check_outputs(jobs: list[FarmJob], skip_existing: bool) -> None:
    """A PNG folder that already holds frames would be mixed with the new ones: refused up front,
    unless `--skip-existing` will skip it because it is complete."""
    for job in jobs:
        output = job.render.output
        if job.mp4 or not output.exists():
            continue
        if not output.is_dir():
            raise JobsError(f"line {job.line}: output: {output} is a file; give a folder name for PNG frames")
        if skip_existing and is_complete(job):
            continue
        if any(output.iterdir()):
            raise JobsError(
                f"line {job.line}: output: {output} already holds files; remove them, or use "
                "--skip-existing if they are this job's complete output"
            )


def summary_table(reports: list[JobReport]) -> str:
    """The summary as aligned columns: job, frames, seconds, node, adapter, retries, result."""
    rows = [("job", "frames", "seconds", "node", "adapter", "retries", "result")]
    for r in reports:
        rows.append(
            (
                r.job,
                str(r.frames),
                f"{r.seconds:.1f}",
                ", ".join(r.nodes) or "-",
                ", ".join(r.adapters) or "-",
                str(r.retries),
                r.result,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    )


def farm_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run `streamer farm`; 0 when every job is done or skipped, 1 when any failed, 2 when the jobs
    file is refused (nothing runs), 130 when interrupted."""
    out = sys.stdout if out is None else out
    try:
        jobs = read_jobs(args.jobs, args.chunk_frames)
        _check_outputs(jobs, args.skip_existing)
    except JobsError as exc:
        print(f"streamer farm: {exc}", file=sys.stderr)
        return 2
    settings = FarmOptions(
        address=args.address,
        gpus_per_task=args.gpus_per_task,
        cpus_per_task=args.cpus_per_task,
        chunk_frames=args.chunk_frames,
        retries=args.retries,
        skip_existing=args.skip_existing,
        log_dir=args.log_dir,
    )
    try:
        reports, interrupted = run_farm(jobs, settings)
    except FarmError as exc:
        print(f"streamer farm: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(
            {"interrupted": interrupted, "jobs": [asdict(r) | {"ok": r.ok} for r in reports]}, out, indent=2
        )
        out.write("\n")
    else:
        print(summary_table(reports), file=out)
        print(f"logs in {args.log_dir}", file=out)
    if interrupted:
        not_done = [r.job for r in reports if r.result.startswith("not done")]
        print(
            f"streamer farm: interrupted; not done: {', '.join(not_done) or 'none'} "
            "(finished outputs are kept)",
            file=sys.stderr,
        )
        return INTERRUPTED
    return 0 if all(r.ok for r in reports) else 1
