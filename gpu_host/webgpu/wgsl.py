"""Bounds on WGSL source, checked before wgpu-native sees it.

naga's parser overflows the native stack on deeply nested brackets (about 3,000 unclosed `(` on
an 8 MiB stack: the whole process dies), its messages quote whole source lines, and wgpu-native
takes WGSL as a C string, so text after a NUL would be silently ignored. A module past a bound is
a validation error of `create-shader-module` (an invalid module inside an error scope).
"""

from __future__ import annotations

import re

from ..errors import GuestGpuError
from ..limits import Limits

__all__ = ["check_wgsl", "nesting_depth"]

_TOKENS = re.compile(r"/\*|\*/|//|\n|[()\[\]{}]")


def nesting_depth(code: str, stop_at: int | None = None) -> int:
    """The deepest nesting of `(`, `[` and `{` in `code`, ignoring `//` and (nested) `/* */`
    comments as WGSL defines them; returns early once `stop_at` is passed. `<` `>` are not
    counted: they are also operators, and naga parses template lists without deep recursion."""
    depth = deepest = block = 0
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
        elif token in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    return deepest
        elif token in ")]}":
            depth = max(0, depth - 1)
    return deepest


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
    depth = nesting_depth(code, stop_at=limits.wgsl_nesting)
    if depth > limits.wgsl_nesting:
        raise GuestGpuError(
            call,
            f"the WGSL source nests brackets more than {limits.wgsl_nesting} deep (Limits.wgsl_nesting)",
        )
