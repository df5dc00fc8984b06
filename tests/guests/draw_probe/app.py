"""draw_probe: instanced, indexed and indirect draws with two vertex buffers of several attributes,
render bundles, and an indirect compute dispatch; each drawn into an 8x8 rgba8unorm texture (cleared
to (0, 0, 0, 1)) and read back.

One pipeline (layout auto) draws quads. Vertex buffer 0 (per vertex, stride 12): position float32x2
at 0, colour unorm8x4 at 8 = (204, 0, 0, 255). Vertex buffer 1 (per instance, stride 12): offset
float32x2 at 0, green float32 at 8. A uniform (bind group 0) holds blue = 0.4. The fragment colour is
(colour.r, green, blue, colour.a) = (204, G, 102, 255).
The quad covers pixels x 0..1, y 0..1; instance i moves it:
  instance 0: offset (0, 0)     green 0.0 -> pixels x 0..1, y 0..1 are (204, 0, 102, 255)
  instance 1: offset (1, 0)     green 0.2 -> pixels x 4..5, y 0..1 are (204, 51, 102, 255)
  instance 2: offset (0, -1)    green 1.0 -> pixels x 0..1, y 4..5 are (204, 255, 102, 255)
Buffer A holds the quad as 6 vertices; buffer B a junk vertex then the quad's 4 corners, drawn with
u16 indices [0, 1, 2, 2, 1, 3] and base-vertex 1.

Prints {"check": NAME, "value": VALUE}; each image is the texture's 256 bytes as hex, row by row.
  instanced           draw(6, instances 3) from A: instances 0, 1, 2
  indexed             draw-indexed(6, instances 2, first-index 0, base-vertex 1, first-instance 1)
                      from B: instances 1 and 2
  indirect            draw-indirect (args 6, 1, 0, 0 at offset 0) from A: instance 0; then
                      draw-indexed-indirect (args 6, 1, 0, 1, 0 at offset 16) from B with the
                      instance buffer bound at offset 24 (its instance 0 is instance 2): instances 0, 2
  bundle              a render bundle (debug group and marker inside) executed in a pass:
                      draw(6, 1, 0, first-instance 1) from A, then draw-indexed(6, 1, 0, 1, 2) from
                      B: instances 1 and 2
  bundle_indirect     a second bundle: draw-indirect (offset 0) from A, then draw-indexed-indirect
                      (offset 16) from B, instance buffer at offset 12: instances 0 and 1
  both_bundles        execute-bundles([first, second]) in one pass: instances 0, 1 and 2
  bundle_labels       [encoder label, relabelled], [bundle label, relabelled]
  dispatch_indirect   dispatch-workgroups-indirect with args (2, 1, 1) at offset 36 of the indirect
                      buffer (workgroup size 4): the 8 u32 written, each global id x + 1 -> [1..8]
Every frame: clears the frame to (0, 0, 0) and executes the first bundle again (bundles are
reusable): instance 1 lands at x in [w/2, 3w/4), y in [0, h/4) -> (204, 51, 102), instance 2 at
x in [0, w/4), y in [h/2, 3h/4) -> (204, 255, 102); pixel (w/8, h/8) stays black.
"""

import json
import struct

import wit_world
from gfxkit import begin_pass, bundle_encoder, next_frame, setup
from wit_world.imports import webgpu as W

SHADER = """
struct Params { blue: f32 }
@group(0) @binding(0) var<uniform> params: Params;

struct Out {
    @builtin(position) position: vec4<f32>,
    @location(0) colour: vec4<f32>,
    @location(1) green: f32,
}

@vertex
fn vs(@location(0) pos: vec2<f32>, @location(1) colour: vec4<f32>,
      @location(2) offset: vec2<f32>, @location(3) green: f32) -> Out {
    return Out(vec4<f32>(pos + offset, 0.0, 1.0), colour, green);
}

@fragment
fn fs(v: Out) -> @location(0) vec4<f32> {
    return vec4<f32>(v.colour.r, v.green, params.blue, v.colour.a);
}
"""

COMPUTE = """
@group(0) @binding(0) var<storage, read_write> ids: array<u32>;

@compute @workgroup_size(4)
fn cs(@builtin(global_invocation_id) id: vec3<u32>) {
    ids[id.x] = id.x + 1u;
}
"""

FMT = W.GpuTextureFormat.RGBA8UNORM
CORNERS = [(-1.0, 1.0), (-0.5, 1.0), (-1.0, 0.5), (-0.5, 0.5)]


def emit(name: str, value: object) -> None:
    print(json.dumps({"check": name, "value": value}), flush=True)


def vertices(points: list[tuple[float, float]]) -> bytes:
    return b"".join(struct.pack("<2f4B", x, y, 204, 0, 0, 255) for x, y in points)


class Probe:
    def __init__(self, device: W.GpuDevice) -> None:
        self.device = device
        self.queue = device.queue()

    def buffer(self, usage: int, data: bytes) -> W.GpuBuffer:
        out = self.device.create_buffer(
            W.GpuBufferDescriptor(
                size=len(data), usage=usage | W.GpuBufferUsage.copy_dst(), mapped_at_creation=None, label=None
            )
        )
        self.queue.write_buffer_with_copy(out, 0, data, None, None)
        return out

    def target(self) -> W.GpuTexture:
        return self.device.create_texture(
            W.GpuTextureDescriptor(
                size=W.GpuExtent3D(width=8, height=8, depth_or_array_layers=1),
                mip_level_count=None,
                sample_count=None,
                dimension=None,
                format=FMT,
                usage=W.GpuTextureUsage.render_attachment() | W.GpuTextureUsage.copy_src(),
                view_formats=None,
                label=None,
            )
        )

    def map_read(self, source: W.GpuBuffer, size: int, encoder: W.GpuCommandEncoder) -> bytes:
        out = self.device.create_buffer(
            W.GpuBufferDescriptor(
                size=size,
                usage=W.GpuBufferUsage.map_read() | W.GpuBufferUsage.copy_dst(),
                mapped_at_creation=None,
                label=None,
            )
        )
        encoder.copy_buffer_to_buffer(source, 0, out, 0, size)
        self.queue.submit([encoder.finish(None)])
        out.map_async(W.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        return data

    def image(self, record) -> str:  # type: ignore[no-untyped-def]
        """Clear a new 8x8 target, let `record(pass)` draw, read the pixels back (256 bytes, hex)."""
        texture = self.target()
        encoder = self.device.create_command_encoder(None)
        rpass = begin_pass(encoder, texture.create_view(None), (0.0, 0.0, 0.0))
        record(rpass)
        rpass.end()
        staging = self.device.create_buffer(
            W.GpuBufferDescriptor(
                size=256 * 8,
                usage=W.GpuBufferUsage.copy_src() | W.GpuBufferUsage.copy_dst(),
                mapped_at_creation=None,
                label=None,
            )
        )
        encoder.copy_texture_to_buffer(
            W.GpuTexelCopyTextureInfo(texture=texture, mip_level=None, origin=None, aspect=None),
            W.GpuTexelCopyBufferInfo(buffer=staging, offset=None, bytes_per_row=256, rows_per_image=None),
            W.GpuExtent3D(width=8, height=8, depth_or_array_layers=1),
        )
        data = self.map_read(staging, 256 * 8, encoder)
        # texture row y is 32 bytes at 256 * y
        return b"".join(data[256 * y : 256 * y + 32] for y in range(8)).hex()


def pipeline(device: W.GpuDevice, module: W.GpuShaderModule) -> W.GpuRenderPipeline:
    per_vertex = W.GpuVertexBufferLayout(
        array_stride=12,
        step_mode=W.GpuVertexStepMode.VERTEX,
        attributes=[
            W.GpuVertexAttribute(format=W.GpuVertexFormat.FLOAT32X2, offset=0, shader_location=0),
            W.GpuVertexAttribute(format=W.GpuVertexFormat.UNORM8X4, offset=8, shader_location=1),
        ],
    )
    per_instance = W.GpuVertexBufferLayout(
        array_stride=12,
        step_mode=W.GpuVertexStepMode.INSTANCE,
        attributes=[
            W.GpuVertexAttribute(format=W.GpuVertexFormat.FLOAT32X2, offset=0, shader_location=2),
            W.GpuVertexAttribute(format=W.GpuVertexFormat.FLOAT32, offset=8, shader_location=3),
        ],
    )
    return device.create_render_pipeline(
        W.GpuRenderPipelineDescriptor(
            vertex=W.GpuVertexState(
                buffers=[per_vertex, per_instance], module=module, entry_point="vs", constants=None
            ),
            primitive=None,
            depth_stencil=None,
            multisample=None,
            fragment=W.GpuFragmentState(
                targets=[W.GpuColorTargetState(format=FMT, blend=None, write_mask=None)],
                module=module,
                entry_point="fs",
                constants=None,
            ),
            layout=W.GpuLayoutMode_Auto(),
            label="draw_probe",
        )
    )  # fmt: skip


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        p = Probe(device)
        bu = W.GpuBufferUsage
        module = device.create_shader_module(
            W.GpuShaderModuleDescriptor(code=SHADER, compilation_hints=None, label=None)
        )
        quads = pipeline(device, module)
        a = p.buffer(bu.vertex(), vertices([CORNERS[i] for i in (0, 1, 2, 2, 1, 3)]))
        b = p.buffer(bu.vertex(), vertices([(5.0, 5.0), *CORNERS]))
        indices = p.buffer(bu.index(), struct.pack("<6H", 0, 1, 2, 2, 1, 3))
        instances = p.buffer(bu.vertex(), struct.pack("<9f", 0.0, 0.0, 0.0, 1.0, 0.0, 0.2, 0.0, -1.0, 1.0))
        indirect = p.buffer(
            bu.indirect(),
            struct.pack("<4I", 6, 1, 0, 0)
            + struct.pack("<3IiI", 6, 1, 0, 1, 0)
            + struct.pack("<3I", 2, 1, 1),
        )
        uniform = p.buffer(bu.uniform(), struct.pack("<4f", 0.4, 0.0, 0.0, 0.0))
        group = device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=quads.get_bind_group_layout(0),
                entries=[
                    W.GpuBindGroupEntry(
                        binding=0,
                        resource=W.GpuBindingResource_GpuBufferBinding(
                            W.GpuBufferBinding(buffer=uniform, offset=None, size=None)
                        ),
                    )
                ],
                label=None,
            )
        )

        def common(enc: W.GpuRenderPassEncoder | W.GpuRenderBundleEncoder) -> None:
            enc.set_pipeline(quads)
            enc.set_bind_group(0, group, None, None, None)
            enc.set_vertex_buffer(1, instances, None, None)

        def instanced(rpass: W.GpuRenderPassEncoder) -> None:
            common(rpass)
            rpass.set_vertex_buffer(0, a, None, None)
            rpass.draw(6, 3, None, None)

        def indexed(rpass: W.GpuRenderPassEncoder) -> None:
            common(rpass)
            rpass.set_vertex_buffer(0, b, None, None)
            rpass.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
            rpass.draw_indexed(6, 2, 0, 1, 1)

        def indirect_draws(rpass: W.GpuRenderPassEncoder) -> None:
            common(rpass)
            rpass.set_vertex_buffer(0, a, None, None)
            rpass.draw_indirect(indirect, 0)
            rpass.set_vertex_buffer(0, b, None, None)
            rpass.set_vertex_buffer(1, instances, 24, None)
            rpass.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
            rpass.draw_indexed_indirect(indirect, 16)

        emit("instanced", p.image(instanced))
        emit("indexed", p.image(indexed))
        emit("indirect", p.image(indirect_draws))

        enc = bundle_encoder(device, label="first bundle encoder")
        enc.push_debug_group("first")
        common(enc)
        enc.set_vertex_buffer(0, a, None, None)
        enc.draw(6, 1, 0, 1)
        enc.insert_debug_marker("indexed next")
        enc.set_vertex_buffer(0, b, None, None)
        enc.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
        enc.draw_indexed(6, 1, 0, 1, 2)
        enc.pop_debug_group()
        encoder_labels = [enc.label()]
        enc.set_label("first bundle encoder relabelled")
        encoder_labels.append(enc.label())
        first = enc.finish(W.GpuRenderBundleDescriptor(label="first bundle"))
        bundle_labels = [first.label()]
        first.set_label("first bundle relabelled")
        bundle_labels.append(first.label())

        enc = bundle_encoder(device, label="second bundle encoder")
        common(enc)
        enc.set_vertex_buffer(0, a, None, None)
        enc.draw_indirect(indirect, 0)
        enc.set_vertex_buffer(0, b, None, None)
        enc.set_vertex_buffer(1, instances, 12, None)
        enc.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
        enc.draw_indexed_indirect(indirect, 16)
        second = enc.finish(None)

        emit("bundle", p.image(lambda rpass: rpass.execute_bundles([first])))
        emit("bundle_indirect", p.image(lambda rpass: rpass.execute_bundles([second])))
        emit("both_bundles", p.image(lambda rpass: rpass.execute_bundles([first, second])))
        emit("bundle_labels", [encoder_labels, bundle_labels])

        compute = device.create_compute_pipeline(
            W.GpuComputePipelineDescriptor(
                compute=W.GpuProgrammableStage(
                    module=device.create_shader_module(
                        W.GpuShaderModuleDescriptor(code=COMPUTE, compilation_hints=None, label=None)
                    ),
                    entry_point="cs",
                    constants=None,
                ),
                layout=W.GpuLayoutMode_Auto(),
                label=None,
            )
        )
        ids = p.buffer(bu.storage() | bu.copy_src(), bytes(32))
        ids_group = device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=compute.get_bind_group_layout(0),
                entries=[
                    W.GpuBindGroupEntry(
                        binding=0,
                        resource=W.GpuBindingResource_GpuBufferBinding(
                            W.GpuBufferBinding(buffer=ids, offset=None, size=None)
                        ),
                    )
                ],
                label=None,
            )
        )
        encoder = device.create_command_encoder(None)
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(compute)
        cpass.set_bind_group(0, ids_group, None, None, None)
        cpass.dispatch_workgroups_indirect(indirect, 36)
        cpass.end()
        emit("dispatch_indirect", list(struct.unpack("<8I", p.map_read(ids, 32, encoder))))

        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            texture = W.GpuTexture.from_graphics_buffer(context.get_current_buffer())
            encoder = device.create_command_encoder(None)
            rpass = begin_pass(encoder, texture.create_view(None), (0.0, 0.0, 0.0))
            rpass.execute_bundles([first])
            rpass.end()
            p.queue.submit([encoder.finish(None)])
            context.present()
