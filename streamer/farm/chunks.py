"""A render job cut into chunks of frames, and the chunks' outputs joined into the job's output.

Every chunk runs the guest from its first frame: the frames before the chunk are fast-forwarded
(`RenderJob.first_frame`), so chunk k's frames are the frames the whole render has there. PNG
chunks are numbered globally and only need moving into place. MP4 chunks are encoded with a
keyframe at their first frame (`VideoSettings.keyint`); `join_mp4` copies their packets into one
file, renumbered n/fps, never encoding again.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

__all__ = ["Chunk", "JoinError", "join_mp4", "plan_chunks"]


@dataclass(frozen=True)
class Chunk:
    """Frames `first` to `first + frames - 1` of job number `job` (numbered from 0)."""

    job: int
    first: int
    frames: int

    @property
    def end(self) -> int:
        return self.first + self.frames


class JoinError(Exception):
    """The chunks of an MP4 render cannot be joined into one file (the message says why)."""


def plan_chunks(job: int, frames: int, chunk_frames: int | None) -> list[Chunk]:
    """The chunks of a job of `frames` frames: one, or as many as `chunk_frames` makes."""
    size = chunk_frames or frames
    return [Chunk(job, first, min(size, frames - first)) for first in range(0, frames, size)]


def join_mp4(parts: list[Path], output: Path, rate: Fraction) -> int:
    """Copy the packets of `parts` (MP4 chunks in order, each starting with a keyframe) into
    `output`, frame n stamped n/rate; returns the number of frames. The chunks must share one
    encoding (the same stream parameters), which chunks of one job do."""
    time_base = 1 / rate
    frames = 0
    with av.open(str(output), "w") as out:
        stream: av.VideoStream | None = None
        extradata: bytes | None = None
        for part in parts:
            with av.open(str(part)) as chunk:
                source = chunk.streams.video[0]
                if stream is None:
                    stream = out.add_stream_from_template(source)
                    stream.time_base = time_base
                    extradata = source.codec_context.extradata
                elif source.codec_context.extradata != extradata:
                    raise JoinError(f"{part.name} was encoded with other parameters than the first chunk")
                for packet in chunk.demux(source):
                    if packet.size == 0:  # the demuxer's flush packet
                        continue
                    packet.stream = stream
                    packet.time_base = time_base
                    packet.pts = packet.dts = frames
                    packet.duration = 1
                    out.mux(packet)
                    frames += 1
    return frames
