"""How much a viewer's link carries, estimated from the RTCP feedback its receiver sends.

Two signals, combined as docs/design.md ("Adapting to the network") describes:

- REMB, the receiver's estimate of the bitrate it can take (delay-based: it drops as queues
  build, before packets are lost). When the viewer sends it, it is the main signal. It is read
  from the raw RTCP packet (streamer/aiortc_compat.py), not from aiortc's encoder, which clamps it
  to 0.5-3 Mb/s. A receiver's REMB never runs far ahead of what it receives (about 1.5 times,
  in aiortc and libwebrtc alike), so a stream that sends little because its picture is still
  gets a low REMB from a link that is not full. REMB therefore *limits* (`limiting`) only while
  it is below 92% of what is being sent and falling (or holding after a fall): the receiver saw
  queues grow and cut its estimate under the incoming rate (to 85% of it). A REMB that rises is
  catching up with a stream that grew (it grows a few percent a second), not a full link.
  Otherwise it only caps how far the stream may grow, and the controller probes past it
  (streamer/rate_control.py).
- Receiver reports: the fraction of packets lost since the last report, and the interarrival
  jitter. They bound the estimate from above: loss over 10% cuts the bound (by half the loss
  fraction, from what is being sent), loss under 2% with jitter under 30 ms lets it grow by 8% a
  report (from what was sent, if more went through), anything between holds it. Only a report
  that still shows loss calls the link full. A viewer that sends no REMB is estimated by this
  bound alone.

The estimate is pure arithmetic on what was observed; what the stream does with it is
streamer/rate_control.py's decision.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BandwidthEstimator", "Feedback", "LossReport", "Remb"]

REMB_LIMITING = 0.92  # REMB under this share of the sent rate: the receiver saw the link overused
LOSS_HIGH = 0.10  # above: the link is dropping what we send
LOSS_LOW = 0.02  # below (and jitter low): room to grow
JITTER_HIGH = 0.030  # seconds: a queue is building somewhere, so do not grow on loss alone
GROWTH = 1.08  # the loss bound's growth per clean report (about one a second)


@dataclass(frozen=True)
class Remb:
    """A receiver estimated maximum bitrate, in bits per second."""

    bitrate: int


@dataclass(frozen=True)
class LossReport:
    """One receiver-report block about our stream: loss since the previous one, and jitter."""

    fraction_lost: float  # 0..1
    jitter: float  # seconds


Feedback = Remb | LossReport


class BandwidthEstimator:
    """The viewer's available bandwidth in bits per second, or None while nothing limits it (no
    REMB yet, and no loss that cut the bound)."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.remb: int | None = None
        self.loss_bound: float | None = None  # set by heavy loss, lifted once it grows past the ceiling
        self.fraction_lost = 0.0
        self.jitter = 0.0
        self.remb_limiting = False

    def observe(self, feedback: Feedback, sending: float) -> None:
        """Take one piece of feedback; `sending` is what the stream sent lately (bits per second)."""
        if isinstance(feedback, Remb):
            previous, self.remb = self.remb, feedback.bitrate
            # A receiver's REMB falls only when it sees queues grow, and then holds a while; one
            # that rises is catching up with a stream that just grew, however far below what is
            # sent it still is.
            falling = previous is None or feedback.bitrate < previous
            holding = feedback.bitrate == previous and self.remb_limiting
            self.remb_limiting = feedback.bitrate < REMB_LIMITING * sending and (falling or holding)
            return
        self.fraction_lost = feedback.fraction_lost
        self.jitter = feedback.jitter
        bound = self.loss_bound
        if feedback.fraction_lost > LOSS_HIGH:
            start = float(sending) if bound is None else min(bound, float(sending))
            self.loss_bound = start * (1 - feedback.fraction_lost / 2)
        elif bound is not None and feedback.fraction_lost < LOSS_LOW and feedback.jitter < JITTER_HIGH:
            # Sent past the bound without loss, the bound was stale: grow from what went through.
            grown = max(bound, float(sending)) * GROWTH
            self.loss_bound = None if grown > self.ceiling else grown

    @property
    def limiting(self) -> bool:
        """Whether the link is shown to be full (REMB falling under the sent rate, or loss in the
        last report): only then may the stream be sent at less than it is. A loss bound left
        from earlier loss still caps the estimate, but clean reports no longer call it full."""
        return self.remb_limiting or self.lossy

    @property
    def lossy(self) -> bool:
        """Heavy loss set a bound, and the last report still shows loss."""
        return self.loss_bound is not None and self.fraction_lost >= LOSS_LOW

    @property
    def estimate(self) -> int | None:
        bounds = [b for b in (self.remb, self.loss_bound) if b is not None]
        return round(min(bounds)) if bounds else None
