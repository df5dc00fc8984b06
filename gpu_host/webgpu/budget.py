"""One guest's GPU budget: bytes of buffers and textures alive at once (`Limits.gpu_bytes`) and GPU
objects alive at once (`Limits.gpu_objects`), shared by every device of the guest.

An allocation past the budget is refused before wgpu sees it, as an out-of-memory error
(`GpuOutOfMemory`): a guest's `push-error-scope(out-of-memory)` captures it and gets an invalid
object, as WebGPU reports a failed allocation. Memory returns to the budget when the guest destroys
the object, when it drops its last handle, and when the guest ends.

A texture's bytes are an estimate: the sum over its mip levels of blocks x block size, times
array layers (or depth) and samples; drivers pad and align more, never much less.
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

from ..errors import GpuOutOfMemory
from ..limits import Limits

__all__ = ["Charge", "GpuBudget", "texture_bytes"]

MAX_MIP_LEVELS = 32  # more than any valid texture has; wgpu rejects the rest


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.3g} {unit}"
    return f"{n} bytes"


class Charge:
    """What one object holds of the budget; freed once, by `free_bytes`/`free` or when dropped."""

    __slots__ = ("_budget", "nbytes", "objects")

    def __init__(self, budget: GpuBudget, nbytes: int, objects: int) -> None:
        self._budget: GpuBudget | None = budget
        self.nbytes = nbytes
        self.objects = objects

    def free_bytes(self) -> None:
        """The memory returns (destroy); the object still counts until it is released."""
        if self._budget is not None and self.nbytes:
            self._budget.give_back(self.nbytes, 0)
            self.nbytes = 0

    def free(self) -> None:
        budget, self._budget = self._budget, None
        if budget is not None:
            budget.give_back(self.nbytes, self.objects)

    def __del__(self) -> None:
        self.free()


class GpuBudget:
    """Counts one guest's GPU bytes and objects against its `Limits`. Thread-safe: objects may be
    collected on another thread than the guest's."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes = 0
        self.objects = 0
        self._lock = threading.Lock()

    def charge(self, call: str, kind: str, nbytes: int = 0, objects: int = 1) -> Charge:
        """Take `nbytes` and `objects` for a new `kind` (`gpu-buffer`), or raise GpuOutOfMemory."""
        limits = self.limits
        with self._lock:
            if objects and self.objects + objects > limits.gpu_objects:
                raise GpuOutOfMemory(
                    call,
                    f"the guest holds {self.objects} GPU objects, its limit (Limits.gpu_objects = "
                    f"{limits.gpu_objects}); drop or destroy some, or raise it with "
                    "GuestOptions(limits=Limits(gpu_objects=...))",
                )
            if nbytes and self.bytes + nbytes > limits.gpu_bytes:
                raise GpuOutOfMemory(
                    call,
                    f"a {kind} of {_size(nbytes)} would bring the guest's buffers and textures to "
                    f"{_size(self.bytes + nbytes)}, over its GPU memory budget (Limits.gpu_bytes = "
                    f"{_size(limits.gpu_bytes)}); destroy some, or raise it with "
                    "GuestOptions(limits=Limits(gpu_bytes=...))",
                )
            self.bytes += nbytes
            self.objects += objects
        return Charge(self, nbytes, objects)

    def give_back(self, nbytes: int, objects: int) -> None:
        with self._lock:
            self.bytes -= nbytes
            self.objects -= objects


# --- texture sizes ---------------------------------------------------------------------------------

_DEPTH_STENCIL = {
    "stencil8": 1,
    "depth16unorm": 2,
    "depth24plus": 4,
    "depth24plus-stencil8": 8,
    "depth32float": 4,
    "depth32float-stencil8": 8,
}
_PACKED = ("rgb9e5", "rgb10a2", "rg11b10")  # 32 bits a texel
_CHANNELS = re.compile(r"^(rgba|bgra|rg|r)(8|16|32)")
_ASTC = re.compile(r"^astc-(\d+)x(\d+)")
_SMALL_BLOCKS = ("bc1", "bc4", "etc2-rgb8", "eac-r11")  # 8 bytes per 4x4 block, the rest 16


def texel_block(fmt: str) -> tuple[int, int, int]:
    """(block width, block height, bytes per block) of a WebGPU texture format; unknown formats
    count as 16 bytes per texel, the most any uncompressed format takes."""
    if fmt in _DEPTH_STENCIL:
        return 1, 1, _DEPTH_STENCIL[fmt]
    if fmt.startswith(_PACKED):
        return 1, 1, 4
    match = _CHANNELS.match(fmt)
    if match:
        return 1, 1, len(match.group(1)) * int(match.group(2)) // 8
    match = _ASTC.match(fmt)
    if match:
        return int(match.group(1)), int(match.group(2)), 16
    if fmt.startswith(("bc", "etc2", "eac")):
        return 4, 4, 8 if fmt.startswith(_SMALL_BLOCKS) else 16
    return 1, 1, 16


def texture_bytes(descriptor: dict[str, Any]) -> int:
    """Estimated bytes of a texture from its (lifted) gpu-texture-descriptor."""
    size = descriptor.get("size") or {}
    width = max(1, int(size.get("width") or 1))
    height = max(1, int(size.get("height") or 1))
    layers = max(1, int(size.get("depth_or_array_layers") or 1))
    mips = max(1, min(int(descriptor.get("mip_level_count") or 1), MAX_MIP_LEVELS))
    samples = max(1, int(descriptor.get("sample_count") or 1))
    three_d = descriptor.get("dimension") in ("d3", "3d")
    block_w, block_h, block_bytes = texel_block(str(descriptor.get("format") or ""))
    total = 0
    for level in range(mips):
        w, h = max(1, width >> level), max(1, height >> level)
        depth = max(1, layers >> level) if three_d else layers
        total += math.ceil(w / block_w) * math.ceil(h / block_h) * block_bytes * depth
    return total * samples
