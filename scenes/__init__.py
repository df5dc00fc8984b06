"""The project's own guest scenes: one folder per scene holding `app.py`; `scenes.build` builds them.

The sources ship with the package; the built components do not (`streamer scenes --build` makes
them, which needs componentize-py from the `dev` extra). `output_dir()` says where they go.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CHECKOUT", "SOURCES", "output_dir"]

SOURCES = Path(__file__).resolve().parent
# The source checkout this package runs from, if it does (pyproject.toml beside it); None installed.
CHECKOUT: Path | None = SOURCES.parent if (SOURCES.parent / "pyproject.toml").is_file() else None


def output_dir() -> Path:
    """Where built scenes are written and looked for: `$STREAMER_SCENES_DIR`; else the checkout's
    `.guests/scenes` when running from a source checkout; else the user's cache
    (`$XDG_CACHE_HOME/wasi-gfx-streamer/scenes`, by default under ~/.cache)."""
    explicit = os.environ.get("STREAMER_SCENES_DIR")
    if explicit:
        return Path(explicit)
    if CHECKOUT is not None:
        return CHECKOUT / ".guests" / "scenes"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wasi-gfx-streamer" / "scenes"
