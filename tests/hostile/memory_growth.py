"""memory_growth: allocates 1 MiB blocks until the allocation fails, catches it, and carries on.

Its linear memory cannot grow past `Limits.memory_bytes` (memory.grow returns -1 inside the
guest), so Python raises MemoryError, which the program catches. It frees the blocks, prints
`{"memory_error": BYTES_ALLOCATED_BEFORE}` and then presents frames cleared to blue forever: a
guest that hits the limit and handles it keeps running; the host is unaffected.
"""

from gfxkit import clear, emit, next_frame, setup

BLOCK = 1 << 20


def run() -> None:
    blocks: list[bytearray] = []
    try:
        while True:
            blocks.append(bytearray(BLOCK))
    except MemoryError:
        allocated = len(blocks) * BLOCK
        blocks.clear()
        emit(memory_error=allocated)
    device, canvas, context = setup()
    frame_ready = canvas.subscribe_frame()
    while True:
        next_frame(canvas, frame_ready)
        clear(device, context, (0.0, 0.0, 1.0))
