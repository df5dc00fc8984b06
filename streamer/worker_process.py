"""The main process's end of a session worker: spawn it, talk to it, notice when it dies, stop it."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from .messages import Ended, Stop, ToMain, ToWorker
from .worker import WorkerConfig, worker_main

__all__ = ["WorkerProcess"]

log = logging.getLogger(__name__)

OUTBOX_LIMIT = 256  # messages to the worker waiting to be written; past it they are dropped


class WorkerProcess:
    """One spawned worker. `on_message` runs in the event loop for every message it sends, and
    once more with an `Ended` when it exits (its own, or one saying how the process died)."""

    def __init__(
        self, config: WorkerConfig, on_message: Callable[[ToMain], None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.config = config
        self._on_message = on_message
        self._loop = loop
        context = multiprocessing.get_context("spawn")  # never fork: the parent has threads and a GPU
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=worker_main, args=(config, child), name=f"session {config.name}", daemon=True
        )
        self._process.start()
        child.close()
        self._outbox: queue.Queue[ToWorker | None] = queue.Queue(OUTBOX_LIMIT)
        self._ended = False
        self._reader = threading.Thread(target=self._read, name="worker reader", daemon=True)
        self._writer = threading.Thread(target=self._write, name="worker writer", daemon=True)
        self._reader.start()
        self._writer.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def exitcode(self) -> int | None:
        """None while the process runs; negative for a signal, as in `multiprocessing`."""
        return self._process.exitcode

    def send(self, message: ToWorker) -> bool:
        """Queue a message for the worker without blocking; False when the queue is full (dropped)."""
        try:
            self._outbox.put_nowait(message)
        except queue.Full:
            return False
        return True

    async def stop(self, timeout: float = 5.0) -> None:
        """Ask the worker to stop; kill it if it has not exited after `timeout` seconds."""
        self.send(Stop())
        await asyncio.to_thread(self._process.join, timeout)
        if self._process.is_alive():
            log.warning("worker %s did not stop in %.0f s; killing it", self.pid, timeout)
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5.0)
        self._outbox.put(None)  # the writer's end
        await asyncio.to_thread(self._reader.join, 5.0)
        await asyncio.to_thread(self._writer.join, 5.0)
        self._conn.close()

    def kill(self) -> None:
        self._process.kill()

    def _deliver(self, message: ToMain) -> None:
        if self._ended:
            return
        if isinstance(message, Ended):
            self._ended = True
        self._on_message(message)

    def _read(self) -> None:
        conn: Connection = self._conn
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            self._loop.call_soon_threadsafe(self._deliver, message)
            if isinstance(message, Ended):
                return
        self._process.join(2.0)
        code = self._process.exitcode
        if code is None:
            reason = "the session's worker stopped answering"
        elif code < 0:
            reason = f"the session's worker was killed by signal {-code}"
        else:
            reason = f"the session's worker exited with status {code}"
        self._loop.call_soon_threadsafe(self._deliver, Ended(reason))

    def _write(self) -> None:
        while True:
            message = self._outbox.get()
            if message is None:
                return
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                return  # the worker is gone; the reader reports it
