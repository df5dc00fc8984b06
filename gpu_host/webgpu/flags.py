"""Flag words a guest passes (usages, shader stages, write masks, map modes), checked before wgpu.

wgpu-native aborts the whole process on a flag bit it does not know (measured on wgpu 0.32 /
lavapipe: buffer usage bit 31, texture usage bits 5 and 8, a bind group layout entry's visibility
0xFFFFFFFF, a colour target's write mask 0xFFFFFFFF, and a map mode of 0, 3 or 4), where WebGPU
makes each a validation error. The host refuses any bit outside the ones WebGPU defines. The same
goes for the one number found to abort it the same way: a min-binding-size of 2^64-1, the C API's
"undefined".
"""

from __future__ import annotations

from typing import Any

from ..errors import GuestGpuError

__all__ = [
    "BUFFER_USAGE",
    "COLOR_WRITE",
    "SHADER_STAGE",
    "TEXTURE_USAGE",
    "check_flags",
    "check_layout_entries",
    "check_write_masks",
]

BUFFER_USAGE = 0x3FF  # MAP_READ ... QUERY_RESOLVE
TEXTURE_USAGE = 0x1F  # COPY_SRC ... RENDER_ATTACHMENT (wgpu-native aborts on TRANSIENT_ATTACHMENT, 0x20)
SHADER_STAGE = 0x7  # VERTEX, FRAGMENT, COMPUTE
COLOR_WRITE = 0xF  # RED, GREEN, BLUE, ALPHA
U64_MAX = (1 << 64) - 1


def check_flags(value: int, known: int, what: str, call: str) -> None:
    """A validation error naming the bits of `value` outside `known`."""
    unknown = value & ~known
    if unknown:
        raise GuestGpuError(call, f"{what} 0x{value:x} has bits WebGPU does not define (0x{unknown:x})")


def check_layout_entries(descriptor: dict[str, Any], call: str) -> None:
    """Every bind group layout entry's visibility, and its buffer's min-binding-size."""
    for entry in descriptor.get("entries") or ():
        check_flags(int(entry.get("visibility") or 0), SHADER_STAGE, "visibility", call)
        size = (entry.get("buffer") or {}).get("min_binding_size")
        if size == U64_MAX:  # wgpu-native asserts it is not WGPU_WHOLE_SIZE
            raise GuestGpuError(call, f"min-binding-size {size} is larger than any buffer")


def check_write_masks(descriptor: dict[str, Any], call: str) -> None:
    """Every colour target's write mask in a render pipeline descriptor."""
    fragment = descriptor.get("fragment") or {}
    for target in fragment.get("targets") or ():
        if target is not None and target.get("write_mask") is not None:
            check_flags(int(target["write_mask"]), COLOR_WRITE, "write-mask", call)
