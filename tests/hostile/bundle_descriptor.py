"""bundle_descriptor: render bundle encoders with invalid descriptors: sample count 0 and 64, and
nine color formats (one more than any device allows).

wgpu-native aborts the process when such an encoder is created. The host must make each a
validation error of `create-render-bundle-encoder` (an invalid encoder, whose `finish` is a
validation error too). Checks: `samples_0`, `samples_64`, `nine_colors`, `finish_invalid`.
"""

from gfxkit import RGBA8, check, present_forever, setup
from wit_world.imports import webgpu as W


def encoder(device: W.GpuDevice, colors: int, samples: int | None) -> W.GpuRenderBundleEncoder:
    return device.create_render_bundle_encoder(
        W.GpuRenderBundleEncoderDescriptor(
            color_formats=[RGBA8] * colors,
            depth_stencil_format=None,
            sample_count=samples,
            depth_read_only=None,
            stencil_read_only=None,
            label=None,
        )
    )


def run() -> None:
    device, canvas, context = setup()
    check(device, "samples_0", lambda: encoder(device, 1, 0))
    check(device, "samples_64", lambda: encoder(device, 1, 64))
    check(device, "nine_colors", lambda: encoder(device, 9, None))
    device.push_error_scope(W.GpuErrorFilter.VALIDATION)
    invalid = encoder(device, 9, None)
    device.pop_error_scope()
    check(device, "finish_invalid", lambda: invalid.finish(None))
    present_forever(device, canvas, context)
