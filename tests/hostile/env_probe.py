"""env_probe: prints the environment, the arguments, the working directory and stdin it was given.

The host gives no environment (unless `GuestOptions.env` says otherwise), only the arguments of
`GuestOptions.args`, no working directory and an empty stdin. Prints
`{"environ": [[KEY, VALUE], ...]}`, `{"argv": [...]}`, `{"cwd": PATH or ERROR_CLASS}`,
`{"stdin": TEXT}`, then presents one frame cleared to blue and ends.
"""

import os
import sys

from gfxkit import clear, emit, next_frame, setup


def run() -> None:
    emit(environ=[list(item) for item in os.environ.items()])
    emit(argv=list(sys.argv))
    try:
        cwd = os.getcwd()
    except OSError as error:
        cwd = type(error).__name__
    emit(cwd=cwd)
    emit(stdin=sys.stdin.read())
    device, canvas, context = setup()
    next_frame(canvas, canvas.subscribe_frame())
    clear(device, context, (0.0, 0.0, 1.0))
