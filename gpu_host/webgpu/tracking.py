"""Object state the host checks itself, because wgpu-native aborts the process on some misuse.

Two checks wrap every wasi:webgpu function (`guarded`):

- **One device per call**: every object in a call's arguments must belong to the device the call
  acts on; an object of another gpu-device of the same guest is a validation error.
- **What a command buffer touches**: each encoder, pass and render bundle encoder collects the
  buffers, textures and query sets its recorded commands use (copies, vertex, index and indirect
  buffers, bind groups' buffers and texture views, attachments and resolve targets, executed
  bundles). At `submit` (`check_submittable`) a destroyed or still-mapped one is a validation
  error, where wgpu-native would abort the whole process (docs/platform-notes.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from wasmtime.component import Variant

from ..errors import GuestGpuError
from .objects import (
    Destroyable,
    GpuBindGroup,
    GpuBuffer,
    GpuCommandBuffer,
    GpuCommandEncoder,
    GpuComputePassEncoder,
    GpuDevice,
    GpuObject,
    GpuRenderBundle,
    GpuRenderBundleEncoder,
    GpuRenderPassEncoder,
    GpuTextureView,
)

__all__ = ["check_submittable", "guarded"]

# Objects that record commands; their `uses` grow with each command.
RECORDERS = (GpuCommandEncoder, GpuRenderPassEncoder, GpuComputePassEncoder, GpuRenderBundleEncoder)
# Objects whose use touches what they were made from.
HOLDERS = (GpuTextureView, GpuBindGroup, GpuRenderBundle)


_CONTAINERS = (dict, list, tuple, Variant)


def objects_in(value: Any) -> Iterator[GpuObject]:
    """The wasi:webgpu objects in a lifted argument (records, lists, variants)."""
    if isinstance(value, GpuObject):
        yield value
    elif isinstance(value, dict):
        for field in value.values():
            yield from objects_in(field)
    elif isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return  # offsets, data: nothing to find
        for item in value:
            yield from objects_in(item)
    elif isinstance(value, Variant):
        yield from objects_in(value.payload)


def touched(obj: GpuObject) -> Iterable[Destroyable]:
    """The buffers, textures and query sets that using `obj` in a command touches."""
    if isinstance(obj, Destroyable) and not isinstance(obj, GpuDevice):
        return (obj,)
    if isinstance(obj, HOLDERS) and obj.uses:
        return obj.uses
    return ()


def _device(obj: GpuObject) -> GpuDevice | None:
    return obj if isinstance(obj, GpuDevice) else obj.device


def _check_one_device(call: str, found: list[GpuObject]) -> None:
    device = next((d for d in map(_device, found) if d is not None), None)
    for obj in found:
        owner = _device(obj)
        if owner is not None and owner is not device:
            label = f" '{obj.label}'" if obj.label else ""
            raise GuestGpuError(call, f"the {obj.kind()}{label} belongs to another gpu-device")


def _record(args: tuple[Any, ...], found: list[GpuObject], result: Any) -> None:
    target = args[0] if args else None
    if isinstance(target, RECORDERS) and target.uses is not None:
        for obj in found:
            if obj is not target:
                target.uses.update(touched(obj))
    if not isinstance(result, GpuObject) or result.native is None:
        return
    if isinstance(result, (GpuRenderPassEncoder, GpuComputePassEncoder)) and isinstance(
        target, GpuCommandEncoder
    ):
        result.uses = target.uses  # a pass records into its encoder
    elif isinstance(result, RECORDERS):
        result.uses = set()
    elif isinstance(result, (GpuCommandBuffer, GpuRenderBundle)) and isinstance(target, RECORDERS):
        result.uses = set(target.uses or ())
    elif isinstance(result, (GpuTextureView, GpuBindGroup)):
        result.uses = {used for obj in found for used in touched(obj)}


def guarded(call: str, impl: Callable[..., Any]) -> Callable[..., Any]:
    """`impl` with the one-device check before it and the use tracking after it."""

    @functools.wraps(impl)
    def checked(*args: Any) -> Any:
        if len(args) == 1 and not isinstance(args[0], _CONTAINERS):  # `self` alone: nothing to check
            result = impl(*args)
            if isinstance(result, GpuObject):
                _record(args, [args[0]] if isinstance(args[0], GpuObject) else [], result)
            return result
        found: list[GpuObject] = []
        for arg in args:  # most arguments are objects or numbers: no generator for those
            if isinstance(arg, GpuObject):
                found.append(arg)
            elif isinstance(arg, _CONTAINERS):
                found.extend(objects_in(arg))
        if len(found) > 1:
            _check_one_device(call, found)
        result = impl(*args)
        _record(args, found, result)
        return result

    return checked


def check_submittable(command_buffer: GpuCommandBuffer, call: str) -> None:
    """A validation error if the command buffer touches a destroyed or mapped buffer or texture."""
    reason = unsubmittable(command_buffer.uses or ())
    if reason is not None:
        raise GuestGpuError(call, reason)


def unsubmittable(uses: Iterable[Destroyable]) -> str | None:
    """Why commands touching `uses` may not be submitted (wgpu-native aborts on such a submit), or
    None."""
    for obj in uses:
        label = f" '{obj.label}'" if obj.label else ""
        if obj.destroyed or obj.native is None:
            return f"the command buffer uses the {obj.kind()}{label}, which was destroyed"
        if isinstance(obj, GpuBuffer) and obj.native.map_state != "unmapped":
            return (
                f"the command buffer uses the gpu-buffer{label}, which is {obj.native.map_state}; "
                "unmap it before submitting"
            )
    return None
