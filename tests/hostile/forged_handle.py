"""forged_handle: calls a method on a pollable whose handle number it made up (never given to it).

The resource object is built without the host (`cls.__new__`) and its handle attribute set to a
number the guest never received. wasmtime checks every handle against the guest's own handle
table before any host code runs, so the call traps; the host must end the guest with one line.
Prints `{"forging": HANDLE, "attributes": [...]}` first.
"""

from gfxkit import emit
from wit_world.imports import poll, surface


def run() -> None:
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    real = canvas.subscribe_frame()
    attributes = sorted(vars(real))
    forged = poll.Pollable.__new__(poll.Pollable)
    for name, value in vars(real).items():
        setattr(forged, name, value + 1000 if isinstance(value, int) else value)
    emit(
        forging=[vars(forged)[name] for name in attributes if isinstance(vars(forged)[name], int)],
        attributes=attributes,
    )
    forged.ready()
    emit(unexpected="the forged handle worked")
