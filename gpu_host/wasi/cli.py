"""wasi:cli: stdio, environment and arguments (empty unless configured), exit, no terminals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wasmtime.component import Variant

from ..errors import GuestExitRequest
from ..linking import HostInterface, wit
from .io import InputStream, OutputStream

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["cli_interfaces"]


class Stdout(HostInterface):
    interface = "wasi:cli/stdout"
    version = "0.2.0"

    @wit("get-stdout")
    def get_stdout(self) -> OutputStream:
        return OutputStream("stdout")


class Stderr(HostInterface):
    interface = "wasi:cli/stderr"
    version = "0.2.0"

    @wit("get-stderr")
    def get_stderr(self) -> OutputStream:
        return OutputStream("stderr")


class Stdin(HostInterface):
    interface = "wasi:cli/stdin"
    version = "0.2.0"

    @wit("get-stdin")
    def get_stdin(self) -> InputStream:
        return InputStream()


class Environment(HostInterface):
    interface = "wasi:cli/environment"
    version = "0.2.0"

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx

    @wit("get-environment")
    def get_environment(self) -> list[tuple[str, str]]:
        return list(self.ctx.options.env)

    @wit("get-arguments")
    def get_arguments(self) -> list[str]:
        return list(self.ctx.options.args)

    @wit("initial-cwd")
    def initial_cwd(self) -> None:
        return None


class Exit(HostInterface):
    interface = "wasi:cli/exit"
    version = "0.2.0"

    @wit("exit")
    def exit(self, status: Any) -> None:
        ok = status.tag == "ok" if isinstance(status, Variant) else status is None
        raise GuestExitRequest(0 if ok else 1)

    @wit("exit-with-code")
    def exit_with_code(self, code: int) -> None:
        raise GuestExitRequest(code)


def _terminal(iface: str, func: str) -> type[HostInterface]:
    """An interface whose one getter says: not a terminal."""

    class Terminal(HostInterface):
        interface = iface
        version = "0.2.0"

        @wit(func)
        def get(self) -> None:
            return None

    Terminal.__name__ = func.replace("-", "_")
    return Terminal


class TerminalInput(HostInterface):
    interface = "wasi:cli/terminal-input"
    version = "0.2.0"


class TerminalOutput(HostInterface):
    interface = "wasi:cli/terminal-output"
    version = "0.2.0"


TERMINALS = (
    _terminal("wasi:cli/terminal-stdin", "get-terminal-stdin"),
    _terminal("wasi:cli/terminal-stdout", "get-terminal-stdout"),
    _terminal("wasi:cli/terminal-stderr", "get-terminal-stderr"),
)


def cli_interfaces(ctx: GuestContext) -> list[HostInterface]:
    return [
        Stdout(),
        Stderr(),
        Stdin(),
        Environment(ctx),
        Exit(),
        TerminalInput(),
        TerminalOutput(),
        *(t() for t in TERMINALS),
    ]
