"""1,000 frames leak nothing: the handle table and wgpu's live objects stay flat, then return to baseline."""

from __future__ import annotations

from collections.abc import Callable

from gpu_host import GuestComponent, GuestOptions, Runtime


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
