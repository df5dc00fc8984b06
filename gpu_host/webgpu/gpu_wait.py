"""Every wait on a device's GPU ends within `Limits.gpu_wait_seconds`.

Submitted GPU work cannot be cancelled (docs/platform-notes.md): a runaway dispatch keeps the GPU busy for as
long as it runs, a buffer mapping never completes meanwhile, and on lavapipe a `queue.submit`
blocks until the queue is idle, holding locks that also block destroying objects and requesting
adapters, for every guest of the process. So the host never submits to a busy queue: each submit
first waits, with the deadline, for the previous one to finish (a `wgpuQueueOnSubmittedWorkDone`
callback that wgpu-py's poll thread delivers), and mappings wait on their promise with the same
deadline. When a deadline passes, the device is lost (`GpuDevice.lose("unknown", "GPU wait timed
out after N s")`) and the guest ends with `GpuWaitTimeout`.

What is left behind: the GPU work itself (it runs to its end; on lavapipe it keeps CPU cores busy)
and the device's objects, which the host neither destroys nor drops until that work is done,
because dropping a busy device blocks: a reaper thread holds them until then. Other guests of the
process keep working; a supervisor should still retire the worker (docs/sandbox.md, GPU limits).

One submission in flight per device is the price: a guest's second submit in a frame waits for its
first to finish. On lavapipe that is what `submit` did anyway. The host's own frame copy is the
exception on a GPU, whose submit does not block (`submit_blocks`): it is queued behind the guest's
work at once, and its mapping's wait carries the deadline.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import wgpu
from wgpu.backends.wgpu_native._ffi import ffi, lib

from ..errors import GpuWaitTimeout

__all__ = ["GpuWaits", "Submission", "submit_blocks"]

log = logging.getLogger(__name__)


def submit_blocks(adapter_info: dict[str, Any]) -> bool:
    """Whether an adapter's `queue.submit` blocks while its queue is busy: a CPU adapter's
    (lavapipe's) does, a GPU's does not (docs/platform-notes.md)."""
    return adapter_info.get("adapter_type") not in ("DiscreteGPU", "IntegratedGPU")


class Submission:
    """Set once the GPU has finished a submission (and so everything submitted before it).

    Its done callback runs inside a poll of the device. wgpu-py's poll thread polls only while
    someone holds one of its tokens, so a submission that someone will wait for is `poll`ed: the
    host's frame copies at once, the guest's only when a wait needs them (`GpuWaits.work_done`).
    Until then a guest's submission is finished off by whatever polls next, such as its frame's
    copy: that thread's blocking poll would otherwise hold the device while the GPU works, and a
    present's own submit would wait behind it (docs/platform-notes.md).
    """

    # Native callbacks must outlive their call: each stays here until wgpu-native calls it (at
    # the latest when the device's queue is dropped).
    pending: ClassVar[set[Submission]] = set()

    def __init__(self, device: wgpu.GPUDevice, queue_: wgpu.GPUQueue, *, polled: bool = True) -> None:
        self.done = threading.Event()
        self.submitted_at = time.perf_counter()  # just after queue.submit
        self.done_at = 0.0  # the time.perf_counter() at which the GPU had finished it
        self._poller = getattr(device, "_poller", None)
        self._token: Any = None
        if self._poller is None:  # destroyed: nothing will run
            self.done_at = time.perf_counter()
            self.done.set()
            return

        def finished(_status: int, _message: Any, _userdata1: Any, _userdata2: Any) -> None:
            self.done_at = time.perf_counter()
            self.done.set()
            if self._token is not None:
                self._token.set_done()
            Submission.pending.discard(self)

        self._callback = ffi.callback(
            "void(WGPUQueueWorkDoneStatus, WGPUStringView, void *, void *)", finished
        )
        info = ffi.new("WGPUQueueWorkDoneCallbackInfo *")
        info.mode = lib.WGPUCallbackMode_AllowProcessEvents
        info.callback = self._callback
        Submission.pending.add(self)
        # wgpu-py 0.32's on_submitted_work_done_sync declares this callback's C type wrongly
        # (docs/platform-notes.md): registered here with the right one.
        lib.wgpuQueueOnSubmittedWorkDone(queue_._internal, info[0])
        if polled:
            self.poll()

    def poll(self) -> None:
        """Have wgpu-py's poll thread poll the device until this is done."""
        if self._token is not None or self.done.is_set() or self._poller is None:
            return
        self._token = token = self._poller.get_token()
        if self.done.is_set():  # done meanwhile, maybe before the callback saw the token
            token.set_done()


class GpuWaits:
    """Bounded waits on one device's GPU: submit, map, waiting for submitted work; and what is
    kept alive after a wait timed out."""

    def __init__(
        self,
        device: wgpu.GPUDevice,
        seconds: float,
        on_timeout: Callable[[str], None],
        blocked: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
        submit_blocks: bool = True,
    ) -> None:
        """`blocked`: wraps each wait (the guest's `CpuDeadline.blocked`: GPU waits do not count as
        the guest's CPU time, Limits.cpu_seconds). `submit_blocks`: the adapter's `queue.submit`
        blocks while the queue is busy (lavapipe's does; a GPU's does not)."""
        self._device: wgpu.GPUDevice | None = device
        self.seconds = seconds
        self._on_timeout = on_timeout
        self._blocked = blocked
        self.timed_out = False
        self._submit_blocks = submit_blocks
        self._last: Submission | None = None  # the guest's last submission
        self._host_last: Submission | None = None  # the host's own (frame copies), after it
        self._parked: list[Any] = []  # native objects kept until the GPU is idle (after a timeout)
        self._idle = threading.Event()

    # --- the waits ------------------------------------------------------------------------------------

    def submit(
        self,
        queue_: wgpu.GPUQueue,
        command_buffers: list[wgpu.GPUCommandBuffer],
        call: str,
        *,
        host: bool = False,
    ) -> Submission:
        """`queue.submit` once the guest's previous submission has finished, so that it never blocks
        for long. `host`: the host's own short work (a frame's copy), which the guest's next
        submission does not wait for, so that the frame's readback overlaps the next frame. Where
        submit does not block, the host's work goes in behind the guest's at once: the GPU runs
        them in order, and the wait for the copy's mapping carries the deadline."""
        device = self._alive(call)
        if not host or self._submit_blocks:
            self.work_done(call)
        queue_.submit(command_buffers)
        submission = Submission(device, queue_, polled=host)
        if host:
            self._host_last = submission
        else:
            self._last = submission
        return submission

    def work_done(self, call: str) -> None:
        """Return once all work submitted through these waits has finished on the GPU."""
        self._alive(call)
        last = self._last
        if last is not None:
            last.poll()
            self._wait(last.done, call)

    def map(
        self, buffer: wgpu.GPUBuffer, mode: int, offset: int = 0, size: int | None = None, *, call: str
    ) -> None:
        """`buffer.map_async` and wait for it; raises wgpu's error if the mapping fails."""
        device = self._alive(call)
        wanted: int | str = mode
        if mode & wgpu.MapMode.READ:
            # What wgpu-py's map_async does for a read, unbounded and on this thread: an empty submit,
            # so that pending queue writes reach the buffer (wgpu-native issue 305).
            self.submit(device.queue, [device.create_command_encoder(label="map sync").finish()], call)
            wanted = "READ_NOSYNC"
        self.wait_mapped(buffer.map_async(wanted, offset, size), call)

    def wait_mapped(self, promise: Any, call: str, *, guest_thread: bool = True) -> None:
        """Wait for a `map_async` promise; raises wgpu's error if the mapping failed. From another
        thread than the guest's (`guest_thread=False`) the wait is not taken off the guest's CPU
        time, which only its own thread may touch."""
        self._wait(promise._thread_event, call, guest_thread=guest_thread)
        promise.sync_wait()  # the mapping's own error, if it failed

    # --- after a timeout ------------------------------------------------------------------------------

    def park(self, native: Any) -> bool:
        """Keep `native` alive until the GPU is idle when a wait timed out (dropping or destroying
        objects of a busy device may block); False (nothing kept) otherwise."""
        if not self.timed_out or self._idle.is_set() or native is None:
            return False
        self._parked.append(native)
        return True

    def _reap(self) -> None:
        """On a thread of its own: wait for the GPU to finish, then drop what was parked."""
        for last in (self._last, self._host_last):
            if last is not None:
                last.poll()
                last.done.wait()
        self._idle.set()
        self._parked.clear()
        log.info("the GPU work of a lost device has finished; its objects are freed")

    # --- internals ----------------------------------------------------------------------------------

    def _alive(self, call: str) -> wgpu.GPUDevice:
        if self._device is None or self.timed_out:
            raise GpuWaitTimeout(call, "the device was lost after a GPU wait timed out")
        return self._device

    def _wait(self, event: threading.Event, call: str, *, guest_thread: bool = True) -> None:
        if event.is_set():
            return
        with self._blocked() if guest_thread else contextlib.nullcontext():
            if event.wait(self.seconds):
                return
        message = f"GPU wait timed out after {self.seconds:g} s"
        self.timed_out = True
        self._parked.append(self._device)
        self._device = None
        threading.Thread(target=self._reap, name="gpu reaper", daemon=True).start()
        log.warning("%s in %s: the device is lost; this worker should be retired", message, call)
        self._on_timeout(message)
        raise GpuWaitTimeout(
            call, f"{message} (Limits.gpu_wait_seconds); the device is lost and the GPU work still runs"
        )
