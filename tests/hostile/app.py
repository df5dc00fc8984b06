"""hostile: one guest holding every hostile program; the guest's last argument names the one to run.

The host runs it with `GuestOptions(args=("<program>",))`. Each program is a module of this folder,
`<program>.py`, whose docstring says what it tries and what the host must do, and whose `run()` is
called from `start`. Programs are imported here, at build time, so that componentize-py keeps them
(a guest has no files to import from at run time). Add a program: write its module and add it to
`PROGRAMS` (tests/test_hostile.py and tests/test_hostile_gpu.py run them).
"""

import sys
from types import ModuleType

import bad_wgsl
import bind_group_mismatch
import bundle_descriptor
import copy_out_of_range
import deep_nesting
import destroy_in_use
import destroyed_device
import device_flood
import endless_loop
import env_probe
import exit_noise
import file_access
import foreign_device
import forged_handle
import gpu_budget
import handle_flood
import host_call_loop
import huge_texture
import map_twice
import memory_growth
import memory_growth_uncaught
import runaway
import socket_access
import spin_frame
import spin_startup
import submit_twice
import trap_noise
import use_after_drop
import use_destroyed
import wgsl_nul
import wit_world
import write_unmapped_range

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
        socket_access,
        spin_frame,
        spin_startup,
        trap_noise,
        use_after_drop,
        use_destroyed,
        # GPU misuse, budgets and bounds (tests/test_hostile_gpu.py)
        bad_wgsl,
        bind_group_mismatch,
        bundle_descriptor,
        copy_out_of_range,
        deep_nesting,
        destroy_in_use,
        destroyed_device,
        device_flood,
        endless_loop,
        foreign_device,
        gpu_budget,
        huge_texture,
        map_twice,
        submit_twice,
        wgsl_nul,
        write_unmapped_range,
        runaway,  # only in a worker process (tests/test_hostile_gpu.py, tests/test_supervisor.py)
    )
}


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        name = sys.argv[-1] if sys.argv else ""
        program = PROGRAMS.get(name)
        if program is None:
            raise SystemExit(f"hostile: no program {name!r}; have {', '.join(sorted(PROGRAMS))}")
        program.run()
