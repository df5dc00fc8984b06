"""The numeric settings of the command line and their bounds, one table for every command.

Each setting is checked once, when the command line is parsed (these are argparse types), against
the same bounds wherever it appears; the library checks its own settings against the same table
(`EncoderSettings`), so a value the parser accepts never fails later with a traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "BITRATE",
    "CHUNK_FRAMES",
    "FPS",
    "FRAMES",
    "GPU_MEMORY",
    "IDLE_SECONDS",
    "KEYINT",
    "LEVELS",
    "MAX_SESSIONS",
    "MEMORY",
    "OFFERS_PER_MINUTE",
    "PORT",
    "QP",
    "RETRIES",
    "SECONDS",
    "SEED",
    "SESSIONS_PER_ADDRESS",
    "SIDE",
    "TASK_CPUS",
    "TASK_GPUS",
    "Bound",
    "parse_bitrate",
    "parse_bytes",
    "parse_duration",
    "parse_size",
]


@dataclass(frozen=True)
class Bound:
    """A closed range, or one open at the bottom (`above`: the value must be greater than `low`)."""

    low: float
    high: float
    above: bool = False

    def contains(self, value: float) -> bool:
        return (value > self.low if self.above else value >= self.low) and value <= self.high

    def describe(self) -> str:
        low = f"above {self.low:g}" if self.above else f"at least {self.low:g}"
        return f"{low} and at most {self.high:g}"

    def check(self, value: float, what: str) -> None:
        """ValueError naming `what` and the bounds, for a value out of range."""
        if not self.contains(value):
            raise ValueError(f"{what} must be {self.describe()}, got {value:g}")

    def number(self, convert: Callable[[str], float]) -> Callable[[str], float]:
        """An argparse type: `convert` the text, then check the bounds."""

        def parse(text: str) -> float:
            try:
                value = convert(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
            if not self.contains(value):
                raise argparse.ArgumentTypeError(f"must be {self.describe()}, got {text}")
            return value

        parse.__name__ = convert.__name__  # argparse names the type in its messages
        return parse


FPS = Bound(0, 240, above=True)  # frames per second: libx264 and libvpx take up to 240
FRAMES = Bound(1, 1_000_000)  # frames of one render (about 9 hours at 30 fps)
SIDE = Bound(1, 8192)  # a surface's width or height, in pixels
BITRATE = Bound(10_000, 200_000_000)  # bits per second
PORT = Bound(0, 65_535)  # 0: any free port
MAX_SESSIONS = Bound(1, 1024)
LEVELS = Bound(1, 5)  # --levels: a shared stream's quality levels, each an encode of every frame
OFFERS_PER_MINUTE = Bound(1, 10_000)  # per client address
SESSIONS_PER_ADDRESS = Bound(1, 1024)
SEED = Bound(0, 2**63 - 1)
SECONDS = Bound(0, 1000, above=True)  # --cpu-seconds, --gpu-wait
IDLE_SECONDS = Bound(0, 7 * 86400, above=True)  # --control-idle, --idle-reset
STILL_REFRESH = Bound(0, 60)  # --still-refresh: seconds between repeats of a still picture (0: off)
MEMORY = Bound(1 << 20, 4 << 30)  # a guest's linear memory: wasm32 addresses 4 GiB at most
GPU_MEMORY = Bound(1 << 20, 1 << 40)
QP = Bound(0, 51)  # H.264's quantizer
KEYINT = Bound(1, 10_000)  # frames between keyframes
CHUNK_FRAMES = Bound(1, 1_000_000)
RETRIES = Bound(0, 100)
TASK_CPUS = Bound(0, 1024)  # a farm task's CPUs (0: it asks for none)
TASK_GPUS = Bound(0, 64)  # a farm task's share of GPUs (0.25: four tasks to a GPU)


def parse_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT, each within `SIDE` (an argparse type)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if not (SIDE.contains(width) and SIDE.contains(height)):
        raise argparse.ArgumentTypeError(f"width and height must each be {SIDE.describe()}, got {text}")
    return width, height


def parse_bitrate(text: str) -> int:
    """Bits per second such as 4M or 800k, within `BITRATE` (an argparse type)."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    try:
        value = int(float(text[:-1] if scale != 1 else text) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected bits per second such as 4M or 800k, got {text!r}"
        ) from None
    if not BITRATE.contains(value):
        raise argparse.ArgumentTypeError("bitrate must be between 10k and 200M")
    return value


def parse_duration(text: str) -> float:
    """Seconds such as 90, 45s, 30m, 1h or 7d (an argparse type), above 0 and at most a year."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(text[-1:].lower(), 1)
    try:
        value = float(text[:-1] if text[-1:].lower() in units else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration such as 45m, 1h or 7d, got {text!r}") from None
    if not 0 < value <= 366 * 86400:
        raise argparse.ArgumentTypeError(f"a duration must be above 0 and at most a year, got {text}")
    return value


def parse_bytes(text: str, bound: Bound = MEMORY) -> int:
    """A size in bytes such as 512M, 2G or 65536 (K, M, G, T are powers of 1024), within `bound`."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    body = text.strip().lower().removesuffix("ib").removesuffix("b")
    scale = units.get(body[-1:], 1)
    try:
        value = int(float(body[:-1] if scale != 1 else body) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 2G, got {text!r}") from None
    if not bound.contains(value):
        raise argparse.ArgumentTypeError(
            f"must be at least {_size(int(bound.low))} and at most {_size(int(bound.high))}, got {text}"
        )
    return value


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network such as 192.168.1.0/24 or fd00::/8 (an argparse type)."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a network such as 192.168.1.0/24, got {text!r}") from None


def memory(text: str) -> int:
    """--memory (an argparse type)."""
    return parse_bytes(text, MEMORY)


def gpu_memory(text: str) -> int:
    """--gpu-memory (an argparse type)."""
    return parse_bytes(text, GPU_MEMORY)


def _size(value: int) -> str:
    for unit, scale in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value % scale == 0:
            return f"{value // scale}{unit}"
    return str(value)
