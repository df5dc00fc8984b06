"""Where built-in scenes live: components built by `python -m scenes.build` (the setup step)."""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["BUILTIN_DIR", "DEFAULT_SCENE", "builtin_scenes", "resolve_scene", "scene_summary"]

REPO = Path(__file__).resolve().parent.parent
BUILTIN_DIR = REPO / "build" / "scenes"
DEFAULT_SCENE = "orbit"


def builtin_scenes() -> list[str]:
    """Names of the scenes shipped in scenes/ (built or not)."""
    return sorted(p.parent.name for p in (REPO / "scenes").glob("*/app.py"))


def scene_summary(name: str) -> str:
    """The first line of the scene's app.py docstring, without a leading `Name:` (empty if none).

    Read from the source, not the component, so `streamer scenes` works before a build.
    """
    path = REPO / "scenes" / name / "app.py"
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return ""
    first = docstring.strip().splitlines()[0] if docstring.strip() else ""
    head, sep, rest = first.partition(":")
    if sep and head.replace(" ", "").lower() == name.lower():
        first = rest.strip()
    return first[:1].upper() + first[1:]


def resolve_scene(scene: str) -> Path:
    """A built-in scene's name, or a path to any component."""
    if scene in builtin_scenes():
        return BUILTIN_DIR / f"{scene}.wasm"
    return Path(scene)
