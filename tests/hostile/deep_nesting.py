"""deep_nesting: WGSL nested 100,000 brackets deep, one expression of 30,000 additions, one of
50,000 swizzles, and 20,000 `else if`s.

naga recurses over the syntax tree and overflows the native stack on each (the whole process
dies). The host must measure them first and refuse past `Limits.wgsl_nesting` (brackets), 4,096
operators in one expression and 1,024 `else`s with a validation error. Shaders just within those
bounds still compile on the guest's thread (whose stack also holds the guest's own frames).
Checks: `deep`, `long_chain`, `swizzles`, `else_ifs` (the errors), `within_limit`,
`chain_at_limit`, `else_ifs_at_limit` (null).
"""

from gfxkit import check, present_forever, setup, shader


def nested(depth: int) -> str:
    return "fn f() -> f32 { return " + "(" * depth + "1.0" + ")" * depth + "; }"


def chain(terms: int) -> str:
    return "fn f() -> f32 { return " + "+".join(["1.0"] * terms) + "; }"


def swizzles(links: int) -> str:
    return "fn f() -> f32 { let v = vec4<f32>(1.0); return v" + ".xyzw" * links + ".x; }"


def else_ifs(branches: int) -> str:
    arms = "".join(f" else if a == {i} {{ return {i}; }}" for i in range(1, branches))
    return "fn f(a: i32) -> i32 { if a == 0 { return 0; }" + arms + " return 1; }"


def run() -> None:
    device, canvas, context = setup()
    check(device, "deep", lambda: shader(device, nested(100_000)))
    check(device, "long_chain", lambda: shader(device, chain(30_000)))
    check(device, "swizzles", lambda: shader(device, swizzles(50_000)))
    check(device, "else_ifs", lambda: shader(device, else_ifs(20_000)))
    check(device, "within_limit", lambda: shader(device, nested(200)))
    check(device, "chain_at_limit", lambda: shader(device, chain(2_000)))  # 3,999 `+` and `.`
    check(device, "else_ifs_at_limit", lambda: shader(device, else_ifs(1_024)))
    present_forever(device, canvas, context)
