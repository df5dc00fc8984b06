"""A guest in a process of its own: spawned, spoken to in typed messages, watched until it ends.

A guest can wedge the GPU (submitted work cannot be cancelled; the sure way to reclaim the device
is to end its process) or take its process down (wgpu-native aborts on some misuse). So every
command that must survive its guest runs it in a worker: `streamer serve` (one per session),
`streamer render --isolate` and the render farm. Workers are started with spawn, never fork (the
parent has threads and maybe a GPU).

A worker runs tasks, one at a time, on one `Runtime` (compiled components stay cached): a task is
a picklable object whose `run(runtime, channel)` does the work in the worker and returns a
`TaskDone`. While it runs, the task and the parent exchange the task's own messages over the
channel. After a task whose guest wedged its GPU or left a thread that would not stop, the worker
retires (`TaskDone.retire`), and the next task gets a fresh one.

Two faces, one protocol: `GuestWorker` for synchronous callers, `AsyncGuestWorker` for the
server's event loop (it reads the pipe with the loop's own reader: no thread per worker).

    with GuestWorker() as worker:
        done = worker.run(task)  # WorkerDied says how the process ended, in one line
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Protocol, Self

from .errors import GpuWaitTimeout, GuestError, GuestLimitExceeded, HostError
from .runtime import Runtime

__all__ = [
    "AsyncGuestWorker",
    "GuestWorker",
    "Ready",
    "Stop",
    "TaskChannel",
    "TaskDone",
    "WorkerDied",
    "WorkerExited",
    "WorkerTask",
    "death_reason",
    "wedged",
]

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0  # a worker asked to stop gets this long before it is killed
OUTBOX_BYTES = 1 << 20  # messages to a worker waiting to be written; past it they are dropped


# --- the protocol -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """Worker to parent, once: its runtime is up and it takes tasks."""

    pid: int


@dataclass(frozen=True)
class Stop:
    """Parent to worker: end the running task (it returns at its next look at the channel), then
    the worker."""


@dataclass(frozen=True)
class TaskDone:
    """Worker to parent: the task's result; `retire` when the worker exits after it (its guest
    wedged the GPU or left a thread behind, or the task failed)."""

    result: object
    retire: bool = False


@dataclass(frozen=True)
class WorkerExited:
    """Made by the parent's face, never sent: the worker's process ended; `reason` says how."""

    reason: str


class WorkerDied(HostError):
    """The worker's process ended before its task did; the message says how, in one line."""


class TaskChannel(Protocol):
    """The worker's end of the pipe, as a task sees it."""

    def send(self, message: object) -> None: ...

    def poll(self, timeout: float = 0.0) -> bool: ...

    def recv(self) -> object: ...


class WorkerTask(Protocol):
    """Work done in a worker: picklable, run there with the worker's runtime."""

    def run(self, runtime: Runtime, channel: TaskChannel) -> TaskDone: ...


def wedged(error: GuestError | None) -> bool:
    """The guest lost its device to a GPU wait past its limit: its work may still run, and only
    ending the process reclaims the GPU, so the worker must retire."""
    return isinstance(error, GuestLimitExceeded) and error.limit == GpuWaitTimeout.limit


def death_reason(process: BaseProcess, wait: float = 2.0) -> str:
    """How a worker's process ended: 'was killed by signal 9', 'exited with status 1', ..."""
    process.join(wait)
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        return f"was killed by signal {-code}"
    return f"exited with status {code}"


# --- the worker process -----------------------------------------------------------------------------


def _worker_main(conn: Connection, env: dict[str, str]) -> None:
    """Runs tasks until told to stop or until one leaves it untrustworthy; then exits at once (a
    guest thread stuck in wasm or in a GPU wait must not keep the process alive). `env` is set
    before the GPU is first touched (the farm's adapter selection)."""
    os.environ.update(env)
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    try:
        with Runtime() as runtime:
            conn.send(Ready(os.getpid()))
            while not isinstance(task := conn.recv(), Stop):
                try:
                    done = task.run(runtime, conn)
                except (EOFError, OSError):
                    raise
                except Exception as exc:  # the worker's own failure reaches the parent as one line
                    log.exception("worker task failed")
                    done = TaskDone(f"worker failed: {type(exc).__name__}: {exc}", retire=True)
                conn.send(done)
                if done.retire:
                    break
    except (EOFError, OSError):
        pass  # the parent went away
    finally:
        conn.close()
        os._exit(0)


def _spawn(env: Mapping[str, str] | None = None) -> tuple[BaseProcess, Connection]:
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    process = context.Process(
        target=_worker_main, args=(child, dict(env or {})), name="guest worker", daemon=True
    )
    process.start()
    child.close()
    return process, conn


def _kill(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(STOP_SECONDS)


# --- the synchronous face ---------------------------------------------------------------------------


class GuestWorker:
    """A worker process this object owns, started on first use and replaced after it retires or
    dies; `close()` (or `with`) stops it. Not thread-safe: one task at a time."""

    def __init__(self, start_timeout: float = 120.0, env: Mapping[str, str] | None = None) -> None:
        """`env`: variables the worker process sets before it touches the GPU."""
        self.start_timeout = start_timeout
        self.env = dict(env or {})
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.workers_started = 0

    @property
    def pid(self) -> int | None:
        """The current worker's pid, None when none is running."""
        return self._process.pid if self._process is not None else None

    def start(self) -> int:
        """Start a worker unless one is running; returns its pid."""
        if self._process is not None and self._process.is_alive():
            assert self._process.pid is not None
            return self._process.pid
        self._discard()
        self._process, self._conn = process, conn = _spawn(self.env)
        self.workers_started += 1
        pid = process.pid
        try:
            ready = conn.recv() if conn.poll(self.start_timeout) else None
        except (EOFError, OSError):
            reason = death_reason(process)
            self._discard()
            raise WorkerDied(f"the guest worker (pid {pid}) {reason} while starting") from None
        if not isinstance(ready, Ready):
            self._discard()
            raise WorkerDied(f"the guest worker (pid {pid}) did not start within {self.start_timeout:.0f} s")
        return ready.pid

    def run(
        self,
        task: WorkerTask,
        on_message: Callable[[object], None] = lambda _message: None,
        timeout: float | None = None,
    ) -> TaskDone:
        """Run `task` in the worker; the task's own messages go to `on_message` as they come.
        WorkerDied when the process ends under it or it does not finish within `timeout`
        seconds (it is then killed); the next task runs in a fresh worker."""
        pid = self.start()
        conn = self._conn
        assert conn is not None
        try:
            conn.send(task)
            while True:
                if not conn.poll(timeout):
                    self._discard()
                    raise WorkerDied(
                        f"the guest worker (pid {pid}) did not finish within {timeout:.0f} s; it was killed"
                    )
                message = conn.recv()
                if isinstance(message, TaskDone):
                    break
                on_message(message)
        except (EOFError, OSError):
            assert self._process is not None
            reason = death_reason(self._process)
            self._discard()
            raise WorkerDied(f"the guest worker (pid {pid}) {reason}") from None
        if message.retire:
            self.close()  # it exits by itself; killed if it cannot
        return message

    def send(self, message: object) -> None:
        """A message to the running task (from `on_message`, say)."""
        if self._conn is not None:
            self._conn.send(message)

    def close(self) -> None:
        """Stop the worker (idempotent); one that does not stop in time is killed."""
        if self._conn is not None:
            try:
                self._conn.send(Stop())
            except OSError:
                pass
        if self._process is not None:
            self._process.join(STOP_SECONDS)
        self._discard()

    def _discard(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is not None:
            _kill(process)
        if conn is not None:
            conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- the asyncio face -------------------------------------------------------------------------------


class AsyncGuestWorker:
    """One worker running one task, for an event loop: `on_message` runs in the loop for each of
    the task's messages, then once with the `TaskDone`, or with a `WorkerExited` when the process
    ended first. The pipe is read and written by the loop itself (no threads); messages to the
    worker are queued without blocking and dropped past `OUTBOX_BYTES`."""

    def __init__(
        self, task: WorkerTask, on_message: Callable[[object], None], name: str = "the guest worker"
    ) -> None:
        """`name` begins the reason of a `WorkerExited` ("the session's worker was killed by ...")."""
        self._task = task
        self._name = name
        self._on_message = on_message
        self._process: BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._finished = False
        self._ended = False  # the end of the pipe was written (`stop`): nothing more may follow it

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def exitcode(self) -> int | None:
        """None while the process runs; negative for a signal, as in `multiprocessing`."""
        return self._process.exitcode if self._process is not None else None

    async def start(self) -> None:
        """Spawn the worker and hand it the task; returns without waiting for the worker's runtime
        to start (its messages arrive through `on_message`). Messages sent from now on reach the
        task."""
        # Starting a process blocks for milliseconds (fork, exec, pickling its arguments): off the loop.
        process, conn = await asyncio.to_thread(_spawn)
        self._process = process
        self._reader, self._writer = await asyncio.open_connection(sock=_socket_of(conn))
        self.send(self._task)  # read by the worker once its runtime is up
        self._reading = asyncio.get_running_loop().create_task(
            self._read(self._reader), name=f"guest worker {process.pid}"
        )

    def send(self, message: object) -> bool:
        """Queue a message for the task; False when it was dropped (the worker is not reading)."""
        writer = self._writer
        if writer is None or writer.is_closing() or self._ended:
            return False
        if writer.transport.get_write_buffer_size() > OUTBOX_BYTES:
            return False
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        writer.write(struct.pack("!i", len(data)) + data)  # multiprocessing.Connection's framing
        return True

    def kill(self) -> None:
        """Kill the process (a hung worker); its end still arrives as a `WorkerExited`."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()

    def abort(self) -> None:
        """Kill the process and drop the pipe at once, without waiting (when `stop` failed)."""
        self.kill()
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
        if self._writer is not None:
            self._writer.close()

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask the worker to stop; kill it if it has not exited after `timeout` seconds. Always
        leaves the process gone and the pipe closed, even when cancelled."""
        process = self._process
        try:
            self.send(Stop())
            writer = self._writer
            if writer is not None and not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()  # after the task, the worker reads the end of its pipe and exits
                self._ended = True
            if process is not None:
                await _join(process, timeout)
        finally:
            if process is not None and process.is_alive():
                log.warning("worker %s did not stop in %.0f s; killing it", process.pid, timeout)
                process.kill()
            reading = self._reading
            if reading is not None and not reading.done():
                reading.cancel()
            if self._writer is not None:
                self._writer.close()
            if process is not None:
                await asyncio.shield(_join(process, STOP_SECONDS))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                header = await reader.readexactly(4)
                (size,) = struct.unpack("!i", header)
                message = pickle.loads(await reader.readexactly(size))
                if isinstance(message, Ready):
                    continue
                self._deliver(message)
                if isinstance(message, TaskDone):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            raise
        assert self._process is not None
        process = self._process
        await _join(process, 2.0)
        reason = death_reason(process, wait=0.0)
        loop.call_soon(self._deliver, WorkerExited(f"{self._name} {reason}"))

    def _deliver(self, message: object) -> None:
        if self._finished:
            return
        if isinstance(message, TaskDone | WorkerExited):
            self._finished = True
        self._on_message(message)


async def _join(process: BaseProcess, timeout: float) -> None:
    """Wait for a process to end, up to `timeout` seconds, without blocking the loop."""
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    sentinel = process.sentinel

    def exited() -> None:
        if not ended.done():
            ended.set_result(None)

    loop.add_reader(sentinel, exited)
    try:
        await asyncio.wait_for(ended, timeout)
    except TimeoutError:
        return
    finally:
        loop.remove_reader(sentinel)
    # The sentinel closes as the process exits, a moment before the kernel makes it waitable:
    # this join blocks for that moment only.
    process.join(1.0)


def _socket_of(conn: Connection) -> socket.socket:
    """The socket under a duplex `multiprocessing` pipe (a socketpair on POSIX), for asyncio."""
    sock = socket.socket(fileno=os.dup(conn.fileno()))
    conn.close()
    sock.setblocking(False)
    return sock
