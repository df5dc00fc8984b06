"""memory_growth_uncaught: allocates 1 MiB blocks until the allocation fails, and does not catch it.

Linear memory stops at `Limits.memory_bytes`; the MemoryError is uncaught, so the guest ends
(componentize-py traps after printing the traceback to stderr). The host must end it with one
line and free everything; the next guest runs as usual.
"""

BLOCK = 1 << 20


def run() -> None:
    blocks: list[bytearray] = []
    while True:
        blocks.append(bytearray(BLOCK))
