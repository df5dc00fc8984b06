"""One viewer's session in the main process: its peer connection, data channel, worker and video track.

The session owns its tasks and its worker and ends all of them in `close`, whatever ends it: the
viewer leaving (connection closed or failed, or silent past the heartbeat timeout), the guest
ending, failing or hanging, the worker dying, or the server shutting down. The viewer is told why
in an `ended` message while the data channel is still open.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import OperationError
from aiortc.rtcrtpsender import RTCRtpSender

from gpu_host.worker import AsyncGuestWorker, TaskDone, WorkerExited

from .adaptation import LinkAdapter
from .aiortc_compat import (
    guard_text_messages,
    keep_retransmissions,
    on_keyframe_request,
    on_rtcp_feedback,
    zero_playout_delay,
)
from .bandwidth import Feedback
from .messages import Credit, EncodedFrame, Events, Keyframe, SetProbe, SetTarget, Started
from .metrics import Metrics
from .protocol import (
    Control,
    Input,
    Ping,
    Probe,
    ProtocolError,
    key_names,
    parse_client_message,
    server_message,
)
from .rate_control import StreamTarget
from .shared import SharedStream
from .stream_task import StreamTask, WorkerConfig
from .tokens import Role
from .track import PacketTrack

__all__ = ["OfferError", "Session", "SessionLimits"]

log = logging.getLogger(__name__)

MIME_TYPES = {"h264": "video/H264", "vp8": "video/VP8"}
CHANNEL_LABEL = "input"  # the one data channel a viewer opens (docs/protocol.md)
MIN_MESSAGE_SIZE = 1024  # a peer whose data channel takes less cannot get `ended` or `error`
INITIAL_CREDIT = 2  # frames the worker may render ahead of the viewer taking them
REPAIR_INTERVAL = 1.0  # seconds: at most one keyframe this often for packets not resent


class OfferError(ValueError):
    """The viewer's offer cannot be answered; the text says what the client should change."""


@dataclass(frozen=True)
class SessionLimits:
    heartbeat_timeout: float = 10.0  # seconds without any data-channel message before the session ends
    event_rate: float = 240.0  # input events per second, sustained, per session
    event_burst: int = 480  # and in one burst
    message_rate: float = 300.0  # data-channel messages of any kind (pings, invalid ones) per second
    message_burst: int = 600
    outgoing_bytes: int = 256 * 1024  # data-channel bytes queued to the viewer before replies are dropped
    outgoing_stall: float = 10.0  # seconds over that bound before the session ends
    error_report_interval: float = 1.0  # at most one `error` message to the viewer per interval
    stall_timeout: float = 20.0  # seconds with frames owed but none coming before the worker is killed
    connect_timeout: float = 20.0  # seconds from the answer to the viewer's data channel opening
    viewer_frames: int = 4  # shared mode: frames queued for one viewer's sender before it skips


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Session:
    def __init__(
        self,
        worker_config: WorkerConfig,
        rtc_config: RTCConfiguration,
        metrics: Metrics,
        limits: SessionLimits,
        on_closed: Callable[[Session], None],
        record_dir: Path | None = None,
        max_message_size: int | None = None,
        shared: SharedStream | None = None,
        role: Role = "controller",
    ) -> None:
        """`max_message_size`: the largest data-channel message the viewer takes (its offer's).
        `shared`: watch the shared stream (streamer/shared.py) instead of a worker of its own.
        `role`: a `viewer` watches, its input refused and counted; a `controller` may drive."""
        self.id = secrets.token_hex(8)
        self.worker_config = replace(worker_config, name=f"{worker_config.name}-{self.id[:6]}")
        if record_dir is not None:
            # A seed of its own, written in the recording, so a replay draws the same randomness.
            self.worker_config = replace(
                self.worker_config, record_to=record_dir / f"{self.id}.jsonl", seed=secrets.randbits(31)
            )
        self.metrics = metrics
        self.limits = limits
        self._on_closed = on_closed
        self.pc = RTCPeerConnection(rtc_config)
        self.track = PacketTrack(self._frame_taken)
        self.channel: RTCDataChannel | None = None
        self.worker: AsyncGuestWorker | None = None
        self.ended_reason: str | None = None
        self.frames_sent = 0
        self.recent_frames: deque[tuple[float, EncodedFrame]] = deque(maxlen=1200)  # (arrival, timings)
        self.size = worker_config.size  # the encoded picture's
        self.surface = worker_config.size  # the guest's surface: pointer positions are in its pixels
        # The viewer's link: estimate, target (a shared stream's level), NACKs.
        self.link = LinkAdapter(worker_config.encoder, levels=shared.levels if shared is not None else None)
        self._bucket = TokenBucket(limits.event_rate, limits.event_burst)
        self._last_heard = time.monotonic()
        self._last_frame = time.monotonic()
        self._owed = 0
        self._errors_unreported = 0
        self._last_error_report = 0.0
        self._closing: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.max_message_size = max_message_size or 65536
        self.peer = ""  # the viewer's ICE ufrag and fingerprint, and its address (Server sets them)
        self.address = ""
        self._messages = TokenBucket(limits.message_rate, limits.message_burst)
        self._over_since: float | None = None  # when the viewer stopped draining our messages
        self.messages_dropped = 0
        self.shared = shared
        self.role = role
        self.token: str | None = None  # the id of the access token it came with (Server sets it)
        self.frames_dropped = 0  # shared mode: frames this viewer was too far behind to take
        self._skipping = False  # shared mode: dropping frames until the next keyframe
        self.level = 0  # shared mode: the quality level it is sent (streamer/levels.py)
        self._counted = False  # counted in the sessions gauge
        self._repaired_at = -1e9  # when a packet not resent last brought a keyframe

    # --- signalling -------------------------------------------------------------------------------

    async def answer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        """Answer the viewer's offer (`start` then spawns the worker); OfferError when it cannot work."""
        codec = self.worker_config.encoder.codec
        mime = MIME_TYPES[codec]
        # aiortc settles the codecs when it applies the offer, so the transceiver and its codec
        # preference must exist before: the offer's video m-line then attaches to it.
        transceiver = self.pc.addTransceiver(self.track, direction="sendonly")
        capabilities = RTCRtpSender.getCapabilities("video").codecs
        transceiver.setCodecPreferences([c for c in capabilities if c.mimeType == mime])
        if "m=video" not in offer.sdp:
            raise OfferError("the offer has no video: add a recvonly video transceiver")
        if self.max_message_size < MIN_MESSAGE_SIZE:
            raise OfferError(
                f"the data channel's max-message-size {self.max_message_size} is below the "
                f"{MIN_MESSAGE_SIZE} bytes the protocol needs"
            )
        try:
            await self.pc.setRemoteDescription(offer)
        except OperationError:  # aiortc's word for "no codec in common"
            raise OfferError(f"the browser did not offer {mime}; try another --codec") from None
        for other in self.pc.getTransceivers():
            if other is not transceiver:
                # Media the viewer offers to send (a microphone, a second video) is answered
                # inactive: nothing receives, decodes or queues it.
                other.direction = "inactive"
        if self.shared is None:
            # A private session is someone driving: frames are shown the moment they are decoded.
            # Watchers of a shared stream keep the browser's jitter buffer, for smoothness.
            zero_playout_delay(transceiver, offer.sdp)
        sender = transceiver.sender
        on_keyframe_request(sender, self._keyframe_requested)
        on_rtcp_feedback(sender, self._on_feedback)
        keep_retransmissions(sender, self.worker_config.encoder.bitrate, self._retransmission)
        guard_text_messages(self.pc)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_connection_state)
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        local = self.pc.localDescription
        if f" {mime.split('/')[1]}/90000" not in local.sdp:
            raise OfferError(f"the browser did not offer {mime}; try another --codec")
        return RTCSessionDescription(sdp=local.sdp, type=local.type)

    async def start(self) -> None:
        """Spawn the worker (after `answer`): the guest starts rendering for this viewer. In
        shared mode the viewer joins the shared stream once its connection is up."""
        if self.shared is not None:
            self.metrics.sessions.inc()
            self._counted = True
            self._watchdog = asyncio.create_task(self._watch(), name=f"session {self.id} watchdog")
            self.metrics.sessions_started.inc()
            if self.shared.ended is not None:
                self.close(self.shared.ended, cause="guest")
            return
        self.worker = worker = AsyncGuestWorker(
            StreamTask(self.worker_config), self._on_worker_message, name="the session's worker"
        )
        self.metrics.sessions.inc()  # from here on, closing the session stops the worker and counts down
        self._counted = True
        await worker.start()
        worker.send(Credit(INITIAL_CREDIT))
        self._owed = INITIAL_CREDIT
        self._watchdog = asyncio.create_task(self._watch(), name=f"session {self.id} watchdog")
        self.metrics.sessions_started.inc()

    # --- the viewer's link (streamer/adaptation.py) -------------------------------------------------

    def _on_feedback(self, feedback: Feedback) -> None:
        """A REMB or receiver report: the estimate moves, and maybe the stream's target with it."""
        if self._closing is not None:
            return
        before = self.link.target
        target = self.link.feedback(feedback)
        estimate = self.link.estimator.estimate
        if estimate is not None:
            self.metrics.bandwidth_estimate.labels(self.id).set(estimate)
        self.metrics.viewer_loss.labels(self.id).set(self.link.estimator.fraction_lost)
        if target is None:
            return
        for what, changed in (
            ("bitrate", target.bitrate != before.bitrate),
            ("fps", target.fps != before.fps),
            ("size", target.scale != before.scale),
        ):
            if changed:
                self.metrics.rate_changes.labels(what).inc()
        log.info("session %s: estimate %s b/s, now sending %s", self.id, estimate, target)
        if self.shared is not None:  # the level that fits, from its next keyframe (`deliver`)
            self.shared.switch_level(self, self.link.level)
            return
        self._show_target()
        if self.worker is not None:
            self.worker.send(SetTarget(target))

    def _sending(self) -> StreamTarget:
        """What the viewer is sent: its target, or on a shared stream the level it is on (until the
        level its link fits has a keyframe)."""
        return self.link.target if self.shared is None else self.shared.levels[self.level]

    def _show_target(self) -> None:
        target = self._sending()
        self.metrics.video_bitrate.labels(self.id).set(target.bitrate)
        self.metrics.video_fps.labels(self.id).set(target.fps)
        self.metrics.video_width.labels(self.id).set(self.size[0])
        self.metrics.video_height.labels(self.id).set(self.size[1])

    def _retransmission(self, sequence_number: int, size: int | None) -> int:
        copies = self.link.retransmission(sequence_number, size)
        outcome = self.link.resends.last
        self.metrics.retransmissions.labels(outcome).inc()
        now = time.monotonic()
        if outcome in ("missed", "limited") and now - self._repaired_at >= REPAIR_INTERVAL:
            # A packet the viewer will not get: its picture is broken until the next keyframe,
            # so send one now rather than wait for the viewer to ask (some ask late).
            self._repaired_at = now
            self._keyframe_requested()
        return copies

    def _report_stream(self) -> None:
        """The `stream` message: what the link carries and what is sent (the stats overlay)."""
        levels = {} if self.shared is None else {"level": self.level, "levels": len(self.shared.levels)}
        self._send("stream", **self.link.status(self.size, self._sending()), **levels)

    def _frame_sizes(self, frame: EncodedFrame) -> None:
        """Track the encoded size, and tell the viewer when the surface's changes."""
        size = frame.packets[-1].size if frame.packets else self.size
        if size != self.size:
            self.size = size
            self.metrics.video_width.labels(self.id).set(size[0])
            self.metrics.video_height.labels(self.id).set(size[1])
        if frame.surface != (0, 0) and frame.surface != self.surface:
            self.surface = frame.surface
            self._send("surface", width=frame.surface[0], height=frame.surface[1])

    def _keyframe_requested(self) -> None:
        if self.shared is not None:
            # Coalesced and budgeted: it counts what it forces. On the level it is moving to, if
            # it is: that keyframe ends the switch and the loss both.
            self.shared.request_keyframe(self, self.link.level)
            return
        self.metrics.keyframe_requests.inc()
        if self.worker is not None:
            self.worker.send(Keyframe())

    # --- the viewer -------------------------------------------------------------------------------

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if self.channel is not None or channel.label != CHANNEL_LABEL:
            # Only the one `input` channel: others are closed without touching the session.
            self.metrics.input_dropped.labels("channel").inc()
            channel.close()
            return
        self.channel = channel
        channel.on("message", self._on_message)
        channel.on("close", lambda: self.close("viewer closed the connection", cause="disconnected"))
        self._last_heard = time.monotonic()
        size = self.size
        self._send(
            "hello",
            session=self.id,
            width=size[0],
            height=size[1],
            fps=self.worker_config.encoder.fps,
            codec=self.worker_config.encoder.codec,
            max_width=self.worker_config.max_surface_size[0],
            max_height=self.worker_config.max_surface_size[1],
            keys=key_names(),
            shared=self.shared is not None,
            role=self.role,
        )
        if self.shared is not None:
            self.control_changed(self.shared.driver, len(self.shared.viewers))

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected" and self.shared is not None and self._closing is None:
            self.shared.join(self)
        if state in ("failed", "closed"):
            self.close(f"viewer connection {state}", cause="disconnected")

    def _on_message(self, text: str | bytes) -> None:
        """Every message from the viewer comes through here, and none can end the session."""
        self._last_heard = time.monotonic()
        if not self._messages.take():
            self.metrics.input_dropped.labels("rate").inc()  # too many to answer, even with an error
            return
        try:
            self._handle(text)
        except Exception:
            log.exception("session %s: a data-channel message failed", self.id)
            self._refuse("invalid", "the message could not be handled")

    def _handle(self, text: str | bytes) -> None:
        try:
            message = parse_client_message(text)
        except ProtocolError as exc:
            self._refuse("invalid", str(exc))
            return
        if isinstance(message, Ping):
            self._send("pong", t=message.t)
        elif isinstance(message, Control):
            if self.role == "viewer":
                self._refuse("view-only", "view only: this link may watch, not drive")
            elif self.shared is None:
                self._refuse("invalid", "control: this server runs a private stream per viewer")
            elif not message.take:
                self.shared.release_control(self)
            elif not self.shared.take_control(self):
                self._refuse("not-driving", "control: another viewer is driving")
        elif isinstance(message, Probe):
            if self.shared is not None:
                # The marker would be stamped into every viewer's video (docs/protocol.md).
                self._refuse("invalid", "probe: the latency marker is not available on a shared stream")
            elif self.worker is not None:
                self.worker.send(SetProbe(message.enabled))
        elif isinstance(message, Input):
            if self.role == "viewer":
                self._refuse("view-only", "view only: this link may watch, not drive")
                return
            if not self._bucket.take():
                self._refuse("rate", "too many input events; slow down (events are being dropped)")
                return
            if self.shared is not None:
                refused = self.shared.send_input(self, message.event, message.seq)
                if refused is not None:
                    self._refuse("not-driving" if refused.startswith("view only") else "backlog", refused)
                    return
            elif self.worker is None or not self.worker.send(Events(((message.event, message.seq),))):
                self._refuse("backlog", "the guest is not keeping up with input; event dropped")
                return
            self.metrics.input_events.inc()

    def _refuse(self, reason: str, text: str) -> None:
        self.metrics.input_dropped.labels(reason).inc()
        self._errors_unreported += 1
        now = time.monotonic()
        if now - self._last_error_report >= self.limits.error_report_interval:
            self._send("error", message=text, dropped=self._errors_unreported)
            self._errors_unreported = 0
            self._last_error_report = now

    def _send(self, kind: str, **fields: object) -> None:
        """A message to the viewer, unless it is not draining them (then dropped and counted)."""
        channel = self.channel
        if channel is None or channel.readyState != "open":
            return
        text = server_message(kind, **fields)
        if len(text.encode()) > self.max_message_size and "keys" in fields:
            # `hello` without the key names (the viewer then sends null for unknown keys).
            text = server_message(kind, **{k: v for k, v in fields.items() if k != "keys"})
        if len(text.encode()) > self.max_message_size:
            text = server_message(kind, **{k: str(v)[:200] for k, v in fields.items()})
        if channel.bufferedAmount > self.limits.outgoing_bytes:
            self.messages_dropped += 1
            self.metrics.input_dropped.labels("outgoing").inc()
            if self._over_since is None:
                self._over_since = time.monotonic()
            return
        self._over_since = None
        channel.send(text)

    # --- the shared stream (streamer/shared.py) -----------------------------------------------------

    def deliver(self, frame: EncodedFrame) -> None:
        """A frame of the shared stream, at one of its levels. The viewer takes its own level's,
        and moves to the level its link fits at that level's first keyframe (a frame of another
        level would not decode against the pictures it has). At most
        `SessionLimits.viewer_frames` wait for this viewer's sender: past that the viewer is
        behind, and it skips to the next keyframe (a frame after a dropped one would decode to
        garbage), asking for one within its budget."""
        if not frame.packets:
            return
        key = frame.packets[0].keyframe
        if frame.level != self.level:
            if not key or frame.level != self.link.level:
                return
            self._switched(frame.level)
        if self._skipping and not key:
            self._drop()
            return
        if self.track.frames_queued >= self.limits.viewer_frames:
            self._skipping = True
            self._drop()
            assert self.shared is not None
            self.shared.request_keyframe(self, self.link.level)
            return
        self._skipping = False
        self._last_frame = time.monotonic()
        for i, packet in enumerate(frame.packets):
            self.track.push(packet.to_av(), last_of_frame=i == len(frame.packets) - 1)
            self.link.sent(len(packet.data))
        self._frame_sizes(frame)

    def _switched(self, level: int) -> None:
        """This keyframe starts the viewer on `level`."""
        log.info("session %s: now on level %d of the shared stream", self.id, level)
        self.level = level
        self._skipping = False
        assert self.shared is not None
        self.shared.count_levels()
        self._show_target()

    def _drop(self) -> None:
        self.frames_dropped += 1
        self.metrics.frames_dropped.inc()

    def control_changed(self, driver: str | None, viewers: int) -> None:
        """Tell the viewer who drives: `you`, `other` or `none`, and how many watch."""
        who = "none" if driver is None else "you" if driver == self.id else "other"
        self._send("control", driver=who, viewers=viewers)

    def stream_ended(self, reason: str) -> None:
        self.close(reason, cause="guest")

    # --- the worker -------------------------------------------------------------------------------

    def _on_worker_message(self, message: object) -> None:
        if isinstance(message, EncodedFrame):
            self._last_frame = time.monotonic()
            self.recent_frames.append((self._last_frame, message))
            self.metrics.count_frame(message)
            self._owed -= 1
            if not message.packets:  # not sent (a still picture's repeat): its credit comes back
                self._give_credit()
                return
            for i, packet in enumerate(message.packets):
                self.track.push(packet.to_av(), last_of_frame=i == len(message.packets) - 1)
                self.link.sent(len(packet.data))
            self._frame_sizes(message)
        elif isinstance(message, Started):
            log.info("session %s: worker %s started", self.id, self.worker and self.worker.pid)
        elif isinstance(message, TaskDone | WorkerExited):
            reason = message.reason if isinstance(message, WorkerExited) else message.result
            if reason is None:
                return  # the stop this session asked for
            self.metrics.errors.labels("guest").inc()
            self.close(str(reason), cause="guest")

    def _frame_taken(self) -> None:
        self.frames_sent += 1
        self.metrics.frames_sent.inc()
        self._give_credit()

    def _give_credit(self) -> None:
        if self.worker is not None:
            self.worker.send(Credit(1))
            self._owed += 1

    async def _watch(self) -> None:
        """End the session when the viewer falls silent or the worker stops producing frames; and
        once a second, tell the viewer what its link carries (`stream`)."""
        self._show_target()
        while True:
            await asyncio.sleep(1.0)
            self._report_stream()
            now = time.monotonic()
            if self.channel is None and now - self._last_heard > self.limits.connect_timeout:
                self.close(
                    f"no data channel opened in {self.limits.connect_timeout:.0f} s (connection failed)",
                    cause="disconnected",
                )
                return
            if self.channel is not None and now - self._last_heard > self.limits.heartbeat_timeout:
                self.close(
                    f"viewer silent for {self.limits.heartbeat_timeout:.0f} s (connection lost)",
                    cause="disconnected",
                )
                return
            channel = self.channel
            if channel is not None and channel.bufferedAmount <= self.limits.outgoing_bytes:
                self._over_since = None  # the viewer drains our messages again
            if self._over_since is not None and now - self._over_since > self.limits.outgoing_stall:
                self.close(
                    f"the viewer has not taken our messages for {self.limits.outgoing_stall:.0f} s",
                    cause="disconnected",
                )
                return
            if self._owed > 0 and now - self._last_frame > self.limits.stall_timeout:
                if self.worker is not None:
                    self.worker.kill()
                self.close(f"no frame for {self.limits.stall_timeout:.0f} s: worker stopped", cause="stalled")
                return

    # --- the end ----------------------------------------------------------------------------------

    def close(self, reason: str, cause: str = "closed") -> asyncio.Task[None]:
        """End the session (idempotent); the returned task finishes when everything is freed."""
        if self._closing is None:
            self.ended_reason = reason
            log.info("session %s ended: %s", self.id, reason)
            self.metrics.sessions_ended.labels(cause).inc()
            self._closing = asyncio.get_running_loop().create_task(self._close(reason))
        return self._closing

    async def _close(self, reason: str) -> None:
        """Free everything, whatever fails or is cancelled on the way: the slot always comes back
        (`on_closed`), and a cancellation still reaches the caller once the worker is gone."""
        try:
            await self._teardown(reason)
        finally:
            self.metrics.forget_session(self.id)  # after the peer connection: no more RTCP
            self._on_closed(self)
            self.closed.set()

    async def _teardown(self, reason: str) -> None:
        try:
            self._send("ended", reason=reason)
            await asyncio.sleep(0.1)  # let the `ended` message leave before the transport goes
        finally:
            watchdog = self._watchdog
            if watchdog is not None and watchdog is not asyncio.current_task():
                watchdog.cancel()
            self.track.end()
            if self.shared is not None:
                self.shared.leave(self)
            try:
                if self.worker is not None:
                    await self.worker.stop()
            except Exception:
                log.exception("session %s: stopping its worker failed; killing it", self.id)
                if self.worker is not None:
                    self.worker.abort()
            finally:
                if self._counted:
                    self.metrics.sessions.dec()
                try:
                    await self.pc.close()
                except Exception:
                    log.exception("session %s: closing its peer connection failed", self.id)
