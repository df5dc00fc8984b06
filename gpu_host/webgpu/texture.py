"""wasi:webgpu gpu-texture, its views, and samplers' companions."""

from __future__ import annotations

from typing import Any

from ..linking import wit
from .convert import native, to_wgpu, wit_dimension
from .objects import GpuTexture, GpuTextureView


class TextureFunctions:
    @wit("[method]gpu-texture.create-view")
    def texture_create_view(self, texture: GpuTexture, descriptor: dict[str, Any] | None) -> GpuTextureView:
        call = "[method]gpu-texture.create-view"
        view = texture.check_alive(call).create_view(**to_wgpu(descriptor or {}, call))
        return GpuTextureView(view, texture.device, (descriptor or {}).get("label") or "")

    @wit("[method]gpu-texture.destroy")
    def texture_destroy(self, texture: GpuTexture) -> None:
        texture.destroy()

    @wit("[method]gpu-texture.width")
    def texture_width(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.width").width)

    @wit("[method]gpu-texture.height")
    def texture_height(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.height").height)

    @wit("[method]gpu-texture.depth-or-array-layers")
    def texture_depth_or_array_layers(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.depth-or-array-layers").depth_or_array_layers)

    @wit("[method]gpu-texture.mip-level-count")
    def texture_mip_level_count(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.mip-level-count").mip_level_count)

    @wit("[method]gpu-texture.sample-count")
    def texture_sample_count(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.sample-count").sample_count)

    @wit("[method]gpu-texture.dimension")
    def texture_dimension(self, texture: GpuTexture) -> str:
        return wit_dimension(native(texture, "[method]gpu-texture.dimension").dimension)

    @wit("[method]gpu-texture.format")
    def texture_format(self, texture: GpuTexture) -> str:
        return str(native(texture, "[method]gpu-texture.format").format)

    @wit("[method]gpu-texture.usage")
    def texture_usage(self, texture: GpuTexture) -> int:
        return int(native(texture, "[method]gpu-texture.usage").usage)
