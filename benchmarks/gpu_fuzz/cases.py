"""Every abort (and host failure) the fuzzer found, as a call script the `gpu_fuzz` guest replays.

Each case makes its misuse inside a validation error scope, or where the WIT has an `err`, shows
it; `expected` is what the guest must be told. Before the fix, each of these killed the process
(wgpu-native aborted it) or ended the guest with a host failure. tests/test_gpu_fuzz.py runs them
all in one child process, which must live through them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .script import Op, Script, data, enum, rec, ref

__all__ = ["CASES", "Case"]

MAP_READ, COPY_DST, VERTEX, STORAGE = 1, 8, 32, 128
RENDER_ATTACHMENT, TEXTURE_BINDING = 16, 4


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Script, int, int], None]  # (script, device, queue)
    expected: tuple[str, ...]  # what the shown values say, in order

    def script(self) -> list[Op]:
        script = Script()
        device, queue = script.device()
        self.build(script, device, queue)
        return script.ops


def _buffer(s: Script, device: int, usage: int, size: int = 64) -> int:
    return s.call(device, "create_buffer", rec("GpuBufferDescriptor", size=size, usage=usage))


def _texture(s: Script, device: int, layers: int = 1) -> int:
    size = rec("GpuExtent3D", width=4, height=4, depth_or_array_layers=layers)
    fmt = enum("GpuTextureFormat", "RGBA8UNORM")
    return s.call(
        device, "create_texture", rec("GpuTextureDescriptor", size=size, format=fmt, usage=TEXTURE_BINDING)
    )


def submit_twice_in_one_list(s: Script, device: int, queue: int) -> None:
    command_buffer = s.call(s.call(device, "create_command_encoder", None), "finish", None)
    s.error_scope(
        device, lambda: s.call(queue, "submit", [ref(command_buffer), ref(command_buffer)], out=False)
    )


def map_mode(mode: int) -> Callable[[Script, int, int], None]:
    def build(s: Script, device: int, _queue: int) -> None:
        buffer = _buffer(s, device, MAP_READ | COPY_DST)
        s.call(buffer, "map_async", mode, None, None, out=False, show=True)

    return build


def buffer_usage_bit31(s: Script, device: int, _queue: int) -> None:
    s.error_scope(device, lambda: _buffer(s, device, 1 << 31))


def texture_usage_bit5(s: Script, device: int, _queue: int) -> None:
    size = rec("GpuExtent3D", width=4, height=4)
    desc = rec("GpuTextureDescriptor", size=size, format=enum("GpuTextureFormat", "RGBA8UNORM"), usage=0x20)
    s.error_scope(device, lambda: s.call(device, "create_texture", desc))


def visibility_all_bits(s: Script, device: int, _queue: int) -> None:
    entry = rec(
        "GpuBindGroupLayoutEntry", binding=0, visibility=0xFFFFFFFF, buffer=rec("GpuBufferBindingLayout")
    )
    desc = rec("GpuBindGroupLayoutDescriptor", entries=[entry])
    s.error_scope(device, lambda: s.call(device, "create_bind_group_layout", desc))


def write_mask_all_bits(s: Script, device: int, _queue: int) -> None:
    code = (
        "@vertex fn vs() -> @builtin(position) vec4f { return vec4f(); }\n"
        "@fragment fn fs() -> @location(0) vec4f { return vec4f(); }\n"
    )
    module = s.call(device, "create_shader_module", rec("GpuShaderModuleDescriptor", code=code))
    target = rec("GpuColorTargetState", format=enum("GpuTextureFormat", "RGBA8UNORM"), write_mask=0xFFFFFFFF)
    desc = rec(
        "GpuRenderPipelineDescriptor",
        vertex=rec("GpuVertexState", module=ref(module), entry_point="vs"),
        fragment=rec("GpuFragmentState", module=ref(module), entry_point="fs", targets=[target]),
        layout=rec("GpuLayoutMode_Auto"),
    )
    s.error_scope(device, lambda: s.call(device, "create_render_pipeline", desc))


def view_past_the_mips(s: Script, device: int, _queue: int) -> None:
    texture = _texture(s, device)
    desc = rec("GpuTextureViewDescriptor", base_mip_level=1)
    s.error_scope(device, lambda: s.call(texture, "create_view", desc))


def view_past_the_layers(s: Script, device: int, _queue: int) -> None:
    texture = _texture(s, device, layers=2)
    dimension = enum("GpuTextureViewDimension", "D2_ARRAY")
    desc = rec("GpuTextureViewDescriptor", dimension=dimension, base_array_layer=1 << 31)
    s.error_scope(device, lambda: s.call(texture, "create_view", desc))


def unmap_destroyed(s: Script, device: int, _queue: int) -> None:
    buffer = _buffer(s, device, MAP_READ | COPY_DST)
    s.call(buffer, "destroy", out=False)
    s.call(buffer, "unmap", out=False, show=True)


def bind_group_offsets_out_of_range(s: Script, device: int, _queue: int) -> None:
    code = (
        "@group(0) @binding(0) var<storage, read_write> data: array<u32>;\n"
        "@compute @workgroup_size(1) fn main() { data[0] = 1u; }\n"
    )
    module = s.call(device, "create_shader_module", rec("GpuShaderModuleDescriptor", code=code))
    stage = rec("GpuProgrammableStage", module=ref(module), entry_point="main")
    pipeline = s.call(
        device,
        "create_compute_pipeline",
        rec("GpuComputePipelineDescriptor", compute=stage, layout=rec("GpuLayoutMode_Auto")),
    )
    layout = s.call(pipeline, "get_bind_group_layout", 0)
    binding = rec("GpuBufferBinding", buffer=ref(_buffer(s, device, STORAGE)))
    entry = rec(
        "GpuBindGroupEntry", binding=0, resource=rec("GpuBindingResource_GpuBufferBinding", value=binding)
    )
    group = s.call(
        device, "create_bind_group", rec("GpuBindGroupDescriptor", layout=ref(layout), entries=[entry])
    )
    compute_pass = s.call(s.call(device, "create_command_encoder", None), "begin_compute_pass", None)
    s.call(compute_pass, "set_bind_group", 0, ref(group), [0, 0], 1 << 32, None, out=False, show=True)


def write_past_the_data(s: Script, device: int, queue: int) -> None:
    buffer = _buffer(s, device, COPY_DST)
    s.call(queue, "write_buffer_with_copy", ref(buffer), 0, data(8), 16, None, out=False, show=True)


def failed_map_leaves_it_unmapped(s: Script, device: int, queue: int) -> None:
    buffer = _buffer(s, device, COPY_DST | 4)  # COPY_SRC, no MAP usage: the mapping fails
    s.call(buffer, "map_async", MAP_READ, None, None, out=False, show=True)
    s.call(buffer, "map_state", out=False, show=True)
    s.call(buffer, "unmap", out=False, show=True)
    encoder = s.call(device, "create_command_encoder", None)
    s.call(
        encoder, "copy_buffer_to_buffer", ref(buffer), 0, ref(_buffer(s, device, COPY_DST)), 0, 4, out=False
    )
    command_buffer = s.call(encoder, "finish", None)
    s.error_scope(device, lambda: s.call(queue, "submit", [ref(command_buffer)], out=False))


def null_bind_group_layout(s: Script, device: int, _queue: int) -> None:
    desc = rec("GpuPipelineLayoutDescriptor", bind_group_layouts=[None])
    s.error_scope(device, lambda: s.call(device, "create_pipeline_layout", desc))


def min_binding_size_max(s: Script, device: int, _queue: int) -> None:
    layout = rec("GpuBufferBindingLayout", min_binding_size=(1 << 64) - 1)
    entry = rec("GpuBindGroupLayoutEntry", binding=0, visibility=2, buffer=layout)
    desc = rec("GpuBindGroupLayoutDescriptor", entries=[entry])
    s.error_scope(device, lambda: s.call(device, "create_bind_group_layout", desc))


def required_limit_past_32_bits(s: Script, device: int, _queue: int) -> None:
    limits = s.call({"k": "RecordOptionGpuSize64"}, None)
    s.call(limits, "add", "max-bind-groups", 1 << 40, out=False)
    adapter = s.call(s.call({"m": "webgpu"}, "get_gpu"), "request_adapter", None)
    s.call(adapter, "request_device", rec("GpuDeviceDescriptor", required_limits=ref(limits)), show=True)


def mapped_range_of_a_destroyed_device(s: Script, device: int, _queue: int) -> None:
    desc = rec("GpuBufferDescriptor", size=4096, usage=512, mapped_at_creation=True)
    buffer = s.call(device, "create_buffer", desc)
    s.call(device, "destroy", out=False)
    gpu = s.call({"m": "webgpu"}, "get_gpu")
    s.call(
        gpu, "request_adapter", rec("GpuRequestAdapterOptions", force_fallback_adapter=True)
    )  # wgpu tidies up
    s.call(buffer, "get_mapped_range_set_with_copy", data(4, 1), None, None, out=False, show=True)
    s.call(buffer, "get_mapped_range_get_with_copy", None, None, out=False, show=True)


def bundle_with_a_mapped_vertex_buffer(s: Script, device: int, _queue: int) -> None:
    rgba8 = enum("GpuTextureFormat", "RGBA8UNORM")
    desc = rec("GpuRenderBundleEncoderDescriptor", color_formats=[rgba8])
    encoder = s.call(device, "create_render_bundle_encoder", desc)
    desc = rec("GpuBufferDescriptor", size=256, usage=VERTEX, mapped_at_creation=True)
    buffer = s.call(device, "create_buffer", desc)
    s.call(encoder, "set_vertex_buffer", 0, ref(buffer), None, None, out=False)
    s.call(encoder, "finish", None)
    s.call(buffer, "map_state", out=False, show=True)


CASES = (
    Case(
        "submit_twice_in_one_list",
        submit_twice_in_one_list,
        ("a command buffer appears twice in one submit",),
    ),
    Case("map_mode_0", map_mode(0), ("map mode 0 is not READ (1) or WRITE (2)",)),
    Case("map_mode_3", map_mode(3), ("map mode 3 is not READ (1) or WRITE (2)",)),
    Case("map_mode_all_bits", map_mode(0xFFFFFFFF), ("map mode 4294967295 is not READ (1) or WRITE (2)",)),
    Case(
        "buffer_usage_bit31",
        buffer_usage_bit31,
        ("gpu-buffer usage 0x80000000 has bits WebGPU does not define (0x80000000)",),
    ),
    Case(
        "texture_usage_bit5",
        texture_usage_bit5,
        ("gpu-texture usage 0x20 has bits WebGPU does not define (0x20)",),
    ),
    Case(
        "visibility_all_bits",
        visibility_all_bits,
        ("visibility 0xffffffff has bits WebGPU does not define (0xfffffff8)",),
    ),
    Case(
        "write_mask_all_bits",
        write_mask_all_bits,
        ("write-mask 0xffffffff has bits WebGPU does not define (0xfffffff0)",),
    ),
    Case("view_past_the_mips", view_past_the_mips, ("base-mip-level 1 is past the texture's 1 mip levels",)),
    Case(
        "view_past_the_layers",
        view_past_the_layers,
        ("base-array-layer 2147483648 is past the texture's 2 array layers",),
    ),
    Case("unmap_destroyed", unmap_destroyed, ("the buffer was destroyed",)),
    Case(
        "bind_group_offsets_out_of_range", bind_group_offsets_out_of_range, ("dynamic offsets 4294967296+",)
    ),
    Case("write_past_the_data", write_past_the_data, ("data-offset/size exceed the data",)),
    Case(
        "min_binding_size_max",
        min_binding_size_max,
        ("min-binding-size 18446744073709551615 is larger than any buffer",),
    ),
    # Found by the long run (seed 2026, episodes 1299 and 2895), shrunk from 70 calls to these.
    Case(
        "mapped_range_of_a_destroyed_device",
        mapped_range_of_a_destroyed_device,
        ("the buffer's gpu-device was destroyed or lost",) * 2,
    ),
    # A host failure: wgpu-py's OverflowError.
    Case("required_limit_past_32_bits", required_limit_past_32_bits, ("does not fit",)),
    # A host failure: wgpu-py 0.32 fails on None; WebGPU takes it for an empty layout.
    Case("null_bind_group_layout", null_bind_group_layout, ("None",)),
    # Found by the generator's whole bundles (seed 2029) with the host's guard taken out: the
    # bundle's check pass was submitted with its vertex buffer still mapped.
    Case("bundle_with_a_mapped_vertex_buffer", bundle_with_a_mapped_vertex_buffer, (".MAPPED",)),
    # Not an abort: the buffer stayed `pending`, so unmap ended the guest and submits were refused.
    Case(
        "failed_map_leaves_it_unmapped",
        failed_map_leaves_it_unmapped,
        ("MAP_READ", "UNMAPPED", "None", "None"),
    ),
)
