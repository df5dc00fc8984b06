"""texture_probe: texture formats, mip levels and views, write-texture offsets, depth, samplers.

Prints {"check": NAME, "value": VALUE} lines; bytes are hex, texture rows unpadded (a texture is
always copied out to a buffer with bytes-per-row 256 and read back).
  copy:FORMAT     for r8unorm, rg8unorm, r16float, r32uint, r32float, bgra8unorm, rgba16float and
                  rgba32float: a 4x2 texture written with write-texture-with-copy (bytes-per-row =
                  4 texels, tightly packed) from pattern(FORMAT) below, read back: the same bytes.
                  pattern: texel i of 8, channel c of n: unorm8 formats byte 16 * i + c; r32uint
                  u32 1000 * i + c; float formats (f16 or f32) i + c / 4 - 1.5.
  clear:FORMAT    an 1x1 render target of bgra8unorm, rgba16float, r32float cleared to (r, g, b, a)
                  = (1.0, 0.2, 0.0, 0.6) and read back (bgra8unorm stores B, G, R, A).
  mip_write       an 8x8 rgba8unorm texture with 4 mip levels: write-texture-with-copy into mip 1
                  at origin (1, 2), size 2x2, from data that starts with 8 junk bytes (layout offset 8)
                  and has 12 bytes a row (8 used): pixels (10 + k, 20 + k, 30 + k, 255) for k = 0..3
                  row by row; mip 1 (4x4) read back; everything else in it zero.
  mip_render      a render pass on a view of mip 2 only (base-mip-level 2, mip-level-count 1)
                  clears it to (0, 0, 1, 1); mip 2 (2x2) read back from origin (0, 0), and mip 0's
                  pixel (0, 0) (still zero): [mip 2 hex, mip 0 pixel hex]
  mip_sample      the texture sampled (nearest) in a 4x1 render: at lod 2 through a view of every
                  level, and at lod 0 through a view whose base-mip-level is 2: both blue.
                  [lod2 hex, base2 hex]
  depth           8x8 rgba8unorm colour + depth32float (cleared to 1.0), depth compare less, depth
                  written: rect 0 left half z 0.5 red; rect 1 top half z 0.25 green; rect 2 all z 0.75
                  blue. [colour hex, depth hex (f32)]: top half green/0.25, bottom left red/0.5,
                  bottom right blue/0.75.
  sampler:NAME    a 2x1 texture, texel 0 black and texel 1 white (alpha 255), sampled at
                  u = 0.125, 0.375, 0.625, 0.875 into a 4x1 render; the red channel of each pixel:
                  nearest: [0, 0, 255, 255]; linear clamp-to-edge: [0, 64, 191, 255] (+-1);
                  linear repeat: [64, 64, 191, 191] (+-1).
Then clears every frame to white.
"""

import json
import struct

import wit_world
from gfxkit import clear, next_frame, setup
from wit_world.imports import webgpu as W

F = W.GpuTextureFormat
TU = W.GpuTextureUsage
# format -> (struct code per channel, channels, bytes per texel)
FORMATS = {
    "r8unorm": (F.R8UNORM, "B", 1),
    "rg8unorm": (F.RG8UNORM, "B", 2),
    "r16float": (F.R16FLOAT, "e", 1),
    "r32uint": (F.R32UINT, "I", 1),
    "r32float": (F.R32FLOAT, "f", 1),
    "bgra8unorm": (F.BGRA8UNORM, "B", 4),
    "rgba16float": (F.RGBA16FLOAT, "e", 4),
    "rgba32float": (F.RGBA32FLOAT, "f", 4),
}

SHADER = """
@group(0) @binding(0) var tex: texture_2d<f32>;
@group(0) @binding(1) var samp: sampler;

@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    var pos = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(3.0, -1.0), vec2<f32>(-1.0, 3.0));
    return vec4<f32>(pos[i], 0.0, 1.0);
}

@fragment
fn fs_lod0(@builtin(position) p: vec4<f32>) -> @location(0) vec4<f32> {
    return textureSampleLevel(tex, samp, vec2<f32>(p.x / 4.0, 0.5), 0.0);
}

@fragment
fn fs_lod2(@builtin(position) p: vec4<f32>) -> @location(0) vec4<f32> {
    return textureSampleLevel(tex, samp, vec2<f32>(p.x / 4.0, 0.5), 2.0);
}
"""

DEPTH_SHADER = """
struct Out { @builtin(position) position: vec4<f32>, @location(0) colour: vec4<f32> }

@vertex
fn vs(@builtin(vertex_index) i: u32, @builtin(instance_index) rect: u32) -> Out {
    // rect 0: left half; 1: top half; 2: everything (clip space, y up)
    var lo = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(-1.0, 0.0), vec2<f32>(-1.0, -1.0));
    var hi = array<vec2<f32>, 3>(vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 1.0), vec2<f32>(1.0, 1.0));
    var z = array<f32, 3>(0.5, 0.25, 0.75);
    var colour = array<vec4<f32>, 3>(
        vec4<f32>(1.0, 0.0, 0.0, 1.0), vec4<f32>(0.0, 1.0, 0.0, 1.0), vec4<f32>(0.0, 0.0, 1.0, 1.0));
    var corner = array<vec2<f32>, 6>(
        vec2<f32>(0.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(0.0, 1.0),
        vec2<f32>(0.0, 1.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0));
    let xy = mix(lo[rect], hi[rect], corner[i]);
    return Out(vec4<f32>(xy, z[rect], 1.0), colour[rect]);
}

@fragment
fn fs(v: Out) -> @location(0) vec4<f32> { return v.colour; }
"""


def emit(name: str, value: object) -> None:
    print(json.dumps({"check": name, "value": value}), flush=True)


def pattern(name: str) -> bytes:
    _, code, channels = FORMATS[name]
    values: list[float] = []
    for i in range(8):
        for c in range(channels):
            if code == "B":
                values.append(16 * i + c)
            elif code == "I":
                values.append(1000 * i + c)
            else:
                values.append(i + c / 4 - 1.5)
    return struct.pack(f"<{len(values)}{code}", *values)


def extent(w: int, h: int = 1) -> W.GpuExtent3D:
    return W.GpuExtent3D(width=w, height=h, depth_or_array_layers=1)


class Probe:
    def __init__(self, device: W.GpuDevice) -> None:
        self.device = device
        self.queue = device.queue()

    def texture(self, fmt: W.GpuTextureFormat, w: int, h: int, usage: int, mips: int = 1) -> W.GpuTexture:
        return self.device.create_texture(
            W.GpuTextureDescriptor(
                size=extent(w, h),
                mip_level_count=mips,
                sample_count=None,
                dimension=None,
                format=fmt,
                usage=usage,
                view_formats=None,
                label=None,
            )
        )

    def read(
        self, texture: W.GpuTexture, w: int, h: int, texel: int, mip: int = 0,
        aspect: W.GpuTextureAspect | None = None,
    ) -> str:  # fmt: skip
        out = self.device.create_buffer(
            W.GpuBufferDescriptor(
                size=256 * h,
                usage=W.GpuBufferUsage.map_read() | W.GpuBufferUsage.copy_dst(),
                mapped_at_creation=None,
                label=None,
            )
        )
        encoder = self.device.create_command_encoder(None)
        encoder.copy_texture_to_buffer(
            W.GpuTexelCopyTextureInfo(
                texture=texture, mip_level=mip, origin=W.GpuOrigin3D(x=0, y=0, z=0), aspect=aspect
            ),
            W.GpuTexelCopyBufferInfo(buffer=out, offset=None, bytes_per_row=256, rows_per_image=h),
            extent(w, h),
        )
        self.queue.submit([encoder.finish(None)])
        out.map_async(W.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        return b"".join(data[256 * y : 256 * y + w * texel] for y in range(h)).hex()

    def clear_view(self, view: W.GpuTextureView, rgba: tuple[float, float, float, float]) -> None:
        encoder = self.device.create_command_encoder(None)
        encoder.begin_render_pass(
            W.GpuRenderPassDescriptor(
                color_attachments=[
                    W.GpuRenderPassColorAttachment(
                        view=view,
                        depth_slice=None,
                        resolve_target=None,
                        clear_value=W.GpuColor(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3]),
                        load_op=W.GpuLoadOp.CLEAR,
                        store_op=W.GpuStoreOp.STORE,
                    )
                ],
                depth_stencil_attachment=None,
                occlusion_query_set=None,
                timestamp_writes=None,
                max_draw_count=None,
                label=None,
            )
        ).end()
        self.queue.submit([encoder.finish(None)])

    def pipeline(
        self, code: str, fragment: str, depth: W.GpuDepthStencilState | None = None
    ) -> W.GpuRenderPipeline:
        module = self.device.create_shader_module(
            W.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=None)
        )
        return self.device.create_render_pipeline(
            W.GpuRenderPipelineDescriptor(
                vertex=W.GpuVertexState(buffers=None, module=module, entry_point="vs", constants=None),
                primitive=None,
                depth_stencil=depth,
                multisample=None,
                fragment=W.GpuFragmentState(
                    targets=[W.GpuColorTargetState(format=F.RGBA8UNORM, blend=None, write_mask=None)],
                    module=module,
                    entry_point=fragment,
                    constants=None,
                ),
                layout=W.GpuLayoutMode_Auto(),
                label=None,
            )
        )

    def sample(self, pipeline: W.GpuRenderPipeline, view: W.GpuTextureView, sampler: W.GpuSampler) -> str:
        """Render 4x1 pixels that sample `view` through `sampler`; return them as hex."""
        group = self.device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=pipeline.get_bind_group_layout(0),
                entries=[
                    W.GpuBindGroupEntry(binding=0, resource=W.GpuBindingResource_GpuTextureView(view)),
                    W.GpuBindGroupEntry(binding=1, resource=W.GpuBindingResource_GpuSampler(sampler)),
                ],
                label=None,
            )
        )
        target = self.texture(F.RGBA8UNORM, 4, 1, TU.render_attachment() | TU.copy_src())
        encoder = self.device.create_command_encoder(None)
        rpass = encoder.begin_render_pass(
            W.GpuRenderPassDescriptor(
                color_attachments=[
                    W.GpuRenderPassColorAttachment(
                        view=target.create_view(None),
                        depth_slice=None,
                        resolve_target=None,
                        clear_value=W.GpuColor(r=0.0, g=0.0, b=0.0, a=0.0),
                        load_op=W.GpuLoadOp.CLEAR,
                        store_op=W.GpuStoreOp.STORE,
                    )
                ],
                depth_stencil_attachment=None,
                occlusion_query_set=None,
                timestamp_writes=None,
                max_draw_count=None,
                label=None,
            )
        )
        rpass.set_pipeline(pipeline)
        rpass.set_bind_group(0, group, None, None, None)
        rpass.draw(3, None, None, None)
        rpass.end()
        self.queue.submit([encoder.finish(None)])
        return self.read(target, 4, 1, 4)

    def sampler(self, mode: W.GpuAddressMode, filter_: W.GpuFilterMode) -> W.GpuSampler:
        return self.device.create_sampler(
            W.GpuSamplerDescriptor(
                address_mode_u=mode,
                address_mode_v=mode,
                address_mode_w=None,
                mag_filter=filter_,
                min_filter=filter_,
                mipmap_filter=None,
                lod_min_clamp=None,
                lod_max_clamp=None,
                compare=None,
                max_anisotropy=None,
                label=None,
            )
        )


def view(
    texture: W.GpuTexture, base: int | None = None, count: int | None = None,
    aspect: W.GpuTextureAspect | None = None,
) -> W.GpuTextureView:  # fmt: skip
    return texture.create_view(
        W.GpuTextureViewDescriptor(
            format=None,
            dimension=None,
            usage=None,
            aspect=aspect,
            base_mip_level=base,
            mip_level_count=count,
            base_array_layer=None,
            array_layer_count=None,
            label=None,
        )
    )


def probe_formats(p: Probe) -> None:
    for name, (fmt, _code, _channels) in FORMATS.items():
        data = pattern(name)
        texture = p.texture(fmt, 4, 2, TU.copy_src() | TU.copy_dst())
        p.queue.write_texture_with_copy(
            W.GpuTexelCopyTextureInfo(texture=texture, mip_level=None, origin=None, aspect=None),
            data,
            W.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=len(data) // 2, rows_per_image=None),
            extent(4, 2),
        )
        emit(f"copy:{name}", p.read(texture, 4, 2, len(data) // 8))
    for fmt, name, texel in (
        (F.BGRA8UNORM, "bgra8unorm", 4),
        (F.RGBA16FLOAT, "rgba16float", 8),
        (F.R32FLOAT, "r32float", 4),
    ):
        target = p.texture(fmt, 1, 1, TU.render_attachment() | TU.copy_src())
        p.clear_view(view(target), (1.0, 0.2, 0.0, 0.6))
        emit(f"clear:{name}", p.read(target, 1, 1, texel))


def probe_mips(p: Probe) -> None:
    usage = TU.copy_src() | TU.copy_dst() | TU.render_attachment() | TU.texture_binding()
    texture = p.texture(F.RGBA8UNORM, 8, 8, usage, mips=4)
    rows = [bytes((10 + k, 20 + k, 30 + k, 255)) for k in range(4)]
    data = b"\xee" * 8 + rows[0] + rows[1] + b"\xee" * 4 + rows[2] + rows[3] + b"\xee" * 4
    p.queue.write_texture_with_copy(
        W.GpuTexelCopyTextureInfo(
            texture=texture, mip_level=1, origin=W.GpuOrigin3D(x=1, y=2, z=None), aspect=None
        ),
        data,
        W.GpuTexelCopyBufferLayout(offset=8, bytes_per_row=12, rows_per_image=2),
        extent(2, 2),
    )
    emit("mip_write", p.read(texture, 4, 4, 4, mip=1))
    p.clear_view(view(texture, 2, 1), (0.0, 0.0, 1.0, 1.0))
    emit("mip_render", [p.read(texture, 2, 2, 4, mip=2), p.read(texture, 1, 1, 4, mip=0)])
    nearest = p.sampler(W.GpuAddressMode.CLAMP_TO_EDGE, W.GpuFilterMode.NEAREST)
    lod2 = p.sample(p.pipeline(SHADER, "fs_lod2"), view(texture), nearest)
    base2 = p.sample(p.pipeline(SHADER, "fs_lod0"), view(texture, 2, None), nearest)
    emit("mip_sample", [lod2, base2])


def probe_depth(p: Probe) -> None:
    colour = p.texture(F.RGBA8UNORM, 8, 8, TU.render_attachment() | TU.copy_src())
    depth = p.texture(F.DEPTH32FLOAT, 8, 8, TU.render_attachment() | TU.copy_src())
    state = W.GpuDepthStencilState(
        format=F.DEPTH32FLOAT,
        depth_write_enabled=True,
        depth_compare=W.GpuCompareFunction.LESS,
        stencil_front=None,
        stencil_back=None,
        stencil_read_mask=None,
        stencil_write_mask=None,
        depth_bias=None,
        depth_bias_slope_scale=None,
        depth_bias_clamp=None,
    )
    pipeline = p.pipeline(DEPTH_SHADER, "fs", state)
    encoder = p.device.create_command_encoder(None)
    rpass = encoder.begin_render_pass(
        W.GpuRenderPassDescriptor(
            color_attachments=[
                W.GpuRenderPassColorAttachment(
                    view=view(colour),
                    depth_slice=None,
                    resolve_target=None,
                    clear_value=W.GpuColor(r=0.0, g=0.0, b=0.0, a=1.0),
                    load_op=W.GpuLoadOp.CLEAR,
                    store_op=W.GpuStoreOp.STORE,
                )
            ],
            depth_stencil_attachment=W.GpuRenderPassDepthStencilAttachment(
                view=view(depth, aspect=W.GpuTextureAspect.ALL),
                depth_clear_value=1.0,
                depth_load_op=W.GpuLoadOp.CLEAR,
                depth_store_op=W.GpuStoreOp.STORE,
                depth_read_only=None,
                stencil_clear_value=None,
                stencil_load_op=None,
                stencil_store_op=None,
                stencil_read_only=None,
            ),
            occlusion_query_set=None,
            timestamp_writes=None,
            max_draw_count=None,
            label=None,
        )
    )
    rpass.set_pipeline(pipeline)
    for rect in range(3):
        rpass.draw(6, 1, 0, rect)
    rpass.end()
    p.queue.submit([encoder.finish(None)])
    emit("depth", [p.read(colour, 8, 8, 4), p.read(depth, 8, 8, 4, aspect=W.GpuTextureAspect.DEPTH_ONLY)])


def probe_samplers(p: Probe) -> None:
    texture = p.texture(F.RGBA8UNORM, 2, 1, TU.copy_dst() | TU.texture_binding())
    p.queue.write_texture_with_copy(
        W.GpuTexelCopyTextureInfo(texture=texture, mip_level=None, origin=None, aspect=None),
        bytes((0, 0, 0, 255, 255, 255, 255, 255)),
        W.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=8, rows_per_image=None),
        extent(2, 1),
    )
    pipeline = p.pipeline(SHADER, "fs_lod0")
    modes = {
        "nearest": (W.GpuAddressMode.CLAMP_TO_EDGE, W.GpuFilterMode.NEAREST),
        "linear_clamp": (W.GpuAddressMode.CLAMP_TO_EDGE, W.GpuFilterMode.LINEAR),
        "linear_repeat": (W.GpuAddressMode.REPEAT, W.GpuFilterMode.LINEAR),
    }
    for name, (mode, filter_) in modes.items():
        pixels = bytes.fromhex(p.sample(pipeline, view(texture), p.sampler(mode, filter_)))
        emit(f"sampler:{name}", [pixels[4 * i] for i in range(4)])


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        device, canvas, context = setup()
        p = Probe(device)
        probe_formats(p)
        probe_mips(p)
        probe_depth(p)
        probe_samplers(p)
        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 1.0, 1.0))
