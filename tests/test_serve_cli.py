"""`streamer serve` as a user starts it: the README's command, and one-line errors for bad scenes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from streamer.cli import main


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: d / "missing.wasm", "no such file"),
        (
            lambda d: (d / "junk.wasm").write_bytes(b"not wasm at all") and d / "junk.wasm",
            "not a WebAssembly component",
        ),
    ],
    ids=["missing", "not-a-component"],
)
def test_a_bad_scene_is_refused_at_start_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, words: str
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    assert main(["serve", "--scene", str(path), "--port", str(free_port())]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("streamer: ") and words in err and "\n" not in err, err


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"], ids=["loopback", "every-interface"])
def test_serve_prints_the_url_answers_health_and_stops_on_interrupt(host: str) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamer.cli",
            "serve",
            "--scene",
            "triangle",
            "--port",
            str(port),
            "--host",
            host,
            *(["--insecure-no-auth"] if host == "0.0.0.0" else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.strip() == f"streamer: serving triangle at http://{host}:{port}/", line
        if host == "0.0.0.0":  # beyond loopback, with no authentication: said at once
            warning = server.stdout.readline()
            assert (
                warning.startswith("streamer: warning: listening on 0.0.0.0")
                and "docs/security.md" in warning
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.load(response) == {"status": "ok", "sessions": 0}
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
