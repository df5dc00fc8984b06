"""huge_texture: a texture wider than `Limits.max_texture_dimension`, and one within it whose
memory is past the guest's GPU budget (8192 x 8192 rgba32float: 1 GiB).

The first must be a validation error naming the limit, the second an out-of-memory error, both
before wgpu allocates anything. Checks: `too_wide`, `too_big`.
"""

from gfxkit import OUT_OF_MEMORY, TU, check, present_forever, setup, texture
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    check(device, "too_wide", lambda: texture(device, 16384, 16, TU.copy_dst()))
    check(
        device,
        "too_big",
        lambda: texture(device, 8192, 8192, TU.copy_dst(), W.GpuTextureFormat.RGBA32FLOAT),
        OUT_OF_MEMORY,
    )
    present_forever(device, canvas, context)
