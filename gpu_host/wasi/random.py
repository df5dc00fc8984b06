"""wasi:random: seeded (reproducible) when rendering, the OS's randomness otherwise."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

from ..linking import HostInterface, wit

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["InsecureRandom", "InsecureSeed", "Random", "RandomSource"]

MAX_BYTES = 16 << 20  # one call may ask for at most this much


class RandomSource:
    """Bytes for one guest: `random.Random(seed)` when a seed is set, `os.urandom` when not."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def bytes(self, n: int) -> bytes:
        if n > MAX_BYTES:
            raise ValueError(f"asked for {n} random bytes; at most {MAX_BYTES} per call")
        return self._rng.randbytes(n) if self._rng is not None else os.urandom(n)

    def u64(self) -> int:
        return int.from_bytes(self.bytes(8), "little")


class Random(HostInterface):
    interface = "wasi:random/random"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("get-random-bytes")
    def get_random_bytes(self, n: int) -> bytes:
        return self.ctx.random.bytes(n)

    @wit("get-random-u64")
    def get_random_u64(self) -> int:
        return self.ctx.random.u64()


class InsecureRandom(HostInterface):
    """Same source as wasi:random/random: seeded when rendering, so both are reproducible."""

    interface = "wasi:random/insecure"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("get-insecure-random-bytes")
    def get_insecure_random_bytes(self, n: int) -> bytes:
        return self.ctx.random.bytes(n)

    @wit("get-insecure-random-u64")
    def get_insecure_random_u64(self) -> int:
        return self.ctx.random.u64()


class InsecureSeed(HostInterface):
    interface = "wasi:random/insecure-seed"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("insecure-seed")
    def insecure_seed(self) -> tuple[int, int]:
        return self.ctx.random.u64(), self.ctx.random.u64()
