"""Viewers for benchmarks, each in a process of its own, so that they are not what is measured.

A depacketizing viewer (`decode=False`) receives the RTP, reassembles each frame and counts it,
but never decodes: aiortc's per-track decoder thread is swapped for one that records each
frame's arrival and size (aiortc's private `decoder_worker`, pinned with aiortc in pyproject.toml).
A decoding viewer (`decode=True`) is an ordinary `streamer.viewer.Viewer`, as a check that the
pictures are real. `watch(url, count, seconds)` runs `count` viewers at once and returns what each saw.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

from benchmarks import percentile

__all__ = ["ViewerReport", "watch"]


@dataclass(frozen=True)
class ViewerReport:
    decoded: bool
    frames: int
    seconds: float
    fps: float
    interval_p50_ms: float
    interval_p95_ms: float
    bitrate: float  # bits per second of frame payload
    cpu_seconds: float  # the viewer process's own CPU over the measurement
    started: float  # time.monotonic() (one clock for every process) when the measurement began

    @staticmethod
    def of(
        arrivals: list[tuple[float, int]], started: float, seconds: float, decoded: bool, cpu: float
    ) -> ViewerReport:
        times = [t for t, _ in arrivals]
        gaps = [(b - a) * 1e3 for a, b in itertools.pairwise(times)] or [0.0]
        return ViewerReport(
            decoded,
            len(arrivals),
            seconds,
            len(arrivals) / seconds,
            statistics.median(gaps),
            percentile(gaps, 0.95),
            sum(size for _, size in arrivals) * 8 / seconds,
            cpu,
            started,
        )


def _count_frames(
    loop: asyncio.AbstractEventLoop, input_q: Any, output_q: Any, decode_error: threading.Event
) -> None:
    """Stands in for aiortc's decoder thread: hands the track (arrival, bytes) per frame."""
    while (task := input_q.get()) is not None:
        _codec, encoded = task
        asyncio.run_coroutine_threadsafe(output_q.put((time.monotonic(), len(encoded.data))), loop)
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)


async def _view(url: str, warmup: float, seconds: float, decode: bool) -> ViewerReport:
    from aiortc import rtcrtpreceiver

    from streamer.viewer import Viewer

    if not decode:
        rtcrtpreceiver.decoder_worker = _count_frames
    arrivals: list[tuple[float, int]] = []
    async with Viewer(url, keep_frames=1) as viewer:
        if decode:
            await viewer.wait_frames(1, timeout=60)
            await asyncio.sleep(warmup)
            start, cpu = time.monotonic(), time.process_time()
            while time.monotonic() - start < seconds:
                seen = viewer.frames_received
                await viewer.wait_frames(seen + 1, timeout=seconds + 5)
                arrivals.append((time.monotonic(), 0))
            return ViewerReport.of(arrivals, start, seconds, True, time.process_time() - cpu)
        track = await _first_track(viewer)
        deadline = time.monotonic() + warmup
        while time.monotonic() < deadline:
            await track.recv()
        start, cpu = time.monotonic(), time.process_time()
        while (now := time.monotonic()) - start < seconds:
            try:
                item = await asyncio.wait_for(track.recv(), timeout=start + seconds - now)
            except TimeoutError:
                break
            arrivals.append(item)
        return ViewerReport.of(arrivals, start, seconds, False, time.process_time() - cpu)


async def _first_track(viewer: Any) -> Any:
    """The video track of a depacketizing viewer (its receiver's, since `Viewer` does not keep it)."""
    while True:
        for transceiver in viewer.pc.getTransceivers():
            track = transceiver.receiver.track
            if track is not None and transceiver.receiver._RTCRtpReceiver__decoder_thread is not None:
                return track
        await asyncio.sleep(0.05)


def _process(url: str, warmup: float, seconds: float, decode: bool, results: Any) -> None:
    results.put(asyncio.run(_view(url, warmup, seconds, decode)))


def watch(url: str, count: int, seconds: float, warmup: float = 3.0, decoding: int = 1) -> list[ViewerReport]:
    """`count` viewers, `decoding` of them decoding, each in its own process; blocks until done
    (call it from a thread when the server runs on this process's event loop)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_process, args=(url, warmup, seconds, n < decoding, results), daemon=True)
        for n in range(count)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=warmup + seconds + 120) for _ in processes]
    for process in processes:
        process.join(10)
    return reports
