"""wasi:webgpu gpu-texture, its views, and samplers' companions."""

from __future__ import annotations

from typing import Any

from ..errors import GuestGpuError
from ..linking import wit
from .convert import native, to_wgpu, wit_dimension
from .objects import GpuTexture, GpuTextureView

# View dimensions that hold one array layer, whatever the texture has.
_ONE_LAYER = ("1d", "2d", "3d")


def view_range(texture: Any, desc: dict[str, Any], call: str) -> dict[str, Any]:
    """`desc` (a lifted view descriptor, in wgpu-py spelling) with its mip and layer counts worked out
    as WebGPU does, or a validation error for a range outside the texture.

    wgpu-py 0.32 fills in a missing (or 0) count as `levels - base`: a base past the texture's
    levels gives 0 or a negative count, on which wgpu-native aborts the process or wgpu-py fails.
    """
    mips = int(texture.mip_level_count)
    layers = 1 if texture.dimension == "3d" else int(texture.depth_or_array_layers)
    dimension = desc.get("dimension") or texture.dimension
    base_mip = int(desc.get("base_mip_level") or 0)
    base_layer = int(desc.get("base_array_layer") or 0)
    mip_count = desc.get("mip_level_count")
    layer_count = desc.get("array_layer_count")
    if base_mip >= mips:
        raise GuestGpuError(call, f"base-mip-level {base_mip} is past the texture's {mips} mip levels")
    if base_layer >= layers:
        raise GuestGpuError(
            call, f"base-array-layer {base_layer} is past the texture's {layers} array layers"
        )
    if mip_count is None:
        mip_count = mips - base_mip
    if layer_count is None:
        layer_count = 1 if dimension in _ONE_LAYER else 6 if dimension == "cube" else layers - base_layer
    if mip_count <= 0 or base_mip + mip_count > mips:
        raise GuestGpuError(
            call, f"mip-level-count {mip_count} from level {base_mip} is outside the texture's {mips}"
        )
    if layer_count <= 0 or base_layer + layer_count > layers:
        raise GuestGpuError(
            call, f"array-layer-count {layer_count} from layer {base_layer} is outside the texture's {layers}"
        )
    return {**desc, "mip_level_count": mip_count, "array_layer_count": layer_count}


class TextureFunctions:
    @wit("[method]gpu-texture.create-view")
    def texture_create_view(self, texture: GpuTexture, descriptor: dict[str, Any] | None) -> GpuTextureView:
        call = "[method]gpu-texture.create-view"
        wgpu_texture = texture.check_alive(call)
        view = wgpu_texture.create_view(**view_range(wgpu_texture, to_wgpu(descriptor or {}, call), call))
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
