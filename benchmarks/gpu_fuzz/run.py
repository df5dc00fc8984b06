"""The fuzzer's supervisor: feeds generated scripts to a child process, restarts it when it dies.

Each episode is one script (`script.generate(seed, episode, calls)`) run by one guest in the
child (benchmarks/gpu_fuzz/child.py). A finding is a child that died (wgpu-native aborted it, a
signal), a host failure (a host function raised what it should not), a hang, or wgpu objects left
alive after the guest ended. A died child is replaced, and the episode is run again with tracing
in a fresh one to find the call it died in; then the script is shrunk while it still kills.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from .generate import generate
from .script import Op, encode

__all__ = ["Child", "ChildDied", "Finding", "Report", "fuzz", "run_script", "shrink"]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
SCRIPT_TIMEOUT = 120.0
# Past this, the child's memory is a finding (once a run) and the child is replaced: native memory
# that wgpu-native never gives back (docs/sandbox.md) must not end a long run by the OOM killer.
MEMORY_LIMIT_MB = 2048


class ChildDied(Exception):
    """The child process ended while running a script: `returncode`, the last call it began, the
    end of its stderr."""

    def __init__(self, returncode: int | None, at: int | None, stderr: str) -> None:
        super().__init__(f"child died ({returncode}) at call {at}")
        self.returncode = returncode
        self.at = at
        self.stderr = stderr


class Child:
    """One child process running scripts through the guest, one at a time."""

    def __init__(self) -> None:
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        env = {**os.environ, "RUST_BACKTRACE": "0"}
        env.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.gpu_fuzz.child"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            text=True,
        )
        self.guests = 0  # scripts run
        # Lines arrive on a thread of their own, so that a child that stops answering is a hang.
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, name="gpu_fuzz child output", daemon=True).start()
        self._read(START_TIMEOUT)

    def _pump(self) -> None:
        assert self.process.stdout is not None
        with contextlib.suppress(ValueError, OSError):  # closed under it
            for line in self.process.stdout:
                self._lines.put(line)
        self._lines.put("")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _read(self, timeout: float, at: list[int] | None = None) -> dict[str, Any]:
        """The next answer (forwarding `{"at": N}` into `at`); ChildDied if the child ended, or
        if it said nothing for `timeout` seconds (it is killed: a hang)."""
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.process.kill()
                self.process.wait()
                raise ChildDied(None, at[-1] if at else None, f"no answer within {timeout:.0f} s") from None
            if not line:
                self.process.wait(timeout=30)
                raise ChildDied(self.process.returncode, at[-1] if at else None, self.stderr_tail())
            message: dict[str, Any] = json.loads(line)
            if "at" in message:
                if at is not None:
                    at.append(int(message["at"]))
                continue
            return message

    def run(self, script: list[Op], trace: bool = False) -> dict[str, Any]:
        assert self.process.stdin is not None
        at: list[int] = []
        try:
            self.process.stdin.write(json.dumps({"script": encode(script), "trace": trace}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            self.process.wait(timeout=30)
            raise ChildDied(self.process.returncode, None, self.stderr_tail()) from None
        result = self._read(SCRIPT_TIMEOUT, at)
        result["last_call"] = at[-1] if at else None
        self.guests += 1
        return result

    def stderr_tail(self, lines: int = 4) -> str:
        """The panic's own lines (`panicked at ...` and its message) and the last few, without
        the backtrace."""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        kept = [
            ln
            for ln in text.splitlines()
            if ln.strip() and not ln.lstrip()[:1].isdigit() and " at " != ln[:4]
        ]
        panic = next((i for i in range(len(kept) - 1, -1, -1) if "panicked at" in kept[i]), None)
        head = kept[panic : panic + 2] if panic is not None else []
        return "\n".join(head + [ln for ln in kept[-lines:] if ln not in head])

    def close(self) -> None:
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(OSError):
                assert process.stdin is not None
                process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._stderr.close()


@dataclass
class Finding:
    """What went wrong, where: reproduce with `--seed SEED --episode EPISODE --replay`."""

    kind: str  # "abort" (the child died), "host-failure", "hang", "leak", "memory"
    seed: int
    episode: int
    call: int | None  # the index of the call in the episode's script, where known
    detail: str
    op: Op | None = None
    shrunk: list[Op] | None = None  # a shorter script with the same finding


@dataclass
class Report:
    seed: int
    episodes: int = 0
    calls: int = 0
    seconds: float = 0.0
    restarts: int = 0
    max_rss_mb: int = 0  # the most a child held after a guest
    outcomes: dict[str, int] = field(default_factory=dict)  # guest endings by their first words
    findings: list[Finding] = field(default_factory=list)

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "calls_per_second": round(self.calls_per_second, 1)}


def _ending(error: str | None) -> str:
    """A guest's ending in a few words, for the outcome counts."""
    if error is None:
        return "completed"
    text = error.split(": ", 1)[-1] if "failed in" in error else error
    for marker in ("trapped", "unknown handle", "wrong type", "failed in", "host failure"):
        if marker in error:
            return f"{marker}: {text[:80]}"
    return text[:80]


def _classify(result: dict[str, Any]) -> tuple[str, str] | None:
    if result.get("host_failure"):
        return "host-failure", str(result["error"])
    if result.get("hang"):
        return "hang", str(result["error"])
    if result.get("leaked"):
        return "leak", json.dumps(result["leaked"])
    return None


def run_script(script: list[Op], trace: bool = True) -> tuple[str | None, dict[str, Any]]:
    """Run one script in a fresh child: (the kind of finding or None, the child's answer or the
    death's details)."""
    child = Child()
    try:
        result = child.run(script, trace=trace)
    except ChildDied as died:
        kind = "abort" if died.returncode is not None else "hang"
        return kind, {"returncode": died.returncode, "at": died.at, "stderr": died.stderr}
    finally:
        child.close()
    found = _classify(result)
    return (found[0] if found else None), result


def shrink(
    script: list[Op], kind: str, tries: int = 40, log: Callable[[str], None] = lambda _: None
) -> list[Op]:
    """A shorter script that still gives a finding of `kind`: remove chunks of calls, halving the
    chunk size, while it does (each try is a fresh child, about 2 s)."""
    best = list(script)
    chunk = max(1, len(best) // 2)
    while chunk >= 1 and tries > 0:
        start = 0
        removed = False
        while start < len(best) and tries > 0:
            candidate = best[:start] + best[start + chunk :]
            tries -= 1
            if candidate and run_script(candidate, trace=False)[0] == kind:
                best = candidate
                removed = True
                log(f"shrunk to {len(best)} calls")
            else:
                start += chunk
        if not removed:
            chunk //= 2
    return best


def fuzz(
    seed: int,
    calls: int,
    episode_calls: int = 200,
    first_episode: int = 0,
    replay: bool = False,
    shrink_tries: int = 40,
    log: Callable[[str], None] = lambda _: None,
    stop_after: float | None = None,
) -> Report:
    """Run `calls` calls of seed `seed`, in episodes of `episode_calls`, from `first_episode`.

    `replay`: trace every call and stop at the first finding (what `--replay` does to reproduce
    one). `stop_after`: seconds after which no new episode starts.
    """
    report = Report(seed)
    started = time.perf_counter()
    child = Child()
    episode = first_episode
    try:
        while report.calls < calls:
            if stop_after is not None and time.perf_counter() - started > stop_after:
                break
            script = generate(seed, episode, episode_calls)
            finding: Finding | None = None
            try:
                result = child.run(script, trace=replay)
            except ChildDied as died:
                report.restarts += 1
                child.close()
                kind = "abort" if died.returncode is not None else "hang"
                at = died.at
                if at is None and kind == "abort":  # the call it died in: traced, in a fresh child
                    again, details = run_script(script)
                    at = details.get("at") if again == "abort" else None
                detail = f"exit {died.returncode}: {died.stderr}"
                finding = Finding(kind, seed, episode, at, detail, script[at] if at is not None else None)
                verb = "died" if kind == "abort" else "hung"
                log(f"episode {episode}: the child {verb} at call {at}: {died.stderr}")
                if shrink_tries and kind == "abort":
                    upto = script[: at + 1] if at is not None else script
                    finding.shrunk = shrink(upto, "abort", shrink_tries, log)
                child = Child()
                report.calls += len(script)
            else:
                report.calls += int(result["host_calls"])
                ending = _ending(result["error"])
                report.outcomes[ending] = report.outcomes.get(ending, 0) + 1
                found = _classify(result)
                if found is not None:
                    at = result["last_call"]
                    if at is None and found[0] == "host-failure":  # the call: traced in a fresh child
                        at = run_script(script)[1].get("last_call")
                    op = script[at] if at is not None else None
                    finding = Finding(found[0], seed, episode, at, found[1], op)
                    log(f"episode {episode}: {found[0]}: {found[1]}")
                    if shrink_tries and found[0] != "hang":
                        finding.shrunk = shrink(script, found[0], shrink_tries, log)
                memory = int(result.get("rss_mb") or 0)
                report.max_rss_mb = max(report.max_rss_mb, memory)
                if memory > MEMORY_LIMIT_MB:
                    if not any(f.kind == "memory" for f in report.findings):
                        detail = f"the child holds {memory} MiB after {child.guests} guests"
                        report.findings.append(Finding("memory", seed, episode, None, detail))
                        log(f"episode {episode}: {detail}; replacing it")
                    child.close()
                    child = Child()
                    report.restarts += 1
            report.episodes += 1
            episode += 1
            if finding is not None:
                report.findings.append(finding)
                if replay:
                    break
            if report.episodes % 20 == 0:
                rate = report.calls / (time.perf_counter() - started)
                log(f"{report.episodes} episodes, {report.calls} calls, {rate:.0f} calls/s")
    finally:
        child.close()
        report.seconds = time.perf_counter() - started
    return report
