"""bundle_descriptor: render bundle encoders with invalid descriptors: sample count 0 and 64, and
nine color formats (one more than any device allows).

wgpu-native aborts the process when such an encoder is created. The host must make each a
validation error of `create-render-bundle-encoder` (an invalid encoder, whose `finish` is a
validation error too). Checks: `samples_0`, `samples_64`, `nine_colors`, `finish_invalid`.
"""

from gfxkit import bundle_encoder, check, present_forever, setup
from wit_world.imports import webgpu as W


def run() -> None:
    device, canvas, context = setup()
    check(device, "samples_0", lambda: bundle_encoder(device, 1, 0))
    check(device, "samples_64", lambda: bundle_encoder(device, 1, 64))
    check(device, "nine_colors", lambda: bundle_encoder(device, 9))
    device.push_error_scope(W.GpuErrorFilter.VALIDATION)
    invalid = bundle_encoder(device, 9)
    device.pop_error_scope()
    check(device, "finish_invalid", lambda: invalid.finish(None))
    present_forever(device, canvas, context)
