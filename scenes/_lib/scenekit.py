"""scenekit: what the built-in scenes share, so each `scenes/<name>/app.py` holds only its scene.

This folder is not a scene (it has no `app.py`; folders starting with `_` are never guests).
scenes/build.py puts a copy of it on every scene's python path and hashes it into every scene's
cache key, so editing it rebuilds them all. It runs inside the guest against the bindings
componentize-py generates (`wit_world`), so only guests of the `scene` world may import it.

- `Scene`: adapter, device, queue, surface and graphics context, connected as the guest contract
  says, and `frames()`, the frame loop: it blocks in `wasi:io/poll.poll` and hands out each frame
  with the input events that came before it.
- pipeline, pass and resource boilerplate (`render_pipeline`, `begin_pass`, `bind_group`, ...);
- uploads split into parts (a single host call copying more than about 2.7 MB traps);
- small column-major 4x4 matrix maths for WGSL (`perspective`, `look_at`, `rotate_x`, ...).
"""

import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from wit_world.imports import graphics_context, poll, surface, webgpu

RGB = tuple[float, float, float]
Vec3 = tuple[float, float, float]
Mat4 = list[float]  # 16 floats, column-major (WGSL's mat4x4<f32> layout)

DEPTH_FORMAT = webgpu.GpuTextureFormat.DEPTH32FLOAT
UPLOAD_PART = 1 << 20  # bytes per host call when uploading: well below the ~2.7 MB trap


# --- frame loop -------------------------------------------------------------------------------


@dataclass
class Event:
    """One input event: `kind` is the WIT getter's name without `get-` (`pointer-down`, `key-up`,
    `resize`...), `data` the record it returned (pointer-event, key-event or resize-event)."""

    kind: str
    data: Any


@dataclass
class Frame:
    """A frame to draw: the surface's current texture, its size, and the input received since the
    previous frame (grouped by kind in the order `Scene.frames` was given them, each kind in the
    order it arrived)."""

    texture: webgpu.GpuTexture
    width: int
    height: int
    events: list[Event] = field(default_factory=list)

    def view(self) -> webgpu.GpuTextureView:
        return self.texture.create_view(None)


class Scene:
    """The GPU and the surface of one scene: default adapter and device, a surface of the host's
    size, and one graphics context connected to the device first, then to the surface."""

    def __init__(self) -> None:
        gpu = webgpu.get_gpu()
        adapter = gpu.request_adapter(None)
        assert adapter is not None, "no GPU adapter"
        self.device = adapter.request_device(None)
        self.queue = self.device.queue()
        self.canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
        self.context = graphics_context.Context()
        self.device.connect_graphics_context(self.context)
        self.canvas.connect_graphics_context(self.context)
        self.format = gpu.get_preferred_canvas_format()

    def frames(self, *kinds: str) -> Iterator[Frame]:
        """Yield every frame the host issues, with the events of `kinds` received before it.

        `kinds` are event names (`resize`, `pointer-down`, `pointer-move`, `pointer-up`,
        `key-down`, `key-up`); events of other kinds are never subscribed to. The caller draws into
        `frame.texture` and calls `present()` before asking for the next frame.
        """
        canvas = self.canvas
        sources = [(kind, getattr(canvas, "subscribe_" + kind.replace("-", "_"))()) for kind in kinds]
        getters = [getattr(canvas, "get_" + kind.replace("-", "_")) for kind in kinds]
        frame_ready = canvas.subscribe_frame()
        pollables = [frame_ready] + [pollable for _, pollable in sources]
        events: list[Event] = []
        while True:
            ready = poll.poll(pollables)
            for index, (kind, _) in enumerate(sources):
                if index + 1 in ready:
                    while (data := getters[index]()) is not None:
                        events.append(Event(kind, data))
            if 0 not in ready or canvas.get_frame() is None:
                continue
            texture = webgpu.GpuTexture.from_graphics_buffer(self.context.get_current_buffer())
            yield Frame(texture, texture.width(), texture.height(), events)
            events = []

    def present(self) -> None:
        self.context.present()

    def submit(self, encoder: webgpu.GpuCommandEncoder) -> None:
        self.queue.submit([encoder.finish(None)])


# --- resources --------------------------------------------------------------------------------


def shader(device: webgpu.GpuDevice, code: str, label: str) -> webgpu.GpuShaderModule:
    return device.create_shader_module(
        webgpu.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=label)
    )


def write_buffer(queue: webgpu.GpuQueue, buffer: webgpu.GpuBuffer, data: bytes, offset: int = 0) -> None:
    """queue.write-buffer in parts of UPLOAD_PART bytes (one big call would trap)."""
    for start in range(0, len(data), UPLOAD_PART):
        part = data[start : start + UPLOAD_PART]
        queue.write_buffer_with_copy(buffer, offset + start, part, None, None)


def buffer(
    device: webgpu.GpuDevice, size: int, usage: int, label: str, data: bytes | None = None
) -> webgpu.GpuBuffer:
    """A buffer of `size` bytes (rounded up to 4), COPY_DST added, filled with `data` if given."""
    created = device.create_buffer(
        webgpu.GpuBufferDescriptor(
            size=(size + 3) & ~3, usage=usage | webgpu.GpuBufferUsage.copy_dst(), mapped_at_creation=False,
            label=label,
        )
    )  # fmt: skip
    if data:
        write_buffer(device.queue(), created, data)
    return created


def texture_2d(
    device: webgpu.GpuDevice, width: int, height: int, fmt: webgpu.GpuTextureFormat, usage: int, label: str
) -> webgpu.GpuTexture:
    return device.create_texture(
        webgpu.GpuTextureDescriptor(
            size=webgpu.GpuExtent3D(width=width, height=height, depth_or_array_layers=1),
            mip_level_count=None, sample_count=None, dimension=None, format=fmt, usage=usage,
            view_formats=None, label=label,
        )
    )  # fmt: skip


def depth_texture(device: webgpu.GpuDevice, width: int, height: int) -> webgpu.GpuTexture:
    """A DEPTH_FORMAT render attachment of the given size (recreate it when the surface resizes)."""
    usage = webgpu.GpuTextureUsage.render_attachment()
    return texture_2d(device, width, height, DEPTH_FORMAT, usage, "depth")


def write_texture(
    queue: webgpu.GpuQueue, texture: webgpu.GpuTexture, data: bytes, width: int, height: int, bpp: int = 4
) -> None:
    """queue.write-texture of a tightly packed image, in bands of rows (one big call would trap)."""
    row = width * bpp
    rows = max(1, UPLOAD_PART // row)
    for y in range(0, height, rows):
        band = min(rows, height - y)
        queue.write_texture_with_copy(
            webgpu.GpuTexelCopyTextureInfo(
                texture=texture, mip_level=None, origin=webgpu.GpuOrigin3D(x=0, y=y, z=0), aspect=None
            ),
            data[y * row : (y + band) * row],
            webgpu.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=row, rows_per_image=band),
            webgpu.GpuExtent3D(width=width, height=band, depth_or_array_layers=1),
        )


def sampler(device: webgpu.GpuDevice, linear: bool = True, repeat: bool = True) -> webgpu.GpuSampler:
    filt = webgpu.GpuFilterMode.LINEAR if linear else webgpu.GpuFilterMode.NEAREST
    mode = webgpu.GpuAddressMode.REPEAT if repeat else webgpu.GpuAddressMode.CLAMP_TO_EDGE
    return device.create_sampler(
        webgpu.GpuSamplerDescriptor(
            address_mode_u=mode, address_mode_v=mode, address_mode_w=mode, mag_filter=filt, min_filter=filt,
            mipmap_filter=None, lod_min_clamp=None, lod_max_clamp=None, compare=None, max_anisotropy=None,
            label=None,
        )
    )  # fmt: skip


def bind_group(
    device: webgpu.GpuDevice, layout: webgpu.GpuBindGroupLayout, resources: Sequence[Any], label: str
) -> webgpu.GpuBindGroup:
    """A bind group whose binding i is resources[i]: a whole buffer, a sampler or a texture view."""
    entries = []
    for binding, resource in enumerate(resources):
        if isinstance(resource, webgpu.GpuBuffer):
            wrapped: Any = webgpu.GpuBindingResource_GpuBufferBinding(
                webgpu.GpuBufferBinding(buffer=resource, offset=None, size=None)
            )
        elif isinstance(resource, webgpu.GpuSampler):
            wrapped = webgpu.GpuBindingResource_GpuSampler(resource)
        else:
            wrapped = webgpu.GpuBindingResource_GpuTextureView(resource)
        entries.append(webgpu.GpuBindGroupEntry(binding=binding, resource=wrapped))
    return device.create_bind_group(
        webgpu.GpuBindGroupDescriptor(layout=layout, entries=entries, label=label)
    )


# --- pipelines and passes ---------------------------------------------------------------------


def vertex_layout(
    stride: int, *attributes: tuple[webgpu.GpuVertexFormat, int]
) -> webgpu.GpuVertexBufferLayout:
    """One per-vertex buffer; attribute i is (format, offset) at @location(i)."""
    return webgpu.GpuVertexBufferLayout(
        array_stride=stride,
        step_mode=None,
        attributes=[
            webgpu.GpuVertexAttribute(format=fmt, offset=offset, shader_location=location)
            for location, (fmt, offset) in enumerate(attributes)
        ],
    )


def render_pipeline(
    device: webgpu.GpuDevice,
    module: webgpu.GpuShaderModule,
    fmt: webgpu.GpuTextureFormat,
    *,
    vertex: str = "vs_main",
    fragment: str = "fs_main",
    buffers: list[webgpu.GpuVertexBufferLayout] | None = None,
    depth: bool = False,
    depth_write: bool = True,
    cull: webgpu.GpuCullMode | None = None,
    label: str,
) -> webgpu.GpuRenderPipeline:
    """A triangle-list pipeline with the `auto` layout and one colour target of `fmt`.

    `depth` adds a DEPTH_FORMAT depth test (less); `depth_write=False` tests without writing.
    """
    depth_state = None
    if depth:
        depth_state = webgpu.GpuDepthStencilState(
            format=DEPTH_FORMAT, depth_write_enabled=depth_write, depth_compare=webgpu.GpuCompareFunction.LESS,
            stencil_front=None, stencil_back=None, stencil_read_mask=None, stencil_write_mask=None,
            depth_bias=None, depth_bias_slope_scale=None, depth_bias_clamp=None,
        )  # fmt: skip
    primitive = webgpu.GpuPrimitiveState(
        topology=None, strip_index_format=None, front_face=None, cull_mode=cull, unclipped_depth=None
    )
    return device.create_render_pipeline(
        webgpu.GpuRenderPipelineDescriptor(
            vertex=webgpu.GpuVertexState(
                buffers=list(buffers) if buffers else None, module=module, entry_point=vertex, constants=None
            ),
            primitive=primitive,
            depth_stencil=depth_state,
            multisample=None,
            fragment=webgpu.GpuFragmentState(
                targets=[webgpu.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
                module=module,
                entry_point=fragment,
                constants=None,
            ),
            layout=webgpu.GpuLayoutMode_Auto(),
            label=label,
        )
    )


def compute_pipeline(
    device: webgpu.GpuDevice, module: webgpu.GpuShaderModule, entry: str
) -> webgpu.GpuComputePipeline:
    return device.create_compute_pipeline(
        webgpu.GpuComputePipelineDescriptor(
            compute=webgpu.GpuProgrammableStage(module=module, entry_point=entry, constants=None),
            layout=webgpu.GpuLayoutMode_Auto(),
            label=entry,
        )
    )


BACKGROUND_WGSL = """
struct Out { @builtin(position) pos: vec4<f32>, @location(0) t: f32 }

@vertex
fn vs_main(@builtin(vertex_index) i: u32) -> Out {
    // one triangle covering the screen, just in front of the far plane (a cleared depth of 1.0)
    let xy = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u)) * 2.0 - 1.0;
    return Out(vec4<f32>(xy, 0.9999, 1.0), 0.5 - 0.5 * xy.y);
}

@fragment
fn fs_main(in: Out) -> @location(0) vec4<f32> {
    return vec4<f32>(mix(vec3<f32>(TOP), vec3<f32>(BOTTOM), in.t), 1.0);
}
"""


def background_pipeline(
    device: webgpu.GpuDevice, fmt: webgpu.GpuTextureFormat, top: RGB, bottom: RGB, depth: bool
) -> webgpu.GpuRenderPipeline:
    """A vertical gradient from `top` to `bottom` (draw it first: 3 vertices, no buffers).

    It tests depth without writing it when `depth` is set, so the scene draws over it.
    """
    code = BACKGROUND_WGSL.replace("TOP", ", ".join(map(repr, top))).replace(
        "BOTTOM", ", ".join(map(repr, bottom))
    )
    module = shader(device, code, "background")
    return render_pipeline(device, module, fmt, depth=depth, depth_write=False, label="background")


def begin_pass(
    encoder: webgpu.GpuCommandEncoder,
    view: webgpu.GpuTextureView,
    clear: RGB,
    depth: webgpu.GpuTextureView | None = None,
) -> webgpu.GpuRenderPassEncoder:
    """A render pass clearing `view` to `clear` (alpha 1) and, if given, `depth` to 1.0; both stored."""
    depth_attachment = None
    if depth is not None:
        depth_attachment = webgpu.GpuRenderPassDepthStencilAttachment(
            view=depth, depth_clear_value=1.0, depth_load_op=webgpu.GpuLoadOp.CLEAR,
            depth_store_op=webgpu.GpuStoreOp.STORE, depth_read_only=None, stencil_clear_value=None,
            stencil_load_op=None, stencil_store_op=None, stencil_read_only=None,
        )  # fmt: skip
    return encoder.begin_render_pass(
        webgpu.GpuRenderPassDescriptor(
            color_attachments=[
                webgpu.GpuRenderPassColorAttachment(
                    view=view,
                    depth_slice=None,
                    resolve_target=None,
                    clear_value=webgpu.GpuColor(r=clear[0], g=clear[1], b=clear[2], a=1.0),
                    load_op=webgpu.GpuLoadOp.CLEAR,
                    store_op=webgpu.GpuStoreOp.STORE,
                )
            ],
            depth_stencil_attachment=depth_attachment,
            occlusion_query_set=None,
            timestamp_writes=None,
            max_draw_count=None,
            label=None,
        )
    )


# --- maths ------------------------------------------------------------------------------------


def mat_mul(a: Mat4, b: Mat4) -> Mat4:
    """a @ b for column-major 4x4 matrices."""
    return [sum(a[k * 4 + r] * b[c * 4 + k] for k in range(4)) for c in range(4) for r in range(4)]


def mat_chain(*ms: Mat4) -> Mat4:
    """ms[0] @ ms[1] @ ... (the last one applies first)."""
    out = ms[0]
    for m in ms[1:]:
        out = mat_mul(out, m)
    return out


def identity() -> Mat4:
    return [1.0 if c == r else 0.0 for c in range(4) for r in range(4)]


def translate(x: float, y: float, z: float) -> Mat4:
    m = identity()
    m[12], m[13], m[14] = x, y, z
    return m


def scale(s: float) -> Mat4:
    return [s, 0.0, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 0.0, s, 0.0, 0.0, 0.0, 0.0, 1.0]


def rotate_x(angle: float) -> Mat4:
    c, s = math.cos(angle), math.sin(angle)
    return [1.0, 0.0, 0.0, 0.0, 0.0, c, s, 0.0, 0.0, -s, c, 0.0, 0.0, 0.0, 0.0, 1.0]


def rotate_y(angle: float) -> Mat4:
    c, s = math.cos(angle), math.sin(angle)
    return [c, 0.0, -s, 0.0, 0.0, 1.0, 0.0, 0.0, s, 0.0, c, 0.0, 0.0, 0.0, 0.0, 1.0]


def perspective(fovy: float, aspect: float, near: float, far: float) -> Mat4:
    """Right-handed projection to WebGPU clip space (depth 0 at `near`, 1 at `far`)."""
    f = 1.0 / math.tan(fovy / 2)
    depth = far / (near - far)
    return [f / aspect, 0.0, 0.0, 0.0, 0.0, f, 0.0, 0.0, 0.0, 0.0, depth, -1.0, 0.0, 0.0, near * depth, 0.0]


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def normalize(v: Vec3) -> Vec3:
    n = math.sqrt(_dot(v, v)) or 1.0
    return (v[0] / n, v[1] / n, v[2] / n)


def look_at(eye: Vec3, target: Vec3, up: Vec3 = (0.0, 1.0, 0.0)) -> Mat4:
    """View matrix of a camera at `eye` looking at `target` (right-handed, -z forward)."""
    f = normalize(_sub(target, eye))
    s = normalize(cross(f, up))
    u = cross(s, f)
    return [
        s[0], u[0], -f[0], 0.0,
        s[1], u[1], -f[1], 0.0,
        s[2], u[2], -f[2], 0.0,
        -_dot(s, eye), -_dot(u, eye), _dot(f, eye), 1.0,
    ]  # fmt: skip


def pack_floats(*values: float | Sequence[float]) -> bytes:
    """Little-endian f32s of the values and sequences given, in order (for uniform buffers)."""
    flat: list[float] = []
    for value in values:
        if isinstance(value, (int, float)):
            flat.append(float(value))
        else:
            flat.extend(value)
    return struct.pack(f"<{len(flat)}f", *flat)
