"""The wasmtime engine's settings: the ones that change compiled code, and so the compile cache key."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import wasmtime

__all__ = ["EngineSettings"]


@dataclass(frozen=True)
class EngineSettings:
    """Everything the runtime sets on `wasmtime.Config`.

    Every field is part of the compile cache's key (`describe()`), so adding a setting here can never
    load code compiled without it.
    """

    cranelift_opt_level: str = "speed"
    # Compiled code checks the engine's epoch at function entries and loop heads, so a guest that
    # runs too long without waiting can be interrupted (Limits.cpu_seconds, gpu_host/epoch.py).
    epoch_interruption: bool = True

    def config(self) -> wasmtime.Config:
        config = wasmtime.Config()
        config.cranelift_opt_level = self.cranelift_opt_level
        config.epoch_interruption = self.epoch_interruption
        return config

    def describe(self) -> str:
        return ",".join(f"{name}={value!r}" for name, value in sorted(asdict(self).items()))
