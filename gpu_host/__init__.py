"""Runs sandboxed wasi:webgpu guests headless and yields their frames.

with Runtime() as runtime:
    component = runtime.load(Path("scene.wasm"))
    with runtime.run(component, GuestOptions(name="scene")) as guest:
        frame = guest.next_frame()

Guests are sandboxed and limited (`Limits`, docs/sandbox.md); `gpu_host.worker` runs them in a
worker process that is replaced after a guest wedges the GPU or kills its process. Frames, their
pixel formats and colour are `gpu_host.frame`'s.
"""

from .component import GuestComponent
from .errors import (
    ComponentError,
    GuestEnded,
    GuestError,
    GuestExit,
    GuestLimitExceeded,
    GuestTrap,
    HostError,
)
from .frame import BT601, Colour, Frame, PendingFrame
from .guest import GuestOptions
from .limits import Limits
from .runner import GuestRunner
from .runtime import Runtime

__all__ = [
    "BT601",
    "Colour",
    "ComponentError",
    "Frame",
    "GuestComponent",
    "GuestEnded",
    "GuestError",
    "GuestExit",
    "GuestLimitExceeded",
    "GuestOptions",
    "GuestRunner",
    "GuestTrap",
    "HostError",
    "Limits",
    "PendingFrame",
    "Runtime",
]
