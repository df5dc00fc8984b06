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
        self.frames_encoded = Counter(
            "streamer_frames_encoded", "Frames encoded into packets (once, whatever their levels)", registry=r
        )
        # A shared stream's quality levels (streamer/levels.py): encodes are fps x levels.
        self.level_encodes = Counter(
            "streamer_level_encodes", "Encodes of a frame, by quality level (0: full)", ["level"], registry=r
        )
        self.level_viewers = Gauge(
            "streamer_level_viewers", "Viewers of a shared stream per quality level", ["level"], registry=r
        )
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
        # A viewer's link and what its stream is encoded at (streamer/adaptation.py), per session.
        self.bandwidth_estimate = Gauge(
            "streamer_bandwidth_estimate_bps",
            "A viewer's available bandwidth estimated from its RTCP (REMB, loss); absent while unlimited",
            ["session"],
            registry=r,
        )
        self.video_bitrate = Gauge(
            "streamer_video_bitrate_bps",
            "The bitrate a viewer's stream is encoded at",
            ["session"],
            registry=r,
        )
        self.video_fps = Gauge(
            "streamer_video_fps", "The frame rate a viewer's stream is sent at", ["session"], registry=r
        )
        self.video_width = Gauge(
            "streamer_video_width", "The encoded picture's width", ["session"], registry=r
        )
        self.video_height = Gauge(
            "streamer_video_height", "The encoded picture's height", ["session"], registry=r
        )
        self.viewer_loss = Gauge(
            "streamer_viewer_loss_ratio",
            "Packets lost, in the viewer's last receiver report",
            ["session"],
            registry=r,
        )
        self.retransmissions = Counter(
            "streamer_retransmissions",
            "Packets viewers NACKed, by outcome: resent, repeat (asked again while on its way),"
            " missed (no longer kept), limited (over the resend budget, streamer/retransmission.py)",
            ["outcome"],
            registry=r,
        )
        self.rate_changes = Counter(
            "streamer_rate_changes",
            "Changes of a stream's target, by what changed (bitrate, fps, size)",
            ["what"],
            registry=r,
        )

    def count_frame(self, frame: EncodedFrame) -> None:
        """A frame from a worker: rendered, timed, and encoded when it has packets. A frame comes
        once per level of a shared stream: rendered and read back once (level 0), encoded at each."""
        self.encode_ms.observe(frame.encode_ms)
        if frame.packets:
            self.level_encodes.labels(str(frame.level)).inc()
        if frame.level != 0:
            return
        self.frames_rendered.inc()
        self.guest_ms.observe(frame.guest_ms)
        self.readback_ms.observe(frame.readback_ms)
        if frame.packets:
            self.frames_encoded.inc()

    def forget_session(self, session: str) -> None:
        """Drop an ended session's per-session series."""
        for gauge in self._per_session():
            try:
                gauge.remove(session)
            except KeyError:
                pass

    def _per_session(self) -> tuple[Gauge, ...]:
        return (
            self.bandwidth_estimate,
            self.video_bitrate,
            self.video_fps,
            self.video_width,
            self.video_height,
            self.viewer_loss,
        )

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
