"""guestkit: helpers shared by the test guests (tests/guests/<name>/app.py).

This folder (tests/guests/_lib) is not a guest: it has no `app.py`, and folders whose names start
with `_` are never guests. scenes/build.py puts a copy of it on every test guest's python path
(an extra `-p` to componentize-py), and its files are part of each test guest's cache key, so
editing this module rebuilds them all. Guests import it as `import guestkit` or
`from guestkit import ...`.

It runs inside the guest, against the bindings componentize-py generates (`wit_world`): it uses
the graphics-context, poll, surface and webgpu imports, so only guests whose world has them (the
`scene` world, or one that includes its imports) may import it.
"""

import json
from collections.abc import Callable

from wit_world.imports import graphics_context, poll, surface, webgpu

RGB = tuple[float, float, float]


def setup() -> tuple[webgpu.GpuDevice, surface.Surface, graphics_context.Context]:
    """GPU device, surface and graphics context, connected as the guest contract says.

    The default adapter and device, a surface of the host's size (no size asked), and one context
    connected to the device first, then to the surface.
    """
    adapter = webgpu.get_gpu().request_adapter(None)
    assert adapter is not None, "no GPU adapter"
    device = adapter.request_device(None)
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    context = graphics_context.Context()
    device.connect_graphics_context(context)
    canvas.connect_graphics_context(context)
    return device, canvas, context


def next_frame(canvas: surface.Surface, frame_ready: poll.Pollable) -> None:
    """Block until the host issues the next frame (`frame_ready` is `canvas.subscribe_frame()`)."""
    while True:
        poll.poll([frame_ready])
        if canvas.get_frame() is not None:
            return


def begin_clear_pass(
    encoder: webgpu.GpuCommandEncoder, texture: webgpu.GpuTexture, rgb: RGB
) -> webgpu.GpuRenderPassEncoder:
    """Begin a render pass on `encoder` that clears a new view of `texture` to rgb (alpha 1).

    One colour attachment, stored; no depth-stencil attachment, queries or label. The caller
    records its draws (if any), ends the pass and submits the encoder.
    """
    return encoder.begin_render_pass(
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


def clear(device: webgpu.GpuDevice, context: graphics_context.Context, rgb: RGB) -> None:
    """Clear the current frame to rgb (alpha 1) in one render pass, submit it and present it."""
    texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
    encoder = device.create_command_encoder(None)
    begin_clear_pass(encoder, texture, rgb).end()
    device.queue().submit([encoder.finish(None)])
    context.present()


def emit(**fields: object) -> None:
    """Print `fields` as one JSON object on one line of stdout, flushed."""
    print(json.dumps(fields), flush=True)


def emit_attempts(attempts: dict[str, Callable[[], object]]) -> None:
    """Call each attempt and emit how it went: `{"attempt": name, "error": class name}` when it
    raised, else `{"attempt": name, "value": repr (first 200 characters)}`."""
    for name, attempt in attempts.items():
        try:
            value = attempt()
        except Exception as error:  # noqa: BLE001 - each attempt reports how it failed
            emit(attempt=name, error=type(error).__name__)
        else:
            emit(attempt=name, value=repr(value)[:200])
