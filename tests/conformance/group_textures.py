"""textures: array layers and mip levels, views as render targets, texture copies, samplers."""

import struct

from gfxkit import BU, TU, Group, begin_pass, buffer_binding, extent, texel_copy, wit_enum
from wit_world.imports import webgpu as W

SAMPLE = """
@group(0) @binding(0) var t: texture_2d<f32>;
@group(0) @binding(1) var s: sampler;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1)
fn main() {
    out[0] = textureSampleLevel(t, s, vec2<f32>(0.5, 0.5), 0.0).r;
    out[1] = textureSampleLevel(t, s, vec2<f32>(0.25, 0.5), 0.0).r;
}
"""


def run(device: W.GpuDevice) -> None:
    g = Group("textures", device)
    array = g.texture(
        4, 4, TU.copy_src() | TU.copy_dst() | TU.render_attachment(), layers=2, mips=2, label="array"
    )

    g.check(
        "getters",
        lambda: [
            array.width(),
            array.height(),
            array.depth_or_array_layers(),
            array.mip_level_count(),
            array.sample_count(),
            wit_enum(array.dimension()),
            wit_enum(array.format()),
            array.usage(),
        ],
    )

    def write_layer_mip() -> str:
        texels = bytes(range(16))  # 2x2 texels of layer 1, mip 1
        g.queue.write_texture_with_copy(
            texel_copy(array, 0, 0, 1, 1),
            texels,
            W.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=8, rows_per_image=2),
            extent(2, 2),
        )
        return g.read_texture(array, 2, 2, mip=1, layer=1).hex()

    g.check("write-layer1-mip1", write_layer_mip)

    def render_into_layer() -> list[str]:
        view = array.create_view(
            W.GpuTextureViewDescriptor(
                format=None,
                dimension=W.GpuTextureViewDimension.D2,
                usage=None,
                aspect=None,
                base_mip_level=0,
                mip_level_count=1,
                base_array_layer=1,
                array_layer_count=1,
                label=None,
            )
        )
        encoder = g.encoder()
        begin_pass(encoder, view, (0.0, 0.0, 1.0)).end()
        g.submit(encoder)
        return [g.read_texture(array, 1, 1, 0, 0).hex(), g.read_texture(array, 1, 1, 0, 1).hex()]

    g.check("render-into-layer1", render_into_layer)

    def copy_between() -> str:
        other = g.texture(4, 4, TU.copy_src() | TU.copy_dst())
        encoder = g.encoder()
        encoder.copy_texture_to_texture(texel_copy(array, 0, 0, 1, 1), texel_copy(other, 2, 2), extent(2, 2))
        g.submit(encoder)
        return g.read_texture(other, 4, 4).hex()

    g.check("copy-mip-to-corner", copy_between)

    def sampling() -> dict[str, list[float]]:
        texture = g.texture(2, 1, TU.texture_binding() | TU.copy_dst())
        g.queue.write_texture_with_copy(
            texel_copy(texture),
            bytes([0, 0, 0, 255, 255, 0, 0, 255]),
            W.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=8, rows_per_image=1),
            extent(2, 1),
        )
        module = g.shader(SAMPLE)
        pipeline = g.compute_pipeline(module, "main")
        found = {}
        for name, mode in (("linear", W.GpuFilterMode.LINEAR), ("nearest", W.GpuFilterMode.NEAREST)):
            sampler = device.create_sampler(
                W.GpuSamplerDescriptor(
                    address_mode_u=W.GpuAddressMode.CLAMP_TO_EDGE,
                    address_mode_v=None,
                    address_mode_w=None,
                    mag_filter=mode,
                    min_filter=mode,
                    mipmap_filter=None,
                    lod_min_clamp=None,
                    lod_max_clamp=None,
                    compare=None,
                    max_anisotropy=None,
                    label=name,
                )
            )
            out = g.buffer(8, BU.storage() | BU.copy_src())
            group = device.create_bind_group(
                W.GpuBindGroupDescriptor(
                    layout=pipeline.get_bind_group_layout(0),
                    entries=[
                        W.GpuBindGroupEntry(
                            binding=0, resource=W.GpuBindingResource_GpuTextureView(texture.create_view(None))
                        ),
                        W.GpuBindGroupEntry(binding=1, resource=W.GpuBindingResource_GpuSampler(sampler)),
                        W.GpuBindGroupEntry(binding=2, resource=buffer_binding(out)),
                    ],
                    label=None,
                )
            )
            g.dispatch(pipeline, group)
            found[name] = list(struct.unpack("<2f", g.read(out, 8)))
        return found

    g.check("sampler-filters", sampling)
