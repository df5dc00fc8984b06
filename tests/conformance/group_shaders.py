"""shaders: compilation info (naga's location parsed), pipeline constants by effect, async creation."""

from componentize_py_types import Err
from kit import BU, Group, buffer_binding, compute_descriptor, err_kind, render_descriptor, wit_enum
from wit_world.imports import webgpu as W

# The error is `undefined_name` on line 4: the test finds its line, column and offset in this text.
BAD = """@compute @workgroup_size(1)
fn main() {
    let x: u32 = 1u;
    let y = x + undefined_name;
}
"""
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
