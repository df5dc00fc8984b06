"""`streamer doctor` names the adapter and the coverage figure derived from the WIT."""

from __future__ import annotations

import pytest

from gpu_host.coverage import webgpu_coverage
from streamer.cli import main
from streamer.scenes import DEFAULT_SCENE, builtin_scenes


def test_doctor_prints_adapter_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "-v"]) == 0
    out = capsys.readouterr().out
    cov = webgpu_coverage()
    assert "adapter    llvmpipe" in out
    assert f"{len(cov.working)} of 247 functions working" in out
    assert len(cov.working) >= 235
    assert f"{len(cov.unreachable)} unreachable" in out
    for name in cov.missing:
        assert f"not implemented: {name}" in out
    unreachable = [line.split()[1] for line in out.splitlines() if line.startswith("  unreachable: ")]
    assert unreachable == list(cov.unreachable) and len(unreachable) == 5


def test_scenes_lists_the_built_in_scenes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines]
    assert names == ["compute", "cube", "framebuffer", "orbit", "triangle"]
    assert names == builtin_scenes()
    summaries = {line.split()[0]: line.split(maxsplit=1)[1] for line in lines}
    # the first line of each app.py docstring, without its "Name:" prefix
    assert summaries["cube"].startswith("A lit, textured cube"), summaries["cube"]
    assert summaries["framebuffer"].startswith("Colour bars"), summaries["framebuffer"]
    assert summaries[DEFAULT_SCENE].endswith("(default)")
    assert sum("(default)" in line for line in lines) == 1
