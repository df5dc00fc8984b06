"""webgpu_probe: calls the wasi:webgpu functions no other guest calls and prints what they return,
so tests/test_coverage.py can compare each value with the truth on the host side (wgpu-py).

Prints one JSON object per line (flushed): {"check": WIT_NAME, "value": VALUE} where WIT_NAME is
the WIT function the value comes from (e.g. "[method]gpu-supported-limits.max-bind-groups");
"of" names the object when one function is asked of several ("adapter", "device", ...). A step
that raised prints {"check": WIT_NAME, "error": "ExceptionClass: message"} and the probe goes on.
Bytes are lowercase hex; texture formats and enum values are WIT spellings ("rgba8unorm", "d2").

What it prints (see the test for the exact expectations):
- every gpu-supported-limits getter, of "adapter" and of "device" (the main device, no limits
  asked) and max-bind-groups of "device2" (asked for max-bind-groups = 5 through a
  record-option-gpu-size64, with the float32-filterable feature);
- record-option-gpu-size64 and record-gpu-pipeline-constant-value method results;
- every [static] flag constant; adapter-info getters of "adapter" and of "device"
  (device.adapter-info); features.has for every gpu-feature-name (WIT spelling) and for
  "no-such-feature", of "adapter" and "device2"; is-fallback-adapter; wgsl-language-features.has;
- ".label": [label given at creation, label after set-label] for every kind of object it makes
  (created with "probe <kind>", relabelled "probe <kind> relabelled"; the queue is made without a
  label, so its first value is "");
- texture getters of an 8x4 rgba8unorm d2 texture with 3 mip levels (usage COPY_SRC | COPY_DST |
  TEXTURE_BINDING), of a 16-wide d1 and a 4x4x2 d3 texture ("of": "d2", "d1", "d3");
- copy-buffer-to-texture: 8x4 texture A filled from a buffer (256-byte rows), pixel (x, y) =
  (16x, 32y, 7, 255), read back (32 bytes a row, unpadded, hex);
- copy-texture-to-texture: A's 4x2 region at origin (4, 2) copied to the origin of a zeroed 8x4
  texture B, B read back the same way;
- clear-buffer: 16 bytes of ff, cleared at offset 4 size 8, read back;
- map-write: a MAP_WRITE buffer mapped for WRITE, 01..08 written, unmapped, copied, read back;
- dispatch-workgroups: [1..8] u32 doubled by a compute shader (workgroup size 4, 2 groups);
- draw-indexed: an 8x8 target cleared to (0, 0, 0, 0); viewport (0, 0, 8, 4) (top half); two
  indexed quads (vertex + index buffers) with a bind group of uniform (g = 0.5), read-only storage
  (b = 0.25), sampled texture (alpha 153/255) and sampler, blend colour = src * constant, blend
  constant (0.5, 1, 1, 1); fragment red is the override constant `red`: 1.0 through the constants
  record for the first pipeline (scissor x 0..3), default 0.0 for the second (scissor x 4..5).
  Value: pixels {"a": (1, 1), "b": (5, 1), "c": (7, 1), "d": (1, 6)} as [r, g, b, a].
Then it clears every frame to red (1, 0, 0) like solid, forever. It never destroys its device.
"""

import json
import struct
from collections.abc import Callable

import wit_world
from gfxkit import clear, next_frame
from wit_world.imports import graphics_context, surface, webgpu

W = webgpu
LIMITS = [
    "max-texture-dimension1-d",
    "max-texture-dimension2-d",
    "max-texture-dimension3-d",
    "max-texture-array-layers",
    "max-bind-groups",
    "max-bind-groups-plus-vertex-buffers",
    "max-bindings-per-bind-group",
    "max-dynamic-uniform-buffers-per-pipeline-layout",
    "max-dynamic-storage-buffers-per-pipeline-layout",
    "max-sampled-textures-per-shader-stage",
    "max-samplers-per-shader-stage",
    "max-storage-buffers-per-shader-stage",
    "max-storage-textures-per-shader-stage",
    "max-uniform-buffers-per-shader-stage",
    "max-uniform-buffer-binding-size",
    "max-storage-buffer-binding-size",
    "min-uniform-buffer-offset-alignment",
    "min-storage-buffer-offset-alignment",
    "max-vertex-buffers",
    "max-buffer-size",
    "max-vertex-attributes",
    "max-vertex-buffer-array-stride",
    "max-inter-stage-shader-variables",
    "max-color-attachments",
    "max-color-attachment-bytes-per-sample",
    "max-compute-workgroup-storage-size",
    "max-compute-invocations-per-workgroup",
    "max-compute-workgroup-size-x",
    "max-compute-workgroup-size-y",
    "max-compute-workgroup-size-z",
    "max-compute-workgroups-per-dimension",
]
FLAGS = {
    "gpu-buffer-usage": (
        W.GpuBufferUsage,
        [
            "MAP-READ",
            "MAP-WRITE",
            "COPY-SRC",
            "COPY-DST",
            "INDEX",
            "VERTEX",
            "UNIFORM",
            "STORAGE",
            "INDIRECT",
            "QUERY-RESOLVE",
        ],
    ),
    "gpu-map-mode": (W.GpuMapMode, ["READ", "WRITE"]),
    "gpu-texture-usage": (
        W.GpuTextureUsage,
        ["COPY-SRC", "COPY-DST", "TEXTURE-BINDING", "STORAGE-BINDING", "RENDER-ATTACHMENT"],
    ),
    "gpu-shader-stage": (W.GpuShaderStage, ["VERTEX", "FRAGMENT", "COMPUTE"]),
    "gpu-color-write": (W.GpuColorWrite, ["RED", "GREEN", "BLUE", "ALPHA", "ALL"]),
}
INFO = ["vendor", "architecture", "device", "description", "subgroup-min-size", "subgroup-max-size"]

COMPUTE = """
@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@compute @workgroup_size(4)
fn double(@builtin(global_invocation_id) id: vec3<u32>) { data[id.x] = data[id.x] * 2u; }
"""
RENDER = """
struct Colour { value: vec4<f32> }
@group(0) @binding(0) var<uniform> u: Colour;
@group(0) @binding(1) var<storage, read> s: Colour;
@group(0) @binding(2) var t: texture_2d<f32>;
@group(0) @binding(3) var samp: sampler;
override red: f32 = 0.0;
@vertex fn vs(@location(0) pos: vec2<f32>) -> @builtin(position) vec4<f32> {\
 return vec4<f32>(pos, 0.0, 1.0); }
@fragment fn fs() -> @location(0) vec4<f32> {
    let texel = textureSample(t, samp, vec2<f32>(0.5, 0.5));
    return vec4<f32>(red, u.value.g, s.value.b, texel.a);
}
"""


def emit(check: str, get: Callable[[], object], of: str | None = None) -> object:
    """Run one probe step and print its line; returns the value (None when it raised)."""
    line: dict[str, object] = {"check": check}
    if of is not None:
        line["of"] = of
    try:
        value = get()
        line["value"] = value
        text = json.dumps(line)
    except Exception as error:
        line.pop("value", None)
        line["error"] = f"{type(error).__name__}: {error}"
        text = json.dumps(line)
        value = None
    print(text, flush=True)
    return value


def wit_enum(value: object) -> str:
    return value.name.lower().replace("_", "-")  # type: ignore[attr-defined]


def some(value: object) -> object:
    """option<option<T>>: absent -> None, present -> {"some": inner} (inner may be None)."""
    return None if value is None else {"some": value.value}  # type: ignore[attr-defined]


def method(name: str) -> str:
    return name.replace("-", "_")


def labels(kind: str, obj: object) -> None:
    """[label at creation, label after set-label] of obj, as `[method]<kind>.label`."""

    def round_trip() -> list[str]:
        first = obj.label()  # type: ignore[attr-defined]
        obj.set_label(f"probe {kind} relabelled")  # type: ignore[attr-defined]
        return [first, obj.label()]  # type: ignore[attr-defined]

    emit(f"[method]{kind}.label", round_trip)


def extent(w: int, h: int = 1, d: int = 1) -> W.GpuExtent3D:
    return W.GpuExtent3D(width=w, height=h, depth_or_array_layers=d)


def texel_copy(texture: W.GpuTexture, x: int = 0, y: int = 0) -> W.GpuTexelCopyTextureInfo:
    return W.GpuTexelCopyTextureInfo(
        texture=texture, mip_level=None, origin=W.GpuOrigin3D(x=x, y=y, z=None), aspect=None
    )


def buffer_copy(buffer: W.GpuBuffer, row: int, rows: int) -> W.GpuTexelCopyBufferInfo:
    return W.GpuTexelCopyBufferInfo(buffer=buffer, offset=None, bytes_per_row=row, rows_per_image=rows)


class Probe:
    def __init__(self, device: W.GpuDevice) -> None:
        self.device = device
        self.queue = device.queue()

    def buffer(self, size: int, usage: int, label: str = "", mapped: bool = False) -> W.GpuBuffer:
        return self.device.create_buffer(
            W.GpuBufferDescriptor(size=size, usage=usage, mapped_at_creation=mapped, label=label or None)
        )

    def texture(
        self,
        size: W.GpuExtent3D,
        usage: int,
        label: str,
        mips: int = 1,
        dimension: W.GpuTextureDimension = W.GpuTextureDimension.D2,
    ) -> W.GpuTexture:
        return self.device.create_texture(
            W.GpuTextureDescriptor(
                size=size,
                mip_level_count=mips,
                sample_count=1,
                dimension=dimension,
                format=W.GpuTextureFormat.RGBA8UNORM,
                usage=usage,
                view_formats=None,
                label=label,
            )
        )

    def encoder(self, label: str | None = None) -> W.GpuCommandEncoder:
        return self.device.create_command_encoder(W.GpuCommandEncoderDescriptor(label=label))

    def submit(self, encoder: W.GpuCommandEncoder) -> None:
        self.queue.submit([encoder.finish(None)])

    def read(self, source: W.GpuBuffer, size: int) -> bytes:
        """Copy `size` bytes of source into a fresh MAP_READ buffer and return them."""
        out = self.buffer(size, W.GpuBufferUsage.map_read() | W.GpuBufferUsage.copy_dst())
        encoder = self.encoder()
        encoder.copy_buffer_to_buffer(source, 0, out, 0, size)
        self.submit(encoder)
        return self.map_read(out)

    def map_read(self, out: W.GpuBuffer) -> bytes:
        out.map_async(W.GpuMapMode.read(), None, None)
        data = bytes(out.get_mapped_range_get_with_copy(None, None))
        out.unmap()
        return data

    def read_texture(self, texture: W.GpuTexture, width: int, height: int) -> bytes:
        """The texture's rgba8 pixels, rows unpadded."""
        out = self.buffer(256 * height, W.GpuBufferUsage.map_read() | W.GpuBufferUsage.copy_dst())
        encoder = self.encoder()
        encoder.copy_texture_to_buffer(
            texel_copy(texture), buffer_copy(out, 256, height), extent(width, height)
        )
        self.submit(encoder)
        data = self.map_read(out)
        return b"".join(data[256 * y : 256 * y + 4 * width] for y in range(height))


def probe_adapter(gpu: W.Gpu, adapter: W.GpuAdapter, device: W.GpuDevice) -> None:
    for of, limits in (("adapter", adapter.limits()), ("device", device.limits())):
        for name in LIMITS:
            emit(f"[method]gpu-supported-limits.{name}", getattr(limits, method(name)), of)
    for of, info in (("adapter", adapter.info()), ("device", device.adapter_info())):
        for name in INFO:
            emit(f"[method]gpu-adapter-info.{name}", getattr(info, method(name)), of)
    names = [wit_enum(f) for f in W.GpuFeatureName] + ["no-such-feature"]
    adapter_features = adapter.features()
    emit("[method]gpu-supported-features.has", lambda: {n: adapter_features.has(n) for n in names}, "adapter")
    device_features = device.features()
    emit("[method]gpu-supported-features.has", lambda: {n: device_features.has(n) for n in names}, "device")
    emit("[method]gpu-adapter.is-fallback-adapter", adapter.is_fallback_adapter)
    wgsl = gpu.wgsl_language_features()
    emit(
        "[method]wgsl-language-features.has",
        lambda: {
            n: wgsl.has(n)
            for n in (
                "readonly_and_readwrite_storage_textures",
                "packed_4x8_integer_dot_product",
                "unrestricted_pointer_parameters",
                "pointer_composite_access",
            )
        },
    )
    for resource, (cls, flags) in FLAGS.items():
        for flag in flags:
            emit(f"[static]{resource}.{flag}", getattr(cls, flag.lower().replace("-", "_")))

    # required-limits through a record-option-gpu-size64, on a second device destroyed at once
    limits = W.RecordOptionGpuSize64()
    limits.add("max-bind-groups", 5)
    limits.add("max-texture-dimension2-d", None)
    limits.add("max-vertex-buffers", 9)
    emit("[method]record-option-gpu-size64.has", lambda: [limits.has("max-bind-groups"), limits.has("nope")])
    emit(
        "[method]record-option-gpu-size64.get",
        lambda: [some(limits.get(k)) for k in ("max-bind-groups", "max-texture-dimension2-d", "nope")],
    )
    emit(
        "[method]record-option-gpu-size64.remove",
        lambda: [limits.remove("max-vertex-buffers"), limits.keys()][1],
    )
    emit("[method]record-option-gpu-size64.keys", limits.keys)
    emit("[method]record-option-gpu-size64.values", limits.values)
    emit("[method]record-option-gpu-size64.entries", lambda: [list(e) for e in limits.entries()])
    limits.remove("max-texture-dimension2-d")
    descriptor = W.GpuDeviceDescriptor(
        required_features=[W.GpuFeatureName.FLOAT32_FILTERABLE],
        required_limits=limits,
        default_queue=None,
        label="probe gpu-device 2",
    )
    made: list[W.GpuDevice] = []
    emit(
        "[method]gpu-adapter.request-device",
        lambda: [made.append(adapter.request_device(descriptor)), "ok"][1],
        "device2",
    )
    if not made:
        return
    device2 = made[0]
    emit("[method]gpu-supported-limits.max-bind-groups", device2.limits().max_bind_groups, "device2")
    features2 = device2.features()
    emit("[method]gpu-supported-features.has", lambda: {n: features2.has(n) for n in names}, "device2")
    emit("[method]gpu-device.label", device2.label, "device2")
    emit("[method]gpu-device.destroy", lambda: [device2.destroy(), "ok"][1])


def probe_textures(p: Probe) -> None:
    usage = W.GpuTextureUsage
    d2 = p.texture(
        extent(8, 4), usage.copy_src() | usage.copy_dst() | usage.texture_binding(), "probe gpu-texture", 3
    )
    d1 = p.texture(extent(16), usage.copy_dst(), "d1", 1, W.GpuTextureDimension.D1)
    d3 = p.texture(extent(4, 4, 2), usage.copy_dst(), "d3", 1, W.GpuTextureDimension.D3)
    for of, t in (("d2", d2), ("d1", d1), ("d3", d3)):
        for name in ("width", "height", "depth-or-array-layers", "mip-level-count", "sample-count", "usage"):
            emit(f"[method]gpu-texture.{name}", getattr(t, method(name)), of)
        emit("[method]gpu-texture.dimension", lambda t=t: wit_enum(t.dimension()), of)
        emit("[method]gpu-texture.format", lambda t=t: wit_enum(t.format()), of)
    labels("gpu-texture", d2)
    view = d2.create_view(
        W.GpuTextureViewDescriptor(
            format=None,
            dimension=None,
            usage=None,
            aspect=None,
            base_mip_level=1,
            mip_level_count=1,
            base_array_layer=None,
            array_layer_count=None,
            label="probe gpu-texture-view",
        )
    )
    labels("gpu-texture-view", view)

    # copy-buffer-to-texture, then copy-texture-to-texture of a region with an origin
    a = p.texture(extent(8, 4), usage.copy_src() | usage.copy_dst(), "A")
    b = p.texture(extent(8, 4), usage.copy_src() | usage.copy_dst(), "B")
    source = p.buffer(1024, W.GpuBufferUsage.copy_src(), "pixels", mapped=True)
    rows = b"".join(
        bytes(v for x in range(8) for v in (16 * x, 32 * y, 7, 255)).ljust(256, b"\0") for y in range(4)
    )
    source.get_mapped_range_set_with_copy(rows, None, None)
    source.unmap()

    def buffer_to_texture() -> str:
        encoder = p.encoder()
        encoder.copy_buffer_to_texture(buffer_copy(source, 256, 4), texel_copy(a), extent(8, 4))
        p.submit(encoder)
        return p.read_texture(a, 8, 4).hex()

    def texture_to_texture() -> str:
        encoder = p.encoder()
        encoder.copy_texture_to_texture(texel_copy(a, 4, 2), texel_copy(b), extent(4, 2))
        p.submit(encoder)
        return p.read_texture(b, 8, 4).hex()

    emit("[method]gpu-command-encoder.copy-buffer-to-texture", buffer_to_texture)
    emit("[method]gpu-command-encoder.copy-texture-to-texture", texture_to_texture)


def probe_buffers(p: Probe) -> None:
    bu = W.GpuBufferUsage
    buf = p.buffer(16, bu.map_read() | bu.copy_dst(), "probe gpu-buffer")
    labels("gpu-buffer", buf)

    def clear() -> str:
        p.queue.write_buffer_with_copy(buf, 0, b"\xff" * 16, None, None)
        encoder = p.encoder()
        encoder.clear_buffer(buf, 4, 8)
        p.submit(encoder)
        return p.map_read(buf).hex()

    emit("[method]gpu-command-encoder.clear-buffer", clear)

    def map_write() -> str:
        up = p.buffer(8, bu.map_write() | bu.copy_src(), "upload")
        up.map_async(W.GpuMapMode.write(), None, None)
        up.get_mapped_range_set_with_copy(bytes(range(1, 9)), None, None)
        up.unmap()
        return p.read(up, 8).hex()

    emit("[method]gpu-buffer.map-async", map_write, "map-write")
    doomed = p.buffer(4, bu.copy_dst(), "doomed")
    emit("[method]gpu-buffer.destroy", lambda: [doomed.destroy(), "ok"][1])


def probe_compute(p: Probe) -> None:
    module = p.device.create_shader_module(
        W.GpuShaderModuleDescriptor(code=COMPUTE, compilation_hints=None, label="probe gpu-shader-module")
    )
    labels("gpu-shader-module", module)
    emit("[method]gpu-compilation-info.messages", lambda: len(module.get_compilation_info().messages()))
    pipeline = p.device.create_compute_pipeline(
        W.GpuComputePipelineDescriptor(
            compute=W.GpuProgrammableStage(module=module, entry_point="double", constants=None),
            layout=W.GpuLayoutMode_Auto(),
            label="probe gpu-compute-pipeline",
        )
    )
    labels("gpu-compute-pipeline", pipeline)
    bu = W.GpuBufferUsage
    data = p.buffer(32, bu.storage() | bu.copy_src() | bu.copy_dst(), "data")
    p.queue.write_buffer_with_copy(data, 0, struct.pack("<8I", *range(1, 9)), None, None)
    entry = W.GpuBindGroupEntry(
        binding=0,
        resource=W.GpuBindingResource_GpuBufferBinding(
            W.GpuBufferBinding(buffer=data, offset=None, size=None)
        ),
    )
    layout = pipeline.get_bind_group_layout(0)
    group = p.device.create_bind_group(
        W.GpuBindGroupDescriptor(layout=layout, entries=[entry], label="compute")
    )

    def dispatch() -> list[int]:
        encoder = p.encoder("probe gpu-command-encoder")
        labels("gpu-command-encoder", encoder)
        encoder.push_debug_group("probe encoder group")
        encoder.insert_debug_marker("probe encoder marker")
        cpass = encoder.begin_compute_pass(
            W.GpuComputePassDescriptor(label="probe gpu-compute-pass-encoder", timestamp_writes=None)
        )
        labels("gpu-compute-pass-encoder", cpass)
        cpass.push_debug_group("probe compute group")
        cpass.insert_debug_marker("probe compute marker")
        cpass.set_pipeline(pipeline)
        cpass.set_bind_group(0, group, None, None, None)
        cpass.dispatch_workgroups(2, None, None)
        cpass.pop_debug_group()
        cpass.end()
        encoder.pop_debug_group()
        commands = encoder.finish(W.GpuCommandBufferDescriptor(label="probe gpu-command-buffer"))
        labels("gpu-command-buffer", commands)
        p.queue.submit([commands])
        emit("[method]gpu-queue.on-submitted-work-done", lambda: [p.queue.on_submitted_work_done(), "ok"][1])
        return list(struct.unpack("<8I", p.read(data, 32)))

    emit("[method]gpu-compute-pass-encoder.dispatch-workgroups", dispatch)


def probe_render(p: Probe) -> None:
    device, bu, tu = p.device, W.GpuBufferUsage, W.GpuTextureUsage
    sampler = device.create_sampler(
        W.GpuSamplerDescriptor(
            address_mode_u=None,
            address_mode_v=None,
            address_mode_w=None,
            mag_filter=W.GpuFilterMode.LINEAR,
            min_filter=W.GpuFilterMode.LINEAR,
            mipmap_filter=None,
            lod_min_clamp=None,
            lod_max_clamp=None,
            compare=None,
            max_anisotropy=None,
            label="probe gpu-sampler",
        )
    )
    labels("gpu-sampler", sampler)
    device.create_sampler(None)
    texture = p.texture(extent(2, 2), tu.texture_binding() | tu.copy_dst(), "sampled")
    p.queue.write_texture_with_copy(
        texel_copy(texture),
        bytes([0, 0, 0, 153]) * 4,
        W.GpuTexelCopyBufferLayout(offset=None, bytes_per_row=8, rows_per_image=2),
        extent(2, 2),
    )
    uniform = p.buffer(16, bu.uniform() | bu.copy_dst(), "uniform")
    p.queue.write_buffer_with_copy(uniform, 0, struct.pack("<4f", 0.0, 0.5, 0.0, 0.0), None, None)
    storage = p.buffer(16, bu.storage() | bu.copy_dst(), "storage")
    p.queue.write_buffer_with_copy(storage, 0, struct.pack("<4f", 0.0, 0.0, 0.25, 0.0), None, None)
    vertices = p.buffer(32, bu.vertex() | bu.copy_dst(), "vertices")
    p.queue.write_buffer_with_copy(vertices, 0, struct.pack("<8f", -1, -1, 1, -1, -1, 1, 1, 1), None, None)
    indices = p.buffer(12, bu.index() | bu.copy_dst(), "indices")
    p.queue.write_buffer_with_copy(indices, 0, struct.pack("<6H", 0, 1, 2, 2, 1, 3), None, None)

    stage = W.GpuShaderStage

    def entry(binding: int, **kind: object) -> W.GpuBindGroupLayoutEntry:
        fields = {"buffer": None, "sampler": None, "texture": None, "storage_texture": None, **kind}
        return W.GpuBindGroupLayoutEntry(
            binding=binding, visibility=stage.vertex() | stage.fragment(), **fields
        )

    bgl = device.create_bind_group_layout(
        W.GpuBindGroupLayoutDescriptor(
            entries=[
                entry(
                    0,
                    buffer=W.GpuBufferBindingLayout(
                        type=W.GpuBufferBindingType.UNIFORM, has_dynamic_offset=None, min_binding_size=None
                    ),
                ),
                entry(
                    1,
                    buffer=W.GpuBufferBindingLayout(
                        type=W.GpuBufferBindingType.READ_ONLY_STORAGE,
                        has_dynamic_offset=None,
                        min_binding_size=None,
                    ),
                ),
                entry(
                    2,
                    texture=W.GpuTextureBindingLayout(
                        sample_type=W.GpuTextureSampleType.FLOAT,
                        view_dimension=W.GpuTextureViewDimension.D2,
                        multisampled=None,
                    ),
                ),
                entry(3, sampler=W.GpuSamplerBindingLayout(type=W.GpuSamplerBindingType.FILTERING)),
            ],
            label="probe gpu-bind-group-layout",
        )
    )
    labels("gpu-bind-group-layout", bgl)
    group = device.create_bind_group(
        W.GpuBindGroupDescriptor(
            layout=bgl,
            label="probe gpu-bind-group",
            entries=[
                W.GpuBindGroupEntry(
                    binding=0,
                    resource=W.GpuBindingResource_GpuBufferBinding(
                        W.GpuBufferBinding(buffer=uniform, offset=None, size=None)
                    ),
                ),
                W.GpuBindGroupEntry(
                    binding=1,
                    resource=W.GpuBindingResource_GpuBufferBinding(
                        W.GpuBufferBinding(buffer=storage, offset=None, size=16)
                    ),
                ),
                W.GpuBindGroupEntry(
                    binding=2, resource=W.GpuBindingResource_GpuTextureView(texture.create_view(None))
                ),
                W.GpuBindGroupEntry(binding=3, resource=W.GpuBindingResource_GpuSampler(sampler)),
            ],
        )
    )
    labels("gpu-bind-group", group)
    playout = device.create_pipeline_layout(
        W.GpuPipelineLayoutDescriptor(bind_group_layouts=[bgl], label="probe gpu-pipeline-layout")
    )
    labels("gpu-pipeline-layout", playout)
    module = device.create_shader_module(
        W.GpuShaderModuleDescriptor(code=RENDER, compilation_hints=None, label=None)
    )

    constants = W.RecordGpuPipelineConstantValue()
    constants.add("red", 1.0)
    constants.add("unused", 3.5)
    emit(
        "[method]record-gpu-pipeline-constant-value.has",
        lambda: [constants.has("red"), constants.has("nope")],
    )
    emit(
        "[method]record-gpu-pipeline-constant-value.get",
        lambda: [constants.get("unused"), constants.get("nope")],
    )
    emit("[method]record-gpu-pipeline-constant-value.keys", constants.keys)
    emit("[method]record-gpu-pipeline-constant-value.values", constants.values)
    emit("[method]record-gpu-pipeline-constant-value.entries", lambda: [list(e) for e in constants.entries()])
    emit(
        "[method]record-gpu-pipeline-constant-value.remove",
        lambda: [constants.remove("unused"), constants.keys()][1],
    )

    blend = W.GpuBlendState(
        color=W.GpuBlendComponent(
            operation=W.GpuBlendOperation.ADD,
            src_factor=W.GpuBlendFactor.CONSTANT,
            dst_factor=W.GpuBlendFactor.ZERO,
        ),
        alpha=W.GpuBlendComponent(
            operation=W.GpuBlendOperation.ADD,
            src_factor=W.GpuBlendFactor.ONE,
            dst_factor=W.GpuBlendFactor.ZERO,
        ),
    )
    layout = W.GpuVertexBufferLayout(
        array_stride=8,
        step_mode=W.GpuVertexStepMode.VERTEX,
        attributes=[W.GpuVertexAttribute(format=W.GpuVertexFormat.FLOAT32X2, offset=0, shader_location=0)],
    )

    def pipeline(consts: W.RecordGpuPipelineConstantValue | None, label: str) -> W.GpuRenderPipeline:
        return device.create_render_pipeline(
            W.GpuRenderPipelineDescriptor(
                vertex=W.GpuVertexState(buffers=[layout], module=module, entry_point="vs", constants=None),
                primitive=W.GpuPrimitiveState(
                    topology=W.GpuPrimitiveTopology.TRIANGLE_LIST,
                    strip_index_format=None,
                    front_face=None,
                    cull_mode=None,
                    unclipped_depth=None,
                ),
                depth_stencil=None,
                multisample=None,
                fragment=W.GpuFragmentState(
                    module=module,
                    entry_point="fs",
                    constants=consts,
                    targets=[
                        W.GpuColorTargetState(
                            format=W.GpuTextureFormat.RGBA8UNORM,
                            blend=blend,
                            write_mask=W.GpuColorWrite.all(),
                        )
                    ],
                ),
                layout=W.GpuLayoutMode_Specific(playout),
                label=label,
            )
        )

    with_red = pipeline(constants, "probe gpu-render-pipeline")
    labels("gpu-render-pipeline", with_red)
    default_red = pipeline(None, "default red")
    target = p.texture(extent(8, 8), tu.render_attachment() | tu.copy_src(), "target")

    def draw() -> dict[str, list[int]]:
        encoder = p.encoder()
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
                label="probe gpu-render-pass-encoder",
            )
        )
        labels("gpu-render-pass-encoder", rpass)
        rpass.push_debug_group("probe render group")
        rpass.insert_debug_marker("probe render marker")
        rpass.set_viewport(0.0, 0.0, 8.0, 4.0, 0.0, 1.0)
        rpass.set_blend_constant(W.GpuColor(r=0.5, g=1.0, b=1.0, a=1.0))
        rpass.set_stencil_reference(7)
        rpass.set_vertex_buffer(0, vertices, None, None)
        rpass.set_index_buffer(indices, W.GpuIndexFormat.UINT16, None, None)
        rpass.set_bind_group(0, group, None, None, None)
        rpass.set_pipeline(with_red)
        rpass.set_scissor_rect(0, 0, 4, 8)
        rpass.draw_indexed(6, None, None, None, None)
        rpass.set_pipeline(default_red)
        rpass.set_scissor_rect(4, 0, 2, 8)
        rpass.draw_indexed(6, 1, 0, 0, 0)
        rpass.pop_debug_group()
        rpass.end()
        p.submit(encoder)
        pixels = p.read_texture(target, 8, 8)
        at = {"a": (1, 1), "b": (5, 1), "c": (7, 1), "d": (1, 6)}
        return {k: list(pixels[4 * (8 * y + x) : 4 * (8 * y + x) + 4]) for k, (x, y) in at.items()}

    emit("[method]gpu-render-pass-encoder.draw-indexed", draw)


class WitWorld(wit_world.WitWorld):
    def start(self) -> None:
        gpu = W.get_gpu()
        adapter = gpu.request_adapter(None)
        assert adapter is not None, "no GPU adapter"
        device = adapter.request_device(
            W.GpuDeviceDescriptor(
                required_features=None, required_limits=None, default_queue=None, label="probe gpu-device"
            )
        )
        labels("gpu-device", device)
        probe = Probe(device)
        labels("gpu-queue", probe.queue)
        for step in (probe_adapter, probe_textures, probe_buffers, probe_compute, probe_render):
            try:
                step(*((gpu, adapter, device) if step is probe_adapter else (probe,)))
            except Exception as error:
                print(
                    json.dumps({"check": step.__name__, "error": f"{type(error).__name__}: {error}"}),
                    flush=True,
                )
        print(json.dumps({"check": "done", "value": True}), flush=True)

        canvas = surface.Surface(surface.CreateDesc(height=None, width=None))
        context = graphics_context.Context()
        device.connect_graphics_context(context)
        canvas.connect_graphics_context(context)
        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
