"""Fuzz the host's wasi:webgpu through the `gpu_fuzz` guest, in a child process restarted after an abort.

    python -m benchmarks.gpu_fuzz --seed 1 --calls 100000 [--episode-calls 200] [--json out.json]
    python -m benchmarks.gpu_fuzz --seed 1 --episode 37 --replay     (reproduce a finding)
    python -m benchmarks.gpu_fuzz --seed 1 --episode 37 --show       (print the episode's script)

`--calls` counts the guest's calls into the host. `--replay` traces each call and stops at the
first finding, naming the call. Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .generate import generate
from .run import fuzz
from .script import encode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=5000, help="host calls in all (default 5000)")
    parser.add_argument("--episode-calls", type=int, default=200, help="script calls per guest (default 200)")
    parser.add_argument("--episode", type=int, default=0, help="the first episode (default 0)")
    parser.add_argument("--seconds", type=float, default=None, help="start no episode after S seconds")
    parser.add_argument("--replay", action="store_true", help="trace every call; stop at the first finding")
    parser.add_argument("--show", action="store_true", help="print the episode's script and exit")
    parser.add_argument("--shrink-tries", type=int, default=40, help="child runs spent shrinking a finding")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)
    if args.show:
        print(encode(generate(args.seed, args.episode, args.episode_calls)))
        return 0

    def log(line: str) -> None:
        print(f"gpu_fuzz: {line}", file=sys.stderr, flush=True)

    report = fuzz(
        args.seed,
        args.calls,
        episode_calls=args.episode_calls,
        first_episode=args.episode,
        replay=args.replay,
        shrink_tries=args.shrink_tries,
        log=log,
        stop_after=args.seconds,
    )
    summary = report.as_dict()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=1)
    findings = summary.pop("findings")
    print(json.dumps(summary, indent=1))
    for finding in findings:
        print(json.dumps(finding))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
