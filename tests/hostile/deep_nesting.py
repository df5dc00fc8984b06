"""deep_nesting: WGSL nested 100,000 brackets deep.

naga's parser recurses once per bracket and overflows the native stack at about 3,000 (the whole
process dies). The host must count the nesting first and refuse past `Limits.wgsl_nesting` with a
validation error; a shader nested less deep than the limit still compiles. Checks: `deep` (the
error), `within_limit` (null).
"""

from gpukit import check, present_forever, shader
from guestkit import setup


def nested(depth: int) -> str:
    return "fn f() -> f32 { return " + "(" * depth + "1.0" + ")" * depth + "; }"


def run() -> None:
    device, canvas, context = setup()
    check(device, "deep", lambda: shader(device, nested(100_000)))
    check(device, "within_limit", lambda: shader(device, nested(100)))
    present_forever(device, canvas, context)
