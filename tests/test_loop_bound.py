"""The loop budget the host adds to WGSL (gpu_host/webgpu/loop_bound.py): where it goes, and that
a shader under the budget computes what it would have. tests/test_hostile_gpu.py runs endless loops."""

from __future__ import annotations

import numpy as np
import wgpu

from gpu_host.webgpu.loop_bound import COUNTER, bound_loops

CHECK = f" if {COUNTER} >= 5u {{ break; }} {COUNTER} += 1u; "


def test_every_loop_body_gets_the_check_and_comments_and_names_do_not() -> None:
    code = (
        "// for loop while { in a comment }\n"
        "/* loop { /* nested while { */ } */\n"
        "fn f() -> u32 { var for_each = 0u; var s = 0u;\n"
        "  for (var i = 0u; i < min(4u, 9u); i++) { s += i; }\n"
        "  loop { if s > 9u { break; } continuing { s += 1u; } }\n"
        "  while (s < 99u) { s *= 2u; } return s + for_each; }"
    )
    bounded = bound_loops(code, 5)
    lines = bounded.splitlines()
    assert lines[:3] == code.splitlines()[:3]  # comments and `for_each` untouched, lines kept
    assert lines[3] == "  for (var i = 0u; i < min(4u, 9u); i++) {" + CHECK + " s += i; }"
    assert lines[4] == "  loop {" + CHECK + " if s > 9u { break; } continuing { s += 1u; } }"
    assert lines[5] == "  while (s < 99u) {" + CHECK + " s *= 2u; } return s + for_each; }"
    assert lines[6] == f"var<private> {COUNTER}: u32;"


def test_code_without_loops_is_returned_as_it_is() -> None:
    code = "@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(1.0); } // no loop here"
    assert bound_loops(code, 5) is code


def test_a_shader_under_the_budget_computes_the_same(adapter_info: dict[str, object]) -> None:
    code = """
    @group(0) @binding(0) var<storage, read_write> out: array<u32>;
    @compute @workgroup_size(64)
    fn main(@builtin(global_invocation_id) id: vec3<u32>) {
        var x = id.x;
        for (var i = 0u; i < 100u; i++) {
            var j = 0u;
            while j < i % 7u { x = x * 1664525u + 1013904223u; j++; }
            loop { if x % 3u == 0u { break; } x += 1u; }
        }
        out[id.x] = x;
    }
    """
    device = wgpu.gpu.request_adapter_sync().request_device_sync()
    results = []
    for source in (code, bound_loops(code, 1 << 20)):
        buffer = device.create_buffer(
            size=256 * 4, usage=wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
        )
        pipeline = device.create_compute_pipeline(
            layout="auto", compute={"module": device.create_shader_module(code=source), "entry_point": "main"}
        )
        group = device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0), entries=[{"binding": 0, "resource": {"buffer": buffer}}]
        )
        encoder = device.create_command_encoder()
        compute = encoder.begin_compute_pass()
        compute.set_pipeline(pipeline)
        compute.set_bind_group(0, group)
        compute.dispatch_workgroups(4)
        compute.end()
        device.queue.submit([encoder.finish()])
        results.append(np.frombuffer(device.queue.read_buffer(buffer), dtype=np.uint32))
        buffer.destroy()
    assert len(set(results[0].tolist())) > 50  # a real computation, not a constant
    assert np.array_equal(results[0], results[1])
