"""wasi:webgpu render bundles: the host records a bundle's commands and builds it at `finish`.

wgpu-native aborts the whole process when `finish` is called on an invalid bundle encoder
(docs/platform-notes.md), where an invalid render pass only raises a validation error. So `finish` first
replays the commands into a scratch render pass with the bundle's attachment formats: if wgpu
accepts that, the same commands are replayed into a real bundle encoder.

The scratch pass is then submitted: wgpu-native keeps about 100 KB of every finished command
buffer that holds a pass and is never submitted (docs/sandbox.md). Its scissor is empty, so the
guest's draws shade no fragment (no fragment shader's storage writes, the only ones a draw can
make, take effect); their vertices still run, once, as the guest's own GPU work with its deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wgpu

from ..errors import GuestCallError, GuestGpuError
from ..linking import wit
from .convert import native, to_wgpu
from .gpu_wait import GpuWaits
from .objects import GpuDevice, GpuRenderBundle, GpuRenderBundleEncoder, GpuRenderPassEncoder
from .tracking import unsubmittable

__all__ = ["BundleFunctions", "BundleRecording"]

VALID_SAMPLE_COUNTS = (1, 2, 4, 8, 16, 32)  # wgpu-native aborts on any other

# What a bundle may record: the render commands a pass and a bundle share (WebGPU's
# GPURenderCommandsMixin, GPUBindingCommandsMixin and GPUDebugCommandsMixin).
RECORDABLE = frozenset(
    {
        "set_pipeline",
        "set_bind_group",
        "set_vertex_buffer",
        "set_index_buffer",
        "draw",
        "draw_indexed",
        "draw_indirect",
        "draw_indexed_indirect",
        "push_debug_group",
        "pop_debug_group",
        "insert_debug_marker",
    }
)


class BundleRecording:
    """Stands in for the native bundle encoder: the pass functions call it like one, it records."""

    def __init__(self, descriptor: dict[str, Any]) -> None:
        self.descriptor = descriptor
        self.commands: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in RECORDABLE:
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.commands.append((name, args))

        return record

    def replay(self, target: Any) -> None:
        for name, args in self.commands:
            getattr(target, name)(*args)


def _check_in_scratch_pass(
    device: wgpu.GPUDevice, waits: GpuWaits | None, recording: BundleRecording, call: str
) -> None:
    """Raise wgpu's validation error if the recorded commands are invalid for the bundle's formats;
    a valid scratch pass is submitted through `waits` (see the module's docstring), unless None:
    its commands touch a mapped buffer, and wgpu-native aborts on such a submit."""
    desc = recording.descriptor
    samples = desc.get("sample_count", 1)
    usage = wgpu.TextureUsage.RENDER_ATTACHMENT
    textures: list[wgpu.GPUTexture] = []

    def attachment(fmt: str) -> wgpu.GPUTextureView:
        textures.append(device.create_texture(size=(1, 1, 1), format=fmt, usage=usage, sample_count=samples))
        return textures[-1].create_view()

    try:
        colours = [
            {"view": attachment(fmt), "load_op": "clear", "store_op": "store"}
            for fmt in desc.get("color_formats", [])
        ]
        depth: dict[str, Any] | None = None
        fmt = desc.get("depth_stencil_format")
        if fmt is not None:
            depth = {"view": attachment(fmt)}
            for aspect, read_only in (("depth", "depth_read_only"), ("stencil", "stencil_read_only")):
                if aspect not in fmt:
                    continue
                if desc.get(read_only):
                    depth[read_only] = True
                else:
                    depth.update({f"{aspect}_load_op": "clear", f"{aspect}_store_op": "store"})
        encoder = device.create_command_encoder(label="render bundle check")
        rpass = encoder.begin_render_pass(color_attachments=colours, depth_stencil_attachment=depth)
        rpass.set_scissor_rect(0, 0, 0, 0)
        recording.replay(rpass)
        rpass.end()
        finished = encoder.finish()
        if waits is not None:
            waits.submit(device.queue, [finished], call)
    finally:
        for texture in textures:  # kept, not destroyed, while a timed-out GPU may still be busy
            if waits is None or not waits.park(texture):
                texture.destroy()


class BundleFunctions:
    # WIT: [method]gpu-device.create-render-bundle-encoder
    @wit("[method]gpu-device.create-render-bundle-encoder")
    def create_render_bundle_encoder(
        self, device: GpuDevice, descriptor: dict[str, Any]
    ) -> GpuRenderBundleEncoder:
        call = "[method]gpu-device.create-render-bundle-encoder"
        device.check_alive(call)
        label = descriptor.get("label") or ""
        desc = to_wgpu({k: v for k, v in descriptor.items() if k != "label"}, call)
        if None in desc.get("color_formats", []):
            raise GuestCallError(call, "color-formats with gaps (none entries) are not supported")
        # wgpu-native aborts the process on these even before `finish` (docs/platform-notes.md).
        colours = len(desc.get("color_formats", []))
        most = int(device.check_alive(call).limits.get("max-color-attachments", 8))
        if colours > most:
            raise GuestGpuError(call, f"{colours} color formats, more than max-color-attachments ({most})")
        samples = desc.get("sample_count", 1)
        if samples not in VALID_SAMPLE_COUNTS:
            raise GuestGpuError(call, f"invalid sample-count {samples} (1, 2, 4, 8, 16 or 32)")
        return GpuRenderBundleEncoder(BundleRecording(desc), device, label)

    # WIT: [method]gpu-render-bundle-encoder.finish
    @wit("[method]gpu-render-bundle-encoder.finish")
    def bundle_finish(
        self, encoder: GpuRenderBundleEncoder, descriptor: dict[str, Any] | None
    ) -> GpuRenderBundle:
        call = "[method]gpu-render-bundle-encoder.finish"
        recording = native(encoder, call)
        assert isinstance(recording, BundleRecording) and encoder.device is not None
        device = encoder.device.check_alive(call)
        label = (descriptor or {}).get("label") or ""
        encoder.native = None  # a bundle encoder finishes once, valid or not
        submittable = encoder.uses is not None and unsubmittable(encoder.uses) is None
        _check_in_scratch_pass(device, encoder.device.waits if submittable else None, recording, call)
        real = device.create_render_bundle_encoder(label=encoder.label, **recording.descriptor)
        recording.replay(real)
        return GpuRenderBundle(real.finish(label=label), encoder.device, label)

    # WIT: [method]gpu-render-pass-encoder.execute-bundles
    @wit("[method]gpu-render-pass-encoder.execute-bundles")
    def execute_bundles(self, rpass: GpuRenderPassEncoder, bundles: list[GpuRenderBundle]) -> None:
        call = "[method]gpu-render-pass-encoder.execute-bundles"
        native(rpass, call).execute_bundles([native(bundle, call) for bundle in bundles])
