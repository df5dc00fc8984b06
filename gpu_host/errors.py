"""The host's exception hierarchy.

`HostError` is the base. Errors about a component before it runs (missing, not a
component, unlinkable) are `ComponentError`s; errors that end a running guest are
`GuestError`s, whose message names the guest and, where known, the call.
"""

from __future__ import annotations

__all__ = [
    "ComponentError",
    "GuestCallError",
    "GuestEnded",
    "GuestError",
    "GuestExit",
    "GuestGpuError",
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


class GuestExit(GuestError):
    """The guest called `wasi:cli/exit` with a failure status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class GuestEnded(GuestError):
    """The guest returned from its entry point before the host asked it to stop."""


# --- raised inside host functions, turned into traps by wasmtime -------------------------------


class GuestCallError(HostError):
    """A host function refuses a call: the guest misused the API. Ends the guest with `call: reason`."""

    def __init__(self, call: str, reason: str) -> None:
        super().__init__(f"{call}: {reason}")
        self.call = call
        self.reason = reason


class GuestGpuError(GuestCallError):
    """A WebGPU validation error the host detects itself (a destroyed or invalid object).

    A separate class so that a guest's error scope captures it like wgpu's own errors.
    """


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
