"""The client's address, trusting X-Forwarded-For only from configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> Address | None:
    """The IP address in ``text``, which may carry a port as proxies write it in
    X-Forwarded-For (``203.0.113.7:51234``, ``[2001:db8::1]:443``), brackets or an
    IPv6 zone (``fe80::1%eth0``); None when it is not an address at all."""
    host = text.strip()
    port = ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif host.count(":") == 1:
        host, _, port = host.partition(":")  # IPv4 with a port (IPv6 has 2+ colons)
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    host = host.partition("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _within(ip: Address | None, nets: Iterable[Network]) -> bool:
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # A dual-stack listener sees an IPv4 proxy as ::ffff:a.b.c.d.
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)


def client_ip(peer: str | None, headers: Mapping[str, str], proxies: tuple[str, ...]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies.

    A spoofed header from an untrusted peer changes nothing: the peer's own
    address is the answer. Only X-Forwarded-For is read: Caddy (deploy/Caddyfile)
    writes it from the address it saw, while it passes the RFC 7239 ``Forwarded``
    header on as the client wrote it, so believing that one would let anyone
    choose their address.
    """
    addr = peer or "unknown"
    nets = _networks(proxies)
    if not nets or not _within(parse_address(addr), nets):
        return addr
    forwarded = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(forwarded):
        # The address alone: with its port left on, every connection of one client
        # would count as a new address for every limit keyed on it.
        found = parse_address(hop)
        if not _within(found, nets):
            return str(found) if found is not None else hop[:64]
        addr = str(found)  # a proxy of ours: the hop before it says who sent it
    return addr


def network_of(addr: str) -> str:
    """The unit that limits count by: the address, or its /64 for IPv6.

    One IPv6 household or phone is normally given a whole /64 and can pick any
    address in it, so counting single IPv6 addresses would count nothing.
    """
    ip = parse_address(addr)
    if ip is None:
        return addr[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
