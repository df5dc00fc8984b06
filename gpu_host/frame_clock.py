"""Frame ticks to the guest, presented frames to the consumer: one tick at a time, never a queue.

The consumer asks for a frame (`request`), which makes the guest's `subscribe-frame` pollable
ready; the guest renders and presents; `deliver` hands the presented frame over (its pixels may
still be on their way from the GPU: a `PendingFrame`) and the next tick waits until the consumer
asks again. That is the backpressure of docs/design.md; the presenter bounds how many presented
frames may be pending at once.

Input before the frame (docs/design.md): a request made while input is waiting holds the tick back
until the guest has gone back to `poll` with none of the input pollables it polls still ready, so a
guest that services its frame before its input still shows the input in this frame. Live, the hold
has a bound (`settle_bound` seconds); a render has none, so its frames do not depend on timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .clock import NS, GuestClock
from .errors import GuestStopped
from .frame import Colour, PendingFrame, PixelSource
from .waker import Waker

__all__ = ["FrameClock"]


class FrameClock:
    def __init__(
        self,
        waker: Waker,
        clock: GuestClock,
        colour: Colour,
        describe: Callable[[BaseException], BaseException] = lambda exc: exc,
        settle_bound: float | None = None,
    ) -> None:
        """`describe` turns an error reading a frame's pixels into the guest's one-line error;
        `settle_bound`: the most seconds a tick is held for input (None: no time bound)."""
        self._waker = waker
        self._clock = clock
        self._colour = colour
        self.describe = describe
        self._wanted = False
        self._discard = False  # the wanted frame's pixels are not to be read (a fast-forward)
        self._tick = False
        self._held = False  # a tick is wanted but held until the guest has taken its input
        self._hold_until: float | None = None  # perf_counter() when a live hold gives up
        self.settle_bound = settle_bound
        self._polled_input: list[Callable[[], bool]] = []  # the input pollables of the last poll
        self.late = False  # the bound expired with polled input unread: it shows a frame later
        self.holds = 0  # ticks held for input
        self.holds_expired = 0  # of those, granted by the bound rather than by the guest's poll
        self._frame: PendingFrame | None = None
        self._ticked_at = time.perf_counter()
        self.index = 0  # the number of the next frame to be presented
        self.ended = False

    # --- consumer side ------------------------------------------------------------------------

    def request(self, discard: bool = False, hold: bool = False) -> None:
        """Ask the guest for the next frame (idempotent until it is delivered). `discard`: the
        frame is only run through, its pixels never read (a chunk's fast-forward). `hold`: input
        is waiting, so the tick waits until the guest has taken it (`settle`)."""
        with self._waker.lock:
            if not self._wanted and self._frame is None:
                self._wanted = True
                self._discard = discard
                self._tick = not hold
                self._held = hold
                self.late = False
                self.holds += hold
                if hold and self.settle_bound is not None:
                    self._hold_until = time.perf_counter() + self.settle_bound
                self._waker.lock.notify_all()

    def take(self, timeout: float | None) -> PendingFrame | None:
        """The delivered frame, or None when the guest ended or `timeout` passed first."""
        with self._waker.lock:
            self._waker.lock.wait_for(lambda: self._frame is not None or self.ended, timeout)
            frame, self._frame = self._frame, None
            return frame

    def end(self) -> None:
        """The guest thread finished: wake a consumer waiting in `take`."""
        with self._waker.lock:
            self.ended = True
            self._waker.lock.notify_all()

    # --- guest side (under the guest's thread) ----------------------------------------------------

    def settle(self, polled_input: list[Callable[[], bool]]) -> None:
        """The guest is in `poll` over these input pollables (their readiness tests): a held tick
        is granted once none of them is ready. Called under the waker's lock."""
        self._polled_input = polled_input
        if self._held and not any(ready() for ready in polled_input):
            self._grant()

    def hold_deadline(self) -> float | None:
        """The perf_counter() at which a held tick is granted anyway, for a `poll` to wake at."""
        return self._hold_until if self._held else None

    def _grant(self) -> None:
        self._held = False
        self._hold_until = None
        self._tick = True

    def tick_ready(self) -> bool:
        with self._waker.lock:
            if self._held and self._hold_until is not None and time.perf_counter() >= self._hold_until:
                # The guest did not take its input in time: the frame goes ahead, and what it has
                # not read yet shows (at the earliest) in the next frame.
                self.late = any(ready() for ready in self._polled_input)
                self.holds_expired += 1
                self._grant()
            return self._tick

    def take_tick(self) -> bool:
        with self._waker.lock:
            tick, self._tick = self._tick, False
            if tick:
                self._ticked_at = time.perf_counter()
            return tick

    def await_request(self) -> bool:
        """Wait until the consumer wants a frame; True when it wants it discarded. The answer
        holds until `deliver`, as only a delivery ends a request."""
        lock = self._waker.lock
        with lock:
            lock.wait_for(lambda: self._wanted or self._waker.stopping)
            if self._waker.stopping:
                raise GuestStopped("the host is stopping this guest")
            return self._discard

    def deliver(self, source: PixelSource, presented_at: float) -> None:
        """Hand a presented frame to the consumer, first waiting until it wants one.

        `presented_at` is the `time.perf_counter()` of the guest's present call."""
        guest_seconds = max(0.0, presented_at - self._ticked_at)
        lock = self._waker.lock
        with lock:
            lock.wait_for(lambda: self._wanted or self._waker.stopping)
            if self._waker.stopping:
                raise GuestStopped("the host is stopping this guest")
            self._frame = PendingFrame(
                self.index,
                self._clock.frame_time_ns(self.index) / NS,
                source,
                guest_seconds,
                presented_at,
                self._colour,
                self.describe,
            )
            self.index += 1
            # Time moves on here, in the guest's own thread, never when the consumer asks: what
            # the guest reads after a present is then the same on every run.
            self._clock.start_frame(self.index)
            self._wanted = False
            self._tick = False
            self._held = False
            self._hold_until = None
            lock.notify_all()
