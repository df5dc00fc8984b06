"""Shared mode (`streamer serve --shared`): one guest, encoded once, watched by many viewers.

One worker, started with the server, renders by the clock at `--fps` whoever watches; each encoded
frame is handed to every viewer's session, which queues it for its own WebRTC sender. Each frame
is encoded at a few quality levels (streamer/levels.py), each once; a viewer's session takes the
level its link carries and switches at a keyframe of the new one. A viewer that falls behind
loses frames on its own path only (streamer/session.py skips it to the next keyframe). Keyframes
are what one viewer can cost the others on its level, so requests are coalesced per level (at
most one forced keyframe per `SharedSettings.keyframe_interval`) and budgeted per viewer. One
viewer at a time drives the guest; the others watch (docs/design.md, "Shared mode").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from gpu_host.events import InputEvent
from gpu_host.worker import AsyncGuestWorker, TaskDone, WorkerExited

from .adaptation import rate_policy
from .levels import ladder
from .messages import CountObjects, EncodedFrame, Events, Keyframe, ObjectCounts, Started
from .metrics import Metrics
from .recording import StreamRecorder
from .stream_task import StreamTask, WorkerConfig

__all__ = ["SharedSettings", "SharedStream", "SharedViewer"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SharedSettings:
    keyframe_interval: float = 0.5  # at most one forced keyframe per this many seconds, for everyone
    viewer_keyframe_interval: float = 2.0  # and one per viewer per this (past it: the periodic one)
    control_idle: float = 60.0  # seconds without input before the driver loses control
    restart_on_exit: bool = False  # a guest that ends is started again; viewers stay
    restart_delay: float = 1.0  # before the first restart; doubled after a guest that dies at once
    max_restart_delay: float = 30.0
    quick_death: float = 5.0  # a guest that ends within this many seconds of its start "dies at once"
    idle_reset: float | None = None  # seconds without input after which the scene starts over
    levels: int = 3  # quality levels each frame is encoded at (streamer/levels.py); 1: one encode


class SharedViewer(Protocol):
    """What the shared stream needs of a viewer's session."""

    id: str
    level: int  # the quality level it is sent

    def deliver(self, frame: EncodedFrame) -> None: ...

    def control_changed(self, driver: str | None, viewers: int) -> None: ...

    def stream_ended(self, reason: str) -> None: ...


class SharedStream:
    """The one guest of shared mode and its audience. `start` with the server, `stop` after it."""

    def __init__(
        self,
        config: WorkerConfig,
        metrics: Metrics,
        settings: SharedSettings,
        record_dir: Path | None = None,
        recorder: StreamRecorder | None = None,
    ) -> None:
        """`record_dir`: each start of the guest writes its input to DIR/shared-N.jsonl.
        `recorder`: the stream's packets go to disk too (`--record-video`)."""
        self.recorder = recorder
        count = settings.levels if config.encoder.adapt else 1  # nobody would leave level 0
        self.levels = ladder(rate_policy(config.encoder), count)
        self.config = replace(
            config,
            paced=True,
            clock_origin=time.monotonic(),
            levels=self.levels if len(self.levels) > 1 else (),
        )
        self.record_dir = record_dir
        self.metrics = metrics
        self.settings = settings
        self.viewers: dict[str, SharedViewer] = {}
        self.driver: str | None = None  # the id of the viewer in control
        self.ended: str | None = None  # why the guest ended, once it has and will not restart
        self.restarts = 0
        self.frames_encoded = 0  # frames with packets at level 0 (what the recorder writes)
        self.encodes = [0] * len(self.levels)  # encodes with packets, by level
        self._worker: AsyncGuestWorker | None = None
        self._started_at = 0.0
        self._delay = settings.restart_delay
        self._last_input = 0.0
        self._touched = False  # the running guest has had input since it started
        self.resets = 0
        self._last_forced = [-1e9] * len(self.levels)  # by level
        self._forced_pending: list[asyncio.TimerHandle | None] = [None] * len(self.levels)
        self._viewer_requests: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._counting: list[asyncio.Future[dict[str, int]]] = []

    # --- the guest --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the guest's worker (the scene runs before anyone watches) and the control watch."""
        await self._spawn()
        self._spawn_task(self._watch_control(), "shared stream control watch")

    async def _spawn(self) -> None:
        config = self.config
        if self.record_dir is not None:
            config = replace(config, record_to=self.record_dir / f"shared-{self.restarts + 1}.jsonl", seed=0)
        self._worker = worker = AsyncGuestWorker(
            StreamTask(config), self._on_worker_message, name="the shared stream's worker"
        )
        self._started_at = time.monotonic()
        await worker.start()

    async def stop(self) -> None:
        """Stop the guest and the stream's own tasks (the server is shutting down)."""
        self._stopping = True
        for pending in self._forced_pending:
            if pending is not None:
                pending.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._worker is not None:
            try:
                await self._worker.stop()
            except Exception:
                log.exception("shared stream: stopping its worker failed; killing it")
                self._worker.abort()
        if self.recorder is not None:
            await asyncio.to_thread(self.recorder.close)

    def _spawn_task(self, coroutine: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_worker_message(self, message: object) -> None:
        if isinstance(message, EncodedFrame):
            self.metrics.count_frame(message)
            if not message.packets:
                return
            self.encodes[message.level] += 1
            if message.level == 0:
                self.frames_encoded += 1
                if self.recorder is not None:
                    self.recorder.write(message.packets)
            for viewer in list(self.viewers.values()):
                viewer.deliver(message)
        elif isinstance(message, ObjectCounts):
            waiting, self._counting = self._counting, []
            for future in waiting:
                if not future.done():
                    future.set_result(dict(message.counts))
        elif isinstance(message, Started):
            log.info("shared stream: worker %s started", self._worker and self._worker.pid)
        elif isinstance(message, TaskDone | WorkerExited):
            reason = message.reason if isinstance(message, WorkerExited) else message.result
            if reason is None or self._stopping:
                return
            self._guest_ended(str(reason))

    def _guest_ended(self, reason: str) -> None:
        self.metrics.errors.labels("guest").inc()
        ended = self._worker
        self._worker = None
        if ended is not None:  # its process is gone or going: close its pipe
            self._spawn_task(ended.stop(), "shared stream: the ended worker's cleanup")
        if not self.settings.restart_on_exit:
            log.info("shared stream ended: %s", reason)
            self.ended = reason
            for viewer in list(self.viewers.values()):
                viewer.stream_ended(reason)
            return
        lived = time.monotonic() - self._started_at
        if lived < self.settings.quick_death:
            self._delay = min(self._delay * 2, self.settings.max_restart_delay)
        else:
            self._delay = self.settings.restart_delay
        log.info("shared stream: the guest ended (%s); starting it again in %.1f s", reason, self._delay)
        self._spawn_task(self._restart(self._delay), "shared stream restart")

    async def _restart(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._stopping:
            return
        self.restarts += 1
        if self.recorder is not None:
            self.recorder.new_take()
        await self._spawn()
        self._last_forced = [-1e9] * len(self.levels)
        for level in range(len(self.levels)):  # its first frames are keyframes anyway; say so
            self._force_keyframe(level)  # for the viewers skipping

    async def gpu_objects(self, timeout: float = 10.0) -> dict[str, int]:
        """The guest's worker's live wgpu objects by type (a soak's leak check)."""
        future: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()
        self._counting.append(future)
        if self._worker is not None:
            self._worker.send(CountObjects())
        return await asyncio.wait_for(future, timeout)

    # --- viewers ------------------------------------------------------------------------------------

    def join(self, viewer: SharedViewer) -> None:
        """A viewer's session is connected: it gets every frame of its level from the next keyframe on."""
        self.viewers[viewer.id] = viewer
        self._viewer_requests[viewer.id] = time.monotonic()
        self._request_forced(viewer.level)
        self._announce()
        self.count_levels()

    def leave(self, viewer: SharedViewer) -> None:
        if self.viewers.pop(viewer.id, None) is None:
            return
        self._viewer_requests.pop(viewer.id, None)
        if self.driver == viewer.id:
            self.driver = None
        self._announce()
        self.count_levels()

    def request_keyframe(self, viewer: SharedViewer, level: int = 0) -> bool:
        """A viewer lost pictures (PLI/FIR, or frames dropped on its path) at `level`. False when
        its own budget is spent: it then waits for the periodic keyframe."""
        now = time.monotonic()
        last = self._viewer_requests.get(viewer.id, -1e9)
        if now - last < self.settings.viewer_keyframe_interval:
            self.metrics.input_dropped.labels("keyframe-budget").inc()
            return False
        self._viewer_requests[viewer.id] = now
        self._request_forced(level)
        return True

    def switch_level(self, viewer: SharedViewer, level: int) -> None:
        """A viewer's link fits `level` now: a keyframe there, coalesced but outside its budget
        (its level changes at most once per `REOPEN_DOWN`, streamer/levels.py)."""
        self._viewer_requests[viewer.id] = time.monotonic()
        self._request_forced(level)

    def count_levels(self) -> None:
        """Update the viewers-per-level gauge (a viewer joined, left or switched)."""
        counts = [0] * len(self.levels)
        for viewer in self.viewers.values():
            counts[viewer.level] += 1
        for level, count in enumerate(counts):
            self.metrics.level_viewers.labels(str(level)).set(count)

    def _request_forced(self, level: int) -> None:
        """One forced keyframe at `level` now, or at the end of its coalescing interval if one was
        just made there."""
        wait = self._last_forced[level] + self.settings.keyframe_interval - time.monotonic()
        if wait <= 0:
            self._force_keyframe(level)
        elif self._forced_pending[level] is None:
            self._forced_pending[level] = asyncio.get_running_loop().call_later(
                wait, self._force_keyframe, level
            )

    def _force_keyframe(self, level: int) -> None:
        self._forced_pending[level] = None
        self._last_forced[level] = time.monotonic()
        self.metrics.keyframe_requests.inc()
        if self._worker is not None:
            self._worker.send(Keyframe(level if len(self.levels) > 1 else None))

    # --- control ------------------------------------------------------------------------------------

    def take_control(self, viewer: SharedViewer) -> bool:
        """`viewer` drives from now on, unless another one does."""
        if self.driver not in (None, viewer.id):
            return False
        if self.driver is None:
            self.driver = viewer.id
            self._last_input = time.monotonic()
            self._announce()
        return True

    def release_control(self, viewer: SharedViewer) -> None:
        if self.driver == viewer.id:
            self.driver = None
            self._announce()

    def send_input(self, viewer: SharedViewer, event: InputEvent, seq: int) -> str | None:
        """Pass the driver's input to the guest; otherwise why not. Input from a viewer while
        nobody drives takes control first (a kiosk's first touch)."""
        if not self.take_control(viewer):
            return "view only: another viewer is driving"
        self._last_input = time.monotonic()
        self._touched = True
        if self._worker is None or not self._worker.send(Events(((event, seq),))):
            return "the guest is not keeping up with input; event dropped"
        return None

    def _announce(self) -> None:
        for viewer in list(self.viewers.values()):
            viewer.control_changed(self.driver, len(self.viewers))

    async def _reset(self) -> None:
        """Start the scene over (`idle_reset`): a booth comes back to its attract state by itself."""
        log.info("shared stream: no input for %.0f s; starting the scene over", self.settings.idle_reset or 0)
        self.resets += 1
        self._touched = False
        old, self._worker = self._worker, None
        if old is not None:
            await old.stop()
        if self.recorder is not None:
            self.recorder.new_take()
        await self._spawn()

    async def _watch_control(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            idle = self.settings.idle_reset
            if idle is not None and self._touched and time.monotonic() - self._last_input > idle:
                await self._reset()
            if self.driver is not None and time.monotonic() - self._last_input > self.settings.control_idle:
                log.info(
                    "shared stream: %s lost control after %.0f s idle",
                    self.driver,
                    self.settings.control_idle,
                )
                self.driver = None
                self._announce()
