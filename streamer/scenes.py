"""The built-in scenes: their list and summaries (read from the scene sources, which ship as package
data) and where their built components are (`scenes.output_dir()`; built by `streamer scenes
--build` or, in a checkout, by scripts/setup)."""

from __future__ import annotations

import ast
from pathlib import Path

from gpu_host import ComponentError
from scenes import SOURCES, output_dir

__all__ = [
    "DEFAULT_SCENE",
    "SceneNotBuilt",
    "build_scenes",
    "builtin_scenes",
    "resolve_scene",
    "scene_summary",
]

DEFAULT_SCENE = "orbit"
DEV_EXTRA = "pip install 'wasi-gfx-streamer[dev]'"


class SceneNotBuilt(ComponentError):
    """A built-in scene whose component has not been built on this machine yet."""


def builtin_scenes() -> list[str]:
    """Names of the built-in scenes (built or not)."""
    return sorted(p.parent.name for p in SOURCES.glob("*/app.py") if not p.parent.name.startswith("_"))


def scene_summary(name: str) -> str:
    """The first line of the scene's app.py docstring, without a leading `Name:` (empty if none).

    Read from the source, not the component, so `streamer scenes` works before a build.
    """
    path = SOURCES / name / "app.py"
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
    """A built-in scene's component, or a path to any component. SceneNotBuilt (one line, saying
    how to build it) for a built-in scene not built yet."""
    if scene not in builtin_scenes():
        return Path(scene)
    path = output_dir() / f"{scene}.wasm"
    if not path.is_file():
        raise SceneNotBuilt(
            f"the built-in scene '{scene}' is not built yet (looked in {path.parent}): run "
            f"'streamer scenes --build' (it needs componentize-py: {DEV_EXTRA}), or give a component path"
        )
    return path


def build_scenes() -> str:
    """Build the built-in scenes into `scenes.output_dir()` (skipping those up to date); the one line
    to print. ComponentError when componentize-py is missing or a scene fails to build."""
    from scenes import build  # the builder needs componentize-py only when it runs

    try:
        build.componentize_py()
    except FileNotFoundError:
        raise ComponentError(f"building the scenes needs componentize-py: {DEV_EXTRA}") from None
    try:
        report = build.build_guests(build.ROOT, kinds=("scenes",))
    except build.BuildError as exc:
        raise ComponentError(str(exc)) from None
    where = output_dir()
    return f"{len(report.outputs)} scenes up to date in {where} ({len(report.built)} built)"
