"""Every numeric option of the command line at its bounds and one step past them: inside, the
command's whole configuration builds; outside, the parser refuses it in one line (never a
traceback later, when the server or the render starts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamer.cli import build_parser, main, render_job, serve_config, worker_config

RENDER = ["render", "-o", "out.mp4"]
SERVE = ["serve"]
BOTH = [RENDER, SERVE]

# (commands, option, values at the bounds, values one step past them)
CASES: list[tuple[list[list[str]], str, tuple[str, str], tuple[str, str]]] = [
    ([RENDER], "--frames", ("1", "1000000"), ("0", "1000001")),
    (BOTH, "--size", ("1x1", "8192x8192"), ("0x1", "8193x8192")),
    (BOTH, "--fps", ("0.001", "240"), ("0", "240.001")),
    ([RENDER], "--seed", ("0", str(2**63 - 1)), ("-1", str(2**63))),
    (BOTH, "--cpu-seconds", ("0.001", "1000"), ("0", "1000.001")),
    (BOTH, "--gpu-wait", ("0.001", "1000"), ("0", "1000.001")),
    (BOTH, "--memory", ("1M", "4G"), ("1048575", "4097M")),
    (BOTH, "--gpu-memory", ("1M", "1T"), ("1023K", "1025G")),
    ([SERVE], "--port", ("0", "65535"), ("-1", "65536")),
    ([SERVE], "--bitrate", ("10k", "200M"), ("9999", "200000001")),
    ([SERVE], "--min-bitrate", ("10k", "200M"), ("9999", "200000001")),
    ([SERVE], "--max-sessions", ("1", "1024"), ("0", "1025")),
    ([SERVE], "--still-refresh", ("0", "60"), ("-0.001", "60.001")),
    ([SERVE], "--offers-per-minute", ("1", "10000"), ("0", "10001")),
    ([SERVE], "--sessions-per-address", ("1", "1024"), ("0", "1025")),
]
PARAMS = [
    pytest.param(command, option, inside, outside, id=f"{command[0]} {option}")
    for commands, option, inside, outside in CASES
    for command in commands
]


def build(argv: list[str]) -> None:
    """Parse and build everything the command would run with (no server, no render)."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve_config(args, worker_config(args, Path("scene.wasm"), "scene"))
    else:
        render_job(args, Path("scene.wasm"), ())


@pytest.mark.parametrize(("command", "option", "inside", "outside"), PARAMS)
def test_each_numeric_option_at_and_past_its_bounds(
    command: list[str],
    option: str,
    inside: tuple[str, str],
    outside: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for value in inside:
        build([*command, f"{option}={value}"])
    for value in outside:
        with pytest.raises(SystemExit) as exited:
            build([*command, f"{option}={value}"])
        assert exited.value.code == 2
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert error.startswith(f"streamer {command[0]}: error: argument {option}:"), error
        assert "Traceback" not in error


def test_encoders_share_the_cores_among_the_sessions_a_node_holds() -> None:
    cores = os.cpu_count() or 1
    for sessions, threads in ((1, cores), (cores, 1), (4 * cores, 1)):
        args = build_parser().parse_args([*SERVE, f"--max-sessions={sessions}"])
        assert worker_config(args, Path("scene.wasm"), "scene").encoder.threads == threads
    shared = build_parser().parse_args([*SERVE, "--shared", "--max-viewers=64"])
    assert worker_config(shared, Path("scene.wasm"), "scene").encoder.threads == 0  # one session: all


def test_a_still_tick_longer_than_the_still_refresh_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--still-refresh", "1", "--still-tick", "2"]) == 1
    assert capsys.readouterr().err.strip() == (
        "streamer: --still-tick 2 may not exceed --still-refresh 1 (a still picture is resent at "
        "least that often; 0 turns both off)"
    )
    build(["serve", "--still-refresh", "2", "--still-tick", "0.5"])  # within it: builds


def test_a_still_picture_is_ticked_four_times_a_second_by_default() -> None:
    def tick(*argv: str) -> float | None:
        args = build_parser().parse_args([*SERVE, *argv])
        return worker_config(args, Path("scene.wasm"), "scene").still_tick

    assert tick() == 0.25
    assert tick("--still-tick", "0") is None
    assert tick("--still-refresh", "0.1") == 0.1  # never longer than the refresh
    assert tick("--still-refresh", "0") is None  # every frame sent: every frame rendered
