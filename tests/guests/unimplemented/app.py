"""unimplemented: renders one red frame, then calls a function the host does not implement.

Every wasi:webgpu function a guest can reach is implemented now, so this guest is built against its
own copy of wasi:graphics-context@0.0.1 (wit/ beside this file) with one extra method,
`context.not-in-this-host`; the host links it, like any unknown function of an interface it knows,
as a trap. The host must end the guest with one line naming the function. Prints
{"event": "calling", "function": "not-in-this-host"} just before the call.
"""

import wit_world
from gfxkit import clear, emit, next_frame, setup


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        next_frame(canvas, frame_ready)
        clear(device, context, (1.0, 0.0, 0.0))
        emit(event="calling", function="not-in-this-host")
        context.not_in_this_host()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
