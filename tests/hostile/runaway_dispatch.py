"""runaway_dispatch: presents 1 frame, then submits a compute dispatch that runs for minutes and
waits for it by mapping a buffer the dispatch writes.

Submitted GPU work cannot be cancelled. The host must give up the wait after
`Limits.gpu_wait_seconds`, end the guest with `GPU wait timed out after N s` and mark its device
lost; the GPU stays busy until the process ends, so a supervisor (gpu_host.supervisor) runs the
next guest in a fresh worker. Run it only in a worker process, never in a test's own process.
"""

from guestkit import clear, emit, next_frame, setup
from wit_world.imports import webgpu

# About 65,535 x 64 invocations x 60,000 iterations: minutes on lavapipe, seconds on a real GPU
# only if it is very fast; either way far past a 1 s wait.
SHADER = """
@group(0) @binding(0) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    var x = id.x;
    for (var i = 0u; i < 60000u; i++) {
        x = x * 1664525u + 1013904223u;
    }
    out[id.x % 1024u] = x;
}
"""


def run() -> None:
    device, canvas, context = setup()
    next_frame(canvas, canvas.subscribe_frame())
    clear(device, context, (0.0, 1.0, 0.0))
    usage = webgpu.GpuBufferUsage
    storage = device.create_buffer(
        webgpu.GpuBufferDescriptor(
            size=4096, usage=usage.storage() | usage.copy_src(), mapped_at_creation=None, label=None
        )
    )
    readback = device.create_buffer(
        webgpu.GpuBufferDescriptor(
            size=4096, usage=usage.map_read() | usage.copy_dst(), mapped_at_creation=None, label=None
        )
    )
    module = device.create_shader_module(
        webgpu.GpuShaderModuleDescriptor(code=SHADER, compilation_hints=None, label="runaway")
    )
    pipeline = device.create_compute_pipeline(
        webgpu.GpuComputePipelineDescriptor(
            compute=webgpu.GpuProgrammableStage(module=module, entry_point="main", constants=None),
            layout=webgpu.GpuLayoutMode_Auto(),
            label="runaway",
        )
    )
    group = device.create_bind_group(
        webgpu.GpuBindGroupDescriptor(
            layout=pipeline.get_bind_group_layout(0),
            entries=[
                webgpu.GpuBindGroupEntry(
                    binding=0,
                    resource=webgpu.GpuBindingResource_GpuBufferBinding(
                        webgpu.GpuBufferBinding(buffer=storage, offset=None, size=None)
                    ),
                )
            ],
            label=None,
        )
    )
    encoder = device.create_command_encoder(None)
    cpass = encoder.begin_compute_pass(None)
    cpass.set_pipeline(pipeline)
    cpass.set_bind_group(0, group, None, None, None)
    cpass.dispatch_workgroups(65535, None, None)
    cpass.end()
    encoder.copy_buffer_to_buffer(storage, 0, readback, 0, 4096)
    device.queue().submit([encoder.finish(None)])
    emit(submitted=True)
    readback.map_async(webgpu.GpuMapMode.read(), None, None)
    emit(unexpected="the runaway dispatch finished")
