"""Call scripts for the `gpu_fuzz` test guest (tests/guests/gpu_fuzz/app.py), which replays them.

A script is a list of calls, JSON objects the guest decodes (its docstring gives the format).
`Script` writes them by hand (the regression cases, cases.py); generate.py writes random ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["U32_MAX", "U64_MAX", "Op", "Script", "data", "encode", "enum", "rec", "rec_in", "ref"]

Op = dict[str, Any]

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


def ref(slot: int) -> dict[str, int]:
    return {"s": slot}


def rec(name: str, **fields: Any) -> dict[str, Any]:
    """A wasi:webgpu record or variant case; fields left out are None."""
    return {"r": name, "f": fields}


def rec_in(interface: str, name: str, **fields: Any) -> dict[str, Any]:
    """A record of another interface (`surface`, `graphics_context`, `frame_buffer`)."""
    return {"r": name, "f": fields, "m": interface}


def enum(name: str, value: str) -> dict[str, str]:
    return {"e": name, "v": value}


def data(size: int, byte: int = 0) -> dict[str, int]:
    return {"b": size, "x": byte}


def encode(ops: list[Op]) -> str:
    """The script as the guest reads it: one JSON object a line."""
    return "\n".join(json.dumps(op, separators=(",", ":")) for op in ops)


@dataclass
class Script:
    """A call script being written: each call's result goes to a new slot, whose index it returns."""

    ops: list[Op] = field(default_factory=list)
    next_slot: int = 0

    def call(
        self,
        target: int | dict[str, Any],
        method: str | None,
        *args: Any,
        out: bool = True,
        show: bool = False,
    ) -> int:
        """Append `target.method(*args)`; `target` is a slot or `{"m": ...}`/`{"k": ...}`.
        `show`: the guest prints the result (trace mode)."""
        op: Op = {"t": ref(target) if isinstance(target, int) else target, "c": method, "a": list(args)}
        slot = -1
        if out:
            slot = op["o"] = self.next_slot
            self.next_slot += 1
        if show:
            op["p"] = 1
        self.ops.append(op)
        return slot

    def drop(self, slot: int) -> None:
        self.ops.append({"drop": slot})

    def device(self) -> tuple[int, int]:
        """gpu, adapter, device and its queue: returns (device, queue)."""
        gpu = self.call({"m": "webgpu"}, "get_gpu")
        adapter = self.call(gpu, "request_adapter", None)
        device = self.call(adapter, "request_device", None)
        return device, self.call(device, "queue")

    def error_scope(self, device: int, action: Callable[[], object]) -> int:
        """`action`'s calls inside a validation error scope; the popped error's message is shown
        (`null` when none). Returns the slot of the gpu-error."""
        self.call(device, "push_error_scope", enum("GpuErrorFilter", "VALIDATION"), out=False)
        action()
        error = self.call(device, "pop_error_scope")
        self.call(error, "message", out=False, show=True)
        return error
