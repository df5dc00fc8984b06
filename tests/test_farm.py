"""`streamer farm` on a real local Ray cluster of two simulated nodes, started once for the module.

The driver runs as a subprocess (one process cannot start Ray twice), as a user would run it. Its
outputs are compared with `streamer render`'s, rendered here in-process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from gpu_host import Runtime
from scenes.build import scene_path
from scenes.build import test_guest_path as guest_path
from streamer.cli import main
from streamer.farm.gpus import parse_nvidia_smi, vulkan_selection
from streamer.render import RenderJob, render
from streamer.video import VideoSettings

# Two identical GPUs, as `nvidia-smi --query-gpu=index,pci.bus_id,uuid,name --format=csv,noheader`
# printed them on a two-GPU node: their names cannot tell them apart, their buses can.
TWO_H100 = """0, 00000000:18:00.0, GPU-5f0c8a2e-1d9b-4c57-9e1a-2b6f0d3c4e51, NVIDIA H100 80GB HBM3
1, 00000000:2A:00.0, GPU-a7e3b1c9-6f42-48d0-b5a3-9c8e7d6f5a42, NVIDIA H100 80GB HBM3
"""


def test_the_gpu_ray_assigned_is_chosen_by_its_pci_bus() -> None:
    gpus = parse_nvidia_smi(TWO_H100)
    gpu, env = vulkan_selection(["1"], gpus)
    assert (gpu.index, env["DRI_PRIME"]) == (1, "pci-0000_2a_00_0")
    assert env["MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE"] == "1"
    assert vulkan_selection([0], gpus)[1]["DRI_PRIME"] == "pci-0000_18_00_0"
    # CUDA_VISIBLE_DEVICES may name GPUs by UUID, whole or by prefix.
    assert vulkan_selection(["GPU-a7e3b1c9"], gpus)[0].index == 1
    with pytest.raises(ValueError, match="Ray assigned GPU 2, which nvidia-smi does not list"):
        vulkan_selection(["2"], gpus)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"scene": "orbit"}', "line 2: output: missing"),
        ('{"output": "b.mp4", "colour": "red"}', "line 2: colour: unknown key"),
        ('{"output": "b.mp4", "size": "big"}', "line 2: size: expected WIDTHxHEIGHT"),
        ('{"output": "b.mp4", "frames": 0}', "line 2: frames: must be at least 1"),
        ('{"output": "b.mp4", "memory": true}', "line 2: memory: expected a string or a number"),
        ('{"output": "b.mkv"}', "line 2: output: b.mkv: only .mp4 video is supported"),
        ('{"output": "a.mp4"}', "line 2: output: a.mp4 is also line 1's output"),
        ('{"output": "b.mp4", "scene": "missing.wasm"}', "line 2: scene: missing.wasm is neither"),
        ('{"output": "b.mp4", "events": "nowhere.jsonl"}', "line 2: events: cannot read events file"),
        ('{"output": "b.mp4", "keyint": 7}', "line 2: keyint: 7 does not divide --chunk-frames 10"),
        ("[1, 2]", "line 2: expected a JSON object"),
    ],
)
def test_a_bad_line_is_named_and_nothing_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    line: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs.jsonl").write_text('{"output": "a.mp4", "frames": 3}\n' + line + "\n")
    assert main(["farm", "jobs.jsonl", "--chunk-frames", "10"]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.jsonl"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Ray cluster of two nodes on this machine, each with one `render` slot and one CPU."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray.cluster_utils import Cluster

    node: dict[str, Any] = {"num_cpus": 1, "resources": {"render": 1}, "include_dashboard": False}
    ray_cluster = Cluster(initialize_head=True, head_node_args=node)
    try:
        ray_cluster.add_node(**node)
        ray_cluster.wait_for_nodes()
        yield ray_cluster.address
    finally:
        ray_cluster.shutdown()  # type: ignore[no-untyped-call]  # Ray's own annotations stop here


def farm(address: str, cwd: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "streamer.cli", "farm", "jobs.jsonl", "--address", address, *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_chunked_renders_on_two_nodes_match_one_machine(
    cluster: str, runtime: Runtime, tmp_path: Path
) -> None:
    trap = guest_path("trap_after")
    (tmp_path / "jobs.jsonl").write_text(
        "# a PNG job and an MP4 job in chunks of 6 frames; a guest that traps fails alone\n"
        '{"scene": "orbit", "output": "frames", "frames": 14, "size": "64x48", "seed": 3}\n'
        '{"scene": "orbit", "output": "orbit.mp4", "frames": 14, "size": "96x64", "keyint": 3}\n'
        f'{{"scene": "{trap}", "output": "trap.mp4", "frames": 10, "size": "64x48"}}\n'
    )
    done = farm(cluster, tmp_path, "--chunk-frames", "6", "--json")
    assert done.returncode == 1, done.stderr  # one job failed
    jobs = {job["job"]: job for job in json.loads(done.stdout)["jobs"]}
    assert jobs["frames"]["result"] == jobs["orbit.mp4"]["result"] == "ok"
    assert jobs["trap.mp4"]["result"].startswith("failed: guest 'trap_after' trapped: wasm trap")
    assert not (tmp_path / "trap.mp4").exists()  # a failed job leaves nothing under its name
    assert len({node for job in jobs.values() for node in job["nodes"]}) == 2
    logs = {name: (tmp_path / "farm-logs" / f"{name}.log").read_text() for name in jobs}
    assert all(job["retries"] == 0 and job["adapters"] for job in jobs.values()), (jobs, logs)

    orbit = scene_path("orbit")
    render(RenderJob(orbit, tmp_path / "one", frames=14, size=(64, 48), seed=3), runtime, False)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert all((tmp_path / "one" / n).read_bytes() == (tmp_path / "frames" / n).read_bytes() for n in names)

    # What the log says reproduces the farm's MP4 on one machine: --qp 20 --keyint 3.
    log = (tmp_path / "farm-logs" / "orbit.mp4.log").read_text()
    assert "encoded with --qp 20 --keyint 3" in log
    video = VideoSettings(qp=20, keyint=3)
    render(RenderJob(orbit, tmp_path / "one.mp4", frames=14, size=(96, 64), video=video), runtime, False)
    one, chunked = decoded(tmp_path / "one.mp4"), decoded(tmp_path / "orbit.mp4")
    assert len(one) == len(chunked) == 14
    assert all(np.array_equal(a, b) for a, b in zip(one, chunked, strict=True))
    with av.open(str(tmp_path / "orbit.mp4")) as container:
        stream = container.streams.video[0]
        times = [float(p.pts * p.time_base) for p in container.demux(stream) if p.pts is not None]
    assert times == pytest.approx([n / 30 for n in range(14)])

    # A rerun with --skip-existing skips what is complete and starts no Ray at all.
    (tmp_path / "jobs.jsonl").write_text(
        '{"scene": "orbit", "output": "frames", "frames": 14, "size": "64x48", "seed": 3}\n'
    )
    again = farm(cluster, tmp_path, "--skip-existing", timeout=60)
    assert again.returncode == 0, again.stderr
    assert "skipped" in again.stdout


def guest_workers() -> list[int]:
    """The guest workers that Ray's workers spawned (their parents' titles start with ray::)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            parent_command = Path(f"/proc/{parent}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        # A Ray worker is titled ray::… once it runs a task; a fresh one may not be titled yet.
        ray_worker = parent_command.startswith(b"ray::") or b"default_worker.py" in parent_command
        if b"spawn_main" in command and ray_worker:
            found.append(int(entry.name))
    return found


def test_a_killed_guest_worker_costs_a_retry_not_the_output(
    cluster: str, runtime: Runtime, tmp_path: Path
) -> None:
    (tmp_path / "jobs.jsonl").write_text(
        '{"scene": "orbit", "output": "frames", "frames": 120, "size": "64x48", "seed": 5}\n'
    )
    command = [sys.executable, "-m", "streamer.cli", "farm", "jobs.jsonl", "--address", cluster, "--json"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as driver:
        try:
            deadline = time.monotonic() + 60
            while not (victims := guest_workers()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert victims, "no guest worker appeared"
            os.kill(victims[0], signal.SIGKILL)
            out, err = driver.communicate(timeout=180)
        finally:
            driver.kill()
    assert driver.returncode == 0, err
    (job,) = json.loads(out)["jobs"]
    log = (tmp_path / "farm-logs" / "frames.log").read_text()
    assert (job["result"], job["retries"], job["frames"]) == ("ok", 1, 120), (victims, log)
    assert f"the guest worker (pid {victims[0]}) was killed by signal 9" in log

    render(
        RenderJob(scene_path("orbit"), tmp_path / "one", frames=120, size=(64, 48), seed=5), runtime, False
    )
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 120
    assert all((tmp_path / "one" / n).read_bytes() == (tmp_path / "frames" / n).read_bytes() for n in names)


def test_ctrl_c_keeps_finished_outputs_and_names_the_rest(cluster: str, tmp_path: Path) -> None:
    (tmp_path / "jobs.jsonl").write_text(
        '{"scene": "orbit", "output": "short.mp4", "frames": 4, "size": "64x48"}\n'
        '{"scene": "orbit", "output": "long.mp4", "frames": 100000, "size": "64x48"}\n'
    )
    command = [sys.executable, "-m", "streamer.cli", "farm", "jobs.jsonl", "--address", cluster]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as driver:
        try:
            deadline = time.monotonic() + 60
            while not (tmp_path / "short.mp4").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            driver.send_signal(signal.SIGINT)
            out, err = driver.communicate(timeout=60)
        finally:
            driver.kill()
    assert driver.returncode == 130, err
    assert "interrupted; not done: long.mp4 (finished outputs are kept)" in err
    assert "not done (interrupted)" in out
    assert len(decoded(tmp_path / "short.mp4")) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["farm-logs", "jobs.jsonl", "short.mp4"]


def test_a_task_no_node_can_run_is_refused_not_waited_for(cluster: str, tmp_path: Path) -> None:
    (tmp_path / "jobs.jsonl").write_text(
        '{"scene": "orbit", "output": "a.mp4", "frames": 2, "size": "64x48"}\n'
    )
    done = farm(cluster, tmp_path, "--gpus-per-task", "1", timeout=60)
    assert done.returncode == 2
    assert "--gpus-per-task 1 asks for GPUs the cluster does not have (0 in all)" in done.stderr
    assert not (tmp_path / "a.mp4").exists()
