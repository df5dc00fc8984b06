"""Private sessions at scale: fps and bitrate delivered, where a frame's time goes, and how many
sessions a node holds.

    python -m benchmarks.stream [--scene NAME|PATH] [--size 1920x1080] [--fps 60] [--bitrate 20M]
                                [--codec h264|vp8] [--seconds 10] [--viewers 1] [--no-adapt]
    python -m benchmarks.stream --sessions 8,12,16,20,24,28,32 [--min-fps 29] [--max-p95 40] ...

Starts `streamer serve` in this process on 127.0.0.1 (so that this process's CPU is the main
process's: it sends every session's RTP from one event loop; each session's guest and encoder run
in a worker process of its own). Viewers run in processes of their own and only depacketize, one
of them decoding as a check (benchmarks/viewers.py); each has a private session. Once every viewer
has its first frame they warm up together, then measure for --seconds:

- at each viewer: frames per second, the p95 interval between frames arriving, the bitrate of
  frame payload, and its share of what the server sent it in the same window (at least 95% of the
  frames and of the bytes, or the session counts as failed);
- at the server, per session: the interval between encoded frames reaching the main process
  (median, p95), guest ms, readback ms (present to I420 in host memory, converted on the GPU),
  encode ms, and present-to-packet (readback + encode, the latency the pipeline adds after the
  guest presents), with where it goes step by step (the GPU's copy, the mapping reaching the
  encoder thread, the still-picture check, the planes copied into the encoder's picture, the
  encoder's settings and the codec itself);
- CPU, from /proc: the main process's and the session workers', in cores, apart from the viewers';
  GPU memory from nvidia-smi where there is one (the increase over the node without sessions).

`--viewers N` measures N sessions once and prints each one's figures. `--sessions LIST` measures
each N in turn and prints a table, stopping after the first N at which a session fails: a median
under --min-fps, a p95 interval at its viewer over --max-p95 ms, or under 95% delivered.

The scene must move by itself for the fps to mean anything (orbit does): a still picture is sent
once a second (`--still-refresh`, as `streamer serve`; benchmarks/still.py measures idle sessions),
so measure a still scene such as the triangle with `--still-refresh 0`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import platform
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import wgpu

from benchmarks import percentile
from benchmarks.viewers import ViewerReport, watch
from streamer.admission import DoorSettings
from streamer.cli import parse_bitrate, parse_size
from streamer.encoder import CODECS, EncoderSettings, threads_per_session
from streamer.messages import EncodedFrame
from streamer.scenes import DEFAULT_SCENE, builtin_scenes, resolve_scene
from streamer.server import ServeConfig, Server, running
from streamer.session import Session, SessionLimits
from streamer.stream_task import WorkerConfig

STARTUP_SECONDS = 120.0  # for a session's worker to start and send its first frame
DELIVERED = 0.95  # the share of the frames and bytes sent that each viewer must receive
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU of a process (all its threads) from /proc; None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class CpuSampler:
    """CPU of the main process and of each session's worker, sampled every `period` seconds."""

    server: Server
    period: float = 0.25
    samples: list[tuple[float, dict[int, float]]] = field(default_factory=list)
    # Every session seen, by id: a session leaves `server.sessions` as soon as its viewer goes.
    seen: dict[str, Session] = field(default_factory=dict)

    def session(self, key: str) -> Session | None:
        """A session seen, by its id or (`ufrag:U`, benchmarks/viewers.py) its viewer's ICE ufrag."""
        if key.startswith("ufrag:"):
            ufrag = key.removeprefix("ufrag:")
            return next((s for s in self.seen.values() if s.peer.split(" ")[0] == ufrag), None)
        return self.seen.get(key)

    def sample(self) -> None:
        self.seen.update(self.server.sessions)
        pids = [os.getpid()] + [s.worker.pid for s in self.server.sessions.values() if s.worker is not None]
        seconds = {pid: cpu for pid in pids if pid is not None and (cpu := cpu_seconds(pid)) is not None}
        self.samples.append((time.monotonic(), seconds))

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.period)

    def cores(self, begin: float, end: float) -> tuple[float, float]:
        """The main process's cores and the workers' together over [begin, end]."""
        window = [s for s in self.samples if begin <= s[0] <= end]
        if len(window) < 2:
            return float("nan"), float("nan")
        (t0, first), (t1, last) = window[0], window[-1]
        used = {pid: last[pid] - first[pid] for pid in last.keys() & first.keys()}
        main = used.pop(os.getpid(), 0.0)
        return main / (t1 - t0), sum(used.values()) / (t1 - t0)


@dataclass
class GpuSampler:
    """GPU memory in use and utilization from nvidia-smi, every `period` seconds (none without it)."""

    period: float = 1.0
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (time, MiB, util %)
    command: str | None = field(default_factory=lambda: shutil.which("nvidia-smi"))

    async def sample(self) -> tuple[float, float] | None:
        if self.command is None:
            return None
        process = await asyncio.create_subprocess_exec(
            self.command,
            "--query-gpu=memory.used,utilization.gpu",
            "--format=csv,noheader,nounits",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await process.communicate()
        try:
            memory, util = (float(v) for v in out.decode().splitlines()[0].split(","))
        except (ValueError, IndexError):  # one GPU's line; anything else is not understood
            return None
        self.samples.append((time.monotonic(), memory, util))
        return memory, util

    async def run(self) -> None:
        while self.command is not None:
            await self.sample()
            await asyncio.sleep(self.period)

    def peak(self, begin: float, end: float) -> tuple[float, float] | None:
        """The most memory (MiB) and the median utilization (%) over [begin, end]."""
        window = [s for s in self.samples if begin <= s[0] <= end]
        if not window:
            return None
        return max(m for _, m, _ in window), statistics.median(u for _, _, u in window)


@dataclass(frozen=True)
class SessionFigures:
    """One session over its viewer's window: the viewer's report and what the server sent."""

    viewer: ViewerReport
    frames: list[tuple[float, EncodedFrame]]  # (arrival at the main process, timings)
    history: list[EncodedFrame]  # every frame the session kept, for matching the viewer's

    @property
    def frames_sent(self) -> int:
        return sum(1 for _, f in self.frames if f.packets)

    @property
    def bytes_sent(self) -> int:
        return sum(len(p.data) for _, f in self.frames for p in f.packets)

    def intervals(self) -> list[float]:
        """Between frames sent (a still picture's skipped repeats are not)."""
        sent = [t for t, f in self.frames if f.packets]
        return [(b - a) * 1e3 for a, b in itertools.pairwise(sent)] or [0.0]

    def delivered(self) -> tuple[float, float | None]:
        """The viewer's share of the frames and of the bytes sent (bytes: None for a decoding
        viewer). A depacketizing viewer's frames are matched to the server's by RTP timestamp:
        its share is of the frames sent from its first to its last, so that the delay between
        the two ends does not move a keyframe in or out of one window only."""
        matched = match_frames(self.viewer.frames_seen, self.history)
        if matched is not None:
            return matched
        frames = self.viewer.frames / max(self.frames_sent, 1)
        if self.viewer.decoded:
            return frames, None
        return frames, self.viewer.bitrate * self.viewer.seconds / 8 / max(self.bytes_sent, 1)

    def failure(self, min_fps: float, max_p95: float) -> str | None:
        """Why this session does not hold the stream, or None."""
        v = self.viewer
        if v.error:
            return v.error
        per_second = statistics.median(v.per_second) if v.per_second else v.fps
        frames, payload = self.delivered()
        if per_second < min_fps:
            return f"{per_second:.1f} fps median"
        if v.interval_p95_ms > max_p95:
            return f"p95 interval {v.interval_p95_ms:.1f} ms"
        if frames < DELIVERED or (payload is not None and payload < DELIVERED):
            return f"delivered {frames:.0%} of the frames, {payload or float('nan'):.0%} of the bytes"
        return None


def match_frames(
    seen: tuple[tuple[int, int], ...], history: list[EncodedFrame]
) -> tuple[float, float] | None:
    """The shares of frames and bytes `seen` (RTP timestamp, bytes) of those sent between the first
    and the last of them; None when they cannot be matched. The sender adds a random offset to
    every timestamp (RFC 3550), found as the one that maps the most of the first frames seen onto
    frames sent."""
    sent: dict[int, int] = {}
    for frame in history:
        if frame.packets:
            sent[frame.packets[0].timestamp] = sum(len(p.data) for p in frame.packets)
    if len(seen) < 2 or not sent:
        return None
    head = [stamp for stamp, _ in seen[:30]]
    offsets = {(head[0] - stamp) % 2**32 for stamp in sent}
    offset = max(offsets, key=lambda o: sum((h - o) % 2**32 in sent for h in head))
    if sum((h - offset) % 2**32 in sent for h in head) < len(head) // 2:
        return None
    first, last = ((stamp - offset) % 2**32 for stamp in (seen[0][0], seen[-1][0]))
    expected = [size for stamp, size in sent.items() if first <= stamp <= last]
    received = sum(size for stamp, size in seen if (stamp - offset) % 2**32 in sent)
    return len(seen) / max(len(expected), 1), received / max(sum(expected), 1)


@dataclass(frozen=True)
class Round:
    sessions: list[SessionFigures]
    main_cores: float
    worker_cores: float
    viewer_cores: float
    gpu_mib: float | None  # over the node without sessions
    gpu_util: float | None
    seconds: float


async def measure_round(
    args: argparse.Namespace, url: str, server: Server, cpu: CpuSampler, gpu: GpuSampler, count: int
) -> Round:
    """`count` viewers, each with a session of its own, measured together."""
    idle = await gpu.sample()
    loop = asyncio.get_running_loop()
    reports: list[ViewerReport] = await loop.run_in_executor(
        None, watch, url, count, args.seconds, args.warmup, args.decoding, args.stagger
    )
    measured = [r for r in reports if not r.error] or reports
    # Over the window every viewer measured in (they start together, within a few ms).
    begin, end = max(r.started for r in measured), min(r.started + r.seconds for r in measured)
    main, workers = cpu.cores(begin, end)
    figures = []
    for report in reports:
        session = cpu.session(report.session)
        frames = [] if session is None else list(session.recent_frames)
        window = [(t, f) for t, f in frames if report.started <= t <= report.started + report.seconds]
        figures.append(SessionFigures(report, window, [f for _, f in frames]))
    busy = gpu.peak(begin, end)
    gpu_mib = busy[0] - idle[0] if busy is not None and idle is not None else None
    gpu_util = busy[1] if busy is not None else None
    viewer_cores = sum(r.cpu_seconds for r in reports) / args.seconds
    # The sessions close with their viewers; the next round starts from none.
    deadline = time.monotonic() + 30
    while server.sessions and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return Round(figures, main, workers, viewer_cores, gpu_mib, gpu_util, end - begin)


def print_details(result: Round) -> None:
    """Each session's figures, as `--viewers N` has always printed them."""
    for i, s in enumerate(result.sessions):
        v = s.viewer
        if v.error:
            print(f"viewer {i}: failed: {v.error}")
            continue
        frames, payload = s.delivered()
        bitrate = "decoding" if v.decoded else f"{v.bitrate / 1e6:.2f} Mb/s received"
        print(
            f"viewer {i}: median {statistics.median(v.per_second or (0,)):.1f} fps "
            f"(min {min(v.per_second or (0,))}), {bitrate}, interval p95 {v.interval_p95_ms:.1f} ms, "
            f"{frames:.0%} of the frames sent"
            + ("" if payload is None else f" and {payload:.0%} of the bytes")
            + f", CPU {v.cpu_seconds / v.seconds:.2f} cores"
        )
    for s in result.sessions:
        timings = [f for _, f in s.frames if f.packets]
        if len(timings) < 3:
            continue
        intervals = s.intervals()
        p2p = [f.readback_ms + f.encode_ms for f in timings]
        print(
            f"server: frame interval median {statistics.median(intervals):.2f} ms "
            f"(p95 {percentile(intervals, 0.95):.2f}); "
            f"guest {statistics.median(f.guest_ms for f in timings):.2f} ms, "
            f"readback {statistics.median(f.readback_ms for f in timings):.2f} ms, "
            f"encode {statistics.median(f.encode_ms for f in timings):.2f} ms, "
            f"present-to-packet median {statistics.median(p2p):.2f} ms (p95 {percentile(p2p, 0.95):.2f})"
        )
        steps: dict[str, list[float]] = {}
        for f in timings:
            for step, ms in getattr(f, "steps", ()):  # older code: no steps
                steps.setdefault(step, []).append(ms)
        if steps:
            print(
                "  present-to-packet by step, medians: "
                + ", ".join(f"{step} {statistics.median(ms):.2f} ms" for step, ms in steps.items())
            )
    print(
        f"CPU: main process {result.main_cores:.2f} cores, session workers {result.worker_cores:.2f}, "
        f"viewers {result.viewer_cores:.2f} (apart); GPU memory {_mib(result.gpu_mib)} over idle"
    )


TABLE_HEADER = (
    "| sessions | fps median (min) | p95 interval at viewers, median (worst) ms | p95 interval at server, "
    "worst ms | server CPU cores (main + workers) | CPU per session | viewers' CPU cores "
    "| GPU memory per session | GPU util | delivered, worst | verdict |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_row(count: int, result: Round, min_fps: float, max_p95: float) -> tuple[str, bool]:
    """The round's markdown row, and whether every session held the stream."""
    measured = [s for s in result.sessions if not s.viewer.error]
    fps = [statistics.median(s.viewer.per_second) if s.viewer.per_second else 0.0 for s in measured]
    viewer_p95 = [s.viewer.interval_p95_ms for s in measured]
    server_p95 = [percentile(s.intervals(), 0.95) for s in measured]
    shares = [s.delivered() for s in measured]
    failures = [f for s in result.sessions if (f := s.failure(min_fps, max_p95)) is not None]
    server = result.main_cores + result.worker_cores
    gpu = "n/a" if result.gpu_mib is None else f"{result.gpu_mib / count:.0f} MiB"
    util = "n/a" if result.gpu_util is None else f"{result.gpu_util:.0f}%"
    frames = min((f for f, _ in shares), default=float("nan"))
    payload = min((b for _, b in shares if b is not None), default=float("nan"))
    verdict = "holds" if not failures else f"**fails**: {len(failures)} session(s), e.g. {failures[0]}"
    row = (
        f"| {count} | {_median(fps):.1f} ({min(fps, default=float('nan')):.1f}) "
        f"| {_median(viewer_p95):.1f} ({max(viewer_p95, default=float('nan')):.1f}) "
        f"| {max(server_p95, default=float('nan')):.1f} "
        f"| {server:.2f} ({result.main_cores:.2f} + {result.worker_cores:.2f}) | {server / count:.2f} "
        f"| {result.viewer_cores:.2f} | {gpu} | {util} | {frames:.0%} frames, {_share(payload)} bytes "
        f"| {verdict} |"
    )
    return row, not failures


def with_still_refresh(worker: WorkerConfig, refresh: float | None) -> WorkerConfig:
    """`worker` with `still_refresh`, where this version of the server has it (the curve "before"
    runs this file on older code)."""
    if "still_refresh" in {f.name for f in dataclasses.fields(WorkerConfig)}:
        return dataclasses.replace(worker, still_refresh=refresh)
    return worker


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _share(value: float) -> str:
    return "n/a" if value != value else f"{value:.0%}"  # NaN: no depacketizing viewer saw the bytes


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MiB"


async def measure(args: argparse.Namespace) -> None:
    width, height = args.size
    component = resolve_scene(args.scene)
    name = args.scene if args.scene in builtin_scenes() else Path(args.scene).stem
    counts = [int(n) for n in args.sessions.split(",")] if args.sessions else [args.viewers]

    def config(sessions: int) -> ServeConfig:
        """A node set up for `sessions` sessions, as `streamer serve --max-sessions` would be: the
        encoders share its cores among them (unless --encoder-threads)."""
        threads = threads_per_session(sessions) if args.encoder_threads is None else args.encoder_threads
        encoder = EncoderSettings(
            codec=args.codec, bitrate=args.bitrate, fps=args.fps, adapt=not args.no_adapt, threads=threads
        )
        worker = WorkerConfig(
            component=component,
            name=name,
            size=(width, height),
            max_surface_size=(width, height),
            encoder=encoder,
            frame_timeout=STARTUP_SECONDS,  # a guest's first frame, with many starting at once
        )
        return ServeConfig(
            worker=with_still_refresh(worker, args.still_refresh or None),
            port=0,
            # Room to spare: admission is not what is measured (and older code counted a starting
            # session twice, refusing the last of a burst of offers).
            max_sessions=2 * sessions,
            door=DoorSettings(offers_per_minute=10_000, sessions_per_address=1024),
            # Many workers starting at once on a loaded machine may take longer than a session is
            # given to start: the steady state is what is measured here.
            limits=SessionLimits(stall_timeout=STARTUP_SECONDS, connect_timeout=STARTUP_SECONDS),
        )

    info = wgpu.gpu.request_adapter_sync(power_preference="high-performance").info
    still = f"resent every {args.still_refresh:g} s" if args.still_refresh else "sent every frame"
    threads = "cores / sessions" if args.encoder_threads is None else str(args.encoder_threads or "all")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"adapter: {info['device']} ({info['backend_type']}, {info['adapter_type']})")
    print(
        f"scene {name}, {width}x{height}, {args.fps:g} fps asked, {args.codec} at "
        f"{args.bitrate / 1e6:g} Mb/s, {args.seconds:g} s measured after {args.warmup:g} s of warm-up, "
        f"adaptation {'off' if args.no_adapt else 'on'}, {args.decoding} viewer(s) decoding, "
        f"still pictures {still}, encoder threads a session: {threads}",
        flush=True,
    )
    if not args.sessions:
        print_details(await serve_round(args, config(args.viewers), args.viewers))
        return
    print(f"\nfailure: a session under {args.min_fps:g} fps median or over {args.max_p95:g} ms p95")
    print(TABLE_HEADER, flush=True)
    failed: int | None = None
    for count in counts:  # a server of its own for each count, set up for that many sessions
        result = await serve_round(args, config(count), count)
        row, held = table_row(count, result, args.min_fps, args.max_p95)
        print(row, flush=True)
        if args.details:
            print_details(result)
        if not held and failed is None:
            failed = count
            if not args.keep_going:
                break
    if failed is None:
        print(f"\nno failure up to {counts[-1]} sessions")
    else:
        print(f"\npoint of failure: {failed} sessions")


async def serve_round(args: argparse.Namespace, config: ServeConfig, count: int) -> Round:
    """Start `streamer serve` as `config` says and measure `count` sessions on it."""
    async with running(config) as (url, server):
        cpu, gpu = CpuSampler(server), GpuSampler()
        samplers = [asyncio.create_task(cpu.run()), asyncio.create_task(gpu.run())]
        try:
            return await measure_round(args, url, server, cpu, gpu, count)
        finally:
            for task in samplers:
                task.cancel()


def main() -> None:
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scene", default=DEFAULT_SCENE)
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--bitrate", type=parse_bitrate, default=4_000_000)
    parser.add_argument("--codec", choices=CODECS, default="h264")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, once every viewer has a frame")
    parser.add_argument("--viewers", type=int, default=1, help="sessions measured once, with details")
    parser.add_argument("--sessions", help="a curve: session counts, e.g. 8,12,16,20,24,28,32")
    parser.add_argument("--min-fps", type=float, default=29.0, help="a session under it fails")
    parser.add_argument("--max-p95", type=float, default=40.0, help="ms; a session over it fails")
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between viewers' starts")
    parser.add_argument("--decoding", type=int, default=1, help="viewers that decode, as a check")
    parser.add_argument("--keep-going", action="store_true", help="measure every N, past a failure")
    parser.add_argument("--details", action="store_true", help="each session's figures at each N")
    parser.add_argument(
        "--still-refresh",
        type=float,
        default=1.0,
        help="as `streamer serve --still-refresh` (default 1; 0: every frame encoded, as before it)",
    )
    parser.add_argument("--no-adapt", action="store_true", help="a fixed bitrate (serve --no-adapt)")
    parser.add_argument(
        "--encoder-threads",
        type=int,
        help="each encoder's threads (default: the cores shared among the sessions measured; 0: all)",
    )
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
