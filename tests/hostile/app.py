"""hostile: one guest holding every hostile program; the guest's last argument names the one to run.

The host runs it with `GuestOptions(args=("<program>",))`. Each program is a module of this folder,
`<program>.py`, whose docstring says what it tries and what the host must do, and whose `run()` is
called from `start`. Programs are imported here, at build time, so that componentize-py keeps them
(a guest has no files to import from at run time). Add a program: write its module and add it to
`PROGRAMS` (tests/test_hostile.py and tests/test_hostile_gpu.py run them).
"""

import sys
from types import ModuleType

import env_probe
import exit_noise
import file_access
import forged_handle
import handle_flood
import host_call_loop
import memory_growth
import memory_growth_uncaught
import runaway_dispatch
import socket_access
import spin_frame
import spin_startup
import trap_noise
import use_after_drop
import use_destroyed
import wit_world

PROGRAMS: dict[str, ModuleType] = {
    module.__name__: module
    for module in (
        # CPU, memory, handles, WASI capabilities, exits (tests/test_hostile.py)
        env_probe,
        exit_noise,
        file_access,
        forged_handle,
        handle_flood,
        host_call_loop,
        memory_growth,
        memory_growth_uncaught,
        runaway_dispatch,  # only in a worker process (tests/test_supervisor.py)
        socket_access,
        spin_frame,
        spin_startup,
        trap_noise,
        use_after_drop,
        use_destroyed,
    )
}


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        name = sys.argv[-1] if sys.argv else ""
        program = PROGRAMS.get(name)
        if program is None:
            raise SystemExit(f"hostile: no program {name!r}; have {', '.join(sorted(PROGRAMS))}")
        program.run()
