"""The host's exception hierarchy.

`HostError` is the base. Errors about a component before it runs (missing, not a
component, unlinkable) are `ComponentError`s; errors that end a running guest are
`GuestError`s, whose message names the guest and, where known, the call.
"""

from __future__ import annotations

__all__ = [
    "ComponentError",
    "GpuOutOfMemory",
    "GpuWaitTimeout",
    "GuestCallError",
    "GuestEnded",
    "GuestError",
    "GuestExit",
    "GuestGpuError",
    "GuestLimitExceeded",
    "GuestStopped",
    "GuestTrap",
    "HostError",
    "NotImplementedByHost",
]


class HostError(Exception):
    """Base of every error the host raises on purpose."""


class ComponentError(HostError):
    """The component cannot be loaded or linked (missing file, not a component, unknown imports)."""


class GuestError(HostError):
    """A running guest ended abnormally; the message is one line meant for the user."""


class GuestTrap(GuestError):
    """The guest trapped (its own fault: unreachable, out-of-bounds, an uncaught exception)."""


class GuestLimitExceeded(GuestTrap):
    """The guest ran past one of its `Limits` and was ended; `limit` names the setting
    (`Limits.cpu_seconds`, `Limits.handles`, ...)."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class GuestExit(GuestError):
    """The guest called `wasi:cli/exit` with a failure status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class GuestEnded(GuestError):
    """The guest returned from its entry point before the host asked it to stop."""


# --- raised inside host functions, turned into traps by wasmtime -------------------------------


class GuestCallError(HostError):
    """A host function refuses a call: the guest misused the API. Ends the guest with `call: reason`.

    `limit` names the `Limits` setting the call ran into, if that is why (the guest's ending is then
    a `GuestLimitExceeded`)."""

    limit: str | None = None

    def __init__(self, call: str, reason: str, limit: str | None = None) -> None:
        super().__init__(f"{call}: {reason}")
        self.call = call
        self.reason = reason
        if limit is not None:
            self.limit = limit


class GuestGpuError(GuestCallError):
    """A WebGPU validation error the host detects itself (a destroyed or invalid object).

    A separate class so that a guest's error scope captures it like wgpu's own errors;
    `error_filter` is the gpu-error-filter that captures it.
    """

    error_filter = "validation"


class GpuOutOfMemory(GuestGpuError):
    """An allocation past the guest's GPU budget (`Limits.gpu_bytes`, `Limits.gpu_objects`): an
    out-of-memory error for the guest, as WebGPU reports a failed allocation."""

    error_filter = "out-of-memory"


class GpuWaitTimeout(GuestCallError):
    """The GPU did not finish within `Limits.gpu_wait_seconds`: the device is lost and the guest
    ends (no error scope captures it). `limit` names the setting."""

    limit = "Limits.gpu_wait_seconds"


class NotImplementedByHost(GuestCallError):
    """The WIT function exists but this host does not implement it yet."""

    def __init__(self, call: str) -> None:
        super().__init__(call, "not implemented")
        self.args = (f"not implemented: {call}",)

    def __str__(self) -> str:
        return f"not implemented: {self.call}"


class GuestStopped(HostError):
    """Raised inside a host call to unwind a guest the host is stopping; not an error of the guest."""


class GuestExitRequest(HostError):
    """Raised by `wasi:cli/exit` to unwind the guest; carries the status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"exit({status})")
        self.status = status
