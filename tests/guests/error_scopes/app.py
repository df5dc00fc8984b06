"""error_scopes: WebGPU error scopes capture errors and the guest carries on.

Prints one JSON object per line: {"check": NAME, "value": VALUE}. An error is shown as
{"kind": "GpuErrorKind_ValidationError" (the class of gpu-error.kind), "message": "..."} or None.
In this order (tests/test_webgpu_effects.py checks the values):
  no_error        push validation, create a valid 16-byte buffer, pop -> None
  bad_wgsl        push validation, create a shader module from invalid WGSL, pop -> a validation error
  use_invalid     push validation, a render pipeline from that (invalid) module, pop -> a
                  validation error naming the invalid gpu-shader-module
  first_only      push validation, bad WGSL again, then a buffer of size 16 with usage
                  MAP_READ | STORAGE (invalid), pop -> the first error (the WGSL one) only
  nested          push validation (outer), push out-of-memory (inner), an invalid buffer; pop inner
                  -> None; pop outer -> the validation error
  map_invalid     push validation, the invalid buffer of first_only is made again, then map-async
                  on it -> the Err's kind class name "MapAsyncErrorKind_OperationError"; pop -> a
                  validation error (from the creation)
  bad_commands    push validation, a render pass drawing with no pipeline; finish (fails: an invalid
                  command buffer); submit it (a second error, dropped); pop -> the first error
Then every frame: a valid pipeline draws a full-screen green triangle over a red clear -> (0, 255, 0).
  submit_twice    push validation, a valid command buffer submitted twice (wgpu-native would abort
                  the process; the host refuses the second), pop -> a validation error
  bad_bundle      push validation, a render bundle that draws with no pipeline, finish (wgpu-native
                  would abort the process on it; the host checks it first), then a bundle encoder
                  with sample-count 3, finish; pop -> the first error (pipeline must be set)
  bad_bundle_use  push validation, execute the invalid bundle in a pass, end, finish; pop -> a
                  validation error naming the invalid gpu-render-bundle
The environment variable ENDING picks one more step before its first frame:
  ENDING=uncaptured  push an out-of-memory scope, create the bad WGSL module: no validation scope
                     matches, so it is an uncaptured error (a line on stderr); the guest prints
                     {"check": "uncaptured", "value": "survived"} and renders on;
  ENDING=empty-pop   pop with no scope pushed (WebGPU: an operation error; this host ends the guest,
                     see docs/runtime.md); if the pop returns, prints {"check": "empty_pop", ...}.
"""

import json
import os

import wit_world
from componentize_py_types import Err
from gfxkit import begin_pass, bundle_encoder, next_frame, setup
from wit_world.imports import webgpu as W

BAD_WGSL = "@fragment fn main( -> { return vec4<f32>(1.0); }"
GOOD_WGSL = """
@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    var pos = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(3.0, -1.0), vec2<f32>(-1.0, 3.0));
    return vec4<f32>(pos[i], 0.0, 1.0);
}
@fragment
fn fs() -> @location(0) vec4<f32> { return vec4<f32>(0.0, 1.0, 0.0, 1.0); }
"""
VALIDATION = W.GpuErrorFilter.VALIDATION
OUT_OF_MEMORY = W.GpuErrorFilter.OUT_OF_MEMORY


def emit(name: str, value: object) -> None:
    print(json.dumps({"check": name, "value": value}), flush=True)


def described(error: W.GpuError | None) -> object:
    if error is None:
        return None
    return {"kind": type(error.kind()).__name__, "message": error.message()}


def shader(device: W.GpuDevice, code: str) -> W.GpuShaderModule:
    return device.create_shader_module(
        W.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=None)
    )


def buffer(device: W.GpuDevice, usage: int) -> W.GpuBuffer:
    return device.create_buffer(
        W.GpuBufferDescriptor(size=16, usage=usage, mapped_at_creation=None, label=None)
    )


def pipeline(device: W.GpuDevice, module: W.GpuShaderModule) -> W.GpuRenderPipeline:
    fmt = W.get_gpu().get_preferred_canvas_format()
    return device.create_render_pipeline(
        W.GpuRenderPipelineDescriptor(
            vertex=W.GpuVertexState(buffers=None, module=module, entry_point="vs", constants=None),
            primitive=None,
            depth_stencil=None,
            multisample=None,
            fragment=W.GpuFragmentState(
                targets=[W.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
                module=module,
                entry_point="fs",
                constants=None,
            ),
            layout=W.GpuLayoutMode_Auto(),
            label=None,
        )
    )


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        usage = W.GpuBufferUsage
        bad_usage = usage.map_read() | usage.storage()

        device.push_error_scope(VALIDATION)
        buffer(device, usage.copy_dst())
        emit("no_error", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        bad_module = shader(device, BAD_WGSL)
        emit("bad_wgsl", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        pipeline(device, bad_module)
        emit("use_invalid", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        shader(device, BAD_WGSL)
        buffer(device, bad_usage)
        emit("first_only", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        device.push_error_scope(OUT_OF_MEMORY)
        buffer(device, bad_usage)
        inner = described(device.pop_error_scope())
        emit("nested", [inner, described(device.pop_error_scope())])

        device.push_error_scope(VALIDATION)
        invalid = buffer(device, bad_usage)
        try:
            invalid.map_async(W.GpuMapMode.read(), None, None)
            mapped: object = "mapped"
        except Err as err:
            mapped = type(err.value.kind).__name__
        emit("map_invalid", [mapped, described(device.pop_error_scope())])

        device.push_error_scope(VALIDATION)
        target = device.create_texture(
            W.GpuTextureDescriptor(
                size=W.GpuExtent3D(width=4, height=4, depth_or_array_layers=1),
                mip_level_count=None,
                sample_count=None,
                dimension=None,
                format=W.GpuTextureFormat.RGBA8UNORM,
                usage=W.GpuTextureUsage.render_attachment(),
                view_formats=None,
                label=None,
            )
        )
        encoder = device.create_command_encoder(None)
        rpass = begin_pass(encoder, target.create_view(None), (0.0, 0.0, 0.0))
        rpass.draw(3, None, None, None)
        rpass.end()
        commands = encoder.finish(None)
        device.queue().submit([commands])
        emit("bad_commands", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        once = device.create_command_encoder(None).finish(None)
        device.queue().submit([once])
        device.queue().submit([once])
        emit("submit_twice", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        no_pipeline = bundle_encoder(device)
        no_pipeline.draw(3, None, None, None)
        bad_bundle = no_pipeline.finish(None)
        bundle_encoder(device, samples=3).finish(None)
        emit("bad_bundle", described(device.pop_error_scope()))

        device.push_error_scope(VALIDATION)
        encoder = device.create_command_encoder(None)
        rpass = begin_pass(encoder, target.create_view(None), (0.0, 0.0, 0.0))
        rpass.execute_bundles([bad_bundle])
        rpass.end()
        encoder.finish(None)
        emit("bad_bundle_use", described(device.pop_error_scope()))

        ending = os.environ.get("ENDING")
        if ending == "uncaptured":
            device.push_error_scope(OUT_OF_MEMORY)
            shader(device, BAD_WGSL)
            emit("uncaptured", "survived")
        elif ending == "empty-pop":
            try:
                emit("empty_pop", described(device.pop_error_scope()))
            except Err as err:
                emit("empty_pop", {"err": type(err.value.kind).__name__, "message": err.value.message})

        green = pipeline(device, shader(device, GOOD_WGSL))
        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            texture = W.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, texture.create_view(None), (1.0, 0.0, 0.0))
            rpass.set_pipeline(green)
            rpass.draw(3, None, None, None)
            rpass.end()
            device.queue().submit([encoder.finish(None)])
            context.present()
