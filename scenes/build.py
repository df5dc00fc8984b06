"""Build the Python guests into WebAssembly components with componentize-py.

Guests are folders holding an `app.py` (the module componentize-py wraps):

- `scenes/<name>/app.py`      -> `<scenes.output_dir()>/<name>.wasm` (in a checkout `.guests/scenes/`)
- `tests/guests/<name>/app.py` -> `.guests/test-guests/<name>.wasm` (a source checkout only)
- `tests/<suite>/app.py`       -> `.guests/test-suites/<suite>.wasm` (tests/hostile, tests/conformance)

Guests are built against the WIT the host implements, `gpu_host/wit/`.

Folders whose names start with `_` are never guests. A guest set may have a shared library folder
(every set has `scenes/_lib`, holding `gfxkit.py`, the one helper module of all guests): a copy of it
is put on the python path of every guest of that set (a second `-p` to componentize-py), so its
modules can be imported by the guests' `app.py`.

A guest folder may hold:

- `world.txt`: the name of the WIT world to target (default `scene`);
- `wit/`: a WIT folder that replaces `gpu_host/wit/` for that guest. Packages under the
  `gpu_host/wit/deps/` that the guest's `wit/deps/` does not have are added to it, so a
  guest-local world only needs its own package and any extra dependencies (for example
  `wasi:cli/run`).

The output of componentize-py 0.25.1 is changed after the build by `scenes/free_lists.py`, which
frees the `list<u8>` a guest passes to an import once the call is over (that release never frees
it: docs/runtime.md).

A build is skipped when `<name>.wasm.key` beside the output holds the sha256 of the
componentize-py version, the world name, `scenes/free_lists.py`, every file under `gpu_host/wit/`,
every file in the guest folder and every file in its set's shared library folder. Builds run two
at a time; outputs are written to a temporary file and renamed.

Command line: `python -m scenes.build [--force] [--list] [NAME ...]`. Quiet on success except one
summary line; a failing guest is named on stderr with componentize-py's output, and the exit
status is 1.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gpu_host.wit import WIT_DIR
from scenes import CHECKOUT, SOURCES, output_dir
from scenes.free_lists import LEAKING_TOOL, FreeListsError, free_import_lists

# The checkout (test guests live there); installed, only the scenes exist, beside this module.
ROOT = CHECKOUT or SOURCES.parent
DEFAULT_WORLD = "scene"
APP_MODULE = "app"
WORKERS = 2
FILE_MODE = 0o644  # mkstemp makes 0600 files; outputs are ordinary build artefacts

# (source folder, output folder, kind, shared library folder or None); folders relative to the root,
# but the scenes' output is `scenes.output_dir()`. Guests are built into `.guests/`, never into
# `build/`, which is setuptools' own.
GUEST_SETS: tuple[tuple[str, str, str, str | None], ...] = (
    ("scenes", "<scenes.output_dir()>", "scenes", "scenes/_lib"),
    ("tests/guests", ".guests/test-guests", "test-guests", "scenes/_lib"),
    # Guest suites: one component holding many small programs, chosen by the guest's first argument
    # (tests/hostile, tests/conformance): one build instead of one per program.
    ("tests", ".guests/test-suites", "test-suites", "scenes/_lib"),
)
# What scenes/free_lists.py does to componentize-py's output is part of every guest's cache key.
FREE_LISTS_SOURCE = Path(__file__).resolve().parent / "free_lists.py"
_IGNORED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


@dataclass(frozen=True)
class Guest:
    """One guest: where its source lives, where its component goes, and the world it targets."""

    kind: str
    name: str
    source: Path
    output: Path
    world: str
    lib: Path | None = None  # the set's shared library folder, put on the python path too

    @property
    def key(self) -> str:
        """The guest's id, `<kind>/<name>` (e.g. `scenes/triangle`, `test-guests/solid`)."""
        return f"{self.kind}/{self.name}"

    @property
    def key_file(self) -> Path:
        return self.output.with_name(self.output.name + ".key")

    @property
    def local_wit(self) -> Path | None:
        wit = self.source / "wit"
        return wit if wit.is_dir() else None


@dataclass
class BuildReport:
    """What a build run did: every guest's component path, and which of them were rebuilt."""

    outputs: dict[str, Path]
    built: list[str]
    cached: list[str]
    seconds: float


class BuildError(Exception):
    """One or more guests failed to build; `failures` maps each guest's key to the tool's output."""

    def __init__(self, failures: dict[str, str]) -> None:
        self.failures = dict(sorted(failures.items()))
        lines = [f"guest {key} failed to build:\n{text.rstrip()}" for key, text in self.failures.items()]
        super().__init__("\n\n".join(lines))


def scene_path(name: str) -> Path:
    """Path of the built component of the built-in scene `name` (it may not be built yet)."""
    return output_dir() / f"{name}.wasm"


def test_guest_path(name: str, root: Path = ROOT) -> Path:
    """Path of the built component of the test guest `name` (it may not be built yet)."""
    return root / ".guests" / "test-guests" / f"{name}.wasm"


def suite_path(name: str, root: Path = ROOT) -> Path:
    """Path of the built component of the guest suite `name` (`tests/<name>/app.py`)."""
    return root / ".guests" / "test-suites" / f"{name}.wasm"


def componentize_py() -> Path:
    """The componentize-py executable of the running interpreter's environment."""
    bindir = Path(sys.executable).parent
    for candidate in (bindir / "componentize-py", bindir / "componentize-py.exe"):
        if candidate.is_file():
            return candidate
    found = shutil.which("componentize-py")
    if found is None:
        raise FileNotFoundError(f"componentize-py not found beside {sys.executable} nor on PATH")
    return Path(found)


def tool_version(tool: Path) -> str:
    """The version line the tool prints (e.g. `componentize-py 0.25.1`)."""
    done = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def read_world(folder: Path) -> str:
    """The world named in `folder/world.txt` (first non-blank, non-`#` line), else `scene`."""
    path = folder / "world.txt"
    if not path.is_file():
        return DEFAULT_WORLD
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return DEFAULT_WORLD


def discover(root: Path = ROOT, kinds: Iterable[str] | None = None) -> list[Guest]:
    """Every guest under `root` (of `kinds`: "scenes", "test-guests", "test-suites"), scenes first,
    each set sorted by name."""
    guests: list[Guest] = []
    for source_dir, output, kind, lib_dir in GUEST_SETS:
        if kinds is not None and kind not in kinds:
            continue
        out = output_dir() if kind == "scenes" else root / output
        base = root / source_dir
        if not base.is_dir():
            continue
        lib = root / lib_dir if lib_dir is not None else None
        for app in sorted(base.glob(f"*/{APP_MODULE}.py")):
            folder = app.parent
            if folder.name.startswith("_"):
                continue
            component = out / f"{folder.name}.wasm"
            guests.append(Guest(kind, folder.name, folder, component, read_world(folder), lib))
    return guests


def list_scenes(root: Path = ROOT) -> list[str]:
    """Names of the built-in scenes (folders `scenes/<name>/app.py`)."""
    return [guest.name for guest in discover(root) if guest.kind == "scenes"]


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not _IGNORED_PARTS.intersection(path.relative_to(folder).parts)
        and path.suffix != ".pyc"
    )


def cache_key(guest: Guest, version: str, root: Path = ROOT) -> str:
    """sha256 of the tool version, the world, the `wit/` files, the guest's and its library's files."""
    digest = hashlib.sha256()

    def feed(tag: str, data: bytes) -> None:
        digest.update(f"{tag}:{len(data)}:".encode())
        digest.update(data)

    feed("tool", version.encode())
    feed("world", guest.world.encode())
    feed("free-lists", FREE_LISTS_SOURCE.read_bytes())  # what is done to the tool's output
    folders = [("wit", WIT_DIR), ("guest", guest.source)]
    if guest.lib is not None:
        folders.append(("lib", guest.lib))
    for label, folder in folders:
        for path in _files(folder):
            feed(f"{label}-name", path.relative_to(folder).as_posix().encode())
            feed(f"{label}-data", path.read_bytes())
    return digest.hexdigest()


def is_fresh(guest: Guest, key: str) -> bool:
    """True when the guest's component exists and its sidecar key matches `key`."""
    try:
        return guest.output.is_file() and guest.key_file.read_text(encoding="utf-8").strip() == key
    except OSError:
        return False


def _wit_dir(guest: Guest, root: Path, scratch: Path) -> Path:
    """The WIT folder to build `guest` against (a merged copy when the guest has its own `wit/`)."""
    local = guest.local_wit
    if local is None:
        return WIT_DIR
    merged = scratch / "wit"
    shutil.copytree(local, merged, ignore=shutil.ignore_patterns(*_IGNORED_PARTS))
    project_deps = WIT_DIR / "deps"
    if project_deps.is_dir():
        for dep in sorted(project_deps.iterdir()):
            target = merged / "deps" / dep.name
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if dep.is_dir():
                shutil.copytree(dep, target)
            else:
                shutil.copy2(dep, target)
    return merged


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_guest(
    guest: Guest, key: str, tool: Path, root: Path = ROOT, version: str | None = None
) -> str | None:
    """Build one guest; returns None on success, else componentize-py's output (or the error).

    The output of `LEAKING_TOOL` (`version`, the tool's version line) gets `free_import_lists`:
    its guests would lose the memory of every `list<u8>` they pass to an import (docs/runtime.md).
    """
    guest.output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=guest.output.parent, prefix=f".{guest.name}.", suffix=".wasm.tmp")
    os.close(fd)
    tmp_output = Path(tmp_name)
    try:
        with tempfile.TemporaryDirectory(prefix="scene-build-") as scratch:
            wit = _wit_dir(guest, root, Path(scratch))
            # componentize-py writes __pycache__ into its python path: give it a copy of the source.
            source = Path(scratch) / "src"
            shutil.copytree(guest.source, source, ignore=shutil.ignore_patterns(*_IGNORED_PARTS, "wit"))
            python_path = ["-p", str(source)]
            if guest.lib is not None and guest.lib.is_dir():
                lib = Path(scratch) / "lib"
                shutil.copytree(guest.lib, lib, ignore=shutil.ignore_patterns(*_IGNORED_PARTS))
                python_path += ["-p", str(lib)]
            command = [
                str(tool), "-q", "-d", str(wit), "-w", guest.world,
                "componentize", *python_path, APP_MODULE, "-o", str(tmp_output),
            ]  # fmt: skip
            env = {**os.environ, "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0"}
            done = subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or tmp_output.stat().st_size == 0:
            text = (done.stdout + done.stderr).split("\nStack backtrace:")[0].strip()
            text = text or f"componentize-py exited with {done.returncode}"
            return f"$ {' '.join(command)}\n{text}"
        if (version or tool_version(tool)) == LEAKING_TOOL:
            freed, _ = free_import_lists(tmp_output.read_bytes())
            tmp_output.write_bytes(freed)
        guest.key_file.unlink(missing_ok=True)
        os.chmod(tmp_output, FILE_MODE)
        os.replace(tmp_output, guest.output)
        _write_atomic(guest.key_file, (key + "\n").encode())
        return None
    except (OSError, FreeListsError, subprocess.TimeoutExpired) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        tmp_output.unlink(missing_ok=True)


def _select(guests: list[Guest], names: Iterable[str] | None) -> list[Guest]:
    if names is None:
        return guests
    wanted = set(names)
    chosen = [guest for guest in guests if guest.name in wanted or guest.key in wanted]
    unknown = wanted - {guest.name for guest in chosen} - {guest.key for guest in chosen}
    if unknown:
        raise BuildError({name: "no such guest" for name in unknown})
    return chosen


def build_guests(
    root: Path = ROOT,
    *,
    names: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    force: bool = False,
    workers: int = WORKERS,
) -> BuildReport:
    """Build the guests under `root` (or those named by name or key, or of `kinds`) that are out of
    date.

    Raises BuildError naming every guest that failed, after trying them all.
    """
    started = time.monotonic()
    guests = _select(discover(root, kinds), names)
    tool = componentize_py()
    version = tool_version(tool)
    keys = {guest.key: cache_key(guest, version, root) for guest in guests}
    stale = [guest for guest in guests if force or not is_fresh(guest, keys[guest.key])]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(
            pool.map(lambda guest: build_guest(guest, keys[guest.key], tool, root, version), stale)
        )
    failures = {guest.key: text for guest, text in zip(stale, results, strict=True) if text is not None}
    if failures:
        raise BuildError(failures)
    built = [guest.key for guest in stale]
    return BuildReport(
        outputs={guest.key: guest.output for guest in guests},
        built=built,
        cached=[guest.key for guest in guests if guest.key not in built],
        seconds=time.monotonic() - started,
    )


def build_all(root: Path = ROOT) -> dict[str, Path]:
    """Build every guest under `root` that is out of date; map each guest key to its component.

    Keys are `scenes/<name>` and `test-guests/<name>`. Raises BuildError when any guest fails.
    """
    return build_guests(root).outputs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scenes.build", description="Build the Python guests into WebAssembly components."
    )
    parser.add_argument("names", nargs="*", help="guests to build, by name or key (default: all)")
    parser.add_argument("--list", action="store_true", help="print the built-in scene names and exit")
    parser.add_argument("--force", action="store_true", help="rebuild even when the cache key matches")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root
    if args.list:
        for name in list_scenes(root):
            print(name)
        return 0
    try:
        report = build_guests(root, names=args.names or None, force=args.force)
    except BuildError as error:
        for key, text in error.failures.items():
            print(f"scenes.build: guest {key} failed to build:\n{text.rstrip()}\n", file=sys.stderr)
        print(
            f"scenes.build: {len(error.failures)} guest(s) failed: {', '.join(error.failures)}",
            file=sys.stderr,
        )
        return 1
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"scenes.build: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(
        f"scenes.build: {len(report.outputs)} guests up to date in {root / '.guests'} "
        f"({len(report.built)} built, {len(report.cached)} cached, {report.seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
