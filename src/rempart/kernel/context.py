"""Who is asking, from where: what every use case receives from the edge."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from dataclasses import dataclass

from rempart.kernel.actors import Agent, Organisation


# Every data request asks it, several times (the session's binding, the guard's detectors);
# a pure function of its text, so a bounded memo is exact.
@functools.lru_cache(maxsize=16_384)
def address_line(address: str) -> str:
    """One subscriber's line: the exact IPv4 address, or the IPv6 /64 (the rest rotates)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The client as seen by the server; ``network`` is the AS/country or /24 it comes from."""

    address: str
    user_agent: str = ""
    network: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class RequestContext:
    agent: Agent
    org: Organisation
    session_id: str
    client: ClientInfo
    now: dt.datetime
    fresh_until: dt.datetime | None = None  # second factor proven (at sign-in or since) until then
    # The second factor was proven again *after* sign-in, in this session: a phishing relay that
    # passed on the sign-in code cannot produce this (sessions end after 15 idle minutes).
    reproved: bool = False

    @property
    def today(self) -> dt.date:
        """The business day of the request (UTC)."""
        return self.now.date()

    @property
    def is_fresh(self) -> bool:
        """True when the second factor was proven recently enough for a privileged action."""
        return self.fresh_until is not None and self.now <= self.fresh_until
