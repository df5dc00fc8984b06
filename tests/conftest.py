"""Shared fixtures: one Runtime per session on the real adapter (lavapipe here), built guests."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import wgpu
from blockbuster import blockbuster_ctx

from gpu_host import GuestComponent, GuestOptions, Runtime
from scenes.build import build_all, scene_path, suite_path, test_guest_path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    # Cached: a no-op when the setup command already built them. STREAMER_PREBUILT_GUESTS=1 skips
    # even the check, for a machine that has the built guests but not componentize-py (a GPU box).
    if not os.environ.get("STREAMER_PREBUILT_GUESTS"):
        build_all()


@pytest.fixture
def blocking_guard() -> Iterator[None]:
    """A blocking call (a sleep, a file or pipe read or write, a lock wait) made by the project's
    own code on the thread of a running event loop fails the test: the server must stay
    responsive while sessions start, stream and end. Used by the server's tests."""
    # The Python viewer (streamer/viewer.py) is the tests' client, not the server: not scanned.
    with blockbuster_ctx(["streamer", "gpu_host"], excluded_modules=["streamer.viewer"]) as guard:
        # Building the application resolves the page's folder once, before any viewer arrives.
        for name in ("os.path.abspath", "os.stat", "os.path.islink"):
            guard.functions[name].can_block_in("streamer/server.py", "make_app")
        yield


@pytest.fixture(scope="session")
def adapter_info() -> dict[str, object]:
    info = dict(wgpu.gpu.request_adapter_sync(power_preference="high-performance").info)
    if not os.environ.get("STREAMER_ALLOW_GPU"):
        # The suite is meant for Mesa's software Vulkan (what CI has); set STREAMER_ALLOW_GPU=1 to
        # run it on a real GPU on purpose.
        assert info["vendor"] == "llvmpipe", f"expected the lavapipe adapter, got {info}"
    return info


@pytest.fixture(scope="session")
def runtime(adapter_info: dict[str, object]) -> Iterator[Runtime]:
    with Runtime() as shared:
        yield shared


_loaded: dict[Path, GuestComponent] = {}


@pytest.fixture(scope="session")
def load(runtime: Runtime) -> Callable[[str], GuestComponent]:
    """Compile a scene or test guest once per session: `load("triangle")`, `load("solid")`."""

    def load_named(name: str) -> GuestComponent:
        path = scene_path(name)
        if not path.exists():
            path = test_guest_path(name)
        if not path.exists():
            path = suite_path(name)
        if path not in _loaded:
            _loaded[path] = runtime.load(path, name)
        return _loaded[path]

    return load_named


@dataclass
class Captured:
    """Guest output lines, by stream."""

    lines: list[tuple[str, str]] = field(default_factory=list)

    def sink(self, _guest: str, stream: str, line: str) -> None:
        self.lines.append((stream, line))

    def stdout(self) -> list[str]:
        return [line for stream, line in self.lines if stream == "stdout"]


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def options(captured: Captured) -> Callable[..., GuestOptions]:
    """GuestOptions for tests: small surface, output captured."""

    def make(name: str, **kwargs: object) -> GuestOptions:
        kwargs.setdefault("size", (64, 48))
        return GuestOptions(name=name, sink=captured.sink, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def gpu_counts() -> Iterator[Callable[[], dict[str, int]]]:
    def counts() -> dict[str, int]:
        import gc

        gc.collect()
        return {
            k: v["count"]
            for k, v in wgpu.diagnostics.object_counts.get_dict().items()
            if v["count"] and k != "total"
        }

    yield counts


# The solid test guest's input script for its four colours: red at start, then green, blue and a
# mid grey (tests/guests/solid/app.py); each output is checked against what the guest itself drew.
SOLID_SCRIPT = (
    '{"frame": 1, "type": "pointer-down", "x": 1, "y": 1}\n'
    '{"frame": 2, "type": "pointer-up", "x": 1, "y": 1}\n'
    '{"frame": 3, "type": "key-down", "key": "key-g"}\n'
)


@pytest.fixture(scope="session")
def solid_colours(load: Callable[[str], GuestComponent], runtime: Runtime) -> dict[str, tuple[int, int, int]]:
    """The solid guest's own red, green, blue and grey, read back as RGB (no YUV on the way)."""
    from gpu_host.events import parse_event

    script = [json.loads(line) for line in SOLID_SCRIPT.splitlines()]
    events = {line.pop("frame"): [parse_event(line)] for line in script}
    options = GuestOptions(name="solid", size=(64, 48), sink=lambda *_: None)
    with runtime.run(load("solid"), options) as guest:
        frames = list(guest.frames(4, lambda index: events.get(index, [])))
    r, g, b, grey = (frame.rgb[24, 32] for frame in frames)
    return {
        name: (int(p[0]), int(p[1]), int(p[2]))
        for name, p in zip(("red", "green", "blue", "grey"), (r, g, b, grey), strict=True)
    }
