"""An idle session costs little: a frame that repeats the picture last sent is not encoded.

The guest still renders every tick (its clock and its input are untouched, and a scene that starts
moving shows it in the next frame), but a picture identical to the last one sent is neither encoded
nor sent, except once every `refresh` seconds (so the viewer and the server's watchdogs see the
stream is alive) and whenever the encoder must produce a frame anyway: a keyframe asked for (a
viewer's PLI or FIR, a repair) or a new target waiting to be applied. Input needs nothing of its
own: a picture it changes differs, and is sent at once.

A frame that is sent because it changed or was forced is followed by the next tick's frame, even
if that one repeats it: a receiver may know a frame is complete only when the next one's first
packet arrives (aiortc's jitter buffer does; browsers read the RTP marker bit), and the change
must not wait a refresh period to show there.

With a `still_tick` (streamer/stream_task.py, `serve --still-tick`), a session whose picture has
not changed for `IDLE_AFTER` seconds is also rendered less often: the guest is ticked every
`still_tick` seconds instead of every period, until input, a keyframe request, a new target or a
change (which brings back every period at once). That saves the guest's and the readback's share,
which skipping the encode leaves; a scene that starts moving by itself shows it up to `still_tick`
late.

"Identical" is decided on the I420 planes read back for the encoder, byte for byte. Comparing them
costs about 0.1 ms a 1280x720 frame (docs/performance.md); a frame that differs early stops the
comparison early, and a frame that differs is copied (about 0.07 ms at 720p) as the next reference
once its packets are out (`keep`), so that the copy does not delay them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["IDLE_AFTER", "StillFilter", "same_pixels"]

Pixels = npt.NDArray[np.uint8]
IDLE_AFTER = 2.0  # seconds without a change before a session counts as idle (a 1 Hz clock never does)
CHUNKS = 8  # pieces compared in turn, so that a changed picture is found without reading it all


def same_pixels(a: Pixels, b: Pixels) -> bool:
    """Whether two pictures' bytes are equal (compared as 64-bit words where their layout allows)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous):
        return bool(np.array_equal(a, b))
    flat_a, flat_b = a.reshape(-1), b.reshape(-1)
    words = flat_a.size // 8 * 8
    wide_a, wide_b = flat_a[:words].view(np.uint64), flat_b[:words].view(np.uint64)
    step = max(1, -(-wide_a.size // CHUNKS))
    for start in range(0, wide_a.size, step):
        if not np.array_equal(wide_a[start : start + step], wide_b[start : start + step]):
            return False
    return bool(np.array_equal(flat_a[words:], flat_b[words:]))


class StillFilter:
    """Says which frames to send: every frame whose picture changed, and a repeated picture only
    when `refresh` seconds have passed since the last frame sent or when it is `forced`."""

    def __init__(self, refresh: float) -> None:
        self.refresh = refresh
        self._reference: Pixels | None = None  # the picture last sent, a copy
        self._kept = False  # the reference holds the picture last sent (`keep` was called)
        self._sent_at = float("-inf")
        self._follow = False  # the last frame sent was a change or forced: send the next one too
        self._changed_at = float("inf")  # when the picture last changed (none yet: not idle)
        self.skipped = 0

    def send(self, pixels: Pixels, now: float, forced: bool = False) -> bool:
        """Whether the frame with these pixels, shown at `now` (seconds), is to be sent. Once a
        changed picture's packets are out, `keep(pixels)` makes it the reference: the copy then
        costs no time on the frame's way (0.2-0.3 ms at 1920x1080); until then no frame is
        skipped."""
        reference = self._reference
        same = self._kept and reference is not None and same_pixels(reference, pixels)
        follow, self._follow = self._follow, not same or forced
        if same and not forced and not follow and now - self._sent_at < self.refresh:
            self.skipped += 1
            return False
        if not same:
            self._changed_at = now
            self._kept = False
        self._sent_at = now
        return True

    def keep(self, pixels: Pixels) -> None:
        """The frame last passed to `send`, now sent: the reference, if its picture changed."""
        if self._kept:
            return
        reference = self._reference
        if reference is None or reference.shape != pixels.shape:
            self._reference = reference = np.empty_like(pixels, order="C")
        np.copyto(reference, pixels)
        self._kept = True

    def idle(self, now: float) -> bool:
        """Whether the picture has not changed for `IDLE_AFTER` seconds up to `now`, and no frame
        is owed to follow one sent (which must not wait for a slow tick either)."""
        return not self._follow and now - self._changed_at >= IDLE_AFTER
