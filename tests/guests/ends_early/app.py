"""ends_early: clears to blue for 2 frames, then returns normally from `start`.

Draws: frames 0, 1 -> the whole surface blue (0, 0, 1) -> pixels (0, 0, 255, 255).
Prints {"event": "returning", "frames": 2} just before `start` returns.
"""

import json

import wit_world
from wit_world.imports import graphics_context, poll, surface, webgpu


def setup() -> tuple[webgpu.GpuDevice, surface.Surface, graphics_context.Context]:
    """GPU device, surface and graphics context, connected as the guest contract says."""
    adapter = webgpu.get_gpu().request_adapter(None)
    assert adapter is not None, "no GPU adapter"
    device = adapter.request_device(None)
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    context = graphics_context.Context()
    device.connect_graphics_context(context)
    canvas.connect_graphics_context(context)
    return device, canvas, context


def next_frame(canvas: surface.Surface, frame_ready: poll.Pollable) -> None:
    """Block until the host issues the next frame."""
    while True:
        poll.poll([frame_ready])
        if canvas.get_frame() is not None:
            return


def clear(
    device: webgpu.GpuDevice, context: graphics_context.Context, rgb: tuple[float, float, float]
) -> None:
    """Clear the current frame to rgb (alpha 1) and present it."""
    texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
    encoder = device.create_command_encoder(None)
    rpass = encoder.begin_render_pass(
        webgpu.GpuRenderPassDescriptor(
            color_attachments=[
                webgpu.GpuRenderPassColorAttachment(
                    view=texture.create_view(None),
                    depth_slice=None,
                    resolve_target=None,
                    clear_value=webgpu.GpuColor(r=rgb[0], g=rgb[1], b=rgb[2], a=1.0),
                    load_op=webgpu.GpuLoadOp.CLEAR,
                    store_op=webgpu.GpuStoreOp.STORE,
                )
            ],
            depth_stencil_attachment=None,
            occlusion_query_set=None,
            timestamp_writes=None,
            max_draw_count=None,
            label=None,
        )
    )
    rpass.end()
    device.queue().submit([encoder.finish(None)])
    context.present()


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        for _ in range(2):
            next_frame(canvas, frame_ready)
            clear(device, context, (0.0, 0.0, 1.0))
        print(json.dumps({"event": "returning", "frames": 2}), flush=True)
