"""Triangle: the smallest wasi:webgpu scene. A pointer-up toggles its colour.

Colours (linear, rgba8unorm target): background (0.05, 0.05, 0.15), triangle
orange (1.0, 0.4, 0.0) and, after an odd number of clicks, cyan (0.0, 0.6, 1.0).
"""

import wit_world
from wit_world.imports import graphics_context, poll, surface, webgpu

SHADER = """
@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    var pos = array<vec2<f32>, 3>(
        vec2<f32>(0.0, 0.6), vec2<f32>(-0.6, -0.5), vec2<f32>(0.6, -0.5));
    return vec4<f32>(pos[i], 0.0, 1.0);
}

@fragment
fn fs_orange() -> @location(0) vec4<f32> {
    return vec4<f32>(1.0, 0.4, 0.0, 1.0);
}

@fragment
fn fs_cyan() -> @location(0) vec4<f32> {
    return vec4<f32>(0.0, 0.6, 1.0, 1.0);
}
"""


def make_pipeline(
    device: webgpu.GpuDevice, module: webgpu.GpuShaderModule, fmt: webgpu.GpuTextureFormat, fs: str
) -> webgpu.GpuRenderPipeline:
    return device.create_render_pipeline(
        webgpu.GpuRenderPipelineDescriptor(
            vertex=webgpu.GpuVertexState(buffers=None, module=module, entry_point="vs_main", constants=None),
            primitive=None,
            depth_stencil=None,
            multisample=None,
            fragment=webgpu.GpuFragmentState(
                targets=[webgpu.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
                module=module,
                entry_point=fs,
                constants=None,
            ),
            layout=webgpu.GpuLayoutMode_Auto(),
            label="triangle " + fs,
        )
    )


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        gpu = webgpu.get_gpu()
        adapter = gpu.request_adapter(None)
        assert adapter is not None, "no GPU adapter"
        device = adapter.request_device(None)
        queue = device.queue()
        canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
        context = graphics_context.Context()
        device.connect_graphics_context(context)
        canvas.connect_graphics_context(context)

        fmt = gpu.get_preferred_canvas_format()
        module = device.create_shader_module(
            webgpu.GpuShaderModuleDescriptor(code=SHADER, compilation_hints=None, label="triangle")
        )
        pipelines = [
            make_pipeline(device, module, fmt, "fs_orange"),
            make_pipeline(device, module, fmt, "fs_cyan"),
        ]
        colour = 0

        frame = canvas.subscribe_frame()
        pointer_up = canvas.subscribe_pointer_up()
        while True:
            ready = poll.poll([frame, pointer_up])
            if 1 in ready:
                while canvas.get_pointer_up() is not None:
                    colour ^= 1
            if 0 not in ready or canvas.get_frame() is None:
                continue
            texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            view = texture.create_view(None)
            encoder = device.create_command_encoder(None)
            rpass = encoder.begin_render_pass(
                webgpu.GpuRenderPassDescriptor(
                    color_attachments=[
                        webgpu.GpuRenderPassColorAttachment(
                            view=view,
                            depth_slice=None,
                            resolve_target=None,
                            clear_value=webgpu.GpuColor(r=0.05, g=0.05, b=0.15, a=1.0),
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
            rpass.set_pipeline(pipelines[colour])
            rpass.draw(3, None, None, None)
            rpass.end()
            queue.submit([encoder.finish(None)])
            context.present()
