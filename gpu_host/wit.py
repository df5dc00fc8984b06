"""Facts read from the WIT files the host implements: which functions each interface has.

The coverage report and the "every function is defined" check are derived from these files
rather than typed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["WIT_DIR", "interface_functions", "parse_version", "versions_compatible"]

WIT_DIR = Path(__file__).resolve().parent / "wit"  # package data: the WIT packages the host implements

_PACKAGE = re.compile(r"^\s*package\s+([\w:-]+)@([\w.+-]+)\s*;", re.MULTILINE)
_INTERFACE = re.compile(r"^\s*interface\s+([\w-]+)\s*\{", re.MULTILINE)
_RESOURCE = re.compile(r"^\s*resource\s+%?([\w-]+)\s*\{")
_FUNC = re.compile(r"^\s*%?([\w-]+)\s*:\s*(static\s+)?func\b")
_CONSTRUCTOR = re.compile(r"^\s*constructor\s*\(")


def interface_functions(wit_file: Path, interface: str) -> list[str]:
    """WIT names (`[method]gpu-buffer.map-async`, `[static]…`, `[constructor]…`, plain) of one interface."""
    lines = wit_file.read_text().splitlines()
    names: list[str] = []
    depth = 0
    inside = False
    resource: str | None = None
    for line in lines:
        code = line.split("//", 1)[0]
        if not inside:
            m = _INTERFACE.match(code)
            if m and m.group(1) == interface:
                inside, depth = True, 1
            continue
        if depth == 1:
            m = _RESOURCE.match(code)
            if m and not code.rstrip().endswith("}"):
                resource = m.group(1)
        fm = _FUNC.match(code)
        if fm and depth in (1, 2):
            name = fm.group(1)
            if depth == 1:
                names.append(name)
            elif resource is not None:
                kind = "static" if fm.group(2) else "method"
                names.append(f"[{kind}]{resource}.{name}")
        elif _CONSTRUCTOR.match(code) and depth == 2 and resource is not None:
            names.append(f"[constructor]{resource}")
        depth += code.count("{") - code.count("}")
        if depth == 1:
            resource = None
        if depth == 0:
            break
    return names


def parse_version(version: str) -> tuple[int, int, int]:
    core = version.split("-", 1)[0].split("+", 1)[0]
    major, minor, patch = (int(p) for p in core.split("."))
    return major, minor, patch


def versions_compatible(provided: str, imported: str) -> bool:
    """Semver compatibility as the component model applies it (0.2.0 serves 0.2.9; 0.0.x is exact)."""
    p, i = parse_version(provided), parse_version(imported)
    if p[0] != i[0]:
        return False
    if p[0] == 0 and p[1] != i[1]:
        return False
    if p[0] == 0 and p[1] == 0:
        return p[2] == i[2]
    return True
