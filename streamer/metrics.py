"""The server's Prometheus metrics, in a registry of its own (no process-wide state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from .messages import EncodedFrame

__all__ = ["Metrics"]

MS_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 200, 500, 1000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions = Gauge("streamer_sessions", "Sessions now open", registry=r)
        self.sessions_started = Counter("streamer_sessions_started", "Sessions started", registry=r)
        self.sessions_ended = Counter(
            "streamer_sessions_ended", "Sessions ended, by cause", ["cause"], registry=r
        )
        self.frames_rendered = Counter("streamer_frames_rendered", "Frames rendered by guests", registry=r)
        self.frames_encoded = Counter("streamer_frames_encoded", "Frames encoded into packets", registry=r)
        self.frames_dropped = Counter(
            "streamer_frames_dropped", "Shared frames a viewer was too far behind to take", registry=r
        )
        self.frames_sent = Counter("streamer_frames_sent", "Encoded frames handed to WebRTC", registry=r)
        self.keyframe_requests = Counter(
            "streamer_keyframe_requests", "Keyframes asked for by viewers (PLI/FIR)", registry=r
        )
        self.encode_ms = Histogram(
            "streamer_encode_ms",
            "encode time per frame, from I420 planes to packets (ms)",
            buckets=MS_BUCKETS,
            registry=r,
        )
        self.guest_ms = Histogram(
            "streamer_guest_ms", "Guest time per frame, tick to present (ms)", buckets=MS_BUCKETS, registry=r
        )
        self.readback_ms = Histogram(
            "streamer_readback_ms", "Present to pixels in host memory (ms)", buckets=MS_BUCKETS, registry=r
        )
        self.input_events = Counter("streamer_input_events", "Input events passed to guests", registry=r)
        self.input_dropped = Counter(
            "streamer_input_dropped", "Client messages refused or dropped, by reason", ["reason"], registry=r
        )
        self.auth_refused = Counter(
            "streamer_auth_refused",
            "Requests refused for their access token (missing, malformed, expired, signature, role, in-use)",
            ["reason"],
            registry=r,
        )
        self.errors = Counter("streamer_errors", "Errors, by kind", ["kind"], registry=r)

    def count_frame(self, frame: EncodedFrame) -> None:
        """A frame from a worker: rendered, timed, and encoded when it has packets."""
        self.frames_rendered.inc()
        self.guest_ms.observe(frame.guest_ms)
        self.readback_ms.observe(frame.readback_ms)
        self.encode_ms.observe(frame.encode_ms)
        if frame.packets:
            self.frames_encoded.inc()

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
