"""A session's worker process: the guest, its GPU device, the frame clock, readback and the encoder.

Started with spawn (ARCHITECTURE.md, decision 3), so a guest or driver that crashes or hangs takes
down one session only. The loop renders a frame when the viewer has credit for one and the frame's
time has come, applies queued input atomically with the frame tick, stamps the input marker if
asked, encodes, and sends the packets up the pipe.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from gpu_host import ComponentError, Frame, GuestError, GuestOptions, Limits, Runtime
from gpu_host.events import InputEvent, event_to_json
from gpu_host.output import print_line

from .encoder import RTP_CLOCK, EncoderSettings, VideoEncoder
from .marker import stamp_marker
from .messages import Credit, EncodedFrame, Ended, Events, Keyframe, SetProbe, Started, Stop, ToWorker

__all__ = ["WorkerConfig", "worker_main"]

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


def worker_main(config: WorkerConfig, conn: Connection) -> None:
    """The worker process's entry point; always ends by sending `Ended` (unless the pipe is gone)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    try:
        reason = _serve(config, conn)
    except (BrokenPipeError, EOFError, ConnectionResetError):
        reason = None  # the main process went away; nobody to tell
    except Exception as exc:  # the worker's own failure still reaches the viewer as one line
        log.exception("worker failed")
        reason = f"worker failed: {type(exc).__name__}: {exc}"
    if reason is not None:
        try:
            conn.send(Ended(reason))
        except OSError:
            pass
    conn.close()
    # A guest still inside wasm (spinning until its CPU limit, or in a GPU wait) must not hold the
    # process: leaving at once is how its thread ends.
    os._exit(0)


def _serve(config: WorkerConfig, conn: Connection) -> str | None:
    with Runtime() as runtime:
        return _run_session(runtime, config, conn)


def _run_session(runtime: Runtime, config: WorkerConfig, conn: Connection) -> str | None:
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
    encoding = EncodeThread(VideoEncoder(settings), conn)
    recording = InputRecording(config) if config.record_to is not None else None
    period = 1.0 / settings.fps
    credit = 0
    probe = False
    seq = 0
    pending: list[tuple[InputEvent, int]] = []
    due = time.monotonic()
    try:
        with runtime.run(component, options) as guest:
            conn.send(Started(*config.size))
            while True:
                # Frames keep to a grid of one per period. A frame with input waiting may come up to
                # half a period early (its slot's frame, not an extra one): the wait for the next
                # tick, half a period on average, is most of what input-to-photon latency can lose.
                ready_at = due - period / 2 if pending else due
                wait = max(0.0, ready_at - time.monotonic()) if credit > 0 else 1.0
                if conn.poll(wait):
                    message: ToWorker = conn.recv()
                    if isinstance(message, Credit):
                        credit += message.frames
                    elif isinstance(message, Events):
                        pending.extend(message.items)
                    elif isinstance(message, Keyframe):
                        encoding.encoder.request_keyframe()
                    elif isinstance(message, SetProbe):
                        probe = message.enabled
                    elif isinstance(message, Stop):
                        return None
                    continue
                if credit <= 0 or time.monotonic() < ready_at:
                    continue
                events = [event for event, _ in pending]
                if pending:
                    seq = pending[-1][1]
                pending.clear()
                try:
                    frame = guest.next_frame(timeout=config.frame_timeout, events=events)
                except GuestError as exc:  # GuestEnded included
                    return output.explain(str(exc))
                if recording is not None and events:
                    recording.write(frame.index, events)
                credit -= 1
                # The encode of this frame overlaps the guest's render of the next one.
                encoding.submit(frame, seq, probe)
                due += period
                if due < time.monotonic() - period:
                    due = time.monotonic()  # fell behind (slow guest or viewer): do not burst to catch up
    finally:
        encoding.close()
        if recording is not None:
            recording.close()


class InputRecording:
    """A session's input as a render script: `streamer render` replays it with the same seed.

    Each event is written with the number of the frame it was applied before. The replay runs in
    virtual time, so a guest whose picture depends on the clock differs in timing, not in input."""

    def __init__(self, config: WorkerConfig) -> None:
        assert config.record_to is not None
        self.path = config.record_to
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 -- open for the session
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
    """Encodes and sends frames on a thread of its own, one frame at a time: the worker's loop hands
    over frame n and goes on to render n+1 (ARCHITECTURE.md, decision 5: pipelined, never queued
    deeper than one frame; `submit` waits while the previous frame is still being encoded)."""

    def __init__(self, encoder: VideoEncoder, conn: Connection) -> None:
        self.encoder = encoder
        self._conn = conn
        self._started = time.monotonic()
        self._slot: queue.Queue[tuple[Frame, int, bool, float] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="encoder", daemon=True)
        self._thread.start()

    def submit(self, frame: Frame, seq: int, probe: bool) -> None:
        if self.error is not None:
            raise self.error
        self._slot.put((frame, seq, probe, time.monotonic()))

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
            except Exception as exc:  # reported to the loop at its next submit
                log.exception("encoding failed")
                self.error = exc
                return

    def _encode(self, frame: Frame, seq: int, probe: bool, shown: float) -> None:
        start = time.monotonic()
        if probe:
            stamp_marker(frame.pixels, seq, frame.format)
        timestamp = round((shown - self._started) * RTP_CLOCK)
        packets = self.encoder.encode(frame.pixels, timestamp, frame.format)
        encode_ms = (time.monotonic() - start) * 1e3
        readback_ms = frame.readback_seconds * 1e3 + (start - shown) * 1e3  # waiting counts as readback
        self._conn.send(
            EncodedFrame(tuple(packets), frame.index, seq, frame.guest_seconds * 1e3, readback_ms, encode_ms)
        )
