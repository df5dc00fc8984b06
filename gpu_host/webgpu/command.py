"""wasi:webgpu command recording: encoders, render and compute passes, copies, command buffers."""

from __future__ import annotations

from typing import Any

from ..errors import GuestCallError
from ..linking import wit
from .convert import argument_checks, extent, native, no_gaps, to_wgpu, wit_error
from .objects import (
    GpuBindGroup,
    GpuBuffer,
    GpuCommandBuffer,
    GpuCommandEncoder,
    GpuComputePassEncoder,
    GpuComputePipeline,
    GpuObject,
    GpuRenderBundleEncoder,
    GpuRenderPassEncoder,
    GpuRenderPipeline,
)

# A render bundle encoder takes the render pass's functions (aliased below): its native object is
# a bundle.BundleRecording that records the same calls.
RenderEncoder = GpuRenderPassEncoder | GpuRenderBundleEncoder
PassEncoder = RenderEncoder | GpuComputePassEncoder


class CommandFunctions:
    @wit("[method]gpu-command-encoder.begin-render-pass")
    def begin_render_pass(
        self, encoder: GpuCommandEncoder, descriptor: dict[str, Any]
    ) -> GpuRenderPassEncoder:
        call = "[method]gpu-command-encoder.begin-render-pass"
        no_gaps(descriptor.get("color_attachments"), "color-attachments", call)
        with argument_checks(call):
            rpass = native(encoder, call).begin_render_pass(**to_wgpu(descriptor, call))
        return GpuRenderPassEncoder(rpass, encoder.device, descriptor.get("label") or "")

    @wit("[method]gpu-command-encoder.begin-compute-pass")
    def begin_compute_pass(
        self, encoder: GpuCommandEncoder, descriptor: dict[str, Any] | None
    ) -> GpuComputePassEncoder:
        call = "[method]gpu-command-encoder.begin-compute-pass"
        cpass = native(encoder, call).begin_compute_pass(**to_wgpu(descriptor or {}, call))
        return GpuComputePassEncoder(cpass, encoder.device, (descriptor or {}).get("label") or "")

    @wit("[method]gpu-command-encoder.copy-buffer-to-buffer")
    def copy_buffer_to_buffer(
        self,
        encoder: GpuCommandEncoder,
        source: GpuBuffer,
        source_offset: int,
        destination: GpuBuffer,
        destination_offset: int,
        size: int,
    ) -> None:
        call = "[method]gpu-command-encoder.copy-buffer-to-buffer"
        with argument_checks(call):
            native(encoder, call).copy_buffer_to_buffer(
                native(source, call), source_offset, native(destination, call), destination_offset, size
            )

    @wit("[method]gpu-command-encoder.copy-buffer-to-texture")
    def copy_buffer_to_texture(
        self,
        encoder: GpuCommandEncoder,
        source: dict[str, Any],
        destination: dict[str, Any],
        size: dict[str, Any],
    ) -> None:
        call = "[method]gpu-command-encoder.copy-buffer-to-texture"
        with argument_checks(call):
            native(encoder, call).copy_buffer_to_texture(
                to_wgpu(source, call), to_wgpu(destination, call), extent(size)
            )

    @wit("[method]gpu-command-encoder.copy-texture-to-buffer")
    def copy_texture_to_buffer(
        self,
        encoder: GpuCommandEncoder,
        source: dict[str, Any],
        destination: dict[str, Any],
        size: dict[str, Any],
    ) -> None:
        call = "[method]gpu-command-encoder.copy-texture-to-buffer"
        with argument_checks(call):
            native(encoder, call).copy_texture_to_buffer(
                to_wgpu(source, call), to_wgpu(destination, call), extent(size)
            )

    @wit("[method]gpu-command-encoder.copy-texture-to-texture")
    def copy_texture_to_texture(
        self,
        encoder: GpuCommandEncoder,
        source: dict[str, Any],
        destination: dict[str, Any],
        size: dict[str, Any],
    ) -> None:
        call = "[method]gpu-command-encoder.copy-texture-to-texture"
        with argument_checks(call):
            native(encoder, call).copy_texture_to_texture(
                to_wgpu(source, call), to_wgpu(destination, call), extent(size)
            )

    @wit("[method]gpu-command-encoder.clear-buffer")
    def clear_buffer(
        self, encoder: GpuCommandEncoder, buffer: GpuBuffer, offset: int | None, size: int | None
    ) -> None:
        call = "[method]gpu-command-encoder.clear-buffer"
        with argument_checks(call):
            native(encoder, call).clear_buffer(native(buffer, call), offset or 0, size)

    @wit("[method]gpu-command-encoder.finish")
    def encoder_finish(
        self, encoder: GpuCommandEncoder, descriptor: dict[str, Any] | None
    ) -> GpuCommandBuffer:
        call = "[method]gpu-command-encoder.finish"
        label = (descriptor or {}).get("label") or ""
        recorder = native(encoder, call)
        encoder.native = None  # a finished encoder cannot record again, whether finish succeeds or not
        buffer = recorder.finish(label=label)
        return GpuCommandBuffer(buffer, encoder.device, label)

    # --- debug markers, shared by encoders and passes ---------------------------------------------

    @wit("[method]gpu-command-encoder.push-debug-group")
    def encoder_push_debug_group(self, encoder: GpuObject, label: str) -> None:
        native(encoder, "push-debug-group").push_debug_group(label)

    @wit("[method]gpu-command-encoder.pop-debug-group")
    def encoder_pop_debug_group(self, encoder: GpuObject) -> None:
        native(encoder, "pop-debug-group").pop_debug_group()

    @wit("[method]gpu-command-encoder.insert-debug-marker")
    def encoder_insert_debug_marker(self, encoder: GpuObject, label: str) -> None:
        native(encoder, "insert-debug-marker").insert_debug_marker(label)

    # --- passes -------------------------------------------------------------------------------------

    @wit("[method]gpu-render-pass-encoder.set-pipeline")
    def render_set_pipeline(self, rpass: RenderEncoder, pipeline: GpuRenderPipeline) -> None:
        call = "[method]gpu-render-pass-encoder.set-pipeline"
        native(rpass, call).set_pipeline(native(pipeline, call))

    @wit("[method]gpu-compute-pass-encoder.set-pipeline")
    def compute_set_pipeline(self, cpass: GpuComputePassEncoder, pipeline: GpuComputePipeline) -> None:
        call = "[method]gpu-compute-pass-encoder.set-pipeline"
        native(cpass, call).set_pipeline(native(pipeline, call))

    def _set_bind_group(
        self,
        call: str,
        encoder: PassEncoder,
        index: int,
        group: GpuBindGroup | None,
        offsets: list[int] | None,
        start: int | None,
        length: int | None,
    ) -> None:
        offsets = offsets or []
        first = start or 0
        count = len(offsets) - first if length is None else length
        if first > len(offsets) or first + count > len(offsets):
            raise wit_error(
                "range-error", f"dynamic offsets {first}+{count} exceed {len(offsets)}", only_case=True
            )
        if group is None:
            # WebGPU unbinds the index; wgpu-py 0.32 cannot pass a null bind group on.
            raise GuestCallError(call, "a null bind group (unbinding an index) is not supported by this host")
        native(encoder, call).set_bind_group(index, native(group, call), offsets[first : first + count])

    @wit("[method]gpu-render-pass-encoder.set-bind-group")
    def render_set_bind_group(self, rpass: RenderEncoder, *args: Any) -> None:
        self._set_bind_group("[method]gpu-render-pass-encoder.set-bind-group", rpass, *args)

    @wit("[method]gpu-compute-pass-encoder.set-bind-group")
    def compute_set_bind_group(self, cpass: GpuComputePassEncoder, *args: Any) -> None:
        self._set_bind_group("[method]gpu-compute-pass-encoder.set-bind-group", cpass, *args)

    @wit("[method]gpu-render-pass-encoder.set-vertex-buffer")
    def render_set_vertex_buffer(
        self,
        rpass: RenderEncoder,
        slot: int,
        buffer: GpuBuffer | None,
        offset: int | None,
        size: int | None,
    ) -> None:
        call = "[method]gpu-render-pass-encoder.set-vertex-buffer"
        native(rpass, call).set_vertex_buffer(
            slot, native(buffer, call) if buffer else None, offset or 0, size
        )

    @wit("[method]gpu-render-pass-encoder.set-index-buffer")
    def render_set_index_buffer(
        self, rpass: RenderEncoder, buffer: GpuBuffer, fmt: str, offset: int | None, size: int | None
    ) -> None:
        call = "[method]gpu-render-pass-encoder.set-index-buffer"
        native(rpass, call).set_index_buffer(native(buffer, call), fmt, offset or 0, size)

    @wit("[method]gpu-render-pass-encoder.draw")
    def render_draw(
        self,
        rpass: RenderEncoder,
        count: int,
        instances: int | None,
        first: int | None,
        first_instance: int | None,
    ) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.draw").draw(
            count, 1 if instances is None else instances, first or 0, first_instance or 0
        )

    @wit("[method]gpu-render-pass-encoder.draw-indexed")
    def render_draw_indexed(
        self,
        rpass: RenderEncoder,
        count: int,
        instances: int | None,
        first_index: int | None,
        base_vertex: int | None,
        first_instance: int | None,
    ) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.draw-indexed").draw_indexed(
            count,
            1 if instances is None else instances,
            first_index or 0,
            base_vertex or 0,
            first_instance or 0,
        )

    @wit("[method]gpu-render-pass-encoder.draw-indirect")
    def render_draw_indirect(self, rpass: RenderEncoder, buffer: GpuBuffer, offset: int) -> None:
        call = "[method]gpu-render-pass-encoder.draw-indirect"
        native(rpass, call).draw_indirect(native(buffer, call), offset)

    @wit("[method]gpu-render-pass-encoder.draw-indexed-indirect")
    def render_draw_indexed_indirect(self, rpass: RenderEncoder, buffer: GpuBuffer, offset: int) -> None:
        call = "[method]gpu-render-pass-encoder.draw-indexed-indirect"
        native(rpass, call).draw_indexed_indirect(native(buffer, call), offset)

    @wit("[method]gpu-render-pass-encoder.set-viewport")
    def render_set_viewport(
        self, rpass: GpuRenderPassEncoder, x: float, y: float, w: float, h: float, near: float, far: float
    ) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.set-viewport").set_viewport(x, y, w, h, near, far)

    @wit("[method]gpu-render-pass-encoder.set-scissor-rect")
    def render_set_scissor_rect(self, rpass: GpuRenderPassEncoder, x: int, y: int, w: int, h: int) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.set-scissor-rect").set_scissor_rect(x, y, w, h)

    @wit("[method]gpu-render-pass-encoder.set-blend-constant")
    def render_set_blend_constant(self, rpass: GpuRenderPassEncoder, color: dict[str, float]) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.set-blend-constant").set_blend_constant(
            (color["r"], color["g"], color["b"], color["a"])
        )

    @wit("[method]gpu-render-pass-encoder.set-stencil-reference")
    def render_set_stencil_reference(self, rpass: GpuRenderPassEncoder, reference: int) -> None:
        native(rpass, "[method]gpu-render-pass-encoder.set-stencil-reference").set_stencil_reference(
            reference
        )

    @wit("[method]gpu-compute-pass-encoder.dispatch-workgroups")
    def compute_dispatch_workgroups(
        self, cpass: GpuComputePassEncoder, x: int, y: int | None, z: int | None
    ) -> None:
        native(cpass, "[method]gpu-compute-pass-encoder.dispatch-workgroups").dispatch_workgroups(
            x, 1 if y is None else y, 1 if z is None else z
        )

    @wit("[method]gpu-compute-pass-encoder.dispatch-workgroups-indirect")
    def compute_dispatch_workgroups_indirect(
        self, cpass: GpuComputePassEncoder, buffer: GpuBuffer, offset: int
    ) -> None:
        call = "[method]gpu-compute-pass-encoder.dispatch-workgroups-indirect"
        native(cpass, call).dispatch_workgroups_indirect(native(buffer, call), offset)

    @wit("[method]gpu-render-pass-encoder.end")
    def render_end(self, rpass: GpuRenderPassEncoder) -> None:
        recorder = native(rpass, "[method]gpu-render-pass-encoder.end")
        rpass.native = None  # ended, valid or not
        recorder.end()

    @wit("[method]gpu-compute-pass-encoder.end")
    def compute_end(self, cpass: GpuComputePassEncoder) -> None:
        recorder = native(cpass, "[method]gpu-compute-pass-encoder.end")
        cpass.native = None  # ended, valid or not
        recorder.end()


def _aliases() -> dict[str, str]:
    """Passes share the encoder's debug-marker implementations (same shape, other resource), and a
    render bundle encoder shares the render pass's commands."""
    aliases = {}
    for resource in ("gpu-render-pass-encoder", "gpu-compute-pass-encoder", "gpu-render-bundle-encoder"):
        for fn in ("push-debug-group", "pop-debug-group", "insert-debug-marker"):
            aliases[f"[method]{resource}.{fn}"] = f"[method]gpu-command-encoder.{fn}"
    for fn in (
        "set-pipeline",
        "set-bind-group",
        "set-vertex-buffer",
        "set-index-buffer",
        "draw",
        "draw-indexed",
        "draw-indirect",
        "draw-indexed-indirect",
    ):
        aliases[f"[method]gpu-render-bundle-encoder.{fn}"] = f"[method]gpu-render-pass-encoder.{fn}"
    return aliases


ALIASES = _aliases()
