"""Every implemented wasi:webgpu function is called by some guest, and returns the truth.

The first tests run every built guest (scenes, test guests and guest suites) for a few frames and
check that the union of the WIT functions they called covers `webgpu_coverage().working`. A guest
suite (tests/<suite>/app.py, e.g. tests/conformance) runs with no argument here, which runs all
its groups. Another test checks that every WIT function is working, unreachable or listed (with
its reason) as not implemented, and that docs/conformance.md names each of the latter two. The
rest read what tests/guests/webgpu_probe printed and compare it with wgpu-py on the host.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import wgpu
from wasmtime.component import ComponentInstanceType, FuncType

from gpu_host import GuestComponent, GuestError, GuestOptions, Runtime
from gpu_host.coverage import NOT_IMPLEMENTED, UNREACHABLE, webgpu_coverage
from gpu_host.webgpu.objects import limit_key
from gpu_host.webgpu.wgsl_features import supported_wgsl_features
from scenes.build import discover
from tests.conftest import ROOT, Captured

GUESTS = [guest.name for guest in discover()]
ENDS_ON_PURPOSE = {
    "trap_after",
    "ends_early",
    "exit_code",
    "destroy_frame",
    "bad_framebuffer",
    "unimplemented",
    "call_loop",  # one frame, after its timing loops
    "gpu_fuzz",  # replays the call script it is given (none here), then returns
    "hostile",  # a guest suite that needs its program's name: with no argument it exits 1
}
FRAMES = 2
WEBGPU = "wasi:webgpu/webgpu@0.0.1"

# WIT gpu-feature-name cases that wgpu-native spells differently.
WGPU_FEATURE = {
    "texture-compression-bc-sliced3d": "texture-compression-bc-sliced-3d",
    "texture-compression-astc-sliced3d": "texture-compression-astc-sliced-3d",
    "subgroups": "subgroup",
}
LABELLED = [
    "gpu-device",
    "gpu-queue",
    "gpu-buffer",
    "gpu-texture",
    "gpu-texture-view",
    "gpu-sampler",
    "gpu-bind-group-layout",
    "gpu-bind-group",
    "gpu-pipeline-layout",
    "gpu-shader-module",
    "gpu-compute-pipeline",
    "gpu-render-pipeline",
    "gpu-command-encoder",
    "gpu-command-buffer",
    "gpu-compute-pass-encoder",
    "gpu-render-pass-encoder",
]
FLAG_ENUMS = {
    "gpu-buffer-usage": wgpu.BufferUsage,
    "gpu-map-mode": wgpu.MapMode,
    "gpu-texture-usage": wgpu.TextureUsage,
    "gpu-shader-stage": wgpu.ShaderStage,
    "gpu-color-write": wgpu.ColorWrite,
}


@dataclass
class Run:
    calls: Counter[str]
    stdout: list[str]
    error: GuestError | None
    last_pixel: list[int] | None  # the last frame's top-left pixel


@pytest.fixture(scope="module")
def runs(runtime: Runtime, load: Callable[[str], GuestComponent]) -> dict[str, Run]:
    """Each built guest run for FRAMES frames (or until it ends on purpose), once per module."""
    done: dict[str, Run] = {}
    for name in GUESTS:
        captured = Captured()
        options = GuestOptions(name=name, size=(64, 48), sink=captured.sink)
        runner = runtime.run(load(name), options)
        error, last = None, None
        try:
            with runner as guest:
                for _ in range(FRAMES):
                    last = guest.next_frame(timeout=120).rgb[0, 0].tolist()
        except GuestError as exc:
            if name not in ENDS_ON_PURPOSE:
                raise
            error = exc
        done[name] = Run(runner.ctx.calls, captured.stdout(), error, last)
    return done


def test_the_wit_has_247_functions_and_every_guest_imports_them_all(
    runtime: Runtime, load: Callable[[str], GuestComponent], runs: dict[str, Run]
) -> None:
    coverage = webgpu_coverage()
    assert len(coverage.all) == 247
    assert len(set(coverage.all)) == 247
    assert set(coverage.working) | set(coverage.unreachable) | set(coverage.missing) == set(coverage.all)
    importers = 0
    for name in GUESTS:
        imports = load(name).component.type.imports(runtime.engine)
        if WEBGPU not in imports:
            continue
        importers += 1
        instance = imports[WEBGPU].ty
        assert isinstance(instance, ComponentInstanceType)
        exports = instance.exports(runtime.engine)
        functions = {n for n, item in exports.items() if isinstance(item.ty, FuncType)}
        assert functions == set(coverage.all), f"{name}: {sorted(functions ^ set(coverage.all))}"
        assert name in runs  # ... and the host linked them all: the guest was instantiated and ran
    assert importers >= 3


def test_every_working_webgpu_function_is_called_by_some_guest(runs: dict[str, Run]) -> None:
    called: Counter[str] = Counter()
    for run in runs.values():
        called.update(run.calls)
    uncalled = [name for name in webgpu_coverage().working if not called[name]]
    assert not uncalled, f"{len(uncalled)} implemented functions no guest calls:\n  " + "\n  ".join(uncalled)


def test_no_webgpu_function_is_silently_undefined() -> None:
    """Working, unreachable, or not implemented with a documented reason: nothing else."""
    coverage = webgpu_coverage()
    assert set(coverage.missing) == set(NOT_IMPLEMENTED), "undocumented: " + ", ".join(
        sorted(set(coverage.missing) ^ set(NOT_IMPLEMENTED))
    )
    assert set(coverage.unreachable) == set(UNREACHABLE)
    assert len(coverage.working) >= 235
    doc = (ROOT / "docs" / "conformance.md").read_text()
    for name in [*NOT_IMPLEMENTED, *UNREACHABLE]:
        assert f"`{name}`" in doc, f"docs/conformance.md does not list {name}"


def test_the_conformance_suite_runs_when_all_guests_run(runs: dict[str, Run]) -> None:
    assert "conformance" in runs and runs["conformance"].error is None
    done = [json.loads(line)["done"] for line in runs["conformance"].stdout if line.startswith('{"done"')]
    assert done and "errors" in done[0]  # no argument: every group


# --- the probe's values against wgpu-py ------------------------------------------------------------


@pytest.fixture(scope="module")
def probe(runs: dict[str, Run]) -> dict[tuple[str, str | None], Any]:
    """webgpu_probe's lines as {(check, of): value}; fails on any line that reports an error."""
    run = runs["webgpu_probe"]
    assert run.error is None, run.error
    values: dict[tuple[str, str | None], Any] = {}
    errors = []
    for line in run.stdout:
        item = json.loads(line)
        key = (item["check"], item.get("of"))
        if "error" in item:
            errors.append(f"{key}: {item['error']}")
        values[key] = item.get("value")
    assert not errors, "probe steps failed:\n  " + "\n  ".join(errors)
    assert values.get(("done", None)) is True, "the probe did not finish"
    return values


@pytest.fixture(scope="module")
def adapter() -> wgpu.GPUAdapter:
    return wgpu.gpu.request_adapter_sync()  # what the host's request-adapter(none) asks for


def test_limits_match_wgpu(probe: dict[tuple[str, str | None], Any], adapter: wgpu.GPUAdapter) -> None:
    device = adapter.request_device_sync()
    truths = {
        "adapter": {limit_key(k): v for k, v in adapter.limits.items()},
        "device": {limit_key(k): v for k, v in device.limits.items()},
    }
    getters = [n for n in webgpu_coverage().all if n.startswith("[method]gpu-supported-limits.")]
    assert len(getters) == 31
    for of, truth in truths.items():
        for getter in getters:
            key = limit_key(getter.split(".", 1)[1])
            assert probe[(getter, of)] == truth.get(key, 0), (of, getter)
    # required-limits given through a record-option-gpu-size64 apply
    assert probe[("[method]gpu-supported-limits.max-bind-groups", "device2")] == 5


def test_record_option_gpu_size64(probe: dict[tuple[str, str | None], Any]) -> None:
    rec = "[method]record-option-gpu-size64."
    assert probe[(rec + "has", None)] == [True, False]
    assert probe[(rec + "get", None)] == [{"some": 5}, {"some": None}, None]
    assert probe[(rec + "remove", None)] == ["max-bind-groups", "max-texture-dimension2-d"]
    assert probe[(rec + "keys", None)] == ["max-bind-groups", "max-texture-dimension2-d"]
    assert probe[(rec + "values", None)] == [5, None]
    assert probe[(rec + "entries", None)] == [["max-bind-groups", 5], ["max-texture-dimension2-d", None]]
    assert probe[("[method]gpu-adapter.request-device", "device2")] == "ok"
    assert probe[("[method]gpu-device.label", "device2")] == "probe gpu-device 2"
    assert probe[("[method]gpu-device.destroy", None)] == "ok"


def test_adapter_info_features_and_flags_match_wgpu(
    probe: dict[tuple[str, str | None], Any], adapter: wgpu.GPUAdapter
) -> None:
    info = adapter.info
    for of in ("adapter", "device"):
        for field in ("vendor", "architecture", "device", "description"):
            assert probe[(f"[method]gpu-adapter-info.{field}", of)] == info[field]
        for bound in ("min", "max"):
            want = info.get(f"subgroup_{bound}_size", info.get(f"stackgroup_{bound}_size"))
            assert probe[(f"[method]gpu-adapter-info.subgroup-{bound}-size", of)] == want
    assert probe[("[method]gpu-adapter.is-fallback-adapter", None)] == (info["adapter_type"] == "CPU")

    has = "[method]gpu-supported-features.has"
    wanted = {name: WGPU_FEATURE.get(name, name) in adapter.features for name in probe[(has, "adapter")]}
    assert wanted["no-such-feature"] is False
    assert probe[(has, "adapter")] == wanted
    # a device has exactly the features it asked for: none, then float32-filterable
    assert not any(probe[(has, "device")].values())
    assert [n for n, v in probe[(has, "device2")].items() if v] == ["float32-filterable"]
    languages = probe[("[method]wgsl-language-features.has", None)]
    assert languages == {name: name in supported_wgsl_features() for name in languages}

    flags = [
        n
        for n in webgpu_coverage().all
        if n.startswith("[static]") and n.removeprefix("[static]").split(".")[0] in FLAG_ENUMS
    ]
    assert len(flags) == 25
    for name in flags:
        resource, flag = name.removeprefix("[static]").split(".")
        assert probe[(name, None)] == int(getattr(FLAG_ENUMS[resource], flag.replace("-", "_"))), name


def test_labels_round_trip(probe: dict[tuple[str, str | None], Any]) -> None:
    for kind in LABELLED:
        first = "" if kind == "gpu-queue" else f"probe {kind}"
        assert probe[(f"[method]{kind}.label", None)] == [first, f"probe {kind} relabelled"], kind


def test_texture_getters(probe: dict[tuple[str, str | None], Any]) -> None:
    usage = wgpu.TextureUsage
    expected = {
        "d2": (8, 4, 1, 3, 1, usage.COPY_SRC | usage.COPY_DST | usage.TEXTURE_BINDING),
        "d1": (16, 1, 1, 1, 1, usage.COPY_DST),
        "d3": (4, 4, 2, 1, 1, usage.COPY_DST),
    }
    getters = ("width", "height", "depth-or-array-layers", "mip-level-count", "sample-count", "usage")
    for of, values in expected.items():
        got = tuple(probe[(f"[method]gpu-texture.{g}", of)] for g in getters)
        assert got == tuple(int(v) for v in values), of
        assert probe[("[method]gpu-texture.dimension", of)] == of
        assert probe[("[method]gpu-texture.format", of)] == "rgba8unorm"


def test_copies_clears_and_mapping_read_back(probe: dict[tuple[str, str | None], Any]) -> None:
    def pixel(x: int, y: int) -> bytes:
        return bytes((16 * x, 32 * y, 7, 255))

    a = b"".join(pixel(x, y) for y in range(4) for x in range(8))
    assert probe[("[method]gpu-command-encoder.copy-buffer-to-texture", None)] == a.hex()
    # A's 4x2 region at (4, 2) lands at B's origin; the rest of B stays zero
    b = b"".join(pixel(x + 4, y + 2) if x < 4 and y < 2 else bytes(4) for y in range(4) for x in range(8))
    assert probe[("[method]gpu-command-encoder.copy-texture-to-texture", None)] == b.hex()
    assert probe[("[method]gpu-command-encoder.clear-buffer", None)] == "ffffffff" + "00" * 8 + "ffffffff"
    assert probe[("[method]gpu-buffer.map-async", "map-write")] == "0102030405060708"
    assert probe[("[method]gpu-buffer.destroy", None)] == "ok"


def test_compute_doubles_numbers(probe: dict[tuple[str, str | None], Any]) -> None:
    assert probe[("[method]gpu-compute-pass-encoder.dispatch-workgroups", None)] == [
        2 * i for i in range(1, 9)
    ]
    assert probe[("[method]gpu-queue.on-submitted-work-done", None)] == "ok"
    assert probe[("[method]gpu-compilation-info.messages", None)] == 0  # valid WGSL: no messages


def test_pipeline_constants(probe: dict[tuple[str, str | None], Any]) -> None:
    rec = "[method]record-gpu-pipeline-constant-value."
    assert probe[(rec + "has", None)] == [True, False]
    assert probe[(rec + "get", None)] == [3.5, None]
    assert probe[(rec + "keys", None)] == ["red", "unused"]
    assert probe[(rec + "values", None)] == [1.0, 3.5]
    assert probe[(rec + "entries", None)] == [["red", 1.0], ["unused", 3.5]]
    assert probe[(rec + "remove", None)] == ["red"]


def test_indexed_draw_with_bindings_viewport_scissor_blend_and_constants(
    probe: dict[tuple[str, str | None], Any],
) -> None:
    pixels = probe[("[method]gpu-render-pass-encoder.draw-indexed", None)]

    def near(got: list[int], want: tuple[int, int, int, int]) -> bool:
        return all(abs(g - w) <= 1 for g, w in zip(got, want, strict=True))

    # red = override constant 1.0 (x blend constant 0.5), green = uniform 0.5, blue = storage 0.25,
    # alpha = the sampled texture's 153
    assert near(pixels["a"], (128, 128, 64, 153)), pixels
    assert near(pixels["b"], (0, 128, 64, 153)), pixels  # the override's default (no constants)
    assert pixels["c"] == [0, 0, 0, 0], pixels  # outside both scissor rects
    assert pixels["d"] == [0, 0, 0, 0], pixels  # below the viewport


def test_probe_keeps_presenting_red(runs: dict[str, Run]) -> None:
    assert runs["webgpu_probe"].calls["[method]context.present"] >= FRAMES
    assert runs["webgpu_probe"].last_pixel == [255, 0, 0]
    assert runs["webgpu_probe"].calls["[method]gpu-device.destroy"] == 1  # its second device only
