"""exit_noise: floods stderr (2,000 lines, then 100,000 characters without a newline) and exits.

It calls `sys.exit(3)`, which componentize-py turns into `wasi:cli/exit` with an error (WASI 0.2
carries no status in it): the host must end the guest with the one line `guest 'NAME' exited
with status 1`, and cut the long line into pieces of at most `gpu_host.output.MAX_LINE`
characters: the noise never becomes part of the error.
"""

import sys


def run() -> None:
    for index in range(2000):
        sys.stderr.write(f"noise {index} " + "#" * 40 + "\n")
    sys.stderr.write("x" * 100_000)
    sys.stderr.flush()
    sys.exit(3)
