"""wasi:webgpu: the `gpu` entry point, adapters, devices' creation, limits, features and info."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import wgpu
from wasmtime.component import Variant

from ..linking import wit
from .budget import GpuBudget
from .convert import wit_error
from .objects import (
    Gpu,
    GpuAdapter,
    GpuAdapterInfo,
    GpuDevice,
    GpuSupportedFeatures,
    GpuSupportedLimits,
    RecordOptionGpuSize64,
    WgslLanguageFeatures,
    limit_key,
)
from .wgsl_features import supported_wgsl_features

if TYPE_CHECKING:
    from ..guest import GuestContext


# What get-preferred-canvas-format answers, and the format of the frame textures a graphics
# context hands out: the presenter copies them out as they are (RGBA, no swizzle).
PREFERRED_CANVAS_FORMAT = "rgba8unorm"


# WIT feature names that wgpu-native spells differently.
_FEATURE_TO_WGPU = {
    "subgroups": "subgroup",
    "texture-compression-bc-sliced3d": "texture-compression-bc-sliced-3d",
    "texture-compression-astc-sliced3d": "texture-compression-astc-sliced-3d",
}


def wgpu_feature(name: str) -> str:
    return _FEATURE_TO_WGPU.get(name, name)


def wit_features(features: object) -> set[str]:
    """wgpu-py's feature set in WIT spelling (both spellings kept, so `has` accepts either)."""
    names = {str(f) for f in features}  # type: ignore[attr-defined]
    return names | {wit for wit, native in _FEATURE_TO_WGPU.items() if native in names}


class AdapterFunctions:
    budget: GpuBudget  # the guest's GPU budget (WebGpuHost), shared by its devices
    devices: weakref.WeakSet[GpuDevice]  # the guest's devices (WebGpuHost)
    ctx: GuestContext

    # WIT: get-gpu
    @wit("get-gpu")
    def get_gpu(self) -> Gpu:
        return Gpu()

    # WIT: [method]gpu.request-adapter
    @wit("[method]gpu.request-adapter")
    def request_adapter(self, _gpu: Gpu, options: dict[str, Any] | None) -> GpuAdapter | None:
        options = options or {}
        kwargs: dict[str, Any] = {}
        if options.get("power_preference"):
            kwargs["power_preference"] = options["power_preference"]
        if options.get("force_fallback_adapter"):
            kwargs["force_fallback_adapter"] = True
        try:
            adapter = wgpu.gpu.request_adapter_sync(**kwargs)
        except RuntimeError:
            return None
        return GpuAdapter(adapter)

    # WIT: [method]gpu.get-preferred-canvas-format
    @wit("[method]gpu.get-preferred-canvas-format")
    def get_preferred_canvas_format(self, _gpu: Gpu) -> str:
        return PREFERRED_CANVAS_FORMAT

    # WIT: [method]gpu.wgsl-language-features
    @wit("[method]gpu.wgsl-language-features")
    def wgsl_language_features(self, _gpu: Gpu) -> WgslLanguageFeatures:
        # wgpu-py 0.32 reports none (docs/platform-notes.md): the host probes naga itself (wgsl_features.py).
        return WgslLanguageFeatures(set(supported_wgsl_features()))

    @wit("[method]wgsl-language-features.has")
    def wgsl_language_features_has(self, features: WgslLanguageFeatures, name: str) -> bool:
        return name in features.features

    # --- adapter -----------------------------------------------------------------------------------

    @wit("[method]gpu-adapter.features")
    def adapter_features(self, adapter: GpuAdapter) -> GpuSupportedFeatures:
        return GpuSupportedFeatures(wit_features(adapter.native.features))

    @wit("[method]gpu-adapter.limits")
    def adapter_limits(self, adapter: GpuAdapter) -> GpuSupportedLimits:
        return GpuSupportedLimits(dict(adapter.native.limits))

    @wit("[method]gpu-adapter.info")
    def adapter_info(self, adapter: GpuAdapter) -> GpuAdapterInfo:
        return GpuAdapterInfo(dict(adapter.native.info))

    @wit("[method]gpu-adapter.is-fallback-adapter")
    def is_fallback_adapter(self, adapter: GpuAdapter) -> bool:
        return bool(adapter.native.info.get("adapter_type") == "CPU")

    # WIT: [method]gpu-adapter.request-device
    @wit("[method]gpu-adapter.request-device")
    def request_device(self, adapter: GpuAdapter, descriptor: dict[str, Any] | None) -> GpuDevice:
        descriptor = descriptor or {}
        wanted = descriptor.get("required_features") or []
        features = [wgpu_feature(f) for f in wanted]
        missing = [w for w, f in zip(wanted, features, strict=True) if f not in adapter.native.features]
        if missing:
            raise wit_error("type-error", f"the adapter lacks features: {', '.join(missing)}")
        limits_record = descriptor.get("required_limits")
        limits: dict[str, int] = {}
        if isinstance(limits_record, RecordOptionGpuSize64):
            known = {limit_key(k): k for k in adapter.native.limits}
            for name, value in limits_record.values.items():
                if value is None:
                    continue
                key = known.get(limit_key(name))
                if key is None:
                    raise wit_error("operation-error", f"unknown limit {name!r}")
                limits[key] = value
        label = descriptor.get("label") or ""
        # Each device has a native poll thread: a guest may hold only a few at once.
        most = self.budget.limits.gpu_devices
        if sum(1 for d in self.devices if d.native is not None and not d.destroyed) >= most:
            raise wit_error(
                "operation-error",
                f"the guest holds {most} GPU devices (Limits.gpu_devices); "
                "destroy one before requesting another",
            )
        try:
            device = adapter.native.request_device_sync(
                label=label, required_features=features, required_limits=limits
            )
        except (RuntimeError, ValueError, OverflowError, wgpu.GPUError) as exc:
            # OverflowError: a limit past the C API's 32 bits (wgpu-py's own check).
            raise wit_error("operation-error", exc) from None
        gpu_device = GpuDevice(device, adapter, label, self.budget, self.ctx.cpu.blocked)
        self.devices.add(gpu_device)
        return gpu_device

    # --- limits / features / info ------------------------------------------------------------------

    @wit("[method]gpu-supported-features.has")
    def supported_features_has(self, features: GpuSupportedFeatures, name: str) -> bool:
        return name in features.features

    @wit("[method]gpu-adapter-info.vendor")
    def info_vendor(self, info: GpuAdapterInfo) -> str:
        return str(info.info.get("vendor", ""))

    @wit("[method]gpu-adapter-info.architecture")
    def info_architecture(self, info: GpuAdapterInfo) -> str:
        return str(info.info.get("architecture", ""))

    @wit("[method]gpu-adapter-info.device")
    def info_device(self, info: GpuAdapterInfo) -> str:
        return str(info.info.get("device", ""))

    @wit("[method]gpu-adapter-info.description")
    def info_description(self, info: GpuAdapterInfo) -> str:
        return str(info.info.get("description", ""))

    @wit("[method]gpu-adapter-info.subgroup-min-size")
    def info_subgroup_min_size(self, info: GpuAdapterInfo) -> int:
        # wgpu-py 0.32 spells the key "stackgroup_min_size".
        return int(info.info.get("subgroup_min_size", info.info.get("stackgroup_min_size", 0)))

    @wit("[method]gpu-adapter-info.subgroup-max-size")
    def info_subgroup_max_size(self, info: GpuAdapterInfo) -> int:
        return int(info.info.get("subgroup_max_size", info.info.get("stackgroup_max_size", 0)))

    # --- record-option-gpu-size64 (required-limits) -------------------------------------------------

    @wit("[constructor]record-option-gpu-size64")
    def new_record_option_gpu_size64(self) -> RecordOptionGpuSize64:
        return RecordOptionGpuSize64()

    @wit("[method]record-option-gpu-size64.add")
    def record_size64_add(self, rec: RecordOptionGpuSize64, key: str, value: int | None) -> None:
        rec.values[key] = value

    @wit("[method]record-option-gpu-size64.get")
    def record_size64_get(self, rec: RecordOptionGpuSize64, key: str) -> Any:
        # option<option<u64>>: wasmtime-py needs the outer option spelled as a Variant.
        if key not in rec.values:
            return Variant("none")
        return Variant("some", rec.values[key])

    @wit("[method]record-option-gpu-size64.has")
    def record_size64_has(self, rec: RecordOptionGpuSize64, key: str) -> bool:
        return key in rec.values

    @wit("[method]record-option-gpu-size64.remove")
    def record_size64_remove(self, rec: RecordOptionGpuSize64, key: str) -> None:
        rec.values.pop(key, None)

    @wit("[method]record-option-gpu-size64.keys")
    def record_size64_keys(self, rec: RecordOptionGpuSize64) -> list[str]:
        return list(rec.values)

    @wit("[method]record-option-gpu-size64.values")
    def record_size64_values(self, rec: RecordOptionGpuSize64) -> list[int | None]:
        return list(rec.values.values())

    @wit("[method]record-option-gpu-size64.entries")
    def record_size64_entries(self, rec: RecordOptionGpuSize64) -> list[tuple[str, int | None]]:
        return list(rec.values.items())
