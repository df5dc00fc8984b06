"""use_after_drop: drops a pollable, then calls a method through a copy that still has its handle.

componentize-py forgets the handle of a dropped object, so the program keeps a second object
with the same handle number (a shallow copy made before the drop). The handle no longer exists
in the guest's handle table (nothing is created between the drop and the call, so its slot is
still free): wasmtime traps before any host code runs, and the host must end the guest with one
line. Prints `{"handle": N}` before the drop.
"""

import copy

from gfxkit import emit
from wit_world.imports import surface


def run() -> None:
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    pollable = canvas.subscribe_frame()
    stale = copy.copy(pollable)
    emit(handle=vars(pollable)["handle"])
    pollable.__exit__(None, None, None)
    stale.ready()
    emit(unexpected="the dropped handle worked")
