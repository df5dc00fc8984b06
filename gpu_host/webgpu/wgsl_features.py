"""Which WGSL language features (WebGPU's `wgslLanguageFeatures`) this host's naga accepts.

wgpu-py 0.32 reports none (`wgpu.gpu.wgsl_language_features` is empty), so the host finds out: for
each feature the spec names, a tiny shader that needs it is compiled once per process on a scratch
device of the default adapter; a feature is reported when its shader compiles. What is reported is
thus what `create-shader-module` accepts here, not a guess from naga's version.
"""

from __future__ import annotations

import functools
import logging

import wgpu

__all__ = ["PROBES", "supported_wgsl_features"]

log = logging.getLogger(__name__)

# The WGSL language features of the WebGPU spec, each with a shader that uses it (None: no shader
# can show it without an extension naga does not accept yet, so it is never reported).
PROBES: dict[str, str | None] = {
    "readonly_and_readwrite_storage_textures": (
        "@group(0) @binding(0) var t: texture_storage_2d<r32float, read_write>;\n"
        "@compute @workgroup_size(1) fn main() {\n"
        "    textureStore(t, vec2<i32>(0), textureLoad(t, vec2<i32>(0)));\n}"
    ),
    "packed_4x8_integer_dot_product": "fn f() -> u32 { return dot4U8Packed(1u, 2u); }",
    "unrestricted_pointer_parameters": (
        "@group(0) @binding(0) var<storage, read_write> b: u32;\n"
        "fn f(p: ptr<storage, u32, read_write>) { *p = 1u; }\n"
        "@compute @workgroup_size(1) fn main() { f(&b); }"
    ),
    "pointer_composite_access": "fn f() -> f32 { var a = vec2<f32>(1.0, 2.0); let p = &a; return p.x; }",
    "uniform_buffer_standard_layout": (
        "@group(0) @binding(0) var<uniform> u: array<f32, 4>;\n"
        "@compute @workgroup_size(1) fn main() { _ = u[0]; }"
    ),
    "texture_and_sampler_let": (
        "@group(0) @binding(0) var t: texture_2d<f32>;\n"
        "@compute @workgroup_size(1) fn main() { let x = t; _ = textureDimensions(x); }"
    ),
    "texture_formats_tier1": (
        "@group(0) @binding(0) var t: texture_storage_2d<r8unorm, write>;\n"
        "@compute @workgroup_size(1) fn main() { textureStore(t, vec2<i32>(0), vec4<f32>(0.0)); }"
    ),
    "subgroup_id": None,  # needs `enable subgroups;`, which naga does not accept yet
    "subgroup_uniformity": None,
}


@functools.cache
def supported_wgsl_features() -> frozenset[str]:
    """The features whose probe shader compiles (computed once per process)."""
    try:
        device = wgpu.gpu.request_adapter_sync().request_device_sync(label="wgsl feature probe")
    except (RuntimeError, wgpu.GPUError):
        log.warning("no adapter to probe WGSL language features on; reporting none", exc_info=True)
        return frozenset()
    found = set()
    for name, code in PROBES.items():
        if code is None:
            continue
        try:
            device.create_shader_module(label=f"probe {name}", code=code)
        except wgpu.GPUError:
            continue
        found.add(name)
    device.destroy()
    return frozenset(found)
