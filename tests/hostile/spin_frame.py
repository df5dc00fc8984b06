"""spin_frame: presents 2 frames cleared to green, then spins in wasm inside its third frame.

The host must deliver the 2 frames, then interrupt it after `Limits.cpu_seconds` without a wait
and end it with one line: `guest 'NAME' ran for more than N s without waiting
(Limits.cpu_seconds); it was interrupted`.
"""

from gfxkit import clear, next_frame, setup


def run() -> None:
    device, canvas, context = setup()
    frame_ready = canvas.subscribe_frame()
    for _ in range(2):
        next_frame(canvas, frame_ready)
        clear(device, context, (0.0, 1.0, 0.0))
    next_frame(canvas, frame_ready)
    spins = 0
    while True:
        spins += 1
