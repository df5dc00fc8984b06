"""call_loop: measures the cost of one guest-to-host call, from inside the guest.

Times `gpu-supported-limits.max-bind-groups` (a minimal call: one borrowed handle in, one u32 out)
in a loop of CALLS calls (environment variable, default 20000), and the same loop without the call,
ROUNDS times (default 5), with the wasi monotonic clock (real time unless the host runs the guest
in virtual time, where the clock stands still within a frame). Prints one JSON line per round:
  {"calls": N, "loop_ns": total ns of the empty loop, "call_ns": total ns of the loop with calls,
   "max_bind_groups": the value the call returned}
then presents one frame (cleared black) so the host knows it finished.
"""

import os
import time

import wit_world
from gfxkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        limits = device.limits()
        calls = int(os.environ.get("CALLS", "20000"))
        for _ in range(int(os.environ.get("ROUNDS", "5"))):
            value = 0
            start = time.monotonic_ns()
            for _ in range(calls):
                value = 0
            loop_ns = time.monotonic_ns() - start
            start = time.monotonic_ns()
            for _ in range(calls):
                value = limits.max_bind_groups()
            call_ns = time.monotonic_ns() - start
            emit(calls=calls, loop_ns=loop_ns, call_ns=call_ns, max_bind_groups=value)
        next_frame(canvas, canvas.subscribe_frame())
        clear(device, context, (0.0, 0.0, 0.0))
