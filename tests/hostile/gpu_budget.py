"""gpu_budget: allocates 1 MiB buffers until the guest's GPU memory budget refuses one, then
creates samplers until its object budget refuses one.

The test runs it with `Limits(gpu_bytes=8 MiB, gpu_objects=...)`. The allocation past the budget
must be an out-of-memory error (captured by an out-of-memory scope, not a validation one, as WebGPU
reports a failed allocation), naming the limit; destroying buffers gives their memory back.
Checks: `buffers` ([count made, error]), `after_destroy` (null: one more fits again),
`uncaptured_kind` (a validation scope does not catch it: null), `samplers` ([count, error]).
"""

from gfxkit import BU, OUT_OF_MEMORY, VALIDATION, buffer, caught, described, present_forever, report, setup
from wit_world.imports import webgpu as W

MiB = 1 << 20


def run() -> None:
    device, canvas, context = setup()
    made: list[W.GpuBuffer] = []
    error: object = None
    while error is None and len(made) < 1000:
        device.push_error_scope(OUT_OF_MEMORY)
        made.append(buffer(device, MiB, BU.copy_dst()))
        error = described(device.pop_error_scope())
    report("buffers", [len(made) - 1, error])
    made.pop()  # the invalid one
    made.pop().destroy()
    report(
        "after_destroy",
        caught(device, lambda: made.append(buffer(device, MiB, BU.copy_dst())), OUT_OF_MEMORY),
    )
    device.push_error_scope(OUT_OF_MEMORY)
    report("uncaptured_kind", caught(device, lambda: buffer(device, MiB, BU.copy_dst()), VALIDATION))
    device.pop_error_scope()
    for extra in made:
        extra.destroy()
    samplers: list[W.GpuSampler] = []
    error = None
    while error is None and len(samplers) < 100_000:
        device.push_error_scope(OUT_OF_MEMORY)
        samplers.append(device.create_sampler(None))
        error = described(device.pop_error_scope())
    report("samplers", [len(samplers) - 1, error])
    samplers.clear()
    made.clear()
    present_forever(device, canvas, context)
