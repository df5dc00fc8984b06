"""bad_framebuffer: sets a frame buffer one pixel short (w*h*4 - 4 bytes) on its first frame.

The host must end it with an error saying how many bytes it expected. Prints nothing.
"""

import wit_world
from wit_world.imports import frame_buffer, graphics_context, poll, surface


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
        context = graphics_context.Context()
        device = frame_buffer.Device()
        device.connect_graphics_context(context)
        canvas.connect_graphics_context(context)
        frame = canvas.subscribe_frame()
        while True:
            poll.poll([frame])
            if canvas.get_frame() is None:
                continue
            buffer = frame_buffer.Buffer.from_graphics_buffer(context.get_current_buffer())
            buffer.set(bytes(canvas.width() * canvas.height() * 4 - 4))
            context.present()
