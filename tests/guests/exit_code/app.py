"""exit_code: clears to red for 1 frame, then calls sys.exit(3).

Draws: frame 0 -> the whole surface red (1, 0, 0) -> pixels (255, 0, 0, 255).
Prints {"event": "exiting", "code": 3}, then sys.exit(3). The uncaught SystemExit is printed by
CPython's error handler, which exits the process with status 3: wasi-libc's exit(3) becomes
`wasi:cli/exit.exit(err)` (WASI 0.2 `exit` carries only ok/err, not the number).
"""

import sys

import wit_world
from gfxkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        next_frame(canvas, frame_ready)
        clear(device, context, (1.0, 0.0, 0.0))
        emit(event="exiting", code=3)
        sys.exit(3)
