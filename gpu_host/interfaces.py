"""Every interface the host provides to guests, and a fresh set of them for one guest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .frame_buffer import FrameBufferBulkHost, FrameBufferDevice, FrameBufferHost, FrameBufferPresenter
from .gpu_presenter import GpuPresenter
from .graphics_context import GraphicsContextHost, PresenterFactory
from .linking import HostInterface
from .surface import SurfaceHost
from .wasi.cli import cli_interfaces
from .wasi.clocks import MonotonicClock, WallClock
from .wasi.io import Errors, Streams
from .wasi.poll import Poll
from .wasi.random import InsecureRandom, InsecureSeed, Random
from .wasi.sandbox import SANDBOX_INTERFACES
from .webgpu.host import WebGpuHost
from .webgpu.objects import GpuDevice

if TYPE_CHECKING:
    from .guest import GuestContext

__all__ = ["GuestInterfaces"]


class GuestInterfaces:
    """The host interfaces of one guest; `surface` is kept for feeding input events in."""

    def __init__(self, ctx: GuestContext) -> None:
        self.surface = SurfaceHost(ctx)
        options = ctx.options

        def gpu_presenter(device: object) -> GpuPresenter:
            assert isinstance(device, GpuDevice)
            return GpuPresenter(device, options.frame_format, options.colour, options.frames_in_flight)

        def frame_buffer_presenter(device: object) -> FrameBufferPresenter:
            assert isinstance(device, FrameBufferDevice)
            return FrameBufferPresenter(device)

        presenters: dict[type, PresenterFactory] = {
            GpuDevice: gpu_presenter,
            FrameBufferDevice: frame_buffer_presenter,
        }
        self.all: list[HostInterface] = [
            Poll(ctx),
            Errors(),
            Streams(ctx),
            MonotonicClock(ctx),
            WallClock(ctx),
            Random(ctx),
            InsecureRandom(ctx),
            InsecureSeed(ctx),
            *cli_interfaces(ctx),
            *(cls() for cls in SANDBOX_INTERFACES),
            GraphicsContextHost(ctx, presenters),
            self.surface,
            FrameBufferHost(),
            FrameBufferBulkHost(),
            WebGpuHost(ctx),
        ]

    def provided(self) -> dict[str, str]:
        """interface -> version, for checking a component's imports before running it."""
        return {iface.interface: iface.version for iface in self.all}
