"""host_call_loop: presents 1 frame, then calls the host in a loop without ever waiting.

On each turn it asks `pollable.ready()` of its frame pollable (a question, not a wait) and reads a
device limit, and it never blocks. Host calls are not waits: the host must interrupt it after
`Limits.cpu_seconds` like a guest spinning in wasm, with the same one line.
"""

from gfxkit import clear, next_frame, setup


def run() -> None:
    device, canvas, context = setup()
    frame_ready = canvas.subscribe_frame()
    next_frame(canvas, frame_ready)
    clear(device, context, (0.0, 1.0, 0.0))
    limits = device.limits()
    while True:
        frame_ready.ready()
        limits.max_bind_groups()
