"""Viewers for benchmarks, each in a process of its own, so that they are not what is measured.

A depacketizing viewer (`decode=False`) receives the RTP, reassembles each frame and counts it,
but never decodes: aiortc's per-track decoder thread is swapped for one that records each
frame's arrival and size (aiortc's private `decoder_worker`, pinned with aiortc in pyproject.toml).
A decoding viewer (`decode=True`) is an ordinary `streamer.viewer.Viewer`, as a check that the
pictures are real. `watch(url, count, seconds)` runs `count` viewers at once and returns what each saw.

The viewers measure together: each waits for its first frame, then for all the others (a
barrier), so that sessions which start slowly (many workers starting at once) do not shift one
viewer's window away from another's. A viewer that fails (refused, no frames) is reported with its
`error` and no frames, not raised: at the point of failure of a curve, that is a result.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from benchmarks import percentile

__all__ = ["ViewerReport", "watch"]

START_SECONDS = 300.0  # for every viewer to have its first frame (32 workers starting at once)


@dataclass(frozen=True)
class ViewerReport:
    decoded: bool
    frames: int
    seconds: float
    fps: float
    interval_p50_ms: float
    interval_p95_ms: float
    bitrate: float  # bits per second of frame payload (0 for a decoding viewer: it does not see it)
    cpu_seconds: float  # the viewer process's own CPU over the measurement
    started: float  # time.monotonic() (one clock for every process) when the measurement began
    session: str = ""  # the server's id of the viewer's session
    per_second: tuple[int, ...] = ()  # frames in each whole second of the measurement
    error: str = ""  # why the viewer saw nothing ("" when it measured)
    # Each frame's RTP timestamp and bytes (a depacketizing viewer's), to match against what the
    # server sent: the same frames, whatever the delay between the two ends' windows.
    frames_seen: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def of(
        arrivals: list[tuple[float, int, int]],
        started: float,
        seconds: float,
        decoded: bool,
        cpu: float,
        session: str = "",
    ) -> ViewerReport:
        times = [t for t, _, _ in arrivals]
        gaps = [(b - a) * 1e3 for a, b in itertools.pairwise(times)] or [0.0]
        seconds_seen = Counter(int(t - started) for t in times)
        return ViewerReport(
            decoded,
            len(arrivals),
            seconds,
            len(arrivals) / seconds,
            statistics.median(gaps),
            percentile(gaps, 0.95),
            sum(size for _, size, _ in arrivals) * 8 / seconds,
            cpu,
            started,
            session,
            tuple(seconds_seen.get(n, 0) for n in range(int(seconds))),
            frames_seen=tuple((stamp, size) for _, size, stamp in arrivals if not decoded),
        )

    @staticmethod
    def failed(error: str, decoded: bool, seconds: float) -> ViewerReport:
        return ViewerReport(decoded, 0, seconds, 0.0, 0.0, 0.0, 0.0, 0.0, time.monotonic(), error=error)


def _count_frames(
    loop: asyncio.AbstractEventLoop, input_q: Any, output_q: Any, decode_error: threading.Event
) -> None:
    """Stands in for aiortc's decoder thread: hands the track (arrival, bytes, RTP timestamp) per frame."""
    while (task := input_q.get()) is not None:
        _codec, encoded = task
        item = (time.monotonic(), len(encoded.data), encoded.timestamp)
        asyncio.run_coroutine_threadsafe(output_q.put(item), loop)
    asyncio.run_coroutine_threadsafe(output_q.put(None), loop)


async def _view(url: str, warmup: float, seconds: float, decode: bool, barrier: Any) -> ViewerReport:
    from aiortc import rtcrtpreceiver

    from streamer.viewer import Viewer

    if not decode:
        rtcrtpreceiver.decoder_worker = _count_frames
    arrivals: list[tuple[float, int, int]] = []
    async with Viewer(url, keep_frames=1) as viewer:
        if decode:
            await _unless_ended(viewer, viewer.wait_frames(1, timeout=START_SECONDS))
            await asyncio.to_thread(barrier.wait, START_SECONDS)
            await asyncio.sleep(warmup)
            start, cpu = time.monotonic(), time.process_time()
            while time.monotonic() - start < seconds:
                seen = viewer.frames_received
                try:
                    await viewer.wait_frames(seen + 1, timeout=start + seconds - time.monotonic())
                except TimeoutError:
                    break
                arrivals.append((time.monotonic(), 0, 0))
            return ViewerReport.of(
                arrivals, start, seconds, True, time.process_time() - cpu, _session(viewer)
            )
        track = await _first_track(viewer)
        await _unless_ended(viewer, asyncio.wait_for(track.recv(), timeout=START_SECONDS))
        await asyncio.to_thread(barrier.wait, START_SECONDS)
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
        return ViewerReport.of(arrivals, start, seconds, False, time.process_time() - cpu, _session(viewer))


async def _unless_ended(viewer: Any, first_frame: Coroutine[Any, Any, object]) -> None:
    """Wait for the first frame; a session that ends first (the server's `ended`) fails at once."""
    frame = asyncio.ensure_future(first_frame)
    ended = asyncio.ensure_future(viewer.wait_message("ended", timeout=START_SECONDS))
    done, _ = await asyncio.wait({frame, ended}, return_when=asyncio.FIRST_COMPLETED)
    for task in (frame, ended):
        if task not in done:
            task.cancel()
    if frame in done:
        frame.result()
        return
    message = ended.result()
    raise RuntimeError(f"the session ended before its first frame: {message.get('reason')}")


def _session(viewer: Any) -> str:
    """The viewer's session id: the answer's, or (a `Viewer` from before it kept it) its offer's
    ICE ufrag, which the server's `Session.peer` starts with."""
    session = str(getattr(viewer, "session", ""))
    if session:
        return session
    offer: str = viewer.pc.localDescription.sdp
    for line in offer.splitlines():
        if line.startswith("a=ice-ufrag:"):
            return "ufrag:" + line.split(":", 1)[1].strip()
    return ""


async def _first_track(viewer: Any) -> Any:
    """The video track of a depacketizing viewer (its receiver's, since `Viewer` does not keep it)."""
    while True:
        for transceiver in viewer.pc.getTransceivers():
            track = transceiver.receiver.track
            if track is not None and transceiver.receiver._RTCRtpReceiver__decoder_thread is not None:
                return track
        await asyncio.sleep(0.05)


def _process(url: str, warmup: float, seconds: float, decode: bool, barrier: Any, results: Any) -> None:
    try:
        report = asyncio.run(_view(url, warmup, seconds, decode, barrier))
    except Exception as exc:  # reported, and the others are let go (their barrier breaks)
        barrier.abort()
        report = ViewerReport.failed(f"{type(exc).__name__}: {exc}"[:300], decode, seconds)
    results.put(report)


def watch(
    url: str, count: int, seconds: float, warmup: float = 3.0, decoding: int = 1, stagger: float = 0.0
) -> list[ViewerReport]:
    """`count` viewers, `decoding` of them decoding, each in its own process, started `stagger`
    seconds apart (sessions arrive over time, not all in one instant); blocks until done (call it
    from a thread when the server runs on this process's event loop)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    barrier = context.Barrier(count)
    processes = [
        context.Process(
            target=_process, args=(url, warmup, seconds, n < decoding, barrier, results), daemon=True
        )
        for n in range(count)
    ]
    for n, process in enumerate(processes):
        if n and stagger:
            time.sleep(stagger)
        process.start()
    reports = [results.get(timeout=START_SECONDS + warmup + seconds + 60) for _ in processes]
    for process in processes:
        process.join(10)
    return reports
