"""The package as a user gets it: a wheel, installed (not editable) into a fresh environment, run
from another directory with nothing of the checkout on its path."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from scenes.build import test_guest_path as guest_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the wheel, the python of a fresh venv with it installed); the venv reaches this dev venv's
    dependencies through a .pth file, so nothing is downloaded."""
    base = tmp_path_factory.mktemp("package")
    source = base / "source"  # the tracked files only: no stale build/ can leak into the wheel
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = base / "wheels"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)], check=True
    )
    (wheel,) = wheels.glob("*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], check=True
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    yield wheel, python


def run_isolated(python: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | env
    return subprocess.run(
        [str(python), "-I", "-m", "streamer.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wheel_ships_the_package_data_and_no_build_output(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "gpu_host/wit/deps/webgpu/webgpu.wit" in names and "gpu_host/py.typed" in names
    assert "streamer/web_client/index.html" in names and "streamer/py.typed" in names
    assert "scenes/orbit/app.py" in names and "scenes/build.py" in names
    assert not [n for n in names if n.endswith(".wasm") or n.startswith(("tests/", "build/", ".guests/"))]


def test_the_installed_command_renders_and_serves_from_anywhere(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, python = installed
    component = str(guest_path("solid"))
    rendered = run_isolated(
        python, tmp_path, "render", component, "-o", "out.mp4", "--frames", "3", "--size", "64x48"
    )
    assert rendered.returncode == 0, rendered.stderr
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert len(list(container.decode(video=0))) == 3

    listed = run_isolated(python, tmp_path, "scenes")
    assert listed.returncode == 0 and "orbit" in listed.stdout and "triangle" in listed.stdout
    unbuilt = run_isolated(
        python, tmp_path, "render", "orbit", "-o", "x.mp4", STREAMER_SCENES_DIR=str(tmp_path)
    )
    assert unbuilt.returncode == 1
    (line,) = unbuilt.stderr.strip().splitlines()
    assert "not built yet" in line and "streamer scenes --build" in line

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen(
        [str(python), "-I", "-m", "streamer.cli", "serve", "--scene", component, "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 60
        while not page and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        assert "<video" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/connection.js", timeout=5) as response:
            assert response.status == 200 and b"RTCPeerConnection" in response.read()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
        if server.stdout is not None:
            server.stdout.close()
