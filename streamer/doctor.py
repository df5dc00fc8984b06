"""`streamer doctor`: what this machine gives guests (adapter, versions), how much of the standard works."""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib.metadata import version

import wgpu

from gpu_host.coverage import NOT_IMPLEMENTED, UNREACHABLE, webgpu_coverage

__all__ = ["doctor"]


def doctor(write: Callable[[str], None] = print, verbose: bool = False) -> int:
    write(f"python     {platform.python_version()} on {platform.machine()}")
    write(f"wasmtime   {version('wasmtime')}")
    write(f"wgpu       {wgpu.__version__}")
    try:
        adapter = wgpu.gpu.request_adapter_sync(power_preference="high-performance")
    except RuntimeError as exc:
        write(f"adapter    none: {exc} (install mesa-vulkan-drivers for a software GPU)")
        return 1
    info = adapter.info
    write(f"adapter    {info['device']} ({info['vendor']}), {info['backend_type']}, {info['adapter_type']}")
    write(f"driver     {info['description']}")
    cov = webgpu_coverage()
    write(
        f"wasi:webgpu@0.0.1  {len(cov.working)} of {len(cov.all)} functions working"
        f" (each called from a guest in the test suite), {len(cov.unreachable)} unreachable,"
        f" {len(cov.missing)} trap with 'not implemented'"
    )
    if verbose:
        for name in cov.missing:
            reason = NOT_IMPLEMENTED.get(name)
            write(f"  not implemented: {name}" + (f" ({reason})" if reason else ""))
        for name in cov.unreachable:
            write(f"  unreachable: {name} ({UNREACHABLE[name]})")
    return 0
