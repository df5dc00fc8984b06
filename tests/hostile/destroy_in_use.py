"""destroy_in_use: records commands that use buffers and textures, destroys (or maps) those
resources, then submits.

WebGPU allows destroying a resource an unsubmitted command buffer uses: the submit is then a
validation error. wgpu-native instead aborts the whole process on such a submit, for every way a
command can use a resource, so the host must track what each command buffer touches and refuse
the submit itself. Each check records one use, destroys or maps the resource, submits in an error
scope, and prints the error: `copy_source`, `attachment`, `resolve_target`, `bind_group_buffer`,
`bind_group_texture`, `vertex_buffer`, `index_buffer`, `indirect_buffer`, `bundle_vertex_buffer`,
`mapped_in_copy`, `mapped_at_creation_in_bind_group`; `bundle_mapped_at_finish` (a bundle
finished while a buffer it uses is mapped: "finished"); `read_destroyed_mapping` (the error kind
class of reading a mapped range after destroying the buffer, which would abort the process too).
"""

from collections.abc import Callable

from componentize_py_types import Err
from gfxkit import (
    BU,
    RGBA8,
    TU,
    begin_pass,
    buffer,
    bundle_encoder,
    check,
    present_forever,
    report,
    setup,
    shader,
    texture,
)
from wit_world.imports import webgpu as W

COMPUTE = "@compute @workgroup_size(1) fn main() {}"
VERTEX = """
@vertex fn vs(@location(0) p: vec4<f32>) -> @builtin(position) vec4<f32> { return p; }
@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(1.0); }
"""


def storage_group(
    device: W.GpuDevice, buf: W.GpuBuffer | None, view: W.GpuTextureView | None
) -> W.GpuBindGroup:
    if buf is not None:
        layout_entry = W.GpuBindGroupLayoutEntry(
            binding=0,
            visibility=W.GpuShaderStage.compute(),
            buffer=W.GpuBufferBindingLayout(
                type=W.GpuBufferBindingType.READ_ONLY_STORAGE, has_dynamic_offset=None, min_binding_size=None
            ),
            sampler=None,
            texture=None,
            storage_texture=None,
        )
        resource: W.GpuBindingResource = W.GpuBindingResource_GpuBufferBinding(
            W.GpuBufferBinding(buffer=buf, offset=None, size=None)
        )
    else:
        assert view is not None
        layout_entry = W.GpuBindGroupLayoutEntry(
            binding=0,
            visibility=W.GpuShaderStage.compute(),
            buffer=None,
            sampler=None,
            texture=W.GpuTextureBindingLayout(sample_type=None, view_dimension=None, multisampled=None),
            storage_texture=None,
        )
        resource = W.GpuBindingResource_GpuTextureView(view)
    layout = device.create_bind_group_layout(
        W.GpuBindGroupLayoutDescriptor(entries=[layout_entry], label=None)
    )
    return device.create_bind_group(
        W.GpuBindGroupDescriptor(
            layout=layout, entries=[W.GpuBindGroupEntry(binding=0, resource=resource)], label=None
        )
    )


def run() -> None:
    device, canvas, context = setup()
    copyable = BU.copy_src() | BU.copy_dst()
    attach = TU.render_attachment() | TU.texture_binding()

    def after(
        name: str, record: Callable[[W.GpuCommandEncoder], object], spoil: Callable[[], object]
    ) -> None:
        encoder = device.create_command_encoder(None)
        record(encoder)
        commands = encoder.finish(None)
        spoil()
        check(device, name, lambda: device.queue().submit([commands]))

    source, target = buffer(device, 256, copyable, label="source"), buffer(device, 256, copyable)
    after("copy_source", lambda e: e.copy_buffer_to_buffer(source, 0, target, 0, 16), source.destroy)

    frame = texture(device, 4, 4, attach, label="attachment")
    after("attachment", lambda e: begin_pass(e, frame.create_view(None)).end(), frame.destroy)

    msaa = texture(device, 4, 4, TU.render_attachment(), samples=4)
    resolve = texture(device, 4, 4, attach, label="resolve")
    after(
        "resolve_target",
        lambda e: begin_pass(e, msaa.create_view(None), resolve=resolve.create_view(None)).end(),
        resolve.destroy,
    )

    bound = buffer(device, 256, BU.storage(), label="bound")
    bound_group = storage_group(device, bound, None)

    def in_compute_pass(group: W.GpuBindGroup) -> Callable[[W.GpuCommandEncoder], None]:
        def record(encoder: W.GpuCommandEncoder) -> None:
            cpass = encoder.begin_compute_pass(None)
            cpass.set_bind_group(0, group, None, None, None)
            cpass.end()

        return record

    after("bind_group_buffer", in_compute_pass(bound_group), bound.destroy)
    sampled = texture(device, 4, 4, TU.texture_binding(), label="sampled")
    after(
        "bind_group_texture",
        in_compute_pass(storage_group(device, None, sampled.create_view(None))),
        sampled.destroy,
    )

    canvas_texture = texture(device, 4, 4, attach)
    vertices = buffer(device, 256, BU.vertex(), label="vertices")

    def vertex(encoder: W.GpuCommandEncoder) -> None:
        rpass = begin_pass(encoder, canvas_texture.create_view(None))
        rpass.set_vertex_buffer(0, vertices, None, None)
        rpass.end()

    after("vertex_buffer", vertex, vertices.destroy)
    indices = buffer(device, 256, BU.index(), label="indices")

    def index(encoder: W.GpuCommandEncoder) -> None:
        rpass = begin_pass(encoder, canvas_texture.create_view(None))
        rpass.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
        rpass.end()

    after("index_buffer", index, indices.destroy)

    indirect = buffer(device, 256, BU.indirect() | BU.copy_dst(), label="indirect")
    pipeline = device.create_compute_pipeline(
        W.GpuComputePipelineDescriptor(
            compute=W.GpuProgrammableStage(
                module=shader(device, COMPUTE), entry_point="main", constants=None
            ),
            layout=W.GpuLayoutMode_Auto(),
            label=None,
        )
    )

    def dispatch(encoder: W.GpuCommandEncoder) -> None:
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.dispatch_workgroups_indirect(indirect, 0)
        cpass.end()

    after("indirect_buffer", dispatch, indirect.destroy)

    module = shader(device, VERTEX)
    draw_pipeline = device.create_render_pipeline(
        W.GpuRenderPipelineDescriptor(
            vertex=W.GpuVertexState(
                module=module,
                entry_point="vs",
                constants=None,
                buffers=[
                    W.GpuVertexBufferLayout(
                        array_stride=16,
                        step_mode=None,
                        attributes=[
                            W.GpuVertexAttribute(
                                format=W.GpuVertexFormat.FLOAT32X4, offset=0, shader_location=0
                            )
                        ],
                    )
                ],
            ),
            primitive=None,
            depth_stencil=None,
            multisample=None,
            fragment=W.GpuFragmentState(
                targets=[W.GpuColorTargetState(format=RGBA8, blend=None, write_mask=None)],
                module=module,
                entry_point="fs",
                constants=None,
            ),
            layout=W.GpuLayoutMode_Auto(),
            label=None,
        )
    )

    def drawing_bundle(vertices: W.GpuBuffer) -> W.GpuRenderBundle:
        """A bundle that draws a triangle from `vertices`."""
        encoder = bundle_encoder(device)
        encoder.set_pipeline(draw_pipeline)
        encoder.set_vertex_buffer(0, vertices, None, None)
        encoder.draw(3, None, None, None)
        return encoder.finish(None)

    bundled = buffer(device, 256, BU.vertex(), label="bundled")
    bundle = drawing_bundle(bundled)

    def execute(encoder: W.GpuCommandEncoder) -> None:
        rpass = begin_pass(encoder, canvas_texture.create_view(None))
        rpass.execute_bundles([bundle])
        rpass.end()

    after("bundle_vertex_buffer", execute, bundled.destroy)

    # A bundle finished while its vertex buffer is still mapped: the host checks a bundle's commands
    # in a scratch pass that it submits, except when they touch a mapped buffer (the abort above).
    drawing_bundle(buffer(device, 256, BU.vertex(), mapped=True, label="held"))
    report("bundle_mapped_at_finish", "finished")

    mappable = buffer(device, 256, BU.map_write() | BU.copy_src(), label="mappable")
    after(
        "mapped_in_copy",
        lambda e: e.copy_buffer_to_buffer(mappable, 0, target, 0, 16),
        lambda: mappable.map_async(W.GpuMapMode.write(), None, None),
    )

    mapped = buffer(device, 256, BU.storage(), mapped=True, label="mapped")
    after(
        "mapped_at_creation_in_bind_group", in_compute_pass(storage_group(device, mapped, None)), lambda: None
    )

    readable = buffer(device, 256, BU.map_read() | BU.copy_dst())
    readable.map_async(W.GpuMapMode.read(), None, None)
    readable.destroy()
    try:
        readable.get_mapped_range_get_with_copy(None, None)
        report("read_destroyed_mapping", "read")
    except Err as err:
        report("read_destroyed_mapping", type(err.value.kind).__name__)
    present_forever(device, canvas, context)
