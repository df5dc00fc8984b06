"""spin_startup: spins in wasm before it ever waits (no device, no frame, no host call).

The host must interrupt it after `Limits.startup_cpu_seconds` and end it with one line:
`guest 'NAME' ran for more than N s before its first wait (Limits.startup_cpu_seconds); it was
interrupted`.
"""


def run() -> None:
    spins = 0
    while True:
        spins += 1
