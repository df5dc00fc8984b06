"""Every wait on a device's GPU ends within `Limits.gpu_wait_seconds`.

Submitted GPU work cannot be cancelled (FIELD-NOTES): a runaway dispatch keeps the GPU busy for as
long as it runs, and meanwhile a buffer mapping never completes and, on lavapipe, the next
`queue.submit` blocks until the GPU is idle. So the host waits for a mapping on the promise
wgpu-py's poll thread resolves, with a deadline, and submits on a helper thread of the device,
waiting for that with the same deadline. When a deadline passes, the device is lost
(`GpuDevice.lose("unknown", "GPU wait timed out after N s")`) and the guest ends with
`GpuWaitTimeout`; the host never calls into that device again in a way that blocks.

What is left behind: the GPU work itself (it runs to its end), and the device, whose last
reference is dropped on the helper thread once the GPU is idle (dropping a busy device blocks).
A worker process that saw a timeout keeps burning GPU (on lavapipe: CPU) time until then, so a
supervisor should retire it and start a fresh one (docs/sandbox-gpu.md).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import wgpu

from ..errors import GpuWaitTimeout

__all__ = ["GpuWaits"]

log = logging.getLogger(__name__)

Job = Callable[[], Any]


class _Helper(threading.Thread):
    """Runs one device's blocking GPU calls in order; a daemon, so a wedged one never holds up exit."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.jobs: queue.SimpleQueue[tuple[Job, threading.Event, list[Any]] | None] = queue.SimpleQueue()

    def run(self) -> None:
        while True:
            item = self.jobs.get()
            if item is None:
                return
            job, done, result = item
            try:
                result.append((True, job()))
            except Exception as exc:  # noqa: BLE001 - handed to the waiting thread
                result.append((False, exc))
            finally:
                del job, item
                done.set()


class GpuWaits:
    """Bounded waits on one device's GPU: submit, map, and waiting for submitted work."""

    def __init__(self, device: wgpu.GPUDevice, seconds: float, on_timeout: Callable[[str], None]) -> None:
        self._device: wgpu.GPUDevice | None = device
        self.seconds = seconds
        self._on_timeout = on_timeout
        self.timed_out = False
        self._helper: _Helper | None = None
        self._probe: wgpu.GPUBuffer | None = None

    # --- the waits ------------------------------------------------------------------------------------

    def submit(self, queue_: wgpu.GPUQueue, command_buffers: list[wgpu.GPUCommandBuffer], call: str) -> None:
        """`queue.submit`, which blocks while earlier work runs on some drivers (lavapipe)."""
        self._on_helper(lambda: queue_.submit(command_buffers), call)

    def map(
        self, buffer: wgpu.GPUBuffer, mode: int, offset: int = 0, size: int | None = None, *, call: str
    ) -> None:
        """`buffer.map_async` and wait for it; raises wgpu's error if the mapping fails."""
        device = self._alive(call)
        wanted: int | str = mode
        if mode & wgpu.MapMode.READ:
            # What wgpu-py's map_async does for a read, on the calling thread: an empty submit, so
            # that pending queue writes reach the buffer (wgpu-native issue 305). Bounded here.
            self.submit(device.queue, [device.create_command_encoder(label="map sync").finish()], call)
            wanted = "READ_NOSYNC"
        promise = buffer.map_async(wanted, offset, size)
        self._wait_event(promise._thread_event, call)
        promise.sync_wait()  # the mapping's own error, if it failed

    def work_done(self, call: str) -> None:
        """Return once all work submitted to the device so far has finished.

        wgpu-py 0.32's on_submitted_work_done is broken (FIELD-NOTES); a buffer used by a submission
        maps only once that submission (and so everything before it) has completed.
        """
        device = self._alive(call)
        if self._probe is None:
            self._probe = device.create_buffer(
                label="submitted work done",
                size=4,
                usage=wgpu.BufferUsage.MAP_READ | wgpu.BufferUsage.COPY_DST,
            )
        encoder = device.create_command_encoder(label="submitted work done")
        encoder.clear_buffer(self._probe)
        self.submit(device.queue, [encoder.finish()], call)
        promise = self._probe.map_async("READ_NOSYNC")
        self._wait_event(promise._thread_event, call)
        promise.sync_wait()
        self._probe.unmap()

    # --- the end of a device ------------------------------------------------------------------------

    def park(self, *natives: Any) -> None:
        """Keep `natives` (the device, its queue) alive on the helper thread until the GPU is idle, then
        drop them there: dropping a busy device blocks, and nothing else may wait for it."""
        device = self._device
        keep = [obj for obj in (*natives, self._probe) if obj is not None]

        def drop_when_idle() -> None:
            try:
                if device is not None:
                    device._poll_wait()
            except Exception:
                log.debug("polling a lost device failed", exc_info=True)
            keep.clear()

        self._helper_thread().jobs.put((drop_when_idle, threading.Event(), []))
        self._helper_thread().jobs.put(None)  # the helper ends after that
        self._helper = None
        self._device = None
        self._probe = None

    def release(self) -> None:
        """Free the probe and stop the helper (a device that never timed out)."""
        if self._probe is not None:
            self._probe.destroy()
            self._probe = None
        if self._helper is not None:
            self._helper.jobs.put(None)
            self._helper = None
        self._device = None

    # --- internals ----------------------------------------------------------------------------------

    def _alive(self, call: str) -> wgpu.GPUDevice:
        if self._device is None or self.timed_out:
            raise GpuWaitTimeout(call, "the device was lost after a GPU wait timed out")
        return self._device

    def _helper_thread(self) -> _Helper:
        if self._helper is None:
            self._helper = _Helper("gpu submit")
            self._helper.start()
        return self._helper

    def _on_helper(self, job: Job, call: str) -> Any:
        self._alive(call)
        done = threading.Event()
        result: list[Any] = []
        self._helper_thread().jobs.put((job, done, result))
        self._wait_event(done, call)
        ok, value = result[0]
        if not ok:
            raise value
        return value

    def _wait_event(self, event: threading.Event, call: str) -> None:
        if not event.wait(self.seconds):
            self._expire(call)

    def _expire(self, call: str) -> None:
        message = f"GPU wait timed out after {self.seconds:g} s"
        self.timed_out = True
        log.warning("%s in %s: the device is lost; this process should be retired", message, call)
        self._on_timeout(message)
        raise GpuWaitTimeout(
            call, f"{message} (Limits.gpu_wait_seconds); the device is lost and the GPU work still runs"
        )
