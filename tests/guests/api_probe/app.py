"""api_probe: exercises buffers, mapping, queue writes, textures, copies and two pipeline layouts,
prints the results, then draws a two-colour picture every frame.

Prints one JSON object per line (flushed): {"check": NAME, "value": VALUE, "expected": EXPECTED}
("expected" only where the value is fixed; hex strings are lowercase), or
{"check": NAME, "error": "ExceptionClass: message"} when the step raised. In this order:
  preferred_canvas_format   "rgba8unorm"
  adapter_vendor            a string (no expected)
  max_bind_groups           an int (no expected; WebGPU guarantees >= 4)
  readback_size             16        buffer A: size 16, usage MAP_READ|COPY_DST, not mapped
  readback_usage            9         (MAP_READ 0x1 | COPY_DST 0x8)
  readback_map_state        "unmapped"
  upload_size               16        buffer B: size 16, usage COPY_SRC, mapped_at_creation
  upload_usage              4         (COPY_SRC 0x4)
  upload_map_state          "mapped"
  mapped_write              "ok"      B.get_mapped_range_set_with_copy(01..08, offset=8, size=8)
  upload_unmapped           "unmapped" B.unmap(), then B.map_state()
  map_read_state            "mapped"  copy B->A (16 bytes), submit, A.map_async(READ), A.map_state()
  map_read_all              "00000000000000000102030405060708"  A.get_mapped_range_get_with_copy(None, None)
  map_read_offset           "0102030405060708"                  A.get_mapped_range_get_with_copy(8, 8)
  map_read_unmapped         "unmapped" A.unmap(), then A.map_state()
  map_range_offset          "01020304" A.map_async(READ, 8, 8), A.get_mapped_range_get_with_copy(8, 4), unmap
  map_write_range           "0000000000000000ffeeddcc00000000"
                            C (16 bytes, MAP_WRITE | COPY_SRC): map_async(WRITE, 8, 8),
                            get_mapped_range_set_with_copy(ffeeddcc, 8, 4), unmap, copied into a
                            fresh MAP_READ buffer, read back
  write_buffer              "00000000aabbccdd1122334405060708"
                            queue.write_buffer_with_copy(A, 4, aabbccdd11223344, None, None), read A
  write_buffer_data_offset  "50607080aabbccdd1122334405060708"
                            queue.write_buffer_with_copy(A, 0, 1020304050607080, 4, 4), read A
  texture_size              [4, 4]    texture T: 4x4 rgba8unorm, usage COPY_SRC|COPY_DST
  texture_format            "rgba8unorm"
  texture_usage             3         (COPY_SRC 0x1 | COPY_DST 0x2)
  texture_roundtrip         hex of 64 bytes: pixel (x, y) = (16x, 16y, 128, 255), row by row;
                            written with write_texture_with_copy (bytes_per_row 16), copied to a
                            1024-byte buffer with bytes_per_row 256, mapped, rows 0..3 unpadded
  pipelines                 "ok"      both render pipelines created
  frame_texture_size        [w, h]    on frame 0: the frame texture's size; expected the surface's
  frame_texture_format      "rgba8unorm" on frame 0

Draws, every frame, into the frame texture (cleared to black (0, 0, 0) first, alpha 1 everywhere):
- pipeline 1, explicit bind group layout + pipeline layout, one uniform buffer holding
  (0.25, 0.5, 0.75, 1.0): a full-screen triangle -> pixels about (64, 128, 191, 255) (+-1);
- pipeline 2, layout `auto`, its bind group made from get_bind_group_layout(0) with a uniform
  buffer holding (1, 1, 0, 1): a quad over the top-left quarter, x in [0, w/2), y in [0, h/2)
  -> pixels (255, 255, 0, 255).
So at (w/4, h/4) yellow, at (3w/4, h/4), (w/4, 3h/4) and (3w/4, 3h/4) about (64, 128, 191).
"""

import json
import struct
from collections.abc import Callable

import wit_world
from gfxkit import begin_pass, next_frame
from wit_world.imports import graphics_context, surface, webgpu

NO_EXPECTED = object()

SHADER = """
struct Params { colour: vec4<f32> }
@group(0) @binding(0) var<uniform> params: Params;

@vertex
fn vs_full(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    var pos = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(3.0, -1.0), vec2<f32>(-1.0, 3.0));
    return vec4<f32>(pos[i], 0.0, 1.0);
}

@vertex
fn vs_quad(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    // the top-left quarter of the target: x in [-1, 0], y in [0, 1] (clip space, y up)
    var pos = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, 1.0), vec2<f32>(0.0, 1.0), vec2<f32>(-1.0, 0.0),
        vec2<f32>(-1.0, 0.0), vec2<f32>(0.0, 1.0), vec2<f32>(0.0, 0.0));
    return vec4<f32>(pos[i], 0.0, 1.0);
}

@fragment
fn fs_colour() -> @location(0) vec4<f32> {
    return params.colour;
}
"""


def check(name: str, get: Callable[[], object], expected: object = NO_EXPECTED) -> object:
    """Run one probe step and print its result line; returns the value (None when it raised)."""
    try:
        value = get()
        line = {"check": name, "value": value}
        if expected is not NO_EXPECTED:
            line["expected"] = expected
        text = json.dumps(line)
    except Exception as error:
        print(json.dumps({"check": name, "error": f"{type(error).__name__}: {error}"}), flush=True)
        return None
    print(text, flush=True)
    return value


def enum_name(value: object) -> str:
    """A WIT enum case as WIT spells it (GpuTextureFormat.RGBA8UNORM -> "rgba8unorm")."""
    return value.name.lower().replace("_", "-")  # type: ignore[attr-defined]


def buffer(device: webgpu.GpuDevice, size: int, usage: int, mapped: bool, label: str) -> webgpu.GpuBuffer:
    return device.create_buffer(
        webgpu.GpuBufferDescriptor(size=size, usage=usage, mapped_at_creation=mapped, label=label)
    )


def read_all(queue: webgpu.GpuQueue, target: webgpu.GpuBuffer) -> str:
    """Flush queued writes, map `target` for reading, return its bytes as hex, unmap."""
    queue.submit([])
    target.map_async(webgpu.GpuMapMode.read(), None, None)
    data = target.get_mapped_range_get_with_copy(None, None)
    target.unmap()
    return bytes(data).hex()


def make_pipeline(
    device: webgpu.GpuDevice, module: webgpu.GpuShaderModule, fmt: webgpu.GpuTextureFormat,
    vertex: str, layout: webgpu.GpuLayoutMode,
) -> webgpu.GpuRenderPipeline:  # fmt: skip
    return device.create_render_pipeline(
        webgpu.GpuRenderPipelineDescriptor(
            vertex=webgpu.GpuVertexState(buffers=None, module=module, entry_point=vertex, constants=None),
            primitive=None,
            depth_stencil=None,
            multisample=None,
            fragment=webgpu.GpuFragmentState(
                targets=[webgpu.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
                module=module,
                entry_point="fs_colour",
                constants=None,
            ),
            layout=layout,
            label="api_probe " + vertex,
        )
    )


def uniform_bind_group(
    device: webgpu.GpuDevice, queue: webgpu.GpuQueue, layout: webgpu.GpuBindGroupLayout,
    colour: tuple[float, float, float, float],
) -> webgpu.GpuBindGroup:  # fmt: skip
    """A 16-byte uniform buffer holding colour, bound at binding 0 of a bind group of `layout`."""
    uniform = buffer(
        device, 16, webgpu.GpuBufferUsage.uniform() | webgpu.GpuBufferUsage.copy_dst(), False, "colour"
    )
    queue.write_buffer_with_copy(uniform, 0, struct.pack("<4f", *colour), None, None)
    entry = webgpu.GpuBindGroupEntry(
        binding=0,
        resource=webgpu.GpuBindingResource_GpuBufferBinding(
            webgpu.GpuBufferBinding(buffer=uniform, offset=None, size=None)
        ),
    )
    return device.create_bind_group(
        webgpu.GpuBindGroupDescriptor(layout=layout, entries=[entry], label="colour")
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
        usage = webgpu.GpuBufferUsage

        fmt = gpu.get_preferred_canvas_format()
        check("preferred_canvas_format", lambda: enum_name(fmt), "rgba8unorm")
        check("adapter_vendor", lambda: adapter.info().vendor())
        check("max_bind_groups", lambda: device.limits().max_bind_groups())

        # Buffers: A is read back on the CPU, B is filled while mapped at creation.
        a = buffer(device, 16, usage.map_read() | usage.copy_dst(), False, "A readback")
        check("readback_size", a.size, 16)
        check("readback_usage", a.usage, 9)
        check("readback_map_state", lambda: enum_name(a.map_state()), "unmapped")
        b = buffer(device, 16, usage.copy_src(), True, "B upload")
        check("upload_size", b.size, 16)
        check("upload_usage", b.usage, 4)
        check("upload_map_state", lambda: enum_name(b.map_state()), "mapped")

        def mapped_write() -> str:
            b.get_mapped_range_set_with_copy(bytes(range(1, 9)), 8, 8)
            return "ok"

        def upload_unmapped() -> str:
            b.unmap()
            return enum_name(b.map_state())

        def map_read_state() -> str:
            encoder = device.create_command_encoder(None)
            encoder.copy_buffer_to_buffer(b, 0, a, 0, 16)
            queue.submit([encoder.finish(None)])
            a.map_async(webgpu.GpuMapMode.read(), None, None)
            return enum_name(a.map_state())

        def map_read_unmapped() -> str:
            a.unmap()
            return enum_name(a.map_state())

        check("mapped_write", mapped_write, "ok")
        check("upload_unmapped", upload_unmapped, "unmapped")
        check("map_read_state", map_read_state, "mapped")
        check("map_read_all", lambda: bytes(a.get_mapped_range_get_with_copy(None, None)).hex(),
              "00000000000000000102030405060708")  # fmt: skip
        check(
            "map_read_offset", lambda: bytes(a.get_mapped_range_get_with_copy(8, 8)).hex(), "0102030405060708"
        )
        check("map_read_unmapped", map_read_unmapped, "unmapped")

        def map_range_offset() -> str:
            a.map_async(webgpu.GpuMapMode.read(), 8, 8)
            data = bytes(a.get_mapped_range_get_with_copy(8, 4)).hex()
            a.unmap()
            return data

        def map_write_range() -> str:
            c = buffer(device, 16, usage.map_write() | usage.copy_src(), False, "C map write")
            c.map_async(webgpu.GpuMapMode.write(), 8, 8)
            c.get_mapped_range_set_with_copy(bytes.fromhex("ffeeddcc"), 8, 4)
            c.unmap()
            out = buffer(device, 16, usage.map_read() | usage.copy_dst(), False, "C readback")
            encoder = device.create_command_encoder(None)
            encoder.copy_buffer_to_buffer(c, 0, out, 0, 16)
            queue.submit([encoder.finish(None)])
            return read_all(queue, out)

        check("map_range_offset", map_range_offset, "01020304")
        check("map_write_range", map_write_range, "0000000000000000ffeeddcc00000000")

        def write_buffer() -> str:
            queue.write_buffer_with_copy(a, 4, bytes.fromhex("aabbccdd11223344"), None, None)
            return read_all(queue, a)

        def write_buffer_data_offset() -> str:
            queue.write_buffer_with_copy(a, 0, bytes.fromhex("1020304050607080"), 4, 4)
            return read_all(queue, a)

        check("write_buffer", write_buffer, "00000000aabbccdd1122334405060708")
        check("write_buffer_data_offset", write_buffer_data_offset, "50607080aabbccdd1122334405060708")

        # Texture: write 4x4 known pixels, copy them to a buffer with 256-byte rows, read back.
        texture = device.create_texture(
            webgpu.GpuTextureDescriptor(
                size=webgpu.GpuExtent3D(width=4, height=4, depth_or_array_layers=1),
                mip_level_count=None,
                sample_count=None,
                dimension=None,
                format=webgpu.GpuTextureFormat.RGBA8UNORM,
                usage=webgpu.GpuTextureUsage.copy_src() | webgpu.GpuTextureUsage.copy_dst(),
                view_formats=None,
                label="api_probe 4x4",
            )
        )
        check("texture_size", lambda: [texture.width(), texture.height()], [4, 4])
        check("texture_format", lambda: enum_name(texture.format()), "rgba8unorm")
        check("texture_usage", texture.usage, 3)
        pixels = bytes(v for y in range(4) for x in range(4) for v in (16 * x, 16 * y, 128, 255))

        def texture_roundtrip() -> str:
            origin = webgpu.GpuTexelCopyTextureInfo(texture=texture, mip_level=None, origin=None, aspect=None)
            extent = webgpu.GpuExtent3D(width=4, height=4, depth_or_array_layers=1)
            layout = webgpu.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=16, rows_per_image=4)
            queue.write_texture_with_copy(origin, pixels, layout, extent)
            out = buffer(device, 1024, usage.map_read() | usage.copy_dst(), False, "texture readback")
            encoder = device.create_command_encoder(None)
            encoder.copy_texture_to_buffer(
                origin,
                webgpu.GpuTexelCopyBufferInfo(
                    buffer=out, offset=None, bytes_per_row=256, rows_per_image=None
                ),
                extent,
            )
            queue.submit([encoder.finish(None)])
            data = bytes.fromhex(read_all(queue, out))
            return b"".join(data[256 * row : 256 * row + 16] for row in range(4)).hex()

        check("texture_roundtrip", texture_roundtrip, pixels.hex())

        # Pipelines: explicit layout (full-screen triangle) and auto layout (top-left quad).
        module = device.create_shader_module(
            webgpu.GpuShaderModuleDescriptor(code=SHADER, compilation_hints=None, label="api_probe")
        )
        bind_group_layout = device.create_bind_group_layout(
            webgpu.GpuBindGroupLayoutDescriptor(
                entries=[
                    webgpu.GpuBindGroupLayoutEntry(
                        binding=0,
                        visibility=webgpu.GpuShaderStage.fragment(),
                        buffer=webgpu.GpuBufferBindingLayout(
                            type=webgpu.GpuBufferBindingType.UNIFORM,
                            has_dynamic_offset=None,
                            min_binding_size=None,
                        ),
                        sampler=None,
                        texture=None,
                        storage_texture=None,
                    )
                ],
                label="api_probe uniforms",
            )
        )
        pipeline_layout = device.create_pipeline_layout(
            webgpu.GpuPipelineLayoutDescriptor(bind_group_layouts=[bind_group_layout], label="api_probe")
        )
        full = make_pipeline(device, module, fmt, "vs_full", webgpu.GpuLayoutMode_Specific(pipeline_layout))
        quad = make_pipeline(device, module, fmt, "vs_quad", webgpu.GpuLayoutMode_Auto())
        full_group = uniform_bind_group(device, queue, bind_group_layout, (0.25, 0.5, 0.75, 1.0))
        quad_group = uniform_bind_group(device, queue, quad.get_bind_group_layout(0), (1.0, 1.0, 0.0, 1.0))
        check("pipelines", lambda: "ok", "ok")

        frame_ready = canvas.subscribe_frame()
        frame = 0
        while True:
            next_frame(canvas, frame_ready)
            target = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            if frame == 0:
                check(
                    "frame_texture_size",
                    lambda t=target: [t.width(), t.height()],
                    [canvas.width(), canvas.height()],
                )
                check("frame_texture_format", lambda t=target: enum_name(t.format()), "rgba8unorm")
            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, target.create_view(None), (0.0, 0.0, 0.0))
            rpass.set_pipeline(full)
            rpass.set_bind_group(0, full_group, None, None, None)
            rpass.draw(3, None, None, None)
            rpass.set_pipeline(quad)
            rpass.set_bind_group(0, quad_group, None, None, None)
            rpass.draw(6, None, None, None)
            rpass.end()
            queue.submit([encoder.finish(None)])
            context.present()
            frame += 1
