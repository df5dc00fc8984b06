"""unimplemented: renders one red frame, then calls a wasi:webgpu function the host does not
implement yet (`gpu-device.lost`). The host must end it with one line naming the
function. Prints {"event": "calling", "function": "lost"} just before the call.
"""

import wit_world
from guestkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        next_frame(canvas, frame_ready)
        clear(device, context, (1.0, 0.0, 0.0))
        emit(event="calling", function="lost")
        device.lost()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
