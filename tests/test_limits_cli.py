"""The guest limits on the command line: sizes parse, and `streamer render` applies them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from scenes import build
from streamer.cli import build_parser, limits_from_args, main, parse_bytes


def test_sizes_are_powers_of_1024() -> None:
    assert parse_bytes("512M") == 512 << 20
    assert parse_bytes("2G") == parse_bytes("2GiB") == 2 << 30
    assert parse_bytes("1.5g") == 3 << 29
    assert parse_bytes("1048576") == 1 << 20
    for bad in ("lots", "12Q", "100k"):  # 100k is below the 1M floor
        with pytest.raises(argparse.ArgumentTypeError):
            parse_bytes(bad)


@pytest.mark.parametrize("command", [["render", "-o", "out.mp4"], ["serve"]])
def test_render_and_serve_take_the_limits(command: list[str]) -> None:
    args = build_parser().parse_args(
        [*command, "--cpu-seconds", "4", "--memory", "256M", "--gpu-memory", "1G", "--gpu-wait", "3"]
    )
    limits = limits_from_args(args)
    assert (limits.cpu_seconds, limits.memory_bytes, limits.gpu_bytes, limits.gpu_wait_seconds) == (
        4.0,
        256 << 20,
        1 << 30,
        3.0,
    )
    assert limits.startup_cpu_seconds == 30.0  # never below the default


def test_render_interrupts_a_spinning_guest_at_the_cpu_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    status = main(
        [
            *("render", str(build.test_guest_path("spin")), "-o", str(out)),
            *("--frames", "5", "--size", "32x24", "--cpu-seconds", "1"),
        ]
    )
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "streamer: guest 'spin' ran for more than 1 s without waiting (Limits.cpu_seconds); "
        f"it was interrupted; kept 3 frames in {out}"
    )
    assert len(list(out.glob("*.png"))) == 3
