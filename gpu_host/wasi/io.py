"""wasi:io/error and wasi:io/streams: the guest's stdout/stderr (line by line to the host) and
an stdin that is always at end-of-file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..linking import HostInterface, WitErr, wit
from ..resources import Resource
from .poll import Pollable

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["Errors", "InputStream", "IoError", "OutputStream", "Streams"]

WRITE_PERMIT = 1 << 20  # bytes a guest may write per call; plenty for logs, bounds one call's work


class IoError(Resource):
    wit_resource = "wasi:io/error#error"

    def __init__(self, message: str) -> None:
        self.message = message


class OutputStream(Resource):
    wit_resource = "wasi:io/streams#output-stream"

    def __init__(self, name: str) -> None:
        self.name = name  # "stdout" or "stderr"


class InputStream(Resource):
    """stdin: the guest has no input stream of its own, so it reads end-of-file."""

    wit_resource = "wasi:io/streams#input-stream"


class Errors(HostInterface):
    interface = "wasi:io/error"
    version = "0.2.0"

    # WIT: [method]error.to-debug-string
    @wit("[method]error.to-debug-string")
    def to_debug_string(self, err: IoError) -> str:
        return err.message


class Streams(HostInterface):
    interface = "wasi:io/streams"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    # --- input-stream: always closed --------------------------------------------------------------

    @wit("[method]input-stream.read")
    def read(self, _s: InputStream, _len: int) -> bytes:
        raise WitErr(None)  # stream-error::closed

    @wit("[method]input-stream.blocking-read")
    def blocking_read(self, _s: InputStream, _len: int) -> bytes:
        raise WitErr(None)

    @wit("[method]input-stream.skip")
    def skip(self, _s: InputStream, _len: int) -> int:
        raise WitErr(None)

    @wit("[method]input-stream.blocking-skip")
    def blocking_skip(self, _s: InputStream, _len: int) -> int:
        raise WitErr(None)

    @wit("[method]input-stream.subscribe")
    def subscribe_input(self, _s: InputStream) -> Pollable:
        return Pollable(lambda: True)

    # --- output-stream: stdout / stderr -------------------------------------------------------------

    @wit("[method]output-stream.check-write")
    def check_write(self, _s: OutputStream) -> int:
        return WRITE_PERMIT

    @wit("[method]output-stream.write")
    def write(self, s: OutputStream, data: bytes) -> None:
        if len(data) > WRITE_PERMIT:
            raise ValueError(f"wrote {len(data)} bytes; check-write permits {WRITE_PERMIT}")
        self.ctx.output.write(s.name, data)

    @wit("[method]output-stream.blocking-write-and-flush")
    def blocking_write_and_flush(self, s: OutputStream, data: bytes) -> None:
        self.write(s, data)

    @wit("[method]output-stream.flush")
    def flush(self, _s: OutputStream) -> None:
        return None

    @wit("[method]output-stream.blocking-flush")
    def blocking_flush(self, _s: OutputStream) -> None:
        return None

    @wit("[method]output-stream.subscribe")
    def subscribe_output(self, _s: OutputStream) -> Pollable:
        return Pollable(lambda: True)

    @wit("[method]output-stream.write-zeroes")
    def write_zeroes(self, s: OutputStream, length: int) -> None:
        self.write(s, bytes(min(length, WRITE_PERMIT + 1)))

    @wit("[method]output-stream.blocking-write-zeroes-and-flush")
    def blocking_write_zeroes_and_flush(self, s: OutputStream, length: int) -> None:
        self.write_zeroes(s, length)
