"""What the server takes from a viewer's SDP offer, and what it drops before aiortc sees it.

A browser's offer lists a handful of ICE candidates; a hostile one can list hundreds, each an
address aiortc would send STUN checks to, which turns the server into a packet cannon aimed at
other hosts. So candidates are capped and filtered here: unspecified, multicast and broadcast
addresses never make sense for a peer and are dropped, and `--allow-network` can restrict viewers
to given networks. The offer's `max-message-size` (what the peer's data channel accepts) and the
peer's identity (ICE user fragment and DTLS fingerprint, to refuse a second offer from a live
peer) are read here too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_CANDIDATES", "OfferFacts", "read_offer"]

MAX_CANDIDATES = 32  # remote ICE candidates kept per offer; a browser sends a handful
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class OfferFacts:
    """An offer after filtering: the SDP to hand aiortc, and what the server needs from it."""

    sdp: str
    candidates_kept: int
    candidates_dropped: int
    max_message_size: int | None  # None: the peer did not say (RFC 8841's default, 64 KiB, applies)
    peer: str  # the ICE user fragment and DTLS fingerprint: the same peer offering again has the same


def read_offer(sdp: str, networks: Sequence[Network] = ()) -> OfferFacts:
    """Filter the offer's candidates (at most MAX_CANDIDATES, none unspecified, multicast or
    broadcast, and within `networks` when given) and read the facts the server needs."""
    kept = dropped = 0
    lines: list[str] = []
    max_size: int | None = None
    ufrag = fingerprint = ""
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            if kept < MAX_CANDIDATES and _acceptable(line, networks):
                kept += 1
                lines.append(line)
            else:
                dropped += 1
            continue
        if line.startswith("a=max-message-size:"):
            value = line.partition(":")[2].strip()
            if value.isdigit():
                max_size = int(value)
        elif line.startswith("a=ice-ufrag:") and not ufrag:
            ufrag = line.partition(":")[2].strip()
        elif line.startswith("a=fingerprint:") and not fingerprint:
            fingerprint = line.partition(":")[2].strip()
        lines.append(line)
    return OfferFacts("\r\n".join(lines) + "\r\n", kept, dropped, max_size, f"{ufrag} {fingerprint}")


def _acceptable(line: str, networks: Sequence[Network]) -> bool:
    """`a=candidate:foundation component transport priority address port typ ...`"""
    parts = line.split()
    if len(parts) < 8:
        return False
    address = parts[4]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        # A name (an mDNS `.local` name hiding a browser's address): only when no network is set.
        return not networks and address.endswith(".local")
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return False
    return not networks or any(ip in network for network in networks)
