"""Helpers shared by the conformance groups: result lines, descriptors with WebGPU's defaults,
and reading buffers and textures back.

Every check prints one JSON line: {"group": G, "check": NAME, "value": VALUE}, or
{"group": G, "check": NAME, "error": "Class: message"} when the step raised (the suite goes on).
"""

import json
import struct
from collections.abc import Callable

from componentize_py_types import Err
from wit_world.imports import webgpu as W

BU = W.GpuBufferUsage
TU = W.GpuTextureUsage


class Group:
    def __init__(self, name: str, device: W.GpuDevice) -> None:
        self.name = name
        self.device = device
        self.queue = device.queue()

    # --- results ----------------------------------------------------------------------------------

    def check(self, name: str, get: Callable[[], object]) -> object:
        line: dict[str, object] = {"group": self.name, "check": name}
        try:
            value = get()
            line["value"] = value
            text = json.dumps(line)
        except Exception as error:  # noqa: BLE001 - report and go on
            line.pop("value", None)
            line["error"] = f"{type(error).__name__}: {error}"
            text = json.dumps(line)
            value = None
        print(text, flush=True)
        return value

    # --- objects ----------------------------------------------------------------------------------

    def buffer(self, size: int, usage: int, label: str | None = None, mapped: bool = False) -> W.GpuBuffer:
        return self.device.create_buffer(
            W.GpuBufferDescriptor(size=size, usage=usage, mapped_at_creation=mapped, label=label)
        )

    def buffer_with(self, data: bytes, usage: int) -> W.GpuBuffer:
        buf = self.buffer(len(data), usage | BU.copy_dst())
        self.queue.write_buffer_with_copy(buf, 0, data, None, None)
        return buf

    def texture(
        self,
        width: int,
        height: int,
        usage: int,
        fmt: W.GpuTextureFormat = W.GpuTextureFormat.RGBA8UNORM,
        layers: int = 1,
        mips: int = 1,
        samples: int = 1,
        label: str | None = None,
    ) -> W.GpuTexture:
        return self.device.create_texture(
            W.GpuTextureDescriptor(
                size=extent(width, height, layers),
                mip_level_count=mips,
                sample_count=samples,
                dimension=None,
                format=fmt,
                usage=usage,
                view_formats=None,
                label=label,
            )
        )

    def shader(self, code: str, label: str | None = None) -> W.GpuShaderModule:
        return self.device.create_shader_module(
            W.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=label)
        )

    def encoder(self) -> W.GpuCommandEncoder:
        return self.device.create_command_encoder(None)

    def submit(self, encoder: W.GpuCommandEncoder) -> None:
        self.queue.submit([encoder.finish(None)])

    def compute_pipeline(
        self, module: W.GpuShaderModule, entry: str, constants: W.RecordGpuPipelineConstantValue | None = None
    ) -> W.GpuComputePipeline:
        return self.device.create_compute_pipeline(compute_descriptor(module, entry, constants))

    def bind(self, layout: W.GpuBindGroupLayout, *buffers: W.GpuBuffer) -> W.GpuBindGroup:
        return self.device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=layout,
                entries=[
                    W.GpuBindGroupEntry(binding=i, resource=buffer_binding(b)) for i, b in enumerate(buffers)
                ],
                label=None,
            )
        )

    def dispatch(self, pipeline: W.GpuComputePipeline, group: W.GpuBindGroup, x: int = 1) -> None:
        encoder = self.encoder()
        cpass = encoder.begin_compute_pass(None)
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, group, None, None, None)
        cpass.dispatch_workgroups(x, None, None)
        cpass.end()
        self.submit(encoder)

    # --- read back --------------------------------------------------------------------------------

    def read(self, source: W.GpuBuffer, size: int, offset: int = 0) -> bytes:
        out = self.buffer(size, BU.map_read() | BU.copy_dst())
        encoder = self.encoder()
        encoder.copy_buffer_to_buffer(source, offset, out, 0, size)
        self.submit(encoder)
        out.map_async(W.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        out.destroy()
        return data

    def read_u32(self, source: W.GpuBuffer, count: int, offset: int = 0) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read(source, 4 * count, offset)))

    def read_texture(
        self, texture: W.GpuTexture, width: int, height: int, mip: int = 0, layer: int = 0
    ) -> bytes:
        """rgba8 (4 bytes a texel) pixels of one mip level / array layer, rows unpadded."""
        out = self.buffer(256 * height, BU.map_read() | BU.copy_dst())
        encoder = self.encoder()
        encoder.copy_texture_to_buffer(
            texel_copy(texture, 0, 0, layer, mip),
            W.GpuTexelCopyBufferInfo(buffer=out, offset=None, bytes_per_row=256, rows_per_image=height),
            extent(width, height),
        )
        self.submit(encoder)
        out.map_async(W.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        out.destroy()
        return b"".join(data[256 * y : 256 * y + 4 * width] for y in range(height))


# --- descriptors ------------------------------------------------------------------------------------


def extent(width: int, height: int = 1, depth: int = 1) -> W.GpuExtent3D:
    return W.GpuExtent3D(width=width, height=height, depth_or_array_layers=depth)


def texel_copy(
    texture: W.GpuTexture, x: int = 0, y: int = 0, z: int = 0, mip: int = 0
) -> W.GpuTexelCopyTextureInfo:
    return W.GpuTexelCopyTextureInfo(
        texture=texture, mip_level=mip, origin=W.GpuOrigin3D(x=x, y=y, z=z), aspect=None
    )


def buffer_binding(
    buffer: W.GpuBuffer, offset: int | None = None, size: int | None = None
) -> W.GpuBindingResource:
    return W.GpuBindingResource_GpuBufferBinding(W.GpuBufferBinding(buffer=buffer, offset=offset, size=size))


def compute_descriptor(
    module: W.GpuShaderModule, entry: str, constants: W.RecordGpuPipelineConstantValue | None = None
) -> W.GpuComputePipelineDescriptor:
    return W.GpuComputePipelineDescriptor(
        compute=W.GpuProgrammableStage(module=module, entry_point=entry, constants=constants),
        layout=W.GpuLayoutMode_Auto(),
        label=None,
    )


def render_descriptor(
    module: W.GpuShaderModule,
    fmt: W.GpuTextureFormat = W.GpuTextureFormat.RGBA8UNORM,
    fs: str = "fs",
    depth: W.GpuDepthStencilState | None = None,
    samples: int | None = None,
) -> W.GpuRenderPipelineDescriptor:
    return W.GpuRenderPipelineDescriptor(
        vertex=W.GpuVertexState(buffers=None, module=module, entry_point="vs", constants=None),
        primitive=None,
        depth_stencil=depth,
        multisample=None
        if samples is None
        else W.GpuMultisampleState(count=samples, mask=None, alpha_to_coverage_enabled=None),
        fragment=W.GpuFragmentState(
            targets=[W.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
            module=module,
            entry_point=fs,
            constants=None,
        ),
        layout=W.GpuLayoutMode_Auto(),
        label=None,
    )


def color_pass(
    encoder: W.GpuCommandEncoder,
    view: W.GpuTextureView,
    rgba: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0),
    occlusion: W.GpuQuerySet | None = None,
    timestamps: W.GpuRenderPassTimestampWrites | None = None,
    depth: W.GpuRenderPassDepthStencilAttachment | None = None,
    resolve: W.GpuTextureView | None = None,
) -> W.GpuRenderPassEncoder:
    return encoder.begin_render_pass(
        W.GpuRenderPassDescriptor(
            color_attachments=[
                W.GpuRenderPassColorAttachment(
                    view=view,
                    depth_slice=None,
                    resolve_target=resolve,
                    clear_value=W.GpuColor(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3]),
                    load_op=W.GpuLoadOp.CLEAR,
                    store_op=W.GpuStoreOp.STORE,
                )
            ],
            depth_stencil_attachment=depth,
            occlusion_query_set=occlusion,
            timestamp_writes=timestamps,
            max_draw_count=None,
            label=None,
        )
    )


def err_kind(err: Err) -> str:  # type: ignore[type-arg]
    """The class name of an Err's kind, e.g. `MapAsyncErrorKind_OperationError`."""
    return type(err.value.kind).__name__


def wit_enum(value: object) -> str:
    return value.name.lower().replace("_", "-")  # type: ignore[attr-defined]


# A full-screen triangle; `fs` writes the override-able colour.
FULLSCREEN = """
@vertex
fn vs(@builtin(vertex_index) i: u32) -> @builtin(position) vec4<f32> {
    var pos = array<vec2<f32>, 3>(vec2<f32>(-1.0, -1.0), vec2<f32>(3.0, -1.0), vec2<f32>(-1.0, 3.0));
    return vec4<f32>(pos[i], 0.5, 1.0);
}
override r: f32 = 0.0;
override g: f32 = 1.0;
@fragment
fn fs() -> @location(0) vec4<f32> { return vec4<f32>(r, g, 0.0, 1.0); }
"""
