"""frames: the graphics-context texture, rendered and presented every frame.

Frame n: the left half is cleared red, then the right half drawn with a pipeline whose override
constants are r = 0, g = n / 10 (clamped): green grows by about 25 a frame.
"""

from gfxkit import FULLSCREEN, Group, begin_pass, next_frame, render_descriptor, wit_enum
from wit_world.imports import graphics_context, surface
from wit_world.imports import webgpu as W


def run(device: W.GpuDevice, canvas: surface.Surface, context: graphics_context.Context) -> None:
    g = Group("frames", device)
    fmt = W.get_gpu().get_preferred_canvas_format()
    module = g.shader(FULLSCREEN)
    frame_ready = canvas.subscribe_frame()
    n = 0
    while True:
        next_frame(canvas, frame_ready)
        texture = W.GpuTexture.from_graphics_buffer(context.get_current_buffer())
        width, height = texture.width(), texture.height()
        if n == 0:
            facts = [width, height, wit_enum(texture.format()), texture.usage()]
            g.check("frame-texture", lambda: facts)  # noqa: B023 - called at once
        constants = W.RecordGpuPipelineConstantValue()
        constants.add("r", 0.0)
        constants.add("g", min(1.0, n / 10))
        descriptor = render_descriptor(module, fmt)
        descriptor.fragment.constants = constants  # type: ignore[union-attr]
        pipeline = device.create_render_pipeline(descriptor)
        encoder = g.encoder()
        rpass = begin_pass(encoder, texture.create_view(None), (1.0, 0.0, 0.0))
        rpass.set_pipeline(pipeline)
        rpass.set_scissor_rect(width // 2, 0, width - width // 2, height)
        rpass.draw(3, None, None, None)
        rpass.end()
        g.submit(encoder)
        context.present()
        n += 1
