"""Bounds on WGSL source, checked before wgpu-native sees it.

naga recurses over the syntax tree and overflows the native stack, killing the whole process, on
deeply nested brackets (about 3,000 unclosed `(` on an 8 MiB stack), long chains in one expression
(`1.0+1.0+...`, `v.xyzw.xyzw...`, `a[0][0]...`: 10,000 to 50,000 links) and long `else if`
chains (4,100 passed, 8,000 crashed), measured with wgpu 0.32 on lavapipe; its messages quote
whole source lines, and wgpu-native takes WGSL as a C string, so text after a NUL would be silently ignored. A
module past a bound is a validation error of `create-shader-module` (an invalid module inside an
error scope).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import GuestGpuError
from ..limits import Limits

__all__ = ["MAX_ELSE", "MAX_OPERATORS", "WgslShape", "check_wgsl", "wgsl_shape"]

# Operators, `.` and `[` in one expression (between `;`, `,`, `{` and `}`), and `else`s in the
# whole source: far above what shaders write, well below where naga's stack gives out (a guest's
# thread has less of its stack left than a main thread: the guest's own frames are below).
MAX_OPERATORS = 4096
MAX_ELSE = 1024

_TOKENS = re.compile(r"/\*|\*/|//|\n|[()\[\]{}]|[;,]|[-+*/%&|^<>!~=.]|\belse\b")
_OPENS, _CLOSES, _SEPARATORS = "([{", ")]}", ";,{}"


@dataclass(frozen=True)
class WgslShape:
    nesting: int  # the deepest nesting of (, [ and {
    operators: int  # the most operator characters, `.` and `[` in one expression
    elses: int  # `else` keywords in all


def wgsl_shape(
    code: str, max_nesting: int | None = None, max_operators: int | None = None, max_else: int | None = None
) -> WgslShape:
    """How deep `code` nests brackets and how long its operator chains are, ignoring `//` and
    (nested) `/* */` comments as WGSL defines them; returns early once a `max_` is passed.

    `<` and `>` count as operators, not brackets (they are both in WGSL; template lists do not
    recurse deeply in naga). Multi-character operators count once per character."""
    depth = deepest = block = operators = most = elses = 0
    line_comment = False
    for match in _TOKENS.finditer(code):
        token = match.group()
        if line_comment:
            line_comment = token != "\n"
        elif token == "/*":
            block += 1
        elif block:
            if token == "*/":
                block -= 1
        elif token == "//":
            line_comment = True
        elif token == "\n":
            continue
        elif token == "else":
            elses += 1
            if max_else is not None and elses > max_else:
                break
        elif token in _OPENS or token in _CLOSES or token in _SEPARATORS:
            if token in _SEPARATORS:
                operators = 0
            elif token == "[":
                operators += 1
                most = max(most, operators)
            if token in _OPENS:
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if max_nesting is not None and deepest > max_nesting:
                        break
            elif token in _CLOSES:
                depth = max(0, depth - 1)
        else:  # an operator character ("*/" outside a comment lands here too, as two)
            operators += len(token)
            if operators > most:
                most = operators
                if max_operators is not None and most > max_operators:
                    break
    return WgslShape(deepest, most, elses)


def check_wgsl(code: str, limits: Limits, call: str) -> None:
    """Raise a validation error (GuestGpuError) if `code` is past the guest's WGSL bounds."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > limits.wgsl_bytes:
        raise GuestGpuError(
            call,
            f"the WGSL source is {size} bytes, over the limit of {limits.wgsl_bytes} (Limits.wgsl_bytes)",
        )
    nul = code.find("\0")
    if nul >= 0:
        line = code.count("\n", 0, nul) + 1
        raise GuestGpuError(
            call, f"the WGSL source contains a NUL character (line {line}); WGSL text may not contain one"
        )
    shape = wgsl_shape(code, limits.wgsl_nesting, MAX_OPERATORS, MAX_ELSE)
    if shape.nesting > limits.wgsl_nesting:
        raise GuestGpuError(
            call,
            f"the WGSL source nests brackets more than {limits.wgsl_nesting} deep (Limits.wgsl_nesting)",
        )
    if shape.operators > MAX_OPERATORS:
        raise GuestGpuError(call, f"the WGSL source has an expression of more than {MAX_OPERATORS} operators")
    if shape.elses > MAX_ELSE:
        raise GuestGpuError(call, f"the WGSL source has more than {MAX_ELSE} `else` branches")
