"""shaders: compilation info (naga's location parsed), pipeline constants by effect, async creation."""

from componentize_py_types import Err
from gfxkit import BU, Group, buffer_binding, compute_descriptor, err_kind, render_descriptor, wit_enum
from wit_world.imports import webgpu as W

# The error is `undefined_name` on line 4: the test finds its line, column and offset in this text.
BAD = """@compute @workgroup_size(1)
fn main() {
    let x: u32 = 1u;
    let y = x + undefined_name;
}
"""
# The WGSL text of a validation (not parsing) error: a uniform array of stride 4. naga points at
# the `var<uniform>` declaration on line 2.
INVALID = """@compute @workgroup_size(1) fn main() {}
@group(0) @binding(0) var<uniform> u: array<f32, 4>;
fn f() -> f32 { return u[0]; }
"""
# WGSL language features, each with a shader of this guest's own that needs it (other shaders than
# the host's probes in gpu_host/webgpu/wgsl_features.py): `has` must agree with what compiles.
LANGUAGE = {
    "readonly_and_readwrite_storage_textures": (
        "@group(0) @binding(0) var t: texture_storage_2d<rgba8unorm, read>;\n"
        "@compute @workgroup_size(1) fn main() { _ = textureLoad(t, vec2<u32>(0u)); }"
    ),
    "packed_4x8_integer_dot_product": "fn f() -> i32 { return dot4I8Packed(0x01020304u, 0x01010101u); }",
    "unrestricted_pointer_parameters": (
        "var<workgroup> w: u32;\nfn f(p: ptr<workgroup, u32>) { *p = 2u; }\n"
        "@compute @workgroup_size(1) fn main() { f(&w); }"
    ),
    "pointer_composite_access": (
        "struct S { a: f32, b: vec2<f32> }\nfn f() -> f32 { var s: S; let p = &s; return p.b.y; }"
    ),
    "uniform_buffer_standard_layout": (
        "struct S { a: array<u32, 2> }\n@group(0) @binding(0) var<uniform> u: S;\n"
        "@compute @workgroup_size(1) fn main() { _ = u.a[1]; }"
    ),
    "texture_and_sampler_let": (
        "@group(0) @binding(0) var s: sampler;\n@group(0) @binding(1) var t: texture_2d<f32>;\n"
        "@fragment fn main() -> @location(0) vec4<f32> { let x = s; "
        "return textureSample(t, x, vec2<f32>(0.5)); }"
    ),
    "texture_formats_tier1": (
        "@group(0) @binding(0) var t: texture_storage_2d<rg8unorm, write>;\n"
        "@compute @workgroup_size(1) fn main() { textureStore(t, vec2<i32>(0), vec4<f32>(0.0)); }"
    ),
}
CONSTANTS = """
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
override k: u32 = 1u;
override scale: f32 = 2.0;
@compute @workgroup_size(1)
fn main() { out[0] = k; out[1] = u32(scale * 10.0); }
"""


def messages(module: W.GpuShaderModule) -> list[dict[str, object]]:
    return [
        {
            "type": wit_enum(m.type()),
            "message": m.message(),
            "line_num": m.line_num(),
            "line_pos": m.line_pos(),
            "offset": m.offset(),
            "length": m.length(),
        }
        for m in module.get_compilation_info().messages()
    ]


def run(device: W.GpuDevice) -> None:
    g = Group("shaders", device)
    good = g.shader(CONSTANTS, label="constants")
    g.check("valid-module-messages", lambda: messages(good))

    def bad_module() -> dict[str, object]:
        device.push_error_scope(W.GpuErrorFilter.VALIDATION)
        module = g.shader(BAD)
        error = device.pop_error_scope()
        return {"code": BAD, "popped": error is not None, "messages": messages(module)}

    g.check("invalid-module-messages", bad_module)

    def invalid_module() -> dict[str, object]:
        device.push_error_scope(W.GpuErrorFilter.VALIDATION)
        module = g.shader(INVALID)
        device.pop_error_scope()
        return {"code": INVALID, "messages": messages(module)}

    g.check("validation-error-messages", invalid_module)

    def language_features() -> dict[str, list[bool]]:
        features = W.get_gpu().wgsl_language_features()
        found = {}
        for name, code in LANGUAGE.items():
            device.push_error_scope(W.GpuErrorFilter.VALIDATION)
            g.shader(code)
            compiled = device.pop_error_scope() is None
            found[name] = [features.has(name), compiled]
        return found

    g.check("wgsl-language-features", language_features)

    def run_constants(constants: W.RecordGpuPipelineConstantValue | None) -> list[int]:
        pipeline = g.compute_pipeline(good, "main", constants)
        out = g.buffer(8, BU.storage() | BU.copy_src())
        g.dispatch(pipeline, g.bind(pipeline.get_bind_group_layout(0), out))
        return g.read_u32(out, 2)

    def constants() -> dict[str, list[int]]:
        record = W.RecordGpuPipelineConstantValue()
        record.add("k", 7.0)
        record.add("scale", 0.5)
        return {"default": run_constants(None), "overridden": run_constants(record)}

    g.check("pipeline-constants", constants)

    def async_compute() -> list[int]:
        pipeline = device.create_compute_pipeline_async(compute_descriptor(good, "main"))
        out = g.buffer(8, BU.storage() | BU.copy_src())
        group = device.create_bind_group(
            W.GpuBindGroupDescriptor(
                layout=pipeline.get_bind_group_layout(0),
                entries=[W.GpuBindGroupEntry(binding=0, resource=buffer_binding(out))],
                label=None,
            )
        )
        g.dispatch(pipeline, group)
        return g.read_u32(out, 2)

    g.check("compute-pipeline-async", async_compute)

    def async_errors() -> list[object]:
        out: list[object] = []
        for make in (
            lambda: device.create_compute_pipeline_async(compute_descriptor(good, "no_such_entry")),
            lambda: device.create_render_pipeline_async(render_descriptor(good)),  # no vs/fs entry points
        ):
            try:
                make()
                out.append("ok")
            except Err as err:
                out.append([err_kind(err), wit_enum(err.value.kind.value), err.value.message])
        return out

    g.check("pipeline-async-errors", async_errors)
