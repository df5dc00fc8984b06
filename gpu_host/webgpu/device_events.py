"""A device's two event channels: `lost` (it blocks until the device is lost) and uncaptured errors.

An uncaptured error is a GPU error that no error scope captured, in a call that can stand in for
its result (it returns nothing or an object). As in a browser the guest carries on with an invalid
object; the host writes one line to the guest's stderr (`uncaptured validation error in <call>:
<message>`), rate-limited, counts it on the guest context and makes the pollables returned by
`onuncapturederror-subscribe` ready. Past `MAX_UNCAPTURED` errors the guest ends.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import GuestCallError
from ..linking import wit
from ..resources import Resource
from ..wasi.poll import Pollable
from .objects import GpuDevice, W

if TYPE_CHECKING:
    from ..guest import GuestContext

__all__ = ["MAX_UNCAPTURED", "DeviceEventFunctions", "GpuDeviceLostInfo", "UncapturedErrors"]

MAX_UNCAPTURED = 10_000  # uncaptured errors a guest may cause before it ends
LOGGED_IN_FULL = 20  # the first errors get a line each; then one summary line per second at most
SUMMARY_SECONDS = 1.0


class GpuDeviceLostInfo(Resource):
    wit_resource = W + "gpu-device-lost-info"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        self.message = message


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


class UncapturedErrors:
    """One guest's uncaptured-error channel: lines, the count (on the context), the bound."""

    def __init__(self, ctx: GuestContext) -> None:
        self.ctx = ctx
        self.suppressed = 0
        self.last_summary = 0.0

    def report(self, device: GpuDevice, call: str, filter_: str, message: str) -> None:
        ctx = self.ctx
        ctx.uncaptured_errors += 1
        device.uncaptured_errors += 1
        ctx.waker.notify()  # a guest thread blocked elsewhere never reads this, but a poll may
        line = f"uncaptured {filter_} error in {call}: {message}"
        if ctx.uncaptured_errors > MAX_UNCAPTURED:
            raise GuestCallError(
                call, f"more than {MAX_UNCAPTURED} uncaptured GPU errors (the last: {filter_}: {message})"
            )
        if ctx.uncaptured_errors <= LOGGED_IN_FULL:
            ctx.output.line("stderr", line)
            self.last_summary = time.monotonic()
            return
        self.suppressed += 1
        now = time.monotonic()
        if now - self.last_summary >= SUMMARY_SECONDS:
            ctx.output.line(
                "stderr",
                f"{self.suppressed} more uncaptured errors ({ctx.uncaptured_errors} in all); "
                f"the last: {line}",
            )
            self.suppressed, self.last_summary = 0, now


class DeviceEventFunctions:
    ctx: GuestContext

    # WIT: [method]gpu-device.lost
    @wit("[method]gpu-device.lost")
    def device_lost(self, device: GpuDevice) -> GpuDeviceLostInfo:
        """Blocks until the device is lost (destroyed, or given up by the host) or the guest stops."""
        waker = self.ctx.waker
        waited = False
        with waker.lock:
            if waker.notify not in device.on_lost:
                device.on_lost.append(waker.notify)
            while device.lost_reason is None:
                waker.check()
                waited = True
                waker.lock.wait()
        if waited:
            self.ctx.cpu.waited()  # a wait of the guest, like poll: its CPU allowance starts again
        return GpuDeviceLostInfo(device.lost_reason, device.lost_message)

    # WIT: [method]gpu-device-lost-info.reason
    @wit("[method]gpu-device-lost-info.reason")
    def lost_info_reason(self, info: GpuDeviceLostInfo) -> str:
        return info.reason

    # WIT: [method]gpu-device-lost-info.message
    @wit("[method]gpu-device-lost-info.message")
    def lost_info_message(self, info: GpuDeviceLostInfo) -> str:
        return info.message

    # WIT: [method]gpu-device.onuncapturederror-subscribe
    @wit("[method]gpu-device.onuncapturederror-subscribe")
    def onuncapturederror_subscribe(self, device: GpuDevice) -> Pollable:
        """Ready once an uncaptured error happens on `device` after this call."""
        seen = device.uncaptured_errors
        return Pollable(lambda: device.uncaptured_errors > seen)
