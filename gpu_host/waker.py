"""The one condition variable a guest sleeps on, and the stop flag that ends it."""

from __future__ import annotations

import threading

from .errors import GuestStopped

__all__ = ["Waker"]


class Waker:
    """Everything that can make a guest's pollable ready calls `notify`; `poll` waits here.

    Host threads (the frame consumer, input feeders) and the guest thread share it, so all state
    a pollable reads is changed under `lock`.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.stopping = False

    def notify(self) -> None:
        with self.lock:
            self.lock.notify_all()

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify_all()

    def check(self) -> None:
        """Unwind the guest if the host is stopping it (called at the start of every host call)."""
        if self.stopping:
            raise GuestStopped("the host is stopping this guest")
