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
