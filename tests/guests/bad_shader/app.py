"""bad_shader: creates a shader module from invalid WGSL before its first frame.

The WGSL (BAD_WGSL below) has an obvious syntax error: `fn main( -> {` (a missing parameter list
close and return type). Before that call it prints {"event": "creating-shader"}; if the call
returns, it prints {"event": "shader-created"} and then clears every frame to red (1, 0, 0) ->
pixels (255, 0, 0, 255), never using the module. How the error surfaces (trap, error result or an
uncaptured device error) is the host's choice and what its tests check.
"""

import wit_world
from gfxkit import clear, emit, next_frame, setup
from wit_world.imports import webgpu

BAD_WGSL = """
@fragment
fn main( -> {
    return vec4<f32>(1.0, 0.0, 0.0, 1.0)
}
"""


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        emit(event="creating-shader")
        device.create_shader_module(
            webgpu.GpuShaderModuleDescriptor(code=BAD_WGSL, compilation_hints=None, label="bad_shader")
        )
        emit(event="shader-created")
        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
