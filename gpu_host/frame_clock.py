"""Frame ticks to the guest, presented frames to the consumer: one frame in flight, never a queue.

The consumer asks for a frame (`request`), which makes the guest's `subscribe-frame` pollable
ready; the guest renders and presents; `deliver` hands the pixels over and the next tick waits
until the consumer asks again. That is the backpressure of ARCHITECTURE.md decision 2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from .clock import NS, GuestClock
from .errors import GuestStopped
from .waker import Waker

__all__ = ["Frame", "FrameClock"]


FrameFormat = Literal["rgb24", "yuv420p"]


@dataclass(frozen=True)
class Frame:
    """One presented frame: its pixels, its number (from 0) and its guest time in seconds.

    `pixels` is (height, width, 3) RGB for "rgb24", or the I420 planes as one (3/2 even height,
    even width) array for "yuv420p" (what a streaming worker asks for: converted on the GPU).

    `guest_seconds` is the wall time the guest spent on it (from taking the frame tick to calling
    present); `readback_seconds` the time from present until the pixels were in host memory (GPU
    work still queued, copy, map, RGBA to RGB). Benchmarks split the frame time with them.
    """

    index: int
    time: float
    pixels: npt.NDArray[np.uint8]
    format: FrameFormat = "rgb24"
    size: tuple[int, int] = (0, 0)  # width, height of the picture (I420 planes may be padded to even)
    guest_seconds: float = 0.0
    readback_seconds: float = 0.0

    @property
    def width(self) -> int:
        return self.size[0] or int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return self.size[1] or int(self.pixels.shape[0])

    @property
    def rgb(self) -> npt.NDArray[np.uint8]:
        """The picture as (height, width, 3) RGB (converted, BT.601 limited range, for I420 frames)."""
        if self.format == "rgb24":
            return self.pixels
        return i420_to_rgb(self.pixels)[: self.height, : self.width]


def i420_to_rgb(i420: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """BT.601 limited-range I420 to RGB, with each chroma sample shared by its 2x2 block."""
    rows, width = i420.shape
    height = rows * 2 // 3
    flat = i420.ravel()
    quarter = (height // 2) * (width // 2)
    y = flat[: height * width].reshape(height, width).astype(np.float32) - 16.0
    u = (
        flat[height * width : height * width + quarter].reshape(height // 2, width // 2).astype(np.float32)
        - 128.0
    )
    v = flat[height * width + quarter :].reshape(height // 2, width // 2).astype(np.float32) - 128.0
    u = u.repeat(2, axis=0).repeat(2, axis=1)
    v = v.repeat(2, axis=0).repeat(2, axis=1)
    y *= 255.0 / 219.0
    r = y + 1.596027 * v
    g = y - 0.391762 * u - 0.812968 * v
    b = y + 2.017232 * u
    rgb: npt.NDArray[np.uint8] = np.clip(np.rint(np.stack([r, g, b], axis=-1)), 0, 255).astype(np.uint8)
    return rgb


class FrameClock:
    def __init__(self, waker: Waker, clock: GuestClock) -> None:
        self._waker = waker
        self._clock = clock
        self._wanted = False
        self._tick = False
        self._frame: Frame | None = None
        self._ticked_at = time.perf_counter()
        self.index = 0  # the number of the next frame to be presented
        self.ended = False

    # --- consumer side ------------------------------------------------------------------------

    def request(self) -> None:
        """Ask the guest for the next frame (idempotent until it is delivered)."""
        with self._waker.lock:
            if not self._wanted and self._frame is None:
                self._wanted = True
                self._tick = True
                self._waker.lock.notify_all()

    def take(self, timeout: float | None) -> Frame | None:
        """The delivered frame, or None when the guest ended or `timeout` passed first."""
        with self._waker.lock:
            self._waker.lock.wait_for(lambda: self._frame is not None or self.ended, timeout)
            frame, self._frame = self._frame, None
            return frame

    def end(self) -> None:
        """The guest thread finished: wake a consumer waiting in `take`."""
        with self._waker.lock:
            self.ended = True
            self._waker.lock.notify_all()

    # --- guest side (under the guest's thread) ----------------------------------------------------

    def tick_ready(self) -> bool:
        return self._tick

    def take_tick(self) -> bool:
        with self._waker.lock:
            tick, self._tick = self._tick, False
            if tick:
                self._ticked_at = time.perf_counter()
            return tick

    def deliver(
        self,
        pixels: npt.NDArray[np.uint8],
        fmt: FrameFormat,
        size: tuple[int, int],
        presented_at: float,
        readback_seconds: float,
    ) -> None:
        """Hand a presented frame to the consumer, first waiting until it wants one.

        `presented_at` is the `time.perf_counter()` of the guest's present call."""
        guest_seconds = max(0.0, presented_at - self._ticked_at)
        lock = self._waker.lock
        with lock:
            lock.wait_for(lambda: self._wanted or self._waker.stopping)
            if self._waker.stopping:
                raise GuestStopped("the host is stopping this guest")
            self._frame = Frame(
                self.index,
                self._clock.frame_time_ns(self.index) / NS,
                pixels,
                fmt,
                size,
                guest_seconds,
                readback_seconds,
            )
            self.index += 1
            # Time moves on here, in the guest's own thread, never when the consumer asks: what
            # the guest reads after a present is then the same on every run.
            self._clock.start_frame(self.index)
            self._wanted = False
            self._tick = False
            lock.notify_all()
