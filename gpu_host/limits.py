"""What one guest may use: CPU time, memory, GPU memory and objects, handles, and how long the host
waits on the GPU for it. Every limit has a safe default and can be changed per guest."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Per-guest limits (docs/sandbox.md). A guest that reaches one gets an error or ends with a
    one-line message naming the limit; the host and other guests carry on."""

    # CPU: seconds of running wasm between two waits of the guest (a `poll` that blocks, a present),
    # and before its first wait (a Python guest imports its modules then, so it gets longer).
    cpu_seconds: float = 10.0
    startup_cpu_seconds: float = 30.0
    # Memory: bytes of one linear memory, and elements of one table (wasmtime store limits).
    memory_bytes: int = 1 * GiB
    table_elements: int = 1_000_000
    # Handles the guest may hold at once (resources of every interface together).
    handles: int = 100_000
    # GPU: bytes of buffers and textures alive at once, objects alive at once, and texture size.
    gpu_bytes: int = 2 * GiB
    gpu_objects: int = 100_000
    max_texture_dimension: int = 8192
    # GPU devices alive at once (each holds a native poll thread).
    gpu_devices: int = 4
    # Every wait on the GPU (mapping, submitted work, frame readback) ends after this many seconds;
    # the device is then lost and the guest ends with `GPU wait timed out after N s`.
    gpu_wait_seconds: float = 10.0
    # Loop iterations one shader invocation may run, in all its loops together; past it every loop
    # breaks (loop_bound.py: submitted GPU work cannot be stopped). 0 turns the bound off.
    shader_loop_iterations: int = 1 << 20
    # WGSL source: size in bytes and bracket nesting depth (naga overflows the stack past ~3000).
    wgsl_bytes: int = 4 * MiB
    wgsl_nesting: int = 256
    # Longest error message a guest is given (naga quotes whole source lines).
    error_message_chars: int = 2000
