"""wasi:webgpu gpu-device: object creation, the queue, and joining a graphics context."""

from __future__ import annotations

from typing import Any

import wgpu

from ..errors import GuestCallError, GuestGpuError
from ..graphics_context import AbstractBuffer, Context
from ..limits import Limits
from ..linking import describe_gpu_error, wit
from .adapter import wit_features
from .budget import texture_bytes
from .convert import layout, native, no_gaps, to_wgpu
from .flags import BUFFER_USAGE, TEXTURE_USAGE, check_flags, check_layout_entries, check_write_masks
from .loop_bound import bound_loops
from .objects import (
    GpuAdapterInfo,
    GpuBindGroup,
    GpuBindGroupLayout,
    GpuBuffer,
    GpuCommandEncoder,
    GpuComputePipeline,
    GpuDevice,
    GpuPipelineLayout,
    GpuQueue,
    GpuRenderPipeline,
    GpuSampler,
    GpuShaderModule,
    GpuSupportedFeatures,
    GpuSupportedLimits,
    GpuTexture,
)
from .wgsl import check_wgsl


def _label(descriptor: dict[str, Any] | None) -> str:
    return (descriptor or {}).get("label") or ""


def check_texture_size(descriptor: dict[str, Any], limits: Limits, call: str) -> None:
    """A texture wider, higher or deeper than `Limits.max_texture_dimension` is a validation error."""
    size = descriptor.get("size") or {}
    for axis in ("width", "height", "depth_or_array_layers"):
        value = size.get(axis) or 1
        if value > limits.max_texture_dimension:
            raise GuestGpuError(
                call,
                f"texture {axis.replace('_', '-')} {value} is over the limit of "
                f"{limits.max_texture_dimension} (Limits.max_texture_dimension)",
            )


class DeviceFunctions:
    @wit("[method]gpu-device.features")
    def device_features(self, device: GpuDevice) -> GpuSupportedFeatures:
        return GpuSupportedFeatures(wit_features(device.check_alive("[method]gpu-device.features").features))

    @wit("[method]gpu-device.limits")
    def device_limits(self, device: GpuDevice) -> GpuSupportedLimits:
        return GpuSupportedLimits(dict(device.check_alive("[method]gpu-device.limits").limits))

    @wit("[method]gpu-device.adapter-info")
    def device_adapter_info(self, device: GpuDevice) -> GpuAdapterInfo:
        return GpuAdapterInfo(dict(device.adapter.native.info))

    @wit("[method]gpu-device.queue")
    def device_queue(self, device: GpuDevice) -> GpuQueue:
        # One queue per device, as in WebGPU: its label is shared by every handle to it.
        if device.queue is None:
            device.queue = GpuQueue(device.check_alive("[method]gpu-device.queue").queue, device)
        return device.queue

    @wit("[method]gpu-device.destroy")
    def device_destroy(self, device: GpuDevice) -> None:
        device.destroy()
        device.lose("destroyed", "the device was destroyed by gpu-device.destroy")

    # WIT: [method]gpu-device.connect-graphics-context
    @wit("[method]gpu-device.connect-graphics-context")
    def device_connect_graphics_context(self, device: GpuDevice, context: Context) -> None:
        device.check_alive("[method]gpu-device.connect-graphics-context")
        context.connect(device)

    # WIT: [static]gpu-texture.from-graphics-buffer
    @wit("[static]gpu-texture.from-graphics-buffer")
    def texture_from_graphics_buffer(self, buffer: AbstractBuffer) -> GpuTexture:
        if not isinstance(buffer.payload, GpuTexture):
            raise GuestCallError(
                "[static]gpu-texture.from-graphics-buffer",
                "this buffer belongs to a frame-buffer context; use frame-buffer buffer.from-graphics-buffer",
            )
        return buffer.payload

    # --- creation ----------------------------------------------------------------------------------

    @wit("[method]gpu-device.create-buffer")
    def create_buffer(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuBuffer:
        call = "[method]gpu-device.create-buffer"
        native_device = device.check_alive(call)
        check_flags(int(descriptor["usage"]), BUFFER_USAGE, "gpu-buffer usage", call)
        memory = device.budget.charge(call, "gpu-buffer", max(0, int(descriptor["size"])), objects=0)
        buffer = GpuBuffer(
            native_device.create_buffer(**to_wgpu(descriptor, call)), device, _label(descriptor)
        )
        buffer.memory = memory
        return buffer

    @wit("[method]gpu-device.create-texture")
    def create_texture(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuTexture:
        call = "[method]gpu-device.create-texture"
        native_device = device.check_alive(call)
        check_texture_size(descriptor, device.budget.limits, call)
        check_flags(int(descriptor["usage"]), TEXTURE_USAGE, "gpu-texture usage", call)
        memory = device.budget.charge(call, "gpu-texture", texture_bytes(descriptor), objects=0)
        texture = GpuTexture(
            native_device.create_texture(**to_wgpu(descriptor, call)), device, _label(descriptor)
        )
        texture.memory = memory
        return texture

    @wit("[method]gpu-device.create-sampler")
    def create_sampler(self, device: GpuDevice, descriptor: dict[str, Any] | None) -> GpuSampler:
        call = "[method]gpu-device.create-sampler"
        sampler = device.check_alive(call).create_sampler(**to_wgpu(descriptor or {}, call))
        return GpuSampler(sampler, device, _label(descriptor))

    @wit("[method]gpu-device.create-bind-group-layout")
    def create_bind_group_layout(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuBindGroupLayout:
        call = "[method]gpu-device.create-bind-group-layout"
        check_layout_entries(descriptor, call)
        bgl = device.check_alive(call).create_bind_group_layout(**to_wgpu(descriptor, call))
        return GpuBindGroupLayout(bgl, device, _label(descriptor))

    @wit("[method]gpu-device.create-pipeline-layout")
    def create_pipeline_layout(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuPipelineLayout:
        call = "[method]gpu-device.create-pipeline-layout"
        native_device = device.check_alive(call)
        args = to_wgpu(descriptor, call)
        # A null entry is an empty bind group layout (WebGPU); wgpu-py 0.32 fails on None.
        args["bind_group_layouts"] = [
            native_device.create_bind_group_layout(entries=[]) if layout is None else layout
            for layout in args.get("bind_group_layouts") or []
        ]
        pl = native_device.create_pipeline_layout(**args)
        return GpuPipelineLayout(pl, device, _label(descriptor))

    @wit("[method]gpu-device.create-bind-group")
    def create_bind_group(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuBindGroup:
        call = "[method]gpu-device.create-bind-group"
        bg = device.check_alive(call).create_bind_group(**to_wgpu(descriptor, call))
        return GpuBindGroup(bg, device, _label(descriptor))

    @wit("[method]gpu-device.create-shader-module")
    def create_shader_module(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuShaderModule:
        call = "[method]gpu-device.create-shader-module"
        native_device = device.check_alive(call)
        code, limits = descriptor["code"], device.budget.limits
        check_wgsl(code, limits, call)
        # The guest's own text first, so that its errors point at what it wrote.
        module = native_device.create_shader_module(label=_label(descriptor), code=code)
        bounded = bound_loops(code, limits.shader_loop_iterations) if limits.shader_loop_iterations else code
        if bounded is not code:
            try:
                module = native_device.create_shader_module(label=_label(descriptor), code=bounded)
            except wgpu.GPUError as exc:
                raise GuestGpuError(
                    call,
                    "the host could not bound this shader's loops (Limits.shader_loop_iterations; "
                    f"0 turns the bound off): {describe_gpu_error(exc)}",
                ) from exc
        return GpuShaderModule(module, device, _label(descriptor))

    @wit("[method]gpu-device.create-render-pipeline")
    def create_render_pipeline(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuRenderPipeline:
        call = "[method]gpu-device.create-render-pipeline"
        check_write_masks(descriptor, call)
        no_gaps((descriptor.get("fragment") or {}).get("targets"), "fragment targets", call)
        no_gaps(descriptor["vertex"].get("buffers"), "vertex buffers", call)
        args = to_wgpu({k: v for k, v in descriptor.items() if k != "layout"}, call)
        args["layout"] = layout(descriptor["layout"], call)
        pipeline = device.check_alive(call).create_render_pipeline(**args)
        return GpuRenderPipeline(pipeline, device, _label(descriptor))

    @wit("[method]gpu-device.create-compute-pipeline")
    def create_compute_pipeline(self, device: GpuDevice, descriptor: dict[str, Any]) -> GpuComputePipeline:
        call = "[method]gpu-device.create-compute-pipeline"
        args = to_wgpu({k: v for k, v in descriptor.items() if k != "layout"}, call)
        args["layout"] = layout(descriptor["layout"], call)
        pipeline = device.check_alive(call).create_compute_pipeline(**args)
        return GpuComputePipeline(pipeline, device, _label(descriptor))

    @wit("[method]gpu-device.create-command-encoder")
    def create_command_encoder(
        self, device: GpuDevice, descriptor: dict[str, Any] | None
    ) -> GpuCommandEncoder:
        call = "[method]gpu-device.create-command-encoder"
        encoder = device.check_alive(call).create_command_encoder(label=_label(descriptor))
        return GpuCommandEncoder(encoder, device, _label(descriptor))

    # --- pipelines' derived layouts ------------------------------------------------------------------

    @wit("[method]gpu-render-pipeline.get-bind-group-layout")
    def render_pipeline_get_bind_group_layout(
        self, pipeline: GpuRenderPipeline, index: int
    ) -> GpuBindGroupLayout:
        call = "[method]gpu-render-pipeline.get-bind-group-layout"
        return GpuBindGroupLayout(native(pipeline, call).get_bind_group_layout(index), pipeline.device)

    @wit("[method]gpu-compute-pipeline.get-bind-group-layout")
    def compute_pipeline_get_bind_group_layout(
        self, pipeline: GpuComputePipeline, index: int
    ) -> GpuBindGroupLayout:
        call = "[method]gpu-compute-pipeline.get-bind-group-layout"
        return GpuBindGroupLayout(native(pipeline, call).get_bind_group_layout(index), pipeline.device)
