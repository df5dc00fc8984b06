"""What the server's main process and a session's stream task (streamer/stream_task.py) say to
each other over the guest worker's pipe (gpu_host/worker.py).

Main to worker: `Credit`, `Events`, `Keyframe`, `SetProbe`, `SetTarget`, and the worker's own `Stop`. Worker
to main: `Started`, `EncodedFrame`, and at the end the worker's `TaskDone`, whose result is why
the session ended. All small and picklable; frames travel encoded, never as pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from gpu_host.events import InputEvent
from gpu_host.worker import Stop

from .encoder import EncodedPacket
from .rate_control import StreamTarget

__all__ = [
    "CountObjects",
    "Credit",
    "EncodedFrame",
    "Events",
    "Keyframe",
    "ObjectCounts",
    "SetProbe",
    "SetTarget",
    "Started",
    "ToMain",
    "ToWorker",
]


@dataclass(frozen=True)
class Credit:
    """The viewer took frames: the worker may render this many more (frames are pulled)."""

    frames: int


@dataclass(frozen=True)
class Events:
    """Input for the guest, with each event's client sequence number; applied before the next frame."""

    items: tuple[tuple[InputEvent, int], ...]


@dataclass(frozen=True)
class Keyframe:
    """A viewer joined, lost pictures (PLI/FIR) or switches level: make the next frame a keyframe,
    at one level of a shared stream (streamer/levels.py) or at every level (None)."""

    level: int | None = None


@dataclass(frozen=True)
class SetProbe:
    """Stamp the input marker (streamer/marker.py) into frames, or stop."""

    enabled: bool


@dataclass(frozen=True)
class SetTarget:
    """Encode at this bitrate, frame rate and picture scale from the next frame on: the viewer's
    link changed (streamer/rate_control.py decides, in the main process, from its RTCP)."""

    target: StreamTarget


@dataclass(frozen=True)
class CountObjects:
    """Main to worker: report the worker's live wgpu objects (`ObjectCounts`), for leak checks."""


@dataclass(frozen=True)
class ObjectCounts:
    counts: tuple[tuple[str, int], ...]  # (wgpu object type, live count), the non-zero ones


@dataclass(frozen=True)
class Started:
    width: int
    height: int


@dataclass(frozen=True)
class EncodedFrame:
    """One rendered, encoded frame and where its time went (milliseconds). No packets: rendered
    but not sent (a still picture's repeat, streamer/still.py)."""

    packets: tuple[EncodedPacket, ...]
    index: int
    seq: int  # the last input event applied before it was rendered
    guest_ms: float
    readback_ms: float
    encode_ms: float
    surface: tuple[int, int] = (0, 0)  # the guest's surface: what pointer positions are in
    level: int = 0  # a shared stream's quality level (streamer/levels.py); one message per level
    # Where its present-to-packet time went, step by step: (what, ms), e.g. ("x264", 2.1).
    steps: tuple[tuple[str, float], ...] = ()


ToWorker = Credit | Events | Keyframe | SetProbe | SetTarget | CountObjects | Stop
ToMain = Started | EncodedFrame | ObjectCounts
