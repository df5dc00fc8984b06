"""gpukit: what the GPU hostile programs share (not a program: it has no `run`).

Each GPU program tries its misuse inside error scopes and prints one JSON line per attempt,
`{"check": NAME, "value": VALUE}`, where an error is `[KIND, MESSAGE]` (KIND the class name of
`gpu-error.kind`, e.g. `GpuErrorKind_ValidationError`) or null. Then it presents frames cleared to
green, so the test sees that the guest, and the host, carried on.
"""

import json
from collections.abc import Callable

from guestkit import clear, next_frame
from wit_world.imports import graphics_context, surface
from wit_world.imports import webgpu as W

VALIDATION = W.GpuErrorFilter.VALIDATION
OUT_OF_MEMORY = W.GpuErrorFilter.OUT_OF_MEMORY
BU = W.GpuBufferUsage
TU = W.GpuTextureUsage
RGBA8 = W.GpuTextureFormat.RGBA8UNORM


def report(check: str, value: object) -> None:
    print(json.dumps({"check": check, "value": value}), flush=True)


def caught(
    device: W.GpuDevice, action: Callable[[], object], filter_: W.GpuErrorFilter = VALIDATION
) -> object:
    """Run `action` inside an error scope of `filter_`; the error it caught as [kind, message]."""
    device.push_error_scope(filter_)
    action()
    error = device.pop_error_scope()
    return None if error is None else [type(error.kind()).__name__, error.message()]


def check(
    device: W.GpuDevice, name: str, action: Callable[[], object], filter_: W.GpuErrorFilter = VALIDATION
) -> None:
    report(name, caught(device, action, filter_))


def buffer(
    device: W.GpuDevice, size: int, usage: int, mapped: bool = False, label: str | None = None
) -> W.GpuBuffer:
    return device.create_buffer(
        W.GpuBufferDescriptor(size=size, usage=usage, mapped_at_creation=mapped or None, label=label)
    )


def texture(
    device: W.GpuDevice,
    width: int,
    height: int,
    usage: int,
    fmt: W.GpuTextureFormat = RGBA8,
    samples: int | None = None,
    label: str | None = None,
) -> W.GpuTexture:
    return device.create_texture(
        W.GpuTextureDescriptor(
            size=W.GpuExtent3D(width=width, height=height, depth_or_array_layers=1),
            mip_level_count=None,
            sample_count=samples,
            dimension=None,
            format=fmt,
            usage=usage,
            view_formats=None,
            label=label,
        )
    )


def shader(device: W.GpuDevice, code: str) -> W.GpuShaderModule:
    return device.create_shader_module(
        W.GpuShaderModuleDescriptor(code=code, compilation_hints=None, label=None)
    )


def dispatch(device: W.GpuDevice, code: str, storage: W.GpuBuffer, workgroups: int) -> W.GpuCommandEncoder:
    """An encoder holding one compute pass: `code`'s `main` over `workgroups` workgroups, with
    `storage` bound at group 0, binding 0. The caller may record more, then finishes and submits."""
    pipeline = device.create_compute_pipeline(
        W.GpuComputePipelineDescriptor(
            compute=W.GpuProgrammableStage(module=shader(device, code), entry_point="main", constants=None),
            layout=W.GpuLayoutMode_Auto(),
            label=None,
        )
    )
    binding = W.GpuBindingResource_GpuBufferBinding(
        W.GpuBufferBinding(buffer=storage, offset=None, size=None)
    )
    group = device.create_bind_group(
        W.GpuBindGroupDescriptor(
            layout=pipeline.get_bind_group_layout(0),
            entries=[W.GpuBindGroupEntry(binding=0, resource=binding)],
            label=None,
        )
    )
    encoder = device.create_command_encoder(None)
    cpass = encoder.begin_compute_pass(None)
    cpass.set_pipeline(pipeline)
    cpass.set_bind_group(0, group, None, None, None)
    cpass.dispatch_workgroups(workgroups, None, None)
    cpass.end()
    return encoder


def copy(
    device: W.GpuDevice, source: W.GpuBuffer, destination: W.GpuBuffer, size: int = 16
) -> W.GpuCommandBuffer:
    encoder = device.create_command_encoder(None)
    encoder.copy_buffer_to_buffer(source, 0, destination, 0, size)
    return encoder.finish(None)


def attachment(
    view: W.GpuTextureView, resolve: W.GpuTextureView | None = None
) -> W.GpuRenderPassColorAttachment:
    return W.GpuRenderPassColorAttachment(
        view=view,
        depth_slice=None,
        resolve_target=resolve,
        clear_value=W.GpuColor(r=0.0, g=0.0, b=0.0, a=1.0),
        load_op=W.GpuLoadOp.CLEAR,
        store_op=W.GpuStoreOp.STORE,
    )


def render_pass(
    encoder: W.GpuCommandEncoder, view: W.GpuTextureView, resolve: W.GpuTextureView | None = None
) -> W.GpuRenderPassEncoder:
    return encoder.begin_render_pass(
        W.GpuRenderPassDescriptor(
            color_attachments=[attachment(view, resolve)],
            depth_stencil_attachment=None,
            occlusion_query_set=None,
            timestamp_writes=None,
            max_draw_count=None,
            label=None,
        )
    )


def submit(device: W.GpuDevice, command_buffer: W.GpuCommandBuffer) -> None:
    device.queue().submit([command_buffer])


def present_forever(device: W.GpuDevice, canvas: surface.Surface, context: graphics_context.Context) -> None:
    frame_ready = canvas.subscribe_frame()
    while True:
        next_frame(canvas, frame_ready)
        clear(device, context, (0.0, 1.0, 0.0))
