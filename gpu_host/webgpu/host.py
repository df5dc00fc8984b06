"""The wasi:webgpu@0.0.1 interface for one guest: the hand-written families plus what is mechanical.

Labels, limits, flag constants and shared debug markers are generated from the WIT's function
list instead of written out 60 times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import GuestGpuError
from ..linking import HostInterface, describe_gpu_error, wit
from ..wit import WIT_DIR, interface_functions
from . import objects
from .adapter import AdapterFunctions, limit_key
from .buffer import FLAG_FUNCTIONS, BufferFunctions
from .bundle import BundleFunctions
from .command import ALIASES, CommandFunctions
from .device import DeviceFunctions
from .error_scope import ErrorScopeFunctions, error_filter
from .objects import (
    GpuCompilationInfo,
    GpuDevice,
    GpuObject,
    GpuShaderModule,
    GpuSupportedLimits,
    RecordGpuPipelineConstantValue,
)
from .queue import QueueFunctions
from .texture import TextureFunctions

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["WEBGPU_FUNCTIONS", "WebGpuHost"]

WEBGPU_FUNCTIONS: tuple[str, ...] = tuple(interface_functions(WIT_DIR / "deps/webgpu/webgpu.wit", "webgpu"))

# Resources no implemented function creates yet (create-query-set): their generated label and
# debug functions stay "not implemented" rather than claim coverage.
NOT_CREATABLE = ("gpu-query-set",)


class PipelineExtras:
    @wit("[method]gpu-shader-module.get-compilation-info")
    def shader_module_get_compilation_info(self, _module: GpuShaderModule) -> GpuCompilationInfo:
        # wgpu-py 0.32 exposes no compilation messages; a module that failed never got here.
        return GpuCompilationInfo()

    @wit("[method]gpu-compilation-info.messages")
    def compilation_info_messages(self, _info: GpuCompilationInfo) -> list[Any]:
        return []

    @wit("[constructor]record-gpu-pipeline-constant-value")
    def new_constants(self) -> RecordGpuPipelineConstantValue:
        return RecordGpuPipelineConstantValue()

    @wit("[method]record-gpu-pipeline-constant-value.add")
    def constants_add(self, rec: RecordGpuPipelineConstantValue, key: str, value: float) -> None:
        rec.values[key] = value

    @wit("[method]record-gpu-pipeline-constant-value.get")
    def constants_get(self, rec: RecordGpuPipelineConstantValue, key: str) -> float | None:
        return rec.values.get(key)

    @wit("[method]record-gpu-pipeline-constant-value.has")
    def constants_has(self, rec: RecordGpuPipelineConstantValue, key: str) -> bool:
        return key in rec.values

    @wit("[method]record-gpu-pipeline-constant-value.remove")
    def constants_remove(self, rec: RecordGpuPipelineConstantValue, key: str) -> None:
        rec.values.pop(key, None)

    @wit("[method]record-gpu-pipeline-constant-value.keys")
    def constants_keys(self, rec: RecordGpuPipelineConstantValue) -> list[str]:
        return list(rec.values)

    @wit("[method]record-gpu-pipeline-constant-value.values")
    def constants_values(self, rec: RecordGpuPipelineConstantValue) -> list[float]:
        return list(rec.values.values())

    @wit("[method]record-gpu-pipeline-constant-value.entries")
    def constants_entries(self, rec: RecordGpuPipelineConstantValue) -> list[tuple[str, float]]:
        return list(rec.values.items())


def _resource_of(wit_name: str) -> str | None:
    """`[method]gpu-buffer.size` -> `gpu-buffer`; None for a freestanding function."""
    if not wit_name.startswith("["):
        return None
    return wit_name.split("]", 1)[1].split(".", 1)[0]


def _get_label(obj: GpuObject) -> str:
    return obj.label


def _set_label(obj: GpuObject, label: str) -> None:
    obj.label = label


def _limit_getter(wit_name: str) -> Callable[[GpuSupportedLimits], int]:
    key = limit_key(wit_name)

    def get(limits: GpuSupportedLimits) -> int:
        for name, value in limits.limits.items():
            if limit_key(name) == key:
                return int(value)
        return 0  # a limit wgpu-native does not report (e.g. max-bind-groups-plus-vertex-buffers)

    return get


def _device_of(args: list[Any]) -> GpuDevice | None:
    """The device a call acts on: its first wasi:webgpu object's."""
    for arg in args:
        if isinstance(arg, GpuDevice):
            return arg
        if isinstance(arg, GpuObject):
            return arg.device
    return None


def _label_of(args: list[Any]) -> str:
    for arg in args:
        if isinstance(arg, dict) and isinstance(arg.get("label"), str):
            return str(arg["label"])
    return ""


class _NoStandIn(Exception):
    """The call returns something an error cannot stand in for (a number, bytes, a record)."""


def _stand_in(impl: Callable[..., Any], device: GpuDevice, args: list[Any], reason: str) -> Any:
    """What a failed call returns inside an error scope: nothing, or an invalid object of its type."""
    returns = getattr(impl, "__annotations__", {}).get("return", _NoStandIn)
    if returns is None or returns == "None":
        return None
    cls = getattr(objects, returns, None) if isinstance(returns, str) else None
    if isinstance(cls, type) and issubclass(cls, GpuObject):
        return cls.invalid(device, _label_of(args), reason)
    raise _NoStandIn(returns)


class WebGpuHost(
    AdapterFunctions,
    DeviceFunctions,
    BufferFunctions,
    TextureFunctions,
    CommandFunctions,
    BundleFunctions,
    QueueFunctions,
    ErrorScopeFunctions,
    PipelineExtras,
    HostInterface,
):
    interface = "wasi:webgpu/webgpu"
    version = "0.0.1"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    def api_error(self, call: str, impl: Callable[..., Any], args: list[Any], exc: Exception) -> Any:
        """Route a GPU error to the device's error scopes; with none matching, the guest ends."""
        device = _device_of(args)
        if device is not None:
            reason = exc.reason if isinstance(exc, GuestGpuError) else describe_gpu_error(exc)
            try:
                value = _stand_in(impl, device, args, reason)
            except _NoStandIn:
                pass
            else:
                if device.error_scopes.capture(error_filter(exc), reason):
                    return value
        return super().api_error(call, impl, args, exc)

    def implementations(self) -> dict[str, Callable[..., Any]]:
        found = super().implementations()
        for name in WEBGPU_FUNCTIONS:
            if _resource_of(name) in NOT_CREATABLE:
                continue
            if name.endswith(".label"):
                found.setdefault(name, _get_label)
            elif name.endswith(".set-label"):
                found.setdefault(name, _set_label)
            elif name.startswith("[method]gpu-supported-limits."):
                found.setdefault(name, _limit_getter(name.split(".", 1)[1]))
        for name, fn in FLAG_FUNCTIONS.items():
            found.setdefault(name, fn)
        for alias, target in ALIASES.items():
            if target in found and _resource_of(alias) not in NOT_CREATABLE:
                found.setdefault(alias, found[target])
        return found
