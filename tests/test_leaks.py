"""1,000 frames leak nothing: the handle table and wgpu's live objects stay flat, then return to baseline."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable

import wgpu

from gpu_host import GuestComponent, GuestOptions, Runtime
from gpu_host.webgpu.bundle import BundleRecording, _check_in_scratch_pass
from gpu_host.webgpu.gpu_wait import GpuWaits


def test_no_leak_over_1000_frames(
    runtime: Runtime,
    load: Callable[[str], GuestComponent],
    options: Callable[..., GuestOptions],
    gpu_counts: Callable[[], dict[str, int]],
) -> None:
    baseline = gpu_counts()
    with runtime.run(load("triangle"), options("triangle", size=(32, 32))) as guest:
        for _ in range(100):
            guest.next_frame()
        handles, objects = len(guest.ctx.table), gpu_counts()
        for _ in range(900):
            guest.next_frame()
        assert guest.frames_presented == 1000
        assert len(guest.ctx.table) == handles
        assert gpu_counts() == objects
        assert objects.get("Device") == 1
    assert gpu_counts() == baseline
    assert len(guest.ctx.table) == 0


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_checking_render_bundles_keeps_no_native_memory() -> None:
    """A bundle's `finish` checks its commands in a scratch render pass first (gpu_host/webgpu/bundle.py);
    wgpu-native keeps about 100 KB of such a pass's command buffer unless it is submitted, so 400
    checks kept 40 MB or more before the check submitted it."""
    kept = _bundle_checks_kept_mib(warm_up=50, checks=400)
    gc.collect()  # the device's poll thread is stopped here, not in whichever test runs next
    assert kept < 10, f"{kept:.1f} MiB kept by 400 checks"


def _bundle_checks_kept_mib(warm_up: int, checks: int) -> float:
    device = wgpu.gpu.request_adapter_sync(power_preference="high-performance").request_device_sync()
    waits = GpuWaits(device, 10.0, lambda _message: None)
    shader = device.create_shader_module(
        code="@vertex fn vs() -> @builtin(position) vec4<f32> { return vec4<f32>(0.0, 0.0, 0.0, 1.0); }\n"
        "@fragment fn fs() -> @location(0) vec4<f32> { return vec4<f32>(1.0); }"
    )
    pipeline = device.create_render_pipeline(
        layout="auto",
        vertex={"module": shader, "entry_point": "vs"},
        fragment={"module": shader, "entry_point": "fs", "targets": [{"format": "rgba8unorm"}]},
    )
    recording = BundleRecording({"color_formats": ["rgba8unorm"]})
    recording.set_pipeline(pipeline)
    recording.draw(3)
    for _ in range(warm_up):  # allocators and caches settle
        _check_in_scratch_pass(device, waits, recording, "test")
    before = _resident_mib()
    for _ in range(checks):
        _check_in_scratch_pass(device, waits, recording, "test")
    waits.work_done("test")
    kept = _resident_mib() - before
    device.destroy()
    return kept
