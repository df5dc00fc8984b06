"""gfxkit: the one helper module of every Python guest, so each guest's code holds only what it does.

Its users: the built-in scenes (`scenes/<name>/app.py`), the test guests (`tests/guests/<name>/app.py`),
and the two guest suites, the conformance groups (`tests/conformance/`) and the hostile programs
(`tests/hostile/`). This folder is not a guest (it has no `app.py`; folders starting with `_` are
never guests). scenes/build.py puts a copy of it on the python path of every guest (a second `-p`
to componentize-py) and hashes it into every guest's cache key, so editing it rebuilds them all.
It runs inside the guest against the bindings componentize-py generates (`wit_world`) and uses the
graphics-context, poll, surface and webgpu imports: only guests whose world has them (the `scene`
world, or one that includes its imports) may import it. A `None` argument is WebGPU's default.

- setup and frames: `setup` (device, surface and context, connected as the guest contract says),
  `next_frame`, `clear`, `present_forever`; `Scene`, the scenes' frame loop (`frames()` hands out
  each `Frame` with the input `Event`s that came before it);
- output, one JSON object a line: `emit`, `emit_attempts`, `report`; error scopes: `described`,
  `caught`, `check`; `err_kind` (a WIT `err`), `wit_enum`;
- descriptors and resources: `extent`, `texel_copy`, `buffer_binding`, `shader`, `buffer`,
  `writable_buffer`, `write_buffer`, `texture`, `depth_texture`, `write_texture`, `sampler`,
  `bind_group` (uploads are split into parts: one host call copying more than about 2.7 MB traps);
- pipelines and passes: `vertex_layout`, `render_descriptor`, `render_pipeline`,
  `compute_descriptor`, `compute_pipeline`, `background_pipeline`, `submit`, `begin_pass` (a render
  pass clearing its colour target), `compute_pass`, `dispatch`; WGSL `BACKGROUND_WGSL`, `FULLSCREEN`;
- `Group`: one conformance group, its `check` lines and reading buffers and textures back;
- small column-major 4x4 matrix maths for WGSL (`perspective`, `look_at`, `rotate_x`, ...).
"""

import json
import math
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wit_world.imports import graphics_context, poll, surface, webgpu

if TYPE_CHECKING:
    from componentize_py_types import Err

RGB = tuple[float, float, float]
Vec3 = tuple[float, float, float]
Mat4 = list[float]  # 16 floats, column-major (WGSL's mat4x4<f32> layout)

BU = webgpu.GpuBufferUsage
TU = webgpu.GpuTextureUsage
RGBA8 = webgpu.GpuTextureFormat.RGBA8UNORM
DEPTH_FORMAT = webgpu.GpuTextureFormat.DEPTH32FLOAT
VALIDATION = webgpu.GpuErrorFilter.VALIDATION
OUT_OF_MEMORY = webgpu.GpuErrorFilter.OUT_OF_MEMORY
UPLOAD_PART = 1 << 20  # bytes per host call when uploading: well below the ~2.7 MB trap


# --- setup and frames -------------------------------------------------------------------------


def setup(
    gpu: webgpu.Gpu | None = None,
) -> tuple[webgpu.GpuDevice, surface.Surface, graphics_context.Context]:
    """GPU device, surface and graphics context, connected as the guest contract says.

    The default adapter (of `gpu`, else of `get-gpu`) and device, a surface of the host's size (no
    size asked), and one context connected to the device first, then to the surface.
    """
    adapter = (webgpu.get_gpu() if gpu is None else gpu).request_adapter(None)
    assert adapter is not None, "no GPU adapter"
    device = adapter.request_device(None)
    canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
    context = graphics_context.Context()
    device.connect_graphics_context(context)
    canvas.connect_graphics_context(context)
    return device, canvas, context


def next_frame(canvas: surface.Surface, frame_ready: poll.Pollable) -> None:
    """Block until the host issues the next frame (`frame_ready` is `canvas.subscribe_frame()`)."""
    while True:
        poll.poll([frame_ready])
        if canvas.get_frame() is not None:
            return


def clear(device: webgpu.GpuDevice, context: graphics_context.Context, rgb: RGB) -> None:
    """Clear the current frame to rgb (alpha 1) in one render pass, submit it and present it."""
    texture = webgpu.GpuTexture.from_graphics_buffer(context.get_current_buffer())
    encoder = device.create_command_encoder(None)
    begin_pass(encoder, texture.create_view(None), rgb).end()
    submit(device.queue(), encoder)
    context.present()


def present_forever(
    device: webgpu.GpuDevice, canvas: surface.Surface, context: graphics_context.Context
) -> None:
    """Present every frame cleared to green (the hostile programs' sign that they carried on)."""
    frame_ready = canvas.subscribe_frame()
    while True:
        next_frame(canvas, frame_ready)
        clear(device, context, (0.0, 1.0, 0.0))


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
    """The GPU and the surface of one scene (`setup`), its queue and preferred canvas format."""

    def __init__(self) -> None:
        gpu = webgpu.get_gpu()
        self.device, self.canvas, self.context = setup(gpu)
        self.queue = self.device.queue()
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
        pollables = [frame_ready, *(pollable for _, pollable in sources)]
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
        submit(self.queue, encoder)


# --- output and errors ------------------------------------------------------------------------


def emit(**fields: object) -> None:
    """Print `fields` as one JSON object on one line of stdout, flushed."""
    print(json.dumps(fields), flush=True)


def emit_attempts(attempts: dict[str, Callable[[], object]]) -> None:
    """Call each attempt and emit how it went: `{"attempt": name, "error": class name}` when it
    raised, else `{"attempt": name, "value": repr (first 200 characters)}`."""
    for name, attempt in attempts.items():
        try:
            value = attempt()
        except Exception as error:  # each attempt reports how it failed
            emit(attempt=name, error=type(error).__name__)
        else:
            emit(attempt=name, value=repr(value)[:200])


def report(check: str, value: object) -> None:
    """Emit `{"check": check, "value": value}` (a hostile program's result line)."""
    emit(check=check, value=value)


def described(error: webgpu.GpuError | None) -> object:
    """A popped gpu-error as [kind, message] (kind: its class name, `GpuErrorKind_...`), or None."""
    return None if error is None else [type(error.kind()).__name__, error.message()]


def caught(
    device: webgpu.GpuDevice, action: Callable[[], object], filter_: webgpu.GpuErrorFilter = VALIDATION
) -> object:
    """Run `action` inside an error scope of `filter_`; the error it caught as [kind, message]."""
    device.push_error_scope(filter_)
    action()
    return described(device.pop_error_scope())


def check(
    device: webgpu.GpuDevice,
    name: str,
    action: Callable[[], object],
    filter_: webgpu.GpuErrorFilter = VALIDATION,
) -> None:
    """Report the error `action` raises on the device (`caught`) as check `name`."""
    report(name, caught(device, action, filter_))


def err_kind(err: "Err[Any]") -> str:
    """The class name of an Err's kind, e.g. `MapAsyncErrorKind_OperationError`."""
    return type(err.value.kind).__name__


def wit_enum(value: object) -> str:
    """A WIT enum case as the WIT spells it (`RGBA8UNORM` -> `rgba8unorm`, `D2_ARRAY` -> `d2-array`)."""
    return value.name.lower().replace("_", "-")  # type: ignore[attr-defined]


# --- descriptors and resources ----------------------------------------------------------------


def extent(width: int, height: int = 1, depth: int = 1) -> webgpu.GpuExtent3D:
    return webgpu.GpuExtent3D(width=width, height=height, depth_or_array_layers=depth)


def texel_copy(
    texture: webgpu.GpuTexture, x: int = 0, y: int = 0, z: int = 0, mip: int | None = 0
) -> webgpu.GpuTexelCopyTextureInfo:
    return webgpu.GpuTexelCopyTextureInfo(
        texture=texture, mip_level=mip, origin=webgpu.GpuOrigin3D(x=x, y=y, z=z), aspect=None
    )


def buffer_binding(
    buffer: webgpu.GpuBuffer, offset: int | None = None, size: int | None = None
) -> webgpu.GpuBindingResource:
    return webgpu.GpuBindingResource_GpuBufferBinding(
        webgpu.GpuBufferBinding(buffer=buffer, offset=offset, size=size)
    )


def shader(device: webgpu.GpuDevice, code: str, label: str | None = None) -> webgpu.GpuShaderModule:
    return device.create_shader_module(
        webgpu.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=label)
    )


def buffer(
    device: webgpu.GpuDevice, size: int, usage: int, label: str | None = None, mapped: bool | None = None
) -> webgpu.GpuBuffer:
    """create-buffer, as asked (`mapped`: mapped at creation)."""
    return device.create_buffer(
        webgpu.GpuBufferDescriptor(size=size, usage=usage, mapped_at_creation=mapped, label=label)
    )


def write_buffer(queue: webgpu.GpuQueue, buffer: webgpu.GpuBuffer, data: bytes, offset: int = 0) -> None:
    """queue.write-buffer in parts of UPLOAD_PART bytes (one big call would trap)."""
    for start in range(0, len(data), UPLOAD_PART):
        part = data[start : start + UPLOAD_PART]
        queue.write_buffer_with_copy(buffer, offset + start, part, None, None)


def writable_buffer(
    device: webgpu.GpuDevice, size: int, usage: int, label: str | None = None, data: bytes | None = None
) -> webgpu.GpuBuffer:
    """A buffer of `size` bytes (rounded up to 4), COPY_DST added, filled with `data` if given."""
    created = buffer(device, (size + 3) & ~3, usage | BU.copy_dst(), label, False)
    if data:
        write_buffer(device.queue(), created, data)
    return created


def texture(
    device: webgpu.GpuDevice,
    width: int,
    height: int,
    usage: int,
    fmt: webgpu.GpuTextureFormat = RGBA8,
    *,
    layers: int = 1,
    mips: int | None = None,
    samples: int | None = None,
    label: str | None = None,
) -> webgpu.GpuTexture:
    """A 2D texture (`layers` array layers)."""
    return device.create_texture(
        webgpu.GpuTextureDescriptor(
            size=extent(width, height, layers), mip_level_count=mips, sample_count=samples, dimension=None,
            format=fmt, usage=usage, view_formats=None, label=label,
        )
    )  # fmt: skip


def bundle_encoder(
    device: webgpu.GpuDevice, colors: int = 1, samples: int | None = None, label: str | None = None
) -> webgpu.GpuRenderBundleEncoder:
    """A render bundle encoder for `colors` RGBA8 attachments and no depth, of `samples` samples
    (None: the default, 1)."""
    return device.create_render_bundle_encoder(
        webgpu.GpuRenderBundleEncoderDescriptor(
            color_formats=[RGBA8] * colors,
            depth_stencil_format=None,
            sample_count=samples,
            depth_read_only=None,
            stencil_read_only=None,
            label=label,
        )
    )


def depth_texture(device: webgpu.GpuDevice, width: int, height: int) -> webgpu.GpuTexture:
    """A DEPTH_FORMAT render attachment of the given size (recreate it when the surface resizes)."""
    return texture(device, width, height, TU.render_attachment(), DEPTH_FORMAT, label="depth")


def write_texture(
    queue: webgpu.GpuQueue, texture: webgpu.GpuTexture, data: bytes, width: int, height: int, bpp: int = 4
) -> None:
    """queue.write-texture of a tightly packed image, in bands of rows (one big call would trap)."""
    row = width * bpp
    rows = max(1, UPLOAD_PART // row)
    for y in range(0, height, rows):
        band = min(rows, height - y)
        queue.write_texture_with_copy(
            texel_copy(texture, 0, y, 0, None),
            data[y * row : (y + band) * row],
            webgpu.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=row, rows_per_image=band),
            extent(width, band),
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
    device: webgpu.GpuDevice,
    layout: webgpu.GpuBindGroupLayout,
    resources: Sequence[Any],
    label: str | None = None,
) -> webgpu.GpuBindGroup:
    """A bind group whose binding i is resources[i]: a whole buffer, a sampler or a texture view."""
    entries = []
    for binding, resource in enumerate(resources):
        if isinstance(resource, webgpu.GpuBuffer):
            wrapped: Any = buffer_binding(resource)
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


def render_descriptor(
    module: webgpu.GpuShaderModule,
    fmt: webgpu.GpuTextureFormat = RGBA8,
    *,
    vertex: str = "vs",
    fragment: str = "fs",
    buffers: list[webgpu.GpuVertexBufferLayout] | None = None,
    primitive: webgpu.GpuPrimitiveState | None = None,
    depth: bool = False,
    depth_write: bool = True,
    samples: int | None = None,
    label: str | None = None,
) -> webgpu.GpuRenderPipelineDescriptor:
    """A pipeline with the `auto` layout and one colour target of `fmt` (no blending).

    `depth` adds a DEPTH_FORMAT depth test (less); `depth_write=False` tests without writing;
    `samples` asks for a multisampled pipeline.
    """
    depth_state = None
    if depth:
        depth_state = webgpu.GpuDepthStencilState(
            format=DEPTH_FORMAT, depth_write_enabled=depth_write,
            depth_compare=webgpu.GpuCompareFunction.LESS, stencil_front=None, stencil_back=None,
            stencil_read_mask=None, stencil_write_mask=None, depth_bias=None, depth_bias_slope_scale=None,
            depth_bias_clamp=None,
        )  # fmt: skip
    multisample = None
    if samples is not None:
        multisample = webgpu.GpuMultisampleState(count=samples, mask=None, alpha_to_coverage_enabled=None)
    return webgpu.GpuRenderPipelineDescriptor(
        vertex=webgpu.GpuVertexState(
            buffers=list(buffers) if buffers else None, module=module, entry_point=vertex, constants=None
        ),
        primitive=primitive, depth_stencil=depth_state, multisample=multisample,
        fragment=webgpu.GpuFragmentState(
            targets=[webgpu.GpuColorTargetState(format=fmt, blend=None, write_mask=None)],
            module=module, entry_point=fragment, constants=None,
        ),
        layout=webgpu.GpuLayoutMode_Auto(), label=label,
    )  # fmt: skip


def render_pipeline(
    device: webgpu.GpuDevice,
    module: webgpu.GpuShaderModule,
    fmt: webgpu.GpuTextureFormat,
    *,
    vertex: str = "vs_main",
    fragment: str = "fs_main",
    cull: webgpu.GpuCullMode | None = None,
    **options: Any,
) -> webgpu.GpuRenderPipeline:
    """A scene's pipeline (entry points `vs_main` and `fs_main` unless named): `render_descriptor`
    with `options` (give it a `label`) and a triangle-list primitive state culling `cull`, created."""
    primitive = webgpu.GpuPrimitiveState(
        topology=None, strip_index_format=None, front_face=None, cull_mode=cull, unclipped_depth=None
    )
    return device.create_render_pipeline(
        render_descriptor(module, fmt, vertex=vertex, fragment=fragment, primitive=primitive, **options)
    )


def compute_descriptor(
    module: webgpu.GpuShaderModule,
    entry: str,
    constants: webgpu.RecordGpuPipelineConstantValue | None = None,
    label: str | None = None,
) -> webgpu.GpuComputePipelineDescriptor:
    return webgpu.GpuComputePipelineDescriptor(
        compute=webgpu.GpuProgrammableStage(module=module, entry_point=entry, constants=constants),
        layout=webgpu.GpuLayoutMode_Auto(),
        label=label,
    )


def compute_pipeline(
    device: webgpu.GpuDevice,
    module: webgpu.GpuShaderModule,
    entry: str,
    constants: webgpu.RecordGpuPipelineConstantValue | None = None,
    label: str | None = None,
) -> webgpu.GpuComputePipeline:
    return device.create_compute_pipeline(compute_descriptor(module, entry, constants, label))


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

# A full-screen triangle (entry points `vs` and `fs`); `fs` writes the override-able colour.
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


def submit(queue: webgpu.GpuQueue, encoder: webgpu.GpuCommandEncoder) -> None:
    """Finish `encoder` and submit its commands alone."""
    queue.submit([encoder.finish(None)])


def begin_pass(
    encoder: webgpu.GpuCommandEncoder,
    view: webgpu.GpuTextureView,
    clear: RGB = (0.0, 0.0, 0.0),
    depth: webgpu.GpuTextureView | None = None,
    *,
    resolve: webgpu.GpuTextureView | None = None,
    occlusion: webgpu.GpuQuerySet | None = None,
    timestamps: webgpu.GpuRenderPassTimestampWrites | None = None,
) -> webgpu.GpuRenderPassEncoder:
    """A render pass clearing `view` to `clear` (alpha 1) and, if given, `depth` to 1.0; both stored.

    `resolve` is the colour attachment's resolve target; `occlusion` and `timestamps` the pass's
    occlusion query set and timestamp writes.
    """
    depth_attachment = None
    if depth is not None:
        depth_attachment = webgpu.GpuRenderPassDepthStencilAttachment(
            view=depth, depth_clear_value=1.0, depth_load_op=webgpu.GpuLoadOp.CLEAR,
            depth_store_op=webgpu.GpuStoreOp.STORE, depth_read_only=None, stencil_clear_value=None,
            stencil_load_op=None, stencil_store_op=None, stencil_read_only=None,
        )  # fmt: skip
    colour = webgpu.GpuRenderPassColorAttachment(
        view=view, depth_slice=None, resolve_target=resolve,
        clear_value=webgpu.GpuColor(r=clear[0], g=clear[1], b=clear[2], a=1.0),
        load_op=webgpu.GpuLoadOp.CLEAR, store_op=webgpu.GpuStoreOp.STORE,
    )  # fmt: skip
    return encoder.begin_render_pass(
        webgpu.GpuRenderPassDescriptor(
            color_attachments=[colour], depth_stencil_attachment=depth_attachment,
            occlusion_query_set=occlusion, timestamp_writes=timestamps, max_draw_count=None, label=None,
        )
    )  # fmt: skip


def compute_pass(
    encoder: webgpu.GpuCommandEncoder,
    pipeline: webgpu.GpuComputePipeline,
    group: webgpu.GpuBindGroup,
    x: int,
    y: int | None = None,
) -> None:
    """Record one compute pass: `pipeline` with `group` at index 0, dispatching x (by y) workgroups."""
    cpass = encoder.begin_compute_pass(None)
    cpass.set_pipeline(pipeline)
    cpass.set_bind_group(0, group, None, None, None)
    cpass.dispatch_workgroups(x, y, None)
    cpass.end()


def dispatch(
    device: webgpu.GpuDevice, code: str, storage: webgpu.GpuBuffer, workgroups: int
) -> webgpu.GpuCommandEncoder:
    """An encoder holding one compute pass: `code`'s `main` over `workgroups` workgroups, with
    `storage` bound at group 0, binding 0. The caller may record more, then finishes and submits."""
    pipeline = compute_pipeline(device, shader(device, code), "main")
    group = bind_group(device, pipeline.get_bind_group_layout(0), [storage])
    encoder = device.create_command_encoder(None)
    compute_pass(encoder, pipeline, group, workgroups)
    return encoder


# --- conformance groups -----------------------------------------------------------------------


class Group:
    """One group of the conformance suite on `device`: every `check` prints one JSON line,
    {"group": G, "check": NAME, "value": VALUE}, or {"group": G, "check": NAME, "error":
    "Class: message"} when the step raised (the suite goes on). `buffer`, `texture`, `shader`,
    `compute_pipeline` and `bind` are the module's functions on its device; `read*` read back."""

    def __init__(self, name: str, device: webgpu.GpuDevice) -> None:
        self.name = name
        self.device = device
        self.queue = device.queue()

    def check(self, name: str, get: Callable[[], object]) -> object:
        try:
            value = get()
            text = json.dumps({"group": self.name, "check": name, "value": value})
        except Exception as error:  # report and go on
            value = None
            text = json.dumps(
                {"group": self.name, "check": name, "error": f"{type(error).__name__}: {error}"}
            )
        print(text, flush=True)
        return value

    def buffer(self, *args: Any, **options: Any) -> webgpu.GpuBuffer:
        return buffer(self.device, *args, **options)

    def buffer_with(self, data: bytes, usage: int) -> webgpu.GpuBuffer:
        return writable_buffer(self.device, len(data), usage, None, data)

    def texture(self, *args: Any, **options: Any) -> webgpu.GpuTexture:
        return texture(self.device, *args, **options)

    def shader(self, code: str, label: str | None = None) -> webgpu.GpuShaderModule:
        return shader(self.device, code, label)

    def encoder(self) -> webgpu.GpuCommandEncoder:
        return self.device.create_command_encoder(None)

    def submit(self, encoder: webgpu.GpuCommandEncoder) -> None:
        submit(self.queue, encoder)

    def compute_pipeline(self, *args: Any) -> webgpu.GpuComputePipeline:
        return compute_pipeline(self.device, *args)

    def bind(self, layout: webgpu.GpuBindGroupLayout, *buffers: webgpu.GpuBuffer) -> webgpu.GpuBindGroup:
        return bind_group(self.device, layout, buffers)

    def dispatch(self, pipeline: webgpu.GpuComputePipeline, group: webgpu.GpuBindGroup, x: int = 1) -> None:
        encoder = self.encoder()
        compute_pass(encoder, pipeline, group, x)
        self.submit(encoder)

    def _mapped(self, out: webgpu.GpuBuffer, encoder: webgpu.GpuCommandEncoder) -> bytes:
        """Submit `encoder` (it copies into `out`), then map `out`, read it all and destroy it."""
        self.submit(encoder)
        out.map_async(webgpu.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        out.destroy()
        return data

    def read(self, source: webgpu.GpuBuffer, size: int, offset: int = 0) -> bytes:
        out = self.buffer(size, BU.map_read() | BU.copy_dst())
        encoder = self.encoder()
        encoder.copy_buffer_to_buffer(source, offset, out, 0, size)
        return self._mapped(out, encoder)

    def read_u32(self, source: webgpu.GpuBuffer, count: int, offset: int = 0) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.read(source, 4 * count, offset)))

    def read_texture(
        self, texture: webgpu.GpuTexture, width: int, height: int, mip: int = 0, layer: int = 0
    ) -> bytes:
        """rgba8 (4 bytes a texel) pixels of one mip level / array layer, rows unpadded."""
        out = self.buffer(256 * height, BU.map_read() | BU.copy_dst())
        encoder = self.encoder()
        encoder.copy_texture_to_buffer(
            texel_copy(texture, 0, 0, layer, mip),
            webgpu.GpuTexelCopyBufferInfo(buffer=out, offset=None, bytes_per_row=256, rows_per_image=height),
            extent(width, height),
        )
        data = self._mapped(out, encoder)
        return b"".join(data[256 * y : 256 * y + 4 * width] for y in range(height))


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
