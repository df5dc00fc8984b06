"""`streamer serve --shared --record-video DIR`: the shared stream's packets, written to disk as
they were sent, never encoded again.

H.264 goes to fragmented MP4 (readable while it is being written), VP8 to WebM (MP4 does not
take VP8). Each start of the guest begins a new file, at its first keyframe; timestamps are the
live ones (90 kHz), so frames the stream skipped leave gaps. When the folder's recordings pass
`max_bytes`, the oldest finished files are deleted (and any older than `max_age`), and a file
that alone passes a quarter of it is closed and a new one begun, so a kiosk never fills its disk.
Writing runs on a thread of its own behind a bounded queue: a slow disk drops recorded frames
(counted), never live ones.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import av

from gpu_host.frame import frame_rate

from .encoder import RTP_CLOCK, Codec, EncodedPacket

__all__ = ["StreamRecorder"]

log = logging.getLogger(__name__)

QUEUE_FRAMES = 120  # frames waiting for the disk before recorded frames are dropped
TIME_BASE = Fraction(1, RTP_CLOCK)
START_CODE = b"\x00\x00\x01"


def _h264_headers(keyframe: bytes) -> bytes:
    """The SPS and PPS of an Annex B keyframe, as the muxer's extradata."""
    units = [unit.rstrip(b"\x00") for unit in keyframe.split(START_CODE) if unit]
    return b"".join(b"\x00\x00\x00\x01" + unit for unit in units if unit and unit[0] & 0x1F in (7, 8))


class _File:
    def __init__(
        self, path: Path, codec: Codec, fps: float, size: tuple[int, int], first: EncodedPacket
    ) -> None:
        self.path = path
        options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if codec == "h264" else {}
        self._container = av.open(
            str(path), "w", format="mp4" if codec == "h264" else "webm", options=options
        )
        self._stream = self._container.add_stream(codec, rate=frame_rate(fps))
        self._stream.width, self._stream.height = size
        self._stream.time_base = TIME_BASE
        if codec == "h264":
            self._stream.codec_context.extradata = _h264_headers(first.data)
        self.origin = first.timestamp
        self.frames = 0

    def write(self, packet: EncodedPacket) -> None:
        out = av.Packet(packet.data)
        out.pts = out.dts = packet.timestamp - self.origin
        out.time_base = TIME_BASE
        out.stream = self._stream
        self._container.mux(out)
        self.frames += 1

    @property
    def bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        self._container.close()


class StreamRecorder:
    """Records one shared stream into `folder`; `new_take()` at each start of the guest."""

    def __init__(
        self, folder: Path, codec: Codec, fps: float, max_bytes: int = 1 << 30, max_age: float | None = None
    ) -> None:
        """`max_age`: seconds after which a finished recording is deleted (None: kept)."""
        self.max_age = max_age
        self.folder = folder
        self.codec = codec
        self.fps = fps
        self.max_bytes = max_bytes
        self.frames_dropped = 0
        self.files: list[Path] = []  # written by this recorder, oldest first
        self._suffix = ".mp4" if codec == "h264" else ".webm"
        self._queue: queue.Queue[tuple[EncodedPacket, ...] | str | None] = queue.Queue(QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name="stream recorder", daemon=True)
        self._thread.start()

    def write(self, packets: tuple[EncodedPacket, ...]) -> None:
        """One encoded frame (from the event loop: never blocks)."""
        try:
            self._queue.put_nowait(packets)
        except queue.Full:
            self.frames_dropped += 1

    def new_take(self) -> None:
        """The guest started again: the next keyframe begins a new file."""
        try:
            self._queue.put_nowait("take")
        except queue.Full:
            self.frames_dropped += 1

    def close(self, timeout: float = 10.0) -> None:
        """Finish the file being written (blocks up to `timeout`: call it off the event loop)."""
        self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        current: _File | None = None
        try:
            while (item := self._queue.get()) is not None:
                if item == "take":
                    self._finish(current)
                    current = None
                    continue
                assert not isinstance(item, str)
                if not item:
                    continue
                if current is not None and item[0].keyframe and current.bytes > self.max_bytes // 4:
                    self._finish(current)  # a long take is cut at a keyframe
                    current = None
                if current is None:
                    if not item[0].keyframe:
                        continue  # a file starts with a keyframe
                    current = self._open(item[0])
                for packet in item:
                    current.write(packet)
        except Exception:
            log.exception("recording failed; the stream goes on unrecorded")
        finally:
            self._finish(current)

    def _open(self, first: EncodedPacket) -> _File:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"shared-{stamp}-{len(self.files) + 1:04d}{self._suffix}"
        self.files.append(path)
        return _File(path, self.codec, self.fps, first.size, first)

    def _finish(self, current: _File | None) -> None:
        if current is not None:
            current.close()
            log.info("recorded %d frames to %s", current.frames, current.path)
        self._prune()

    def _prune(self) -> None:
        """Delete finished recordings older than `max_age`, then the oldest while the folder's
        total is over `max_bytes`."""
        if self.max_age is not None:
            now = time.time()
            for path in self.files[:-1]:
                try:
                    old = now - path.stat().st_mtime > self.max_age
                except OSError:
                    old = True
                if old:
                    self.files.remove(path)
                    path.unlink(missing_ok=True)
        sizes = {path: path.stat().st_size for path in self.files if path.exists()}
        total = sum(sizes.values())
        while len(self.files) > 1 and total > self.max_bytes:
            oldest = self.files.pop(0)
            total -= sizes.get(oldest, 0)
            oldest.unlink(missing_ok=True)
