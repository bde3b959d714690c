"""``GeoipLocator``: autonomous system and country from geoip2fast's offline database.

No network look-up ever leaves the server. Addresses the database cannot place fall back to
their /24 (IPv4) or /48 (IPv6); private and loopback addresses are named ``LAN:<prefix>``,
so that a session opened on an office LAN or on this machine keeps a stable network.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
from typing import Any

_DB_FILE = "geoip2fast-asn-ipv6.dat.gz"  # ASN names, IPv4 and IPv6
_lock = threading.Lock()
_db: Any = None


def _database() -> Any:
    global _db  # noqa: PLW0603 - one read-only database per process, loaded on first use
    with _lock:
        if _db is None:
            from geoip2fast import GeoIP2Fast

            _db = GeoIP2Fast(geoip2fast_data_file=_DB_FILE)
        return _db


def prefix_of(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """The /24 or /48 around an address."""
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


class GeoipLocator:
    """Implements ``NetworkLocator``."""

    def __init__(self, use_database: bool = True) -> None:
        self.use_database = use_database
        # Every request is located (sessions are bound to the network); the database never
        # changes while the process runs, and a partner's requests come from a few addresses.
        self._cached = functools.lru_cache(maxsize=16_384)(self._locate)

    def locate(self, address: str) -> tuple[str, str]:
        """(``AS:<name>``, country) when known; else the /24 or /48 prefix."""
        return self._cached(address)

    def _locate(self, address: str) -> tuple[str, str]:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return f"UNKNOWN:{address[:64]}", ""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved:
            return f"LAN:{prefix_of(ip)}", ""
        if not self.use_database:
            return f"NET:{prefix_of(ip)}", ""
        try:
            found = _database().lookup(str(ip))
        except Exception:  # noqa: BLE001 - a lookup failure must degrade to the prefix, not a 500
            return f"NET:{prefix_of(ip)}", ""
        country = found.country_code if len(found.country_code or "") == 2 else ""
        name = (found.asn_name or "").strip()
        cidr = found.asn_cidr or ""
        try:
            inside = bool(cidr) and ip in ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            inside = False
        if name and inside:
            return f"AS:{name}/{country or '--'}", country
        return f"NET:{prefix_of(ip)}", country
