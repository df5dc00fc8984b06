"""Triangle: the smallest wasi:webgpu scene; a click (pointer-up) toggles its colour.

Colours (linear, rgba8unorm target): background (0.05, 0.05, 0.15), triangle
orange (1.0, 0.4, 0.0) and, after an odd number of clicks, cyan (0.0, 0.6, 1.0).
"""

import wit_world
from gfxkit import Scene, begin_pass, render_pipeline, shader

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
BACKGROUND = (0.05, 0.05, 0.15)


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        scene = Scene()
        module = shader(scene.device, SHADER, "triangle")
        pipelines = [
            render_pipeline(scene.device, module, scene.format, fragment=fs, label="triangle " + fs)
            for fs in ("fs_orange", "fs_cyan")
        ]
        colour = 0
        for frame in scene.frames("pointer-up"):
            colour ^= len(frame.events) & 1
            encoder = scene.device.create_command_encoder(None)
            rpass = begin_pass(encoder, frame.view(), BACKGROUND)
            rpass.set_pipeline(pipelines[colour])
            rpass.draw(3, None, None, None)
            rpass.end()
            scene.submit(encoder)
            scene.present()
