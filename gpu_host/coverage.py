"""How much of wasi:webgpu@0.0.1 works, derived from the WIT and the host's implementations.

"Working" means implemented; tests/test_coverage.py fails when an implemented function is not
called from a guest in the test suite (the conformance suite, tests/conformance, calls most of
them and checks their effect), so the two stay the same set. A function that is neither working
nor unreachable must be listed in NOT_IMPLEMENTED with its reason (and in docs/conformance.md);
the test fails otherwise, so no function can silently become undefined.
"""

from __future__ import annotations

from dataclasses import dataclass

from .guest import GuestContext, GuestOptions
from .webgpu.host import WEBGPU_FUNCTIONS, WebGpuHost

__all__ = ["NOT_IMPLEMENTED", "UNREACHABLE", "Coverage", "webgpu_coverage"]

_NO_CANVAS = "nothing in the p2-era API returns a gpu-canvas-context; surfaces use wasi:graphics-context"
_NO_EVENT = (
    "nothing returns a gpu-uncaptured-error-event: onuncapturederror-subscribe gives a pollable, "
    "and the error itself is written to the guest's stderr"
)

# name -> why no guest can reach it
UNREACHABLE: dict[str, str] = {
    "[method]gpu-canvas-context.configure": _NO_CANVAS,
    "[method]gpu-canvas-context.unconfigure": _NO_CANVAS,
    "[method]gpu-canvas-context.get-configuration": _NO_CANVAS,
    "[method]gpu-canvas-context.get-current-texture": _NO_CANVAS,
    "[method]gpu-uncaptured-error-event.error": _NO_EVENT,
}

# name -> why it traps with `not implemented` (documented in docs/conformance.md). Empty today.
NOT_IMPLEMENTED: dict[str, str] = {}


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
