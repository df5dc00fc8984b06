"""How much of wasi:webgpu@0.0.1 works, derived from the WIT and the host's implementations.

"Working" means implemented; tests/test_coverage.py fails when an implemented function is not
called from a guest in the test suite, so the two stay the same set.
"""

from __future__ import annotations

from dataclasses import dataclass

from .guest import GuestContext, GuestOptions
from .webgpu.host import WEBGPU_FUNCTIONS, WebGpuHost

__all__ = ["UNREACHABLE", "Coverage", "webgpu_coverage"]

# Nothing in the p2-era API returns a gpu-canvas-context or a gpu-uncaptured-error-event.
UNREACHABLE = frozenset(
    {
        "[method]gpu-canvas-context.configure",
        "[method]gpu-canvas-context.unconfigure",
        "[method]gpu-canvas-context.get-configuration",
        "[method]gpu-canvas-context.get-current-texture",
        "[method]gpu-uncaptured-error-event.error",
    }
)


@dataclass(frozen=True)
class Coverage:
    all: tuple[str, ...]
    working: tuple[str, ...]
    unreachable: tuple[str, ...]
    missing: tuple[str, ...]


def webgpu_coverage() -> Coverage:
    implemented = set(WebGpuHost(GuestContext(GuestOptions())).implementations())
    working = tuple(n for n in WEBGPU_FUNCTIONS if n in implemented and n not in UNREACHABLE)
    unreachable = tuple(n for n in WEBGPU_FUNCTIONS if n in UNREACHABLE)
    missing = tuple(n for n in WEBGPU_FUNCTIONS if n not in implemented and n not in UNREACHABLE)
    return Coverage(WEBGPU_FUNCTIONS, working, unreachable, missing)
