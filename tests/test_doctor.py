"""`streamer doctor` names the adapter and the coverage figure derived from the WIT."""

from __future__ import annotations

import pytest

from gpu_host.coverage import webgpu_coverage
from streamer.cli import main


def test_doctor_prints_adapter_and_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "-v"]) == 0
    out = capsys.readouterr().out
    cov = webgpu_coverage()
    assert "adapter    llvmpipe" in out
    assert f"{len(cov.working)} of 247 functions working" in out
    assert len(cov.working) >= 190
    for name in cov.missing:
        assert f"not implemented: {name}" in out


def test_scenes_lists_the_built_in_scenes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenes"]) == 0
    assert capsys.readouterr().out.split() == ["framebuffer", "triangle"]
