"""The client's address: the TCP peer, or X-Forwarded-For behind a trusted proxy only."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(cidrs: Sequence[str]) -> tuple[Network, ...]:
    """CIDRs of the reverse proxies whose X-Forwarded-For we believe."""
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _in(addr: str, nets: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The peer, unless it is a trusted proxy: then the right-most untrusted X-Forwarded-For hop."""
    if not trusted or not forwarded_for or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a forged or garbled header: fall back to what we saw
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer
