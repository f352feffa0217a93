"""The client's address, trusting X-Forwarded-For only from configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(addr: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_ip(peer: str | None, headers: Mapping[str, str], proxies: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies.

    A spoofed header from an untrusted peer changes nothing: the peer's own
    address is the answer.
    """
    addr = peer or "unknown"
    nets = _networks(proxies)
    if not nets or not _trusted(addr, nets):
        return addr
    forwarded = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(forwarded):
        if not _trusted(hop, nets):
            return hop
        addr = hop
    return addr


def network_of(addr: str) -> str:
    """The unit that limits count by: the address, or its /64 for IPv6.

    One IPv6 household or phone is normally given a whole /64 and can pick any
    address in it, so counting single IPv6 addresses would count nothing.
    """
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
