"""A gpu-device's frames in a graphics context: the frame texture, and a readback that overlaps
the guest's next frame.

`present` records the frame's copy (RGBA rows, or I420 planes converted on the GPU by
gpu_host/yuv.py) into one of K readback buffers, submits it and starts mapping the buffer, all on
the guest's thread and at once, because the guest may destroy or redraw the texture right after.
The consumer waits for the mapping (`PixelSource.pixels`) on its own thread while the guest
renders its next frame. K (`GuestOptions.frames_in_flight`) bounds the frames on their way: a
present that finds every buffer busy first finishes the oldest frame's readback itself.

Readbacks and `close` share a lock per frame, so a buffer is never destroyed under a consumer
reading it (wgpu-native aborts the process on reading a destroyed mapped buffer).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import wgpu

from .errors import GuestCallError
from .frame import Colour, I420Layout, PixelFormat, Pixels, PixelSource
from .webgpu.adapter import PREFERRED_CANVAS_FORMAT
from .webgpu.gpu_wait import Submission
from .webgpu.objects import GpuDevice, GpuTexture
from .yuv import YuvConverter

__all__ = ["GpuPresenter"]

PRESENT = "[method]context.present"
ROW_ALIGNMENT = 256  # WebGPU's bytesPerRow alignment for texture -> buffer copies
MAX_LENT = 2  # frames lent at once for which new buffers are made (the encoder holds one)
GIVE_BACK_SECONDS = 10.0  # how long the guest waits for a lent frame before giving up on it


class _Slot:
    """One readback buffer, sized for frames of one size and format."""

    def __init__(self, device: wgpu.GPUDevice, size: tuple[int, int], fmt: PixelFormat) -> None:
        width, height = size
        self.size = size
        self.format = fmt
        self.layout = I420Layout(width, height)
        self.row = -(-width * 4 // ROW_ALIGNMENT) * ROW_ALIGNMENT
        nbytes = self.layout.nbytes if fmt == "yuv420p" else self.row * height
        self.buffer = device.create_buffer(
            label="frame readback", size=nbytes, usage=wgpu.BufferUsage.COPY_DST | wgpu.BufferUsage.MAP_READ
        )
        self.busy = False
        self.broken = False  # its mapping never finished (a GPU wait timed out): never reused

    def view(self, data: Any) -> Pixels | None:
        """The mapped bytes as packed I420 planes in place, where the GPU wrote them packed (even
        widths that are multiples of 8); None otherwise."""
        layout = self.layout
        even_w, even_h = layout.even
        if self.format != "yuv420p" or layout.y_stride != even_w or layout.uv_stride != even_w // 2:
            return None
        planes: Pixels = np.frombuffer(data, dtype=np.uint8, count=layout.nbytes).reshape(
            even_h * 3 // 2, even_w
        )
        return planes

    def unpack(self, data: Any) -> Pixels:
        """The mapped bytes as a frame's pixels (a copy the consumer owns)."""
        if self.format == "yuv420p":
            return self.layout.pack(data)
        width, height = self.size
        rows = np.frombuffer(data, dtype=np.uint8).reshape(height, self.row)
        rgb: Pixels = rows[:, : width * 4].reshape(height, width, 4)[:, :, :3].copy()
        return rgb


class _Readback:
    """One presented frame's pixels on their way from the GPU (a `PixelSource`)."""

    def __init__(self, presenter: GpuPresenter, slot: _Slot, promise: Any, copied: Submission) -> None:
        self._presenter = presenter
        self._slot = slot
        self._promise = promise
        self._copied = copied
        self._lock = threading.Lock()
        self._result: tuple[Pixels, PixelFormat, tuple[int, int], float] | None = None
        self._error: BaseException | None = None
        self._lent = False  # the result views the mapped buffer until `_give_back`
        self.submitted_at = copied.submitted_at  # perf_counter() once the copy was submitted

    def pixels(self, guest_thread: bool = False) -> tuple[Pixels, PixelFormat, tuple[int, int], float]:
        return self._wait(guest_thread, lend=False)

    def lend(self) -> tuple[Pixels, PixelFormat, tuple[int, int], float, Callable[[], None] | None]:
        """The pixels as `pixels()` gives them, but where they can be, a view of the mapped
        buffer itself (no copy), with the function that gives it back: until then the buffer
        takes no other frame, and after it the view must not be read."""
        result = self._wait(False, lend=True)
        return (*result, self._give_back if self._lent else None)

    def _wait(self, guest_thread: bool, lend: bool) -> tuple[Pixels, PixelFormat, tuple[int, int], float]:
        with self._lock:
            if self._result is None and self._error is None:
                self._read(guest_thread, lend)
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _give_back(self) -> None:
        with self._lock:
            if not self._lent:
                return
            self._lent = False
            self._result = None
            self._error = GuestCallError(PRESENT, "this frame's lent pixels were given back")
            self._slot.buffer.unmap()
        self._presenter._finished(self)

    def _read(self, guest_thread: bool, lend: bool) -> None:
        slot = self._slot
        waits = self._presenter.device.waits
        try:
            waits.wait_mapped(self._promise, PRESENT, guest_thread=guest_thread)
        except Exception as exc:  # kept for the consumer, as the present's error
            slot.broken = waits.timed_out
            self._error = exc
            self._presenter._finished(self)
            return
        read_at = self._copied.done_at or time.perf_counter()
        try:
            data = slot.buffer.read_mapped(copy=False)
            view = slot.view(data) if lend else None
            if view is not None and self._presenter._lending(self):
                self._result, self._lent = (view, slot.format, slot.size, read_at), True
                return  # mapped until given back
            self._result = (slot.unpack(data), slot.format, slot.size, read_at)
        except Exception as exc:  # kept for the consumer, as a failed present
            self._error = GuestCallError(PRESENT, f"the frame could not be read back: {exc}")
        slot.buffer.unmap()
        self._presenter._finished(self)


class GpuPresenter:
    """The frame texture of one gpu-device's graphics context, and its pipelined readback.

    `fmt` is what consumers get ("yuv420p" is converted on the GPU, with `colour`); `slots` is K,
    the frames whose readback may be under way at once.
    """

    def __init__(self, device: GpuDevice, fmt: PixelFormat, colour: Colour, slots: int = 2) -> None:
        self.device = device
        self._format = fmt
        self._colour = colour
        self._slots_wanted = max(1, slots)
        self._texture: GpuTexture | None = None
        self._slots: list[_Slot] = []
        self._yuv: YuvConverter | None = None
        self._pending: deque[_Readback] = deque()
        self._lent: set[_Readback] = set()  # frames whose consumer reads the mapped buffer itself
        self._lock = threading.Lock()  # slots' busy flags and the pending frames, shared with consumers
        self._returned = threading.Condition(self._lock)  # a lent frame was given back
        self._kept: list[_Slot] = []  # buffers still lent when the presenter was closed
        self._closed = False
        device.before_release.append(self.close)

    # --- the guest's side (its thread) ----------------------------------------------------------------

    def buffer(self, width: int, height: int) -> GpuTexture:
        """The frame texture, reused while its size holds."""
        native = self.device.check_alive("[method]context.get-current-buffer")
        current = self._texture
        if (
            current is None
            or current.destroyed
            or (current.native.width, current.native.height) != (width, height)
        ):
            texture = native.create_texture(
                label="frame",
                size=(width, height, 1),
                format=PREFERRED_CANVAS_FORMAT,
                usage=wgpu.TextureUsage.RENDER_ATTACHMENT
                | wgpu.TextureUsage.COPY_SRC
                | wgpu.TextureUsage.COPY_DST
                | wgpu.TextureUsage.TEXTURE_BINDING,
            )
            if current is not None:
                current.release()
            current = self._texture = GpuTexture(texture, self.device, "frame")
        return current

    def present(self, payload: object) -> PixelSource:
        native = self.device.check_alive(PRESENT)
        assert isinstance(payload, GpuTexture)
        # wgpu-native aborts the process when asked to copy a destroyed texture: refuse first.
        texture = payload.check_alive(PRESENT)
        slot = self._free_slot((texture.width, texture.height))
        encoder = native.create_command_encoder(label="frame readback")
        if self._format == "yuv420p":
            if self._yuv is None:
                self._yuv = YuvConverter(native, self._colour)
            self._yuv.encode(encoder, texture, slot.buffer)
        else:
            width, height = slot.size
            encoder.copy_texture_to_buffer(
                {"texture": texture},
                {"buffer": slot.buffer, "bytes_per_row": slot.row, "rows_per_image": height},
                (width, height, 1),
            )
        copied = self.device.waits.submit(native.queue, [encoder.finish()], PRESENT, host=True)
        readback = _Readback(self, slot, slot.buffer.map_async("READ_NOSYNC"), copied)
        with self._lock:
            self._pending.append(readback)
        return readback

    def discard(self, payload: object) -> None:
        self.device.check_alive(PRESENT)
        assert isinstance(payload, GpuTexture)
        payload.check_alive(PRESENT)

    def _free_slot(self, size: tuple[int, int]) -> _Slot:
        """A readback buffer for a frame of `size`: a free one, a new one while fewer than K
        exist, else the oldest pending frame's, once this thread has finished reading it."""
        if any(slot.size != size for slot in self._slots):
            self._finish_pending()
            self._destroy_slots()
        while True:
            with self._lock:
                for slot in self._slots:
                    if not slot.busy and not slot.broken:
                        slot.busy = True
                        return slot
                # A frame lent to its consumer (one at a time, normally) does not count against K.
                if len(self._slots) < self._slots_wanted + min(len(self._lent), MAX_LENT):
                    slot = _Slot(self.device.check_alive(PRESENT), size, self._format)
                    slot.busy = True
                    self._slots.append(slot)
                    return slot
                oldest = self._pending[0] if self._pending else None
                if oldest is None and self._lent:  # every other buffer is lent: wait for one back
                    if not self._returned.wait(GIVE_BACK_SECONDS):
                        raise GuestCallError(PRESENT, "the frames' consumer holds every readback buffer")
                    continue
            if oldest is None:  # every buffer broken: the device is lost
                raise GuestCallError(PRESENT, "no frame readback buffer is usable; the device was lost")
            try:
                oldest.pixels(guest_thread=True)
            except Exception:  # kept for that frame's consumer
                pass

    def _lending(self, readback: _Readback) -> bool:
        """A frame's pixels are lent to its consumer: no longer pending, its buffer still busy.
        False (copy them instead) once the presenter is closing."""
        with self._lock:
            if self._closed:
                return False
            if readback in self._pending:
                self._pending.remove(readback)
            self._lent.add(readback)
            return True

    def _finished(self, readback: _Readback) -> None:
        """A frame's readback is over (read, failed or given back): its buffer may take another."""
        with self._lock:
            if readback in self._pending:
                self._pending.remove(readback)
            self._lent.discard(readback)
            readback._slot.busy = False
            self._returned.notify_all()

    # --- the end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Finish the frames on their way (their consumers still get them), then free the
        texture and buffers; while the device's GPU may still be busy they are parked instead."""
        if self._closed:
            return
        self._closed = True
        self._finish_pending()
        self._destroy_slots()
        if self._yuv is not None and not self.device.waits.park(self._yuv):
            self._yuv.release()
        self._yuv = None
        if self._texture is not None:
            self._texture.release()
            self._texture = None

    def _finish_pending(self) -> None:
        with self._lock:
            pending = list(self._pending)
        for readback in pending:
            try:
                readback.pixels(guest_thread=True)
            except Exception:  # kept for that frame's consumer
                pass

    def _destroy_slots(self) -> None:
        """Destroy the readback buffers, once the frames lent from them are given back; one
        still lent after `GIVE_BACK_SECONDS` is kept, never destroyed under its reader (wgpu-native
        aborts on reading a destroyed mapped buffer)."""
        with self._lock:
            self._returned.wait_for(lambda: not self._lent, GIVE_BACK_SECONDS)
            lent = {readback._slot for readback in self._lent}
            slots, self._slots = self._slots, []
            self._kept.extend(slot for slot in slots if slot in lent)
        for slot in slots:
            if slot not in lent and not self.device.waits.park(slot.buffer):
                slot.buffer.destroy()
