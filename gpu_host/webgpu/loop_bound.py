"""Every WGSL loop ends: the host gives each shader invocation a budget of loop iterations.

Submitted GPU work cannot be stopped (docs/platform-notes.md). A wait deadline (gpu_wait.py) keeps the host
responsive, but the work itself runs on: on lavapipe it keeps the process's cores busy until it
ends; on an NVIDIA H100 (measured, docs/sandbox.md) a runaway dispatch blocked every process's GPU
work, and still did 30 s after the process that submitted it was killed. So before wgpu sees a
shader, the host adds one private counter to the module and, at the top of every `loop`, `for`
and `while` body, a check that breaks out once the invocation has run `Limits.shader_loop_iterations`
iterations in all its loops together. A shader that stays under the budget computes exactly what
it would have; one past it has its loops cut short instead of holding the GPU.

The counter is declared at the end of the source and the checks are inserted on the lines of the
loops' `{`, so line numbers in compilation messages do not move; the host compiles the guest's own
text first, so that its errors (and their columns) are about the code the guest wrote.
"""

from __future__ import annotations

import re

__all__ = ["COUNTER", "bound_loops"]

COUNTER = "wasi_gfx_host_loop_iterations"

_KEYWORD = re.compile(r"\b(loop|for|while)\b")


def _comment_spans(code: str) -> list[tuple[int, int]]:
    """Where the comments are: `//` to the end of the line, and `/* */`, which nest in WGSL."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(code)
    while i < n:
        if code.startswith("//", i):
            end = code.find("\n", i)
            end = n if end < 0 else end
            spans.append((i, end))
            i = end
        elif code.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if code.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif code.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


def _blank_comments(code: str) -> str:
    """The code with every comment character replaced by a space (positions kept)."""
    chars = list(code)
    for start, end in _comment_spans(code):
        for k in range(start, end):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def _body_start(code: str, pos: int) -> int | None:
    """The index just after the `{` that opens the body of the loop whose keyword ends at `pos`.

    A `for` header and a `while` condition may hold parentheses but never braces, and attributes
    before the body only parentheses, so it is the first `{` outside parentheses.
    """
    depth = 0
    for k in range(pos, len(code)):
        c = code[k]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "{" and depth == 0:
            return k + 1
        elif c in ";}" and depth == 0:
            return None  # not a loop statement after all (`for` cannot end here)
    return None


def bound_loops(code: str, iterations: int) -> str:
    """`code` with every loop limited to `iterations` per invocation (all loops together); the code
    unchanged when it has no loop."""
    plain = _blank_comments(code)
    starts = [_body_start(plain, m.end()) for m in _KEYWORD.finditer(plain)]
    inserts = sorted({s for s in starts if s is not None})
    if not inserts:
        return code
    check = f" if {COUNTER} >= {iterations}u {{ break; }} {COUNTER} += 1u; "
    pieces: list[str] = []
    last = 0
    for at in inserts:
        pieces.append(code[last:at])
        pieces.append(check)
        last = at
    pieces.append(code[last:])
    pieces.append(f"\nvar<private> {COUNTER}: u32;\n")
    return "".join(pieces)
