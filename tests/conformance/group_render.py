"""render: occlusion queries, timestamp queries, query sets, render bundles, multisampling."""

import struct

from gfxkit import BU, FULLSCREEN, TU, Group, begin_pass, bundle_encoder, render_descriptor, wit_enum
from wit_world.imports import webgpu as W

DEPTH = W.GpuTextureFormat.DEPTH32FLOAT


def query_set(
    device: W.GpuDevice, kind: W.GpuQueryType, count: int, label: str | None = None
) -> W.GpuQuerySet:
    return device.create_query_set(W.GpuQuerySetDescriptor(type=kind, count=count, label=label))


def resolve(g: Group, queries: W.GpuQuerySet, count: int) -> list[int]:
    out = g.buffer(8 * count, BU.query_resolve() | BU.copy_src())
    encoder = g.encoder()
    encoder.resolve_query_set(queries, 0, count, out, 0)
    g.submit(encoder)
    return list(struct.unpack(f"<{count}Q", g.read(out, 8 * count)))


def run(adapter: W.GpuAdapter, device: W.GpuDevice) -> None:
    g = Group("render", device)
    module = g.shader(FULLSCREEN)

    def query_getters() -> list[object]:
        queries = query_set(device, W.GpuQueryType.OCCLUSION, 5, "occ")
        first = [wit_enum(queries.type()), queries.count(), queries.label()]
        queries.set_label("renamed")
        first.append(queries.label())
        queries.destroy()
        return first

    g.check("query-set-getters", query_getters)

    def occlusion() -> list[int]:
        pipeline = device.create_render_pipeline(render_descriptor(module, depth=True))
        target = g.texture(8, 8, TU.render_attachment())
        depth = g.texture(8, 8, TU.render_attachment(), fmt=DEPTH)
        queries = query_set(device, W.GpuQueryType.OCCLUSION, 4)
        encoder = g.encoder()
        rpass = begin_pass(
            encoder, target.create_view(None), depth=depth.create_view(None), occlusion=queries
        )
        rpass.set_pipeline(pipeline)
        rpass.set_scissor_rect(0, 0, 2, 2)
        rpass.begin_occlusion_query(0)  # 2x2 samples pass and write depth 0.5
        rpass.draw(3, None, None, None)
        rpass.end_occlusion_query()
        rpass.set_scissor_rect(0, 0, 8, 8)
        rpass.begin_occlusion_query(1)  # all but that 2x2 corner pass
        rpass.draw(3, None, None, None)
        rpass.end_occlusion_query()
        rpass.begin_occlusion_query(2)  # fully occluded: depth 0.5 is not less than 0.5
        rpass.draw(3, None, None, None)
        rpass.end_occlusion_query()
        rpass.begin_occlusion_query(3)  # nothing drawn
        rpass.draw(0, None, None, None)
        rpass.end_occlusion_query()
        rpass.end()
        g.submit(encoder)
        return resolve(g, queries, 4)

    g.check("occlusion-queries", occlusion)

    def timestamps() -> list[object]:
        timed = adapter.request_device(
            W.GpuDeviceDescriptor(
                required_features=[W.GpuFeatureName.TIMESTAMP_QUERY],
                required_limits=None,
                default_queue=None,
                label="timestamps",
            )
        )
        t = Group("render", timed)
        queries = query_set(timed, W.GpuQueryType.TIMESTAMP, 4)
        target = t.texture(8, 8, TU.render_attachment())
        encoder = t.encoder()
        begin_pass(
            encoder,
            target.create_view(None),
            timestamps=W.GpuRenderPassTimestampWrites(
                query_set=queries, beginning_of_pass_write_index=0, end_of_pass_write_index=1
            ),
        ).end()
        cpass = encoder.begin_compute_pass(
            W.GpuComputePassDescriptor(
                timestamp_writes=W.GpuComputePassTimestampWrites(
                    query_set=queries, beginning_of_pass_write_index=2, end_of_pass_write_index=3
                ),
                label=None,
            )
        )
        cpass.end()
        t.submit(encoder)
        values = resolve(t, queries, 4)
        timed.destroy()
        return [wit_enum(queries.type()), values]

    g.check("timestamp-queries", timestamps)

    def bundle() -> list[str]:
        pipeline = device.create_render_pipeline(render_descriptor(module))
        encoder_b = bundle_encoder(device, label="bundle encoder")
        encoder_b.push_debug_group("bundle group")
        encoder_b.insert_debug_marker("bundle marker")
        encoder_b.set_pipeline(pipeline)
        encoder_b.draw(3, None, None, None)
        encoder_b.pop_debug_group()
        recorded = encoder_b.finish(W.GpuRenderBundleDescriptor(label="bundle"))
        target = g.texture(4, 4, TU.render_attachment() | TU.copy_src())
        encoder = g.encoder()
        rpass = begin_pass(encoder, target.create_view(None), (1.0, 0.0, 0.0))
        rpass.set_scissor_rect(0, 0, 2, 4)  # a bundle does not reset the pass's scissor
        rpass.execute_bundles([recorded])
        rpass.end()
        g.submit(encoder)
        pixels = g.read_texture(target, 4, 4)
        return [pixels[0:4].hex(), pixels[12:16].hex(), encoder_b.label(), recorded.label()]

    g.check("render-bundle", bundle)

    def indirect_draws() -> list[str]:
        pipeline = device.create_render_pipeline(render_descriptor(module))
        # draw at 0: 3 vertices, 1 instance; draw-indexed at 16: 3 indices, 1 instance; at 36: 0 instances
        args = (
            struct.pack("<4I", 3, 1, 0, 0)
            + struct.pack("<5I", 3, 1, 0, 0, 0)
            + struct.pack("<4I", 3, 0, 0, 0)
        )
        indirect = g.buffer_with(args, BU.indirect())
        indices = g.buffer_with(struct.pack("<4H", 0, 1, 2, 0), BU.index())
        target = g.texture(6, 1, TU.render_attachment() | TU.copy_src())
        encoder = g.encoder()
        rpass = begin_pass(encoder, target.create_view(None), (1.0, 0.0, 0.0))
        rpass.set_pipeline(pipeline)
        rpass.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
        for column, draw in enumerate(
            (
                lambda: rpass.draw_indirect(indirect, 0),
                lambda: rpass.draw_indexed_indirect(indirect, 16),
                lambda: rpass.draw_indirect(indirect, 36),
            )
        ):
            rpass.set_scissor_rect(2 * column, 0, 2, 1)
            draw()
        rpass.end()
        g.submit(encoder)
        pixels = g.read_texture(target, 6, 1)
        return [pixels[8 * i : 8 * i + 4].hex() for i in range(3)]

    g.check("indirect-draws", indirect_draws)

    def multisample() -> str:
        pipeline = device.create_render_pipeline(render_descriptor(module, samples=4))
        msaa = g.texture(4, 4, TU.render_attachment(), samples=4)
        resolved = g.texture(4, 4, TU.render_attachment() | TU.copy_src())
        encoder = g.encoder()
        rpass = begin_pass(encoder, msaa.create_view(None), resolve=resolved.create_view(None))
        rpass.set_pipeline(pipeline)
        rpass.draw(3, None, None, None)
        rpass.end()
        g.submit(encoder)
        return g.read_texture(resolved, 4, 4)[0:4].hex()

    g.check("multisample-resolve", multisample)
