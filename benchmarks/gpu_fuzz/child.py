"""The fuzzer's child process: runs call scripts through the `gpu_fuzz` guest, one guest per script.

    python -m benchmarks.gpu_fuzz.child      (started by the supervisor, benchmarks/gpu_fuzz/run.py)

Reads one JSON request a line on stdin, `{"script": "<JSON lines>", "trace": bool}`, and answers
each with one JSON line on stdout:

    {"outcome": "done" | "ended", "error": how the guest ended or null, "stats": the guest's
     summary, "host_calls": the calls it made into the host, "shown": the values it printed,
     "leaked": {wgpu object: count above baseline}, "host_failure": bool, "hang": bool, "seconds": s,
     "rss_mb": the child's resident memory after the guest}

With `trace`, it first forwards the guest's `@N` lines as `{"at": N}` as they come, so that if
wgpu-native aborts the process, the supervisor knows the call it died in. A guest that ends with
an error (a trap, a refused call) is an ordinary outcome; a process that dies is the finding.
After every guest, the wgpu objects alive must be back at the count before the first.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from typing import Any

import wgpu

from gpu_host import GuestError, GuestOptions, Limits, Runtime
from gpu_host.errors import GuestEnded
from scenes.build import test_guest_path

__all__ = ["FUZZ_LIMITS", "main", "object_counts"]

# Small enough that no script allocates much of the machine's memory, big enough for every call.
FUZZ_LIMITS = Limits(gpu_bytes=64 << 20, gpu_wait_seconds=10, cpu_seconds=20)
GUEST_TIMEOUT = 60.0  # seconds for one script; past it the supervisor sees a hang


def object_counts() -> dict[str, int]:
    """wgpu-native objects alive, by type (what docs/sandbox.md's baselines compare)."""
    gc.collect()
    counts = wgpu.diagnostics.object_counts.get_dict()
    return {name: row["count"] for name, row in counts.items() if row["count"] and name != "total"}


def rss_mb() -> int:
    """This process's resident memory in MiB (Linux), 0 where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run_script(runtime: Runtime, component: Any, script: str, trace: bool) -> dict[str, Any]:
    lines: list[str] = []

    def sink(_guest: str, stream: str, line: str) -> None:
        if stream != "stdout":
            return
        if trace and line.startswith("@"):
            _answer({"at": int(line[1:])})
        else:
            lines.append(line)

    env = [("FUZZ_SCRIPT", script)] + ([("FUZZ_TRACE", "1")] if trace else [])
    options = GuestOptions(
        name="gpu_fuzz",
        size=(16, 16),
        max_surface_size=(64, 64),
        env=tuple(env),
        limits=FUZZ_LIMITS,
        sink=sink,
    )
    started = time.perf_counter()
    error: GuestError | None = None
    with runtime.run(component, options) as guest:
        while True:
            try:
                guest.next_frame(timeout=GUEST_TIMEOUT)
            except GuestError as exc:
                error = exc
                break
        host_calls = sum(guest.ctx.calls.values())
    summary: dict[str, Any] = {}
    shown = []
    for line in lines:
        if line.startswith("{"):
            found = json.loads(line)
            if "done" in found:
                summary = found
            elif "shown" in found:
                shown.append(found)
    completed = bool(summary) and isinstance(error, GuestEnded)
    message = None if completed else str(error)
    return {
        "outcome": "done" if completed else "ended",
        "error": message,
        "stats": summary,
        "shown": shown,
        "host_failure": message is not None and "host failure" in message,
        # The guest stopped answering, or its GPU work ran past Limits.gpu_wait_seconds (a runaway
        # the generator's small draws and dispatches should never make).
        "hang": message is not None
        and ("presented no frame within" in message or "GPU wait timed out" in message),
        "host_calls": host_calls,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with Runtime() as runtime:
        component = runtime.load(test_guest_path("gpu_fuzz"), "gpu_fuzz")
        baseline = object_counts()
        _answer({"ready": True})
        for request_line in sys.stdin:
            request = json.loads(request_line)
            result = run_script(runtime, component, request["script"], bool(request.get("trace")))
            now = object_counts()
            result["leaked"] = {
                name: count - baseline.get(name, 0)
                for name, count in now.items()
                if count > baseline.get(name, 0)
            }
            result["rss_mb"] = rss_mb()
            _answer(result)


if __name__ == "__main__":
    main()
