"""gpu_host/wit/ holds the standard packages type-for-type, and every wasi:webgpu function links."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gpu_host.wit import WIT_DIR

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "wasi-gfx"
WASM_TOOLS = Path(sys.executable).parent / "wasm-tools"
PACKAGES = ["webgpu", "surface", "graphics-context", "frame-buffer", "io"]


def wit_text(folder: Path) -> str:
    """The package as wasm-tools resolves and prints it (comments and layout normalised)."""
    out = subprocess.run(
        [str(WASM_TOOLS), "component", "wit", str(folder)], capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="the reference WIT (../shared) is not on this machine")
@pytest.mark.parametrize("package", PACKAGES)
def test_wit_packages_are_identical_to_the_reference(package: str, tmp_path: Path) -> None:
    def tree(source_root: Path, name: str) -> Path:
        """`package` as the main package, the others as its deps (a package resolves only beside
        the packages it `use`s)."""
        root = tmp_path / name
        for dep in PACKAGES:
            target = root if dep == package else root / "deps" / dep
            target.mkdir(parents=True, exist_ok=True)
            for wit in (source_root / dep).glob("*.wit"):
                (target / wit.name).write_text(wit.read_text())
        return root

    ours = wit_text(tree(WIT_DIR / "deps", "ours"))
    reference = wit_text(tree(REFERENCE, "reference"))
    assert ours == reference
