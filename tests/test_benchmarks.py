"""The benchmark's own measuring parts give sane answers (the figures themselves are not asserted)."""

from __future__ import annotations

import wgpu

from benchmarks.present_steps import measure
from benchmarks.runtime import call_cost_us
from gpu_host import Runtime


def test_call_loop_guest_reads_the_real_limit_and_reports_a_cost(runtime: Runtime) -> None:
    cost_us, value = call_cost_us(runtime, calls=500)
    adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    assert value == adapter.limits["max-bind-groups"]
    assert 0 < cost_us < 10_000  # microseconds; a clock standing still (virtual time) would give <= 0


def test_present_steps_time_the_copy_before_the_read_and_its_gpu_round_trip(runtime: Runtime) -> None:
    steps = measure(runtime, "orbit", (96, 64), fps=120.0, frames=20)
    assert 0 < steps["present -> copy submitted"] < steps["present -> pixels read"] < 1_000, steps
    assert steps["host's copies, submit -> done"] > 0, steps
