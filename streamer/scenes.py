"""Where built-in scenes live: components built by `python -m scenes.build` (the setup step)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_DIR", "DEFAULT_SCENE", "builtin_scenes", "resolve_scene"]

REPO = Path(__file__).resolve().parent.parent
BUILTIN_DIR = REPO / "build" / "scenes"
DEFAULT_SCENE = "triangle"


def builtin_scenes() -> list[str]:
    """Names of the scenes shipped in scenes/ (built or not)."""
    return sorted(p.parent.name for p in (REPO / "scenes").glob("*/app.py"))


def resolve_scene(scene: str) -> Path:
    """A built-in scene's name, or a path to any component."""
    if scene in builtin_scenes():
        return BUILTIN_DIR / f"{scene}.wasm"
    return Path(scene)
