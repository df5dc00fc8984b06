"""WebGPU error scopes, kept by the host: wgpu-py 0.32 has none (it raises on the failing call).

Each device holds its guest's stack. An error (a wgpu `GPUError` or a `GuestGpuError` the host
detects) goes to the innermost scope whose filter matches; a scope keeps only its first error.
With no matching scope it is an uncaptured error, as in WebGPU: the guest carries on, and the
host counts and reports it (device_events.py; docs/runtime.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import wgpu
from wasmtime.component import Variant

from ..errors import GuestCallError, GuestGpuError
from ..linking import wit
from ..resources import Resource

if TYPE_CHECKING:
    from .objects import GpuDevice

__all__ = ["ErrorScopeFunctions", "ErrorScopes", "GpuError", "error_filter"]

# wgpu-native reports a failed allocation as a validation error; WebGPU calls it out-of-memory.
_OUT_OF_MEMORY_HINTS = ("not enough memory", "out of memory")


def error_filter(exc: BaseException) -> str:
    """The gpu-error-filter an error falls under: `validation`, `out-of-memory` or `internal`."""
    if isinstance(exc, GuestGpuError):  # the host's own: a validation error, or its GPU budget
        return exc.error_filter
    if isinstance(exc, wgpu.GPUOutOfMemoryError):
        return "out-of-memory"
    if isinstance(exc, wgpu.GPUInternalError):
        return "internal"
    if any(hint in str(exc).lower() for hint in _OUT_OF_MEMORY_HINTS):
        return "out-of-memory"
    return "validation"


class GpuError(Resource):
    """A captured error as the guest reads it back from `pop-error-scope`."""

    wit_resource = "wasi:webgpu/webgpu#gpu-error"

    def __init__(self, filter_: str, message: str) -> None:
        self.filter = filter_
        self.message = message


@dataclass
class ErrorScope:
    filter: str
    error: GpuError | None = None


class ErrorScopes:
    """One device's stack of error scopes, innermost last."""

    def __init__(self) -> None:
        self.stack: list[ErrorScope] = []

    def push(self, filter_: str) -> None:
        self.stack.append(ErrorScope(filter_))

    def pop(self) -> ErrorScope | None:
        return self.stack.pop() if self.stack else None

    def capture(self, filter_: str, message: str) -> bool:
        """Give the error to the innermost matching scope (which keeps only its first); False if none."""
        for scope in reversed(self.stack):
            if scope.filter == filter_:
                if scope.error is None:
                    scope.error = GpuError(filter_, message)
                return True
        return False


_KIND = {
    "validation": "validation-error",
    "out-of-memory": "out-of-memory-error",
    "internal": "internal-error",
}


class ErrorScopeFunctions:
    # WIT: [method]gpu-device.push-error-scope
    @wit("[method]gpu-device.push-error-scope")
    def push_error_scope(self, device: GpuDevice, filter_: str) -> None:
        device.error_scopes.push(filter_)

    # WIT: [method]gpu-device.pop-error-scope
    @wit("[method]gpu-device.pop-error-scope")
    def pop_error_scope(self, device: GpuDevice) -> GpuError | None:
        """WebGPU rejects a pop of an empty stack with an OperationError; here it ends the guest.

        wasmtime-py 49 cannot return the `err` of `result<option<T>, E>`: it takes any value for the
        `ok` case (its `none` matches every Python type), so the error record would not lower.
        """
        scope = device.error_scopes.pop()
        if scope is None:
            raise GuestCallError("[method]gpu-device.pop-error-scope", "the error scope stack is empty")
        return scope.error

    @wit("[method]gpu-error.message")
    def error_message(self, error: GpuError) -> str:
        return error.message

    @wit("[method]gpu-error.kind")
    def error_kind(self, error: GpuError) -> Variant:
        return Variant(_KIND[error.filter])
