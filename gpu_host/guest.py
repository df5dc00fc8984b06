"""What one running guest owns: its options, handles, clock, waker, frames, output and randomness."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .clock import GuestClock
from .epoch import CpuDeadline
from .frame import BT601, Colour, PixelFormat
from .frame_clock import FrameClock
from .limits import Limits
from .output import GuestOutput, LineSink, print_line
from .resources import HandleTable
from .waker import Waker
from .wasi.random import RandomSource

__all__ = ["GuestContext", "GuestOptions"]


@dataclass(frozen=True)
class GuestOptions:
    """How to run one guest. `virtual_time` and `seed` make a render reproducible."""

    name: str = "guest"
    size: tuple[int, int] = (640, 360)  # width, height of a new surface
    fps: float = 30.0
    virtual_time: bool = True
    seed: int | None = 0
    max_surface_size: tuple[int, int] = (4096, 4096)
    env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()
    input_queue_limit: int = 256  # per event kind; the oldest event is dropped past it
    frame_format: PixelFormat = "rgb24"  # "yuv420p": converted on the GPU, for encoders
    colour: Colour = BT601  # how frames' YUV relates to RGB (gpu_host/frame.py)
    frames_in_flight: int = 2  # presented frames whose readback may be under way at once (K)
    # Live, a frame tick waits at most this many frame periods for the guest to take the input
    # waiting at it (docs/design.md, "Input before the frame"); a render waits without a bound.
    input_settle: float = 0.25
    # Host calls through wasmtime-py's generic trampoline instead of the host's own callbacks
    # (gpu_host/host_calls.py): only for benchmarks/runtime.py to compare the two.
    wasmtime_trampoline: bool = False
    limits: Limits = field(default_factory=Limits)
    sink: LineSink = field(default=print_line, compare=False)


class GuestContext:
    """Shared by the host interfaces of one guest; created and dropped with the guest."""

    def __init__(self, options: GuestOptions) -> None:
        self.options = options
        self.name = options.name
        self.table = HandleTable(options.limits.handles)
        self.cpu = CpuDeadline(options.limits)
        self.waker = Waker()
        self.clock = GuestClock(virtual=options.virtual_time, fps=options.fps)
        bound = None if options.virtual_time else options.input_settle / options.fps
        self.frames = FrameClock(self.waker, self.clock, options.colour, settle_bound=bound)
        self.output = GuestOutput(options.name, options.sink)
        self.random = RandomSource(options.seed)
        self.calls: Counter[str] = Counter()
        self.dropped_events = 0
        self.uncaptured_errors = 0  # GPU errors no error scope captured, all devices
