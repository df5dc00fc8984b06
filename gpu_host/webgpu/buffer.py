"""wasi:webgpu gpu-buffer: size, usage, mapping and mapped ranges (copies in and out)."""

from __future__ import annotations

from typing import Any

import wgpu

from ..linking import describe_gpu_error, wit
from .convert import wit_error
from .objects import GpuBuffer


def _mappable(buffer: GpuBuffer) -> None:
    """Mapping an invalid buffer (its creation failed in an error scope) is an operation error."""
    if buffer.invalid_reason is not None:
        raise wit_error(
            "operation-error", f"invalid gpu-buffer (its creation failed: {buffer.invalid_reason})"
        )


def _device_alive(buffer: GpuBuffer) -> None:
    """The mapped range of a buffer whose device was destroyed is gone: wgpu-native frees it at its
    next maintenance (another adapter request is enough) and then aborts the process on a read or
    write of it, while wgpu-py still says `mapped` (found by the fuzzer)."""
    device = buffer.device
    if device is not None and (device.destroyed or device.lost_reason is not None):
        raise wit_error("operation-error", "the buffer's gpu-device was destroyed or lost")


def _unmapped_after_failure(native: wgpu.GPUBuffer) -> None:
    """A mapping that failed (no MAP usage, a range wgpu rejects) leaves the buffer unmapped in
    WebGPU, but wgpu-py 0.32 leaves its state `pending` for good: the guest could then never unmap
    the buffer, map it again or submit work using it. Put the state back."""
    if native.map_state == "pending":
        native._map_state = wgpu.enums.BufferMapState.unmapped  # wgpu-py's own field


class BufferFunctions:
    # A destroyed buffer still answers its getters (WebGPU keeps them); an invalid one has no native.

    @wit("[method]gpu-buffer.size")
    def buffer_size(self, buffer: GpuBuffer) -> int:
        return int(buffer.check_valid("[method]gpu-buffer.size").size)

    @wit("[method]gpu-buffer.usage")
    def buffer_usage(self, buffer: GpuBuffer) -> int:
        return int(buffer.check_valid("[method]gpu-buffer.usage").usage)

    @wit("[method]gpu-buffer.map-state")
    def buffer_map_state(self, buffer: GpuBuffer) -> str:
        return str(buffer.check_valid("[method]gpu-buffer.map-state").map_state)

    # WIT: [method]gpu-buffer.map-async (the guest's thread may block, so it waits here)
    @wit("[method]gpu-buffer.map-async")
    def buffer_map_async(self, buffer: GpuBuffer, mode: int, offset: int | None, size: int | None) -> None:
        call = "[method]gpu-buffer.map-async"
        _mappable(buffer)
        if mode not in (wgpu.MapMode.READ, wgpu.MapMode.WRITE):
            # WebGPU: exactly one of READ and WRITE; wgpu-native aborts the process on any other.
            raise wit_error("operation-error", f"map mode {mode} is not READ (1) or WRITE (2)")
        if buffer.destroyed:
            raise wit_error("abort-error", "the buffer was destroyed")
        if buffer.native.map_state != "unmapped":
            raise wit_error("operation-error", f"the buffer is already {buffer.native.map_state}")
        assert buffer.device is not None
        if buffer.device.lost_reason is not None or buffer.device.destroyed:
            # A read maps after a submit, which wgpu-native aborts on for a destroyed device.
            raise wit_error("operation-error", f"the gpu-device was lost: {buffer.device.lost_message}")
        try:
            # Bounded by Limits.gpu_wait_seconds: past it the device is lost and the guest ends.
            buffer.device.waits.map(buffer.native, mode, offset or 0, size, call=call)
        except (wgpu.GPUError, RuntimeError, ValueError) as exc:
            _unmapped_after_failure(buffer.native)
            raise wit_error("operation-error", describe_gpu_error(exc)) from None

    @wit("[method]gpu-buffer.get-mapped-range-get-with-copy")
    def buffer_get_mapped_range(self, buffer: GpuBuffer, offset: int | None, size: int | None) -> bytes:
        _mappable(buffer)
        _device_alive(buffer)
        if buffer.destroyed or buffer.native.map_state != "mapped":
            raise wit_error("operation-error", "the buffer is not mapped")
        try:
            return bytes(buffer.native.read_mapped(offset or 0, size))
        except (wgpu.GPUError, RuntimeError, ValueError) as exc:
            raise wit_error("range-error", exc) from None

    @wit("[method]gpu-buffer.get-mapped-range-set-with-copy")
    def buffer_set_mapped_range(
        self, buffer: GpuBuffer, data: bytes, offset: int | None, size: int | None
    ) -> None:
        _mappable(buffer)
        _device_alive(buffer)
        if buffer.destroyed or buffer.native.map_state != "mapped":
            raise wit_error("operation-error", "the buffer is not mapped")
        if size is not None:
            if size > len(data):
                raise wit_error("range-error", f"size {size} is larger than the {len(data)} bytes given")
            data = data[:size]
        try:
            buffer.native.write_mapped(data, offset or 0)
        except (wgpu.GPUError, RuntimeError, ValueError) as exc:
            raise wit_error("range-error", exc) from None

    @wit("[method]gpu-buffer.unmap")
    def buffer_unmap(self, buffer: GpuBuffer) -> None:
        buffer.check_valid("[method]gpu-buffer.unmap")  # an invalid buffer: a validation error
        if buffer.destroyed:
            raise wit_error("abort-error", "the buffer was destroyed", only_case=True)
        if buffer.native.map_state != "unmapped":
            buffer.native.unmap()

    @wit("[method]gpu-buffer.destroy")
    def buffer_destroy(self, buffer: GpuBuffer) -> None:
        buffer.destroy()


def _flag_functions() -> dict[str, Any]:
    """`[static]gpu-buffer-usage.MAP-READ` and friends, from wgpu-py's flag enums."""
    families = {
        "gpu-buffer-usage": wgpu.BufferUsage,
        "gpu-texture-usage": wgpu.TextureUsage,
        "gpu-map-mode": wgpu.MapMode,
        "gpu-shader-stage": wgpu.ShaderStage,
        "gpu-color-write": wgpu.ColorWrite,
    }
    functions: dict[str, Any] = {}
    for resource, flags in families.items():
        for name in dir(flags):
            if name.isupper():
                value = int(getattr(flags, name))
                functions[f"[static]{resource}.{name.replace('_', '-')}"] = lambda value=value: value
    return functions


FLAG_FUNCTIONS = _flag_functions()
