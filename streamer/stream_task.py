"""A session's stream, run in its guest worker (gpu_host/worker.py): the guest, its GPU device,
the frame clock, readback and the encoder.

One worker process per session, so a guest or driver that crashes or hangs takes down one session
only (docs/design.md). The loop renders a frame when the viewer has credit for one and the
frame's time has come, applies queued input atomically with the frame tick, stamps the input
marker if asked, encodes, and sends the packets up the pipe.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from gpu_host import ComponentError, GuestError, GuestOptions, Limits, PendingFrame, Runtime
from gpu_host.events import InputEvent, event_to_json
from gpu_host.output import print_line
from gpu_host.worker import Stop, TaskChannel, TaskDone

from .encoder import RTP_CLOCK, EncoderSettings, VideoEncoder
from .marker import stamp_marker
from .messages import (
    CountObjects,
    Credit,
    EncodedFrame,
    Events,
    Keyframe,
    ObjectCounts,
    SetProbe,
    SetTarget,
    Started,
)
from .rate_control import StreamTarget
from .still import StillFilter

__all__ = ["StreamTask", "WorkerConfig"]

GIL_SWITCH_SECONDS = 0.0005

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs; picklable, sent once at spawn."""

    component: Path
    name: str
    size: tuple[int, int] = (1280, 720)
    encoder: EncoderSettings = field(default_factory=EncoderSettings)
    max_surface_size: tuple[int, int] = (1920, 1080)
    frame_timeout: float = 10.0  # seconds a guest may take for one frame before it counts as hung
    seed: int | None = None
    record_to: Path | None = None  # write the input as a render script (docs/events.md) here
    limits: Limits = field(default_factory=Limits)  # the guest's (docs/sandbox.md)
    # A shared stream's worker renders by the clock at fps, whoever watches, instead of by credit.
    paced: bool = False
    # The time.monotonic() that RTP timestamps count from (None: the stream's start). A shared
    # stream keeps one across restarts of its guest, so the video's timestamps keep rising.
    clock_origin: float | None = None
    # A shared stream's quality levels (streamer/levels.py): each frame is encoded once at each.
    # Empty: one encoder, at the target the session sets (`SetTarget`).
    levels: tuple[StreamTarget, ...] = ()
    # A picture that has not changed is sent again this often (seconds) and otherwise skipped
    # (streamer/still.py); None: every frame is encoded and sent. `streamer serve` skips (1 s).
    still_refresh: float | None = None
    # Once the picture has been still for 2 s (IDLE_AFTER), the guest is ticked this often (seconds, at
    # most `still_refresh`) instead of every period; input, a keyframe request or a new target
    # ticks at once, and a change brings back every period. None: every period, still or not.
    still_tick: float | None = None

    def __post_init__(self) -> None:
        if self.still_tick is not None and (
            self.still_refresh is None or self.still_tick > self.still_refresh
        ):
            raise ValueError(
                f"still_tick ({self.still_tick} s) needs still_refresh, and may not exceed it "
                f"({self.still_refresh}): a still picture is resent at least that often"
            )


@dataclass(frozen=True)
class StreamTask:
    """A session's stream as a worker task: its result is why the session ended (None when the
    main process stopped it). The worker is the session's alone and retires after it."""

    config: WorkerConfig

    def run(self, runtime: Runtime, channel: TaskChannel) -> TaskDone:
        return TaskDone(_run_session(runtime, self.config, channel), retire=True)


def _run_session(runtime: Runtime, config: WorkerConfig, conn: TaskChannel) -> str | None:
    # The guest's thread (its host calls are Python) and the encoder thread share the GIL: at
    # CPython's default 5 ms switch interval an encode beside a busy guest took up to 13 ms where
    # it takes 2.5 alone (docs/performance.md, "Sessions per node"); this worker is a session's
    # alone, so its interpreter may hand the GIL over sooner.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        component = runtime.load(config.component, config.name)
    except ComponentError as exc:
        return str(exc)
    settings = config.encoder
    output = GuestLog()
    options = GuestOptions(
        name=config.name,
        size=config.size,
        fps=settings.fps,
        virtual_time=False,
        seed=config.seed,
        max_surface_size=config.max_surface_size,
        sink=output.write,
        limits=config.limits,
        frame_format="yuv420p",  # converted on the GPU: a third of the readback, no swscale
    )
    encoding = EncodeThread(
        level_encoders(settings, config.levels), conn, config.clock_origin, config.still_refresh
    )
    recording = InputRecording(config) if config.record_to is not None else None
    period = 1.0 / settings.fps
    credit = 0  # frames the viewer may still take (a paced stream does not count them)
    probe = False
    seq = 0
    pending: list[tuple[InputEvent, int]] = []
    due = time.monotonic()
    ticked = due  # when the last frame was rendered
    urgent = False  # a keyframe or a new target waits: no slow tick for a still picture
    try:
        with runtime.run(component, options) as guest:
            conn.send(Started(*config.size))
            while True:
                # Frames keep to a grid of one per period. A frame with input waiting may come up to
                # half a period early (its slot's frame, not an extra one): the wait for the next
                # tick, half a period on average, is most of what input-to-photon latency can lose.
                ready_at = due - period / 2 if pending else due
                if config.still_tick is not None and not (pending or urgent) and encoding.idle():
                    ready_at = max(ready_at, ticked + config.still_tick)
                # At most a period: a still picture's slow tick is looked at again each period.
                wait = (
                    min(max(0.0, ready_at - time.monotonic()), period) if config.paced or credit > 0 else 1.0
                )
                if conn.poll(wait):
                    message = conn.recv()
                    if isinstance(message, Credit):
                        credit += message.frames
                    elif isinstance(message, Events):
                        pending.extend(message.items)
                    elif isinstance(message, Keyframe):
                        encoding.request_keyframe(message.level)
                        urgent = True
                    elif isinstance(message, SetProbe):
                        probe = message.enabled
                    elif isinstance(message, SetTarget):
                        encoding.encoders[0].retarget(message.target)  # applied at its next frame
                        period = 1.0 / message.target.fps
                        urgent = True
                    elif isinstance(message, CountObjects):
                        conn.send(ObjectCounts(_object_counts()))
                    elif isinstance(message, Stop):
                        return None
                    continue
                if (credit <= 0 and not config.paced) or time.monotonic() < ready_at:
                    continue
                events = [event for event, _ in pending]
                if pending:
                    seq = pending[-1][1]
                pending.clear()
                ticked, urgent = time.monotonic(), False
                try:
                    guest.request_frame(events)
                    frame = guest.take_frame(timeout=config.frame_timeout)
                    if recording is not None and events:
                        # Input the guest had not read when the tick's bound expired shows in the
                        # next frame: recorded there, the replay shows it where the viewer saw it.
                        recording.write(frame.index + guest.input_late, events)
                    credit -= 1
                    # The readback and encode of this frame overlap the guest's render of the next.
                    encoding.submit(frame, seq, probe)
                except GuestError as exc:  # GuestEnded included
                    return output.explain(str(exc))
                due += period
                if due < time.monotonic() - period:
                    due = time.monotonic()  # fell behind (slow guest or viewer): do not burst to catch up
    finally:
        encoding.close()
        if recording is not None:
            recording.close()


def level_encoders(settings: EncoderSettings, levels: tuple[StreamTarget, ...]) -> list[VideoEncoder]:
    """One encoder, or one per level, each with its level's bitrate as its ceiling (the VBV)."""
    if not levels:
        return [VideoEncoder(settings)]
    encoders = []
    for level in levels:
        encoder = VideoEncoder(replace(settings, bitrate=level.bitrate))
        encoder.retarget(level)
        encoders.append(encoder)
    return encoders


def _object_counts() -> tuple[tuple[str, int], ...]:
    import gc

    import wgpu

    gc.collect()
    counts = wgpu.diagnostics.object_counts.get_dict()
    return tuple(sorted((k, v["count"]) for k, v in counts.items() if v["count"] and k != "total"))


class InputRecording:
    """A session's input as a render script: `streamer render` replays it with the same seed.

    Each event is written with the number of the frame it was applied before. The replay runs in
    virtual time, so a guest whose picture depends on the clock differs in timing, not in input."""

    def __init__(self, config: WorkerConfig) -> None:
        assert config.record_to is not None
        self.path = config.record_to
        self._file = open(self.path, "w", encoding="utf-8")  # open for the session
        width, height = config.size
        seed = "" if config.seed is None else f" --seed {config.seed}"
        self._file.write(
            f"# input of the streamer serve session {config.name}; replay it with:\n"
            f"# streamer render {config.component} -o OUT --events {self.path.name} --size {width}x{height} "
            f"--fps {config.encoder.fps:g}{seed}\n"
        )
        self._file.flush()

    def write(self, frame: int, events: list[InputEvent]) -> None:
        for event in events:
            self._file.write(json.dumps({"frame": frame, **event_to_json(event)}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit)\b")  # "RuntimeError: ..."


class GuestLog:
    """The guest's output goes to the worker's own (the server's console), and the last exception
    line it wrote to stderr is kept: when the guest traps, that line (a Python guest's uncaught
    exception) tells the viewer more than the wasm trap does."""

    def __init__(self) -> None:
        self.last_error = ""

    def write(self, guest: str, stream: str, line: str) -> None:
        print_line(guest, stream, line)
        if stream == "stderr" and EXCEPTION_LINE.match(line):
            self.last_error = line.strip()[:300]

    def explain(self, reason: str) -> str:
        if self.last_error and self.last_error not in reason:
            return f"{reason} (the guest's last error output: {self.last_error})"
        return reason


class EncodeThread:
    """Waits for frames' pixels, encodes and sends them on a thread of its own, one frame at a time:
    the worker's loop hands over frame n as soon as it is presented and goes on to render n+1
    (docs/design.md, "One frame path": pipelined, never queued deeper than one frame; `submit`
    waits while the previous frame is still being read back or encoded). A shared stream's frame
    is read back once and encoded by each level's encoder in turn, one message per level. With
    `still_refresh`, a frame whose picture repeats the last one sent is skipped (streamer/still.py):
    it goes up as a frame without packets, which gives the viewer's credit back."""

    def __init__(
        self,
        encoders: Sequence[VideoEncoder],
        conn: TaskChannel,
        clock_origin: float | None = None,
        still_refresh: float | None = None,
    ) -> None:
        self.encoders = list(encoders)
        self.still = StillFilter(still_refresh) if still_refresh is not None else None
        self._conn = conn
        self._started = time.monotonic() if clock_origin is None else clock_origin
        self._slot: queue.Queue[tuple[PendingFrame, int, bool, float] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="encoder", daemon=True)
        self._thread.start()

    def submit(self, frame: PendingFrame, seq: int, probe: bool) -> None:
        if self.error is not None:
            raise self.error
        self._slot.put((frame, seq, probe, time.monotonic()))

    def idle(self) -> bool:
        """Whether the picture has been still (no frame sent for a change) for `IDLE_AFTER` seconds."""
        return self.still is not None and self.still.idle(time.monotonic())

    def request_keyframe(self, level: int | None) -> None:
        """The next frame is a keyframe at `level`, or at every level (None)."""
        for index, encoder in enumerate(self.encoders):
            if level is None or level == index:
                encoder.request_keyframe()

    def close(self) -> None:
        try:
            self._slot.put(None, timeout=10.0)
        except queue.Full:
            return  # the thread is stuck in an encode; the worker exits anyway
        self._thread.join(10.0)

    def _run(self) -> None:
        while (item := self._slot.get()) is not None:
            frame, seq, probe, shown = item
            try:
                self._encode(frame, seq, probe, shown)
            except GuestError as exc:  # the frame could not be read back: the guest's end
                self.error = exc
                return
            except Exception as exc:  # reported to the loop at its next submit
                log.exception("encoding failed")
                self.error = exc
                return

    def _encode(self, pending: PendingFrame, seq: int, probe: bool, shown: float) -> None:
        # The pixels, once the GPU has copied them: the readback buffer itself unless a marker
        # is to be stamped in them (lent pixels are read-only).
        frame = pending.result(lend=not probe)
        got = time.perf_counter()
        readback_ms = (got - frame.presented_at) * 1e3  # waiting in line counts too
        # On a GPU the copy is queued behind the guest's work at once, so "GPU work" is what is
        # left of the guest's and the copy; where the copy waits for the guest's work (lavapipe),
        # "copy submitted" holds that wait and "GPU work" is the copy's alone.
        steps = [
            ("copy submitted", frame.copy_submitted_at - frame.presented_at),
            ("GPU work", frame.read_at - frame.copy_submitted_at),
            ("to the encoder", got - frame.read_at),
        ]
        try:
            if probe:
                stamp_marker(frame, seq)
            timestamp = round((shown - self._started) * RTP_CLOCK)
            forced = any(encoder.must_encode for encoder in self.encoders)
            if self.still is not None:
                send = self.still.send(frame.pixels, shown, forced)
                steps.append(("still check", time.perf_counter() - got))
                if not send:
                    self._conn.send(
                        EncodedFrame(
                            (),
                            frame.index,
                            seq,
                            frame.guest_seconds * 1e3,
                            readback_ms,
                            0.0,
                            (frame.width, frame.height),
                            0,
                        )
                    )
                    return
            for level, encoder in enumerate(self.encoders):
                # Each level goes out as soon as it is encoded: level 0, the driver's, first.
                start = time.monotonic()
                packets = encoder.encode(frame, timestamp)
                encode_ms = (time.monotonic() - start) * 1e3
                self._conn.send(
                    EncodedFrame(
                        tuple(packets),
                        frame.index,
                        seq,
                        frame.guest_seconds * 1e3,
                        readback_ms,
                        encode_ms,
                        (frame.width, frame.height),
                        level,
                        tuple((name, seconds * 1e3) for name, seconds in (*steps, *encoder.steps)),
                    )
                )
            if self.still is not None:
                self.still.keep(frame.pixels)  # after the packets are out: off the frame's way
        finally:
            frame.release()
