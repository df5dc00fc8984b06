"""adapter: the adapter, device, limits and features (values compared with wgpu-py on the host)."""

from componentize_py_types import Err
from gfxkit import Group, err_kind, wit_enum
from wit_world.imports import webgpu as W


def run(gpu: W.Gpu, adapter: W.GpuAdapter, device: W.GpuDevice) -> None:
    g = Group("adapter", device)
    options = W.GpuRequestAdapterOptions(
        feature_level=None,
        power_preference=W.GpuPowerPreference.HIGH_PERFORMANCE,
        force_fallback_adapter=None,
        xr_compatible=None,
    )
    g.check("request-adapter", lambda: gpu.request_adapter(options) is not None)
    g.check("preferred-format", lambda: wit_enum(gpu.get_preferred_canvas_format()))
    g.check("adapter-vendor", lambda: adapter.info().vendor())
    g.check("adapter-max-texture-2d", lambda: adapter.limits().max_texture_dimension2_d())
    g.check("device-max-bind-groups", lambda: device.limits().max_bind_groups())
    g.check("adapter-has-timestamp-query", lambda: adapter.features().has("timestamp-query"))
    g.check("device-has-timestamp-query", lambda: device.features().has("timestamp-query"))

    def with_feature() -> list[object]:
        second = adapter.request_device(
            W.GpuDeviceDescriptor(
                required_features=[W.GpuFeatureName.TIMESTAMP_QUERY],
                required_limits=None,
                default_queue=None,
                label="second",
            )
        )
        has = second.features().has("timestamp-query")
        second.destroy()
        return [has, wit_enum(second.lost().reason())]

    g.check("device-with-feature", with_feature)

    def unknown_limit() -> str:
        limits = W.RecordOptionGpuSize64()
        limits.add("max-no-such-thing", 1)
        try:
            adapter.request_device(
                W.GpuDeviceDescriptor(
                    required_features=None, required_limits=limits, default_queue=None, label=None
                )
            )
        except Err as err:
            return err_kind(err)
        return "ok"

    g.check("unknown-limit", unknown_limit)
