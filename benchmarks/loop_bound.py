"""What the loop budget (gpu_host/webgpu/loop_bound.py) costs a shader that loops a lot.

    python -m benchmarks.loop_bound [--iterations 4096] [--invocations 16384] [--runs 9]

Dispatches one compute shader (a loop of --iterations steps of integer arithmetic in each of
--invocations invocations) as the guest wrote it and as the host bounds it, alternately, and prints
the median milliseconds of each (submit to read back) and their ratio. Also times compiling the
module both ways: the host compiles a looping shader twice (the guest's text first, for its error
messages).
"""

from __future__ import annotations

import argparse
import statistics
import time

import wgpu

from gpu_host import Limits
from gpu_host.webgpu.loop_bound import bound_loops

SHADER = """
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    var x = id.x;
    for (var i = 0u; i < ITERATIONSu; i++) { x = x * 1664525u + 1013904223u; }
    out[id.x] = x;
}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=4096)
    parser.add_argument("--invocations", type=int, default=16384)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    device = adapter.request_device_sync()
    code = SHADER.replace("ITERATIONS", str(args.iterations))
    variants = {"as written": code, "bounded": bound_loops(code, Limits().shader_loop_iterations)}
    buffer = device.create_buffer(
        size=args.invocations * 4, usage=wgpu.BufferUsage.STORAGE | wgpu.BufferUsage.COPY_SRC
    )
    pipelines = {}
    compile_ms: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.runs + 1):  # the first round warms up
        for name, source in variants.items():
            started = time.perf_counter()
            module = device.create_shader_module(code=source)
            compile_ms[name].append((time.perf_counter() - started) * 1000)
    for name, source in variants.items():
        module = device.create_shader_module(code=source)
        pipelines[name] = device.create_compute_pipeline(
            layout="auto", compute={"module": module, "entry_point": "main"}
        )
    groups = {
        name: device.create_bind_group(
            layout=p.get_bind_group_layout(0), entries=[{"binding": 0, "resource": {"buffer": buffer}}]
        )
        for name, p in pipelines.items()
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, bytes] = {}
    for _ in range(args.runs + 1):  # the first round warms up
        for name in variants:
            started = time.perf_counter()
            encoder = device.create_command_encoder()
            compute = encoder.begin_compute_pass()
            compute.set_pipeline(pipelines[name])
            compute.set_bind_group(0, groups[name])
            compute.dispatch_workgroups(args.invocations // 64)
            compute.end()
            device.queue.submit([encoder.finish()])
            results[name] = bytes(device.queue.read_buffer(buffer))
            times[name].append((time.perf_counter() - started) * 1000)
    assert results["as written"] == results["bounded"], "the bound changed the result"
    info = adapter.info
    print(
        f"adapter {info['device']} ({info['backend_type']}); "
        f"{args.invocations} invocations x {args.iterations} iterations"
    )
    medians = {name: statistics.median(t[1:]) for name, t in times.items()}
    for name in variants:
        print(
            f"{name:11s} dispatch median {medians[name]:8.2f} ms   "
            f"module compile median {statistics.median(compile_ms[name][1:]):6.3f} ms"
        )
    print(f"ratio bounded / as written: {medians['bounded'] / medians['as written']:.2f}")


if __name__ == "__main__":
    main()
