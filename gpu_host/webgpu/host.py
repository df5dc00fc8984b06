"""The wasi:webgpu@0.0.1 interface for one guest: the hand-written families plus what is mechanical.

Labels, limits, flag constants and shared debug markers are generated from the WIT's function
list instead of written out 60 times.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import wgpu

from ..errors import GuestGpuError
from ..linking import HostInterface, describe_gpu_error
from ..wit import WIT_DIR, interface_functions
from . import objects
from .adapter import AdapterFunctions
from .budget import GpuBudget
from .buffer import FLAG_FUNCTIONS, BufferFunctions
from .bundle import BundleFunctions
from .command import ALIASES, CommandFunctions
from .device import DeviceFunctions
from .device_events import DeviceEventFunctions, UncapturedErrors, truncate
from .error_scope import ErrorScopeFunctions, error_filter
from .objects import GpuDevice, GpuObject, GpuShaderModule, GpuSupportedLimits, limit_key
from .pipeline import PipelineFunctions
from .query import QueryFunctions
from .queue import QueueFunctions
from .texture import TextureFunctions
from .tracking import guarded

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["WEBGPU_FUNCTIONS", "WebGpuHost"]

WEBGPU_FUNCTIONS: tuple[str, ...] = tuple(interface_functions(WIT_DIR / "deps/webgpu/webgpu.wit", "webgpu"))


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
        # 0: a limit wgpu-native does not report (e.g. max-bind-groups-plus-vertex-buffers)
        return limits.by_key.get(key, 0)

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
    PipelineFunctions,
    QueryFunctions,
    DeviceEventFunctions,
    HostInterface,
):
    interface = "wasi:webgpu/webgpu"
    version = "0.0.1"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx
        self.uncaptured = UncapturedErrors(ctx)
        self.budget = GpuBudget(ctx.options.limits)  # GPU bytes and objects of this guest
        self.devices: weakref.WeakSet[GpuDevice] = weakref.WeakSet()  # for Limits.gpu_devices

    def api_error(self, call: str, impl: Callable[..., Any], args: list[Any], exc: Exception) -> Any:
        """Route a GPU error as WebGPU does: to the innermost matching error scope, else to the
        device's uncaptured-error channel (device_events.py). Either way the call returns what a
        failed call returns (nothing, or an invalid object); a call that cannot stand in for its
        result (a number, bytes, a record) ends the guest."""
        device = _device_of(args)
        if device is None:
            return super().api_error(call, impl, args, exc)
        limit = self.ctx.options.limits.error_message_chars
        reason = exc.reason if isinstance(exc, GuestGpuError) else describe_gpu_error(exc)
        reason = truncate(reason, limit)
        try:
            value = _stand_in(impl, device, args, reason)
        except _NoStandIn:
            return super().api_error(call, impl, args, exc)
        if isinstance(value, GpuShaderModule):
            value.compile_error = str(exc) if isinstance(exc, wgpu.GPUError) else reason
            value.code = next((a["code"] for a in args if isinstance(a, dict) and "code" in a), "")
        filter_ = error_filter(exc)
        if device.error_scopes.capture(filter_, reason):
            return value
        if device.lost_reason is None:  # a lost device reports no errors (WebGPU)
            self.uncaptured.report(device, call, filter_, reason)
        return value

    def implementations(self) -> dict[str, Callable[..., Any]]:
        found = super().implementations()
        for name in WEBGPU_FUNCTIONS:
            if name.endswith(".label"):
                found.setdefault(name, _get_label)
            elif name.endswith(".set-label"):
                found.setdefault(name, _set_label)
            elif name.startswith("[method]gpu-supported-limits."):
                found.setdefault(name, _limit_getter(name.split(".", 1)[1]))
        for name, fn in FLAG_FUNCTIONS.items():
            found.setdefault(name, fn)
        for alias, target in ALIASES.items():
            if target in found:
                found.setdefault(alias, found[target])
        # One device per call, and what each command touches (tracking.py).
        return {name: guarded(name, fn) for name, fn in found.items()}
