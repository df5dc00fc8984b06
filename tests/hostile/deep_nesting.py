"""deep_nesting: WGSL nested 100,000 brackets deep, and one expression of 30,000 additions.

naga recurses once per bracket and once per operator of a chain, and overflows the native stack
at about 3,000 brackets or 10,000 to 30,000 operators (the whole process dies). The host must
measure both first and refuse past `Limits.wgsl_nesting` (brackets) and 4,096 operators with a
validation error; a shader nested less deep than the limit still compiles. Checks: `deep`,
`long_chain` (the errors), `within_limit` (null).
"""

from gpukit import check, present_forever, shader
from guestkit import setup


def nested(depth: int) -> str:
    return "fn f() -> f32 { return " + "(" * depth + "1.0" + ")" * depth + "; }"


def run() -> None:
    device, canvas, context = setup()
    check(device, "deep", lambda: shader(device, nested(100_000)))
    chain = "fn f() -> f32 { return " + " + ".join(["1.0"] * 30_000) + "; }"
    check(device, "long_chain", lambda: shader(device, chain))
    check(device, "within_limit", lambda: shader(device, nested(100)))
    present_forever(device, canvas, context)
