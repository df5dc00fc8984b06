"""What a graphics context presents through: a buffer to draw the next frame into, and the
presented frame's pixels on their way to host memory.

A `wasi:graphics-context` context holds one presenter for the device connected to it:
`GpuPresenter` (gpu_host/gpu_presenter.py) for a `wasi:webgpu` gpu-device, `FrameBufferPresenter`
(gpu_host/frame_buffer.py) for a `wasi:frame-buffer` device. The devices themselves know nothing of frames.
"""

from __future__ import annotations

import time
from typing import Protocol

from .errors import HostError
from .frame import PixelFormat, Pixels, PixelSource

__all__ = ["NOT_READ", "NotRead", "Presenter", "ReadyPixels"]


class Presenter(Protocol):
    def buffer(self, width: int, height: int) -> object:
        """The payload of the abstract-buffer the guest draws its next frame into."""
        ...

    def present(self, payload: object) -> PixelSource:
        """Start taking a drawn buffer's pixels to host memory (on the guest's thread; the
        waiting is the consumer's, `PixelSource.pixels`). A GuestCallError if it cannot be read."""
        ...

    def discard(self, payload: object) -> None:
        """Let a drawn buffer go unread (a fast-forwarded frame), refusing what `present` would."""
        ...

    def close(self) -> None:
        """Finish the frames still on their way and free what the presenter holds (idempotent)."""
        ...


class ReadyPixels:
    """Pixels already in host memory."""

    def __init__(self, pixels: Pixels, fmt: PixelFormat, size: tuple[int, int]) -> None:
        self._result = (pixels, fmt, size, time.perf_counter())

    def pixels(self) -> tuple[Pixels, PixelFormat, tuple[int, int], float]:
        return self._result


class NotRead:
    """The pixels of a frame that was fast-forwarded: never read, so there are none."""

    def pixels(self) -> tuple[Pixels, PixelFormat, tuple[int, int], float]:
        raise HostError("this frame was fast-forwarded: its pixels were never read")


NOT_READ = NotRead()
