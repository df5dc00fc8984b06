"""bad_wgsl: shader modules from invalid WGSL: a syntax error, an error on a very long line, and a
source larger than `Limits.wgsl_bytes`.

Each must be a validation error of `create-shader-module` (an invalid module) that the guest's
error scope captures, with wgpu's message cut to `Limits.error_message_chars` (naga quotes whole
names and lines). Checks: `syntax`, `long_line` (value: [kind, the message's length, its last
character]), `too_big`.
"""

from gfxkit import caught, check, present_forever, report, setup, shader


def run() -> None:
    device, canvas, context = setup()
    check(device, "syntax", lambda: shader(device, "@fragment fn main( -> { return vec4<f32>(1.0); }"))
    long_line = "fn f() -> f32 { return " + "x" * 50_000 + "; }"  # naga quotes the unknown name
    error = caught(device, lambda: shader(device, long_line))
    report("long_line", None if error is None else [error[0], len(error[1]), error[1][-1]])  # type: ignore[index]
    check(device, "too_big", lambda: shader(device, "// padding\n" * 20_000))
    present_forever(device, canvas, context)
