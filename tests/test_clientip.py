"""The client's address behind a trusted proxy (peerhub/security/clientip.py).

Every deployment behind Caddy (deploy/Caddyfile, docker-compose.yml) sees Caddy's
address as the peer and the client's in X-Forwarded-For; the limits, the lock-outs
and the audit log all key on the answer. The walk believes only proxies listed in
``PEERHUB_TRUSTED_PROXIES`` and reads only X-Forwarded-For.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from peerhub.app import create_app
from peerhub.config import ConfigError, Settings, load_settings
from peerhub.models import AuditEvent
from peerhub.security.clientip import client_ip, network_of, parse_address
from tests.conftest import BASE, FakeClock, csrf_token, make_settings
from tests.realtime.conftest import RTServer

# As docker-compose.yml's default, plus an IPv6 network of proxies.
PROXIES = ("10.0.0.0/8", "172.16.0.0/12", "2001:db8:ffff::/48")
CADDY = "172.18.0.5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("  203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]:", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%eth0]:8080", "fe80::1"),
        ("::ffff:198.51.100.4", "::ffff:c633:6404"),
        # Not addresses: names, bad ports, junk a client could put in the header.
        ("", None),
        ("unknown", None),
        ("caddy:80", None),
        ("203.0.113.7:x", None),
        ("203.0.113.7:123456", None),
        ("203.0.113.7:٤٤٣", None),  # digits, but not ASCII ones
        ("[2001:db8::1]x", None),
        ("[2001:db8::1]:http", None),
        ("999.1.1.1", None),
        ("for=192.0.2.60", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    found = parse_address(text)
    assert (str(found) if found is not None else None) == expected


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # Caddy in front: its X-Forwarded-For holds the client it saw.
        (CADDY, "198.51.100.7", "198.51.100.7"),
        (CADDY, "198.51.100.7:51234", "198.51.100.7"),
        (CADDY, " 198.51.100.7 ", "198.51.100.7"),
        # A load balancer in front of Caddy: skip every proxy of ours from the right;
        # whatever the client wrote further left is never reached.
        (CADDY, "192.0.2.1, 198.51.100.8, 10.1.2.3", "198.51.100.8"),
        (CADDY, "192.0.2.1, 198.51.100.8:40000, 10.1.2.3:8080", "198.51.100.8"),
        (CADDY, "192.0.2.1,,198.51.100.8, ,10.1.2.3", "198.51.100.8"),
        # A client who writes a proxy's address into the header is not a proxy: the
        # hop our proxy added (rightmost untrusted) is still the answer.
        (CADDY, "10.9.9.9, 198.51.100.9", "198.51.100.9"),
        # Every hop is one of ours: the furthest one, as an address without its port.
        (CADDY, "10.0.0.9, 10.0.0.8", "10.0.0.9"),
        (CADDY, "10.0.0.9:8080", "10.0.0.9"),
        # A proxy of ours that forwarded nothing: the proxy is the client.
        (CADDY, "", CADDY),
        (CADDY, " , ", CADDY),
        (CADDY, None, CADDY),
        # IPv6 proxies and clients.
        ("2001:db8:ffff::5", "[2001:db8:1::7]:443", "2001:db8:1::7"),
        ("2001:db8:ffff::5", "2001:db8:1::7, 2001:db8:ffff::9", "2001:db8:1::7"),
        (CADDY, "2001:db8:1::7", "2001:db8:1::7"),
        ("2001:db8:ffff::5", "198.51.100.10", "198.51.100.10"),
        # A dual-stack listener sees an IPv4 proxy as an IPv4-mapped address.
        ("::ffff:172.18.0.5", "198.51.100.11", "198.51.100.11"),
        ("::ffff:203.0.113.9", "198.51.100.11", "::ffff:203.0.113.9"),
        # A hop that is no address at all stops the walk, cut to the column's size.
        (CADDY, "unknown", "unknown"),
        (CADDY, "198.51.100.12, _hidden", "_hidden"),
        (CADDY, "x" * 300, "x" * 64),
        # Anyone else's header changes nothing: spoofing from outside.
        ("203.0.113.9", "198.51.100.13", "203.0.113.9"),
        ("203.0.113.9", "198.51.100.13, 172.18.0.5", "203.0.113.9"),
        ("2001:db8:1::99", "198.51.100.13", "2001:db8:1::99"),
        # No peer (a test transport, a Unix socket): nothing to trust.
        (None, "198.51.100.14", "unknown"),
        ("", "198.51.100.14", "unknown"),
    ],
)
def test_the_address_behind_trusted_proxies(
    peer: str | None, forwarded_for: str | None, expected: str
) -> None:
    headers = {} if forwarded_for is None else {"x-forwarded-for": forwarded_for}
    assert client_ip(peer, headers, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    # The default (PEERHUB_TRUSTED_PROXIES unset): the header is never read.
    assert client_ip(CADDY, {"x-forwarded-for": "198.51.100.7"}, ()) == CADDY
    assert client_ip(None, {"x-forwarded-for": "198.51.100.7"}, ()) == "unknown"


def test_a_single_address_or_a_loose_network_can_be_trusted() -> None:
    headers = {"x-forwarded-for": "198.51.100.15"}
    assert client_ip("127.0.0.1", headers, ("127.0.0.1",)) == "198.51.100.15"
    assert client_ip("127.0.0.2", headers, ("127.0.0.1",)) == "127.0.0.2"
    # Host bits set, as people write them: taken as the network (10.0.0.0/8).
    assert client_ip("10.200.0.1", headers, ("10.0.0.1/8",)) == "198.51.100.15"


def test_the_forwarded_header_is_never_read() -> None:
    """Caddy passes RFC 7239 ``Forwarded`` through as the client wrote it."""
    headers = {"forwarded": "for=192.0.2.60;proto=https", "x-forwarded-for": "198.51.100.16"}
    assert client_ip(CADDY, headers, PROXIES) == "198.51.100.16"
    assert client_ip(CADDY, {"forwarded": "for=192.0.2.60"}, PROXIES) == CADDY


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("198.51.100.7:51234", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::9]:443", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("unknown", "unknown"),
        ("y" * 100, "y" * 64),
    ],
)
def test_limits_count_an_address_or_an_ipv6_64(addr: str, expected: str) -> None:
    assert network_of(addr) == expected


# The setting.


def _env(tmp_path: Path, proxies: str) -> dict[str, str]:
    return {"PEERHUB_DATA_DIR": str(tmp_path / "data"), "PEERHUB_TRUSTED_PROXIES": proxies}


def test_trusted_proxies_are_a_comma_separated_list(tmp_path: Path) -> None:
    assert load_settings({"PEERHUB_DATA_DIR": str(tmp_path)}).trusted_proxies == ()
    assert load_settings(_env(tmp_path, "")).trusted_proxies == ()
    settings = load_settings(_env(tmp_path, " 10.0.0.0/8, ,172.16.0.0/12,2001:db8::1 ,"))
    assert settings.trusted_proxies == ("10.0.0.0/8", "172.16.0.0/12", "2001:db8::1")


@pytest.mark.parametrize("bad", ["caddy", "10.0.0.0/33", "10.0.0.0/8 172.16.0.0/12", "::g"])
def test_a_trusted_proxy_that_is_no_address_stops_start_up(tmp_path: Path, bad: str) -> None:
    # Not a 500 on every request later: names are not looked up.
    with pytest.raises(ConfigError, match=r"^PEERHUB_TRUSTED_PROXIES: ") as err:
        load_settings(_env(tmp_path, f"10.0.0.0/8,{bad}"))
    assert repr(bad) in str(err.value)


# Through the app: the audit log records the address that the limits count.


async def _failed_login_address(app: Any, peer: str, headers: dict[str, str]) -> str | None:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as c:
        token = await csrf_token(c, "/login")
        form = {"pseudonym": "nobody here", "password": "not the password", "csrf_token": token}
        response = await c.post("/login", data=form, headers={"Origin": BASE})
    assert response.status_code == 401, response.text
    async with app.state.ctx.sessions() as db:
        event: AuditEvent | None = await db.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "login.failed")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert event is not None
    return event.client_ip


async def test_the_app_believes_x_forwarded_for_only_from_its_proxies(
    settings: Settings, clock: FakeClock
) -> None:
    app = create_app(replace(settings, trusted_proxies=PROXIES), clock=clock)
    xff = "X-Forwarded-For"
    cases: list[tuple[str, dict[str, str], str]] = [
        (CADDY, {xff: "198.51.100.20:40001"}, "198.51.100.20"),
        (CADDY, {xff: "192.0.2.1, 198.51.100.21, 10.1.2.3"}, "198.51.100.21"),
        ("2001:db8:ffff::5", {xff: "[2001:db8:1::22]:443"}, "2001:db8:1::22"),
        (CADDY, {"Forwarded": "for=192.0.2.60"}, CADDY),
        ("203.0.113.23", {xff: "198.51.100.99"}, "203.0.113.23"),
        # Junk longer than the audit column: cut, not a database error.
        (CADDY, {xff: "z" * 200}, "z" * 64),
    ]
    async with app.router.lifespan_context(app):
        for peer, headers, expected in cases:
            assert await _failed_login_address(app, peer, headers) == expected, (peer, headers)


async def test_the_app_ignores_x_forwarded_for_without_trusted_proxies(
    settings: Settings, clock: FakeClock
) -> None:
    assert settings.trusted_proxies == ()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        address = await _failed_login_address(app, CADDY, {"X-Forwarded-For": "198.51.100.24"})
    assert address == CADDY


# Through the WebSocket server: the handshake reads the same headers.


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [(("127.0.0.1",), "198.51.100.25"), (("127.0.0.2",), "127.0.0.1")],
    ids=["trusted", "untrusted"],
)
async def test_the_websocket_handshake_believes_only_its_proxies(
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    trusted: tuple[str, ...],
    expected: str,
) -> None:
    caplog.set_level(logging.INFO, logger="peerhub")
    settings = make_settings(db_url, tmp_path, trusted_proxies=trusted)
    with RTServer(settings) as server, pytest.raises(InvalidStatus) as refused:
        await connect(
            server.ws_url,
            origin="https://elsewhere.example",  # type: ignore[arg-type]
            additional_headers={
                "X-Forwarded-For": "192.0.2.1, 198.51.100.25",
                "Forwarded": "for=192.0.2.60",
            },
            open_timeout=5,
        )
    assert refused.value.response.status_code == 403
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("peerhub")]
    assert f"handshake refused: origin not allowed (ip={expected})" in logged
