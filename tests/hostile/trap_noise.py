"""trap_noise: raises an exception whose message is 1,000 lines long, uncaught.

componentize-py prints the traceback to stderr and traps. The host must end the guest with one
line (`guest 'NAME' trapped: ...`), never with the guest's multi-line message.
"""


def run() -> None:
    raise RuntimeError("\n".join(f"line {index} of a very noisy error" for index in range(1000)))
