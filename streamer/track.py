"""A WebRTC video track of packets that are already encoded (aiortc packs them instead of encoding)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .encoder import VideoPacket

__all__ = ["PacketTrack"]


class PacketTrack(MediaStreamTrack):
    """Hands aiortc one `av.Packet` per `recv()`. `on_taken` runs when a frame's last packet is
    taken: that is when the worker gets credit for another frame (frames are pulled, not pushed)."""

    kind = "video"

    def __init__(self, on_taken: Callable[[], None]) -> None:
        super().__init__()
        self._on_taken = on_taken
        self._queue: asyncio.Queue[tuple[VideoPacket, bool] | None] = asyncio.Queue()
        self.frames_queued = 0  # frames pushed whose last packet the sender has not taken

    def push(self, packet: VideoPacket, last_of_frame: bool) -> None:
        if last_of_frame:
            self.frames_queued += 1
        self._queue.put_nowait((packet, last_of_frame))

    def end(self) -> None:
        """No more packets: the sender's next `recv` ends its loop."""
        self._queue.put_nowait(None)
        self.stop()

    async def recv(self) -> VideoPacket:
        if self.readyState != "live" and self._queue.empty():
            raise MediaStreamError
        item = await self._queue.get()
        if item is None:
            raise MediaStreamError
        packet, last = item
        if last:
            self.frames_queued -= 1
            self._on_taken()
        return packet
