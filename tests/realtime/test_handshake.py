"""Point 1 and the WebSocket checklist: the endpoint, its handshake and transport limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from peerhub.config import Settings
from peerhub.models import User
from peerhub.realtime.config import RealtimeConfig, load, public_url
from tests.conftest import FakeClock, app_client, make_settings
from tests.realtime.conftest import TEST_CONFIG, Client, RTServer, World, in_server

Sessions = async_sessionmaker[AsyncSession]


async def refused(server: RTServer, *, origin: str | None, cookie: str | None) -> int:
    headers = {"Cookie": cookie} if cookie is not None else {}
    with pytest.raises(InvalidStatus) as caught:
        await connect(
            server.ws_url,
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers,
            open_timeout=5,
        )
    return caught.value.response.status_code


def cookie(server: RTServer, token: str) -> str:
    return f"{server.settings.sign_in_cookie_name}={token}"


async def test_api_realtime_publishes_the_websocket_url(server: RTServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base}/api/realtime")
    assert response.status_code == 200
    assert response.json() == {"url": server.ws_url, "version": 1}
    assert response.headers["cache-control"] == "no-store"


async def test_api_realtime_without_a_websocket_server_says_so(settings: Settings) -> None:
    async with app_client(settings) as client:
        response = await client.get("/api/realtime")
    assert response.status_code == 503 and "error" in response.json()


def test_the_public_url_follows_the_base_url_or_the_override(tmp_path: Path) -> None:
    settings = make_settings("sqlite+aiosqlite://", tmp_path, base_url="https://peerhub.example")
    config = load(settings, env={"PEERHUB_WS_PORT": "9001"})
    assert config.port == 9001
    assert public_url(settings, config, 9001) == "wss://peerhub.example:9001/ws"
    proxied = load(settings, env={"PEERHUB_WS_PUBLIC_URL": "wss://peerhub.example/ws"})
    assert public_url(settings, proxied, 9001) == "wss://peerhub.example/ws"
    cli = settings.with_overrides(extra={"ws_port": 7001, "ws_default_port": 8001})
    assert load(cli, env={"PEERHUB_WS_PORT": "9001"}).port == 7001
    default = settings.with_overrides(extra={"ws_default_port": 8001})
    assert load(default, env={}).port == 8001
    assert load(settings, env={}).port is None


async def test_the_allowed_origin_with_a_live_sign_in_is_accepted(
    server: RTServer, world: World
) -> None:
    client = await Client.open(server, world.tokens["ana"])
    assert client.seen[0]["user"] == {"id": world.users["ana"], "name": "Ana"}
    # No permessage-deflate, even when the client offers it.
    assert client.ws.protocol.extensions == []
    await client.close()


async def test_a_foreign_or_missing_origin_is_refused_with_403(
    server: RTServer, world: World
) -> None:
    good = cookie(server, world.tokens["ana"])
    assert await refused(server, origin="https://evil.example", cookie=good) == 403
    assert await refused(server, origin=None, cookie=good) == 403
    assert await refused(server, origin="null", cookie=good) == 403
    # Same host, other port or scheme: a different origin.
    assert await refused(server, origin=server.base.replace("http:", "https:"), cookie=good) == 403


@pytest.fixture
def site_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    with RTServer(rt_settings, clock=rt_clock, extra_origins=("https://peerhub.example",)) as srv:
        yield srv


async def test_a_sibling_subdomain_is_refused(site_server: RTServer, world: World) -> None:
    good = cookie(site_server, world.tokens["ana"])
    assert await refused(site_server, origin="https://chat.peerhub.example", cookie=good) == 403
    assert await refused(site_server, origin="https://peerhub.example.evil", cookie=good) == 403
    listed = await Client.open(site_server, world.tokens["ana"], origin="https://peerhub.example")
    await listed.close()


async def test_no_or_a_dead_sign_in_is_refused_with_403(
    server: RTServer, world: World, sessions: Sessions, rt_clock: FakeClock
) -> None:
    assert await refused(server, origin=server.base, cookie=None) == 403
    assert await refused(server, origin=server.base, cookie=cookie(server, "made-up")) == 403
    assert await refused(server, origin=server.base, cookie="other_cookie=abc") == 403
    async with sessions() as db, db.begin():
        await db.execute(
            update(User)
            .where(User.id == world.users["ben"])
            .values(disabled_at=datetime(2026, 11, 1, tzinfo=UTC))
        )
    assert (
        await refused(server, origin=server.base, cookie=cookie(server, world.tokens["ben"])) == 403
    )
    rt_clock.advance(hours=3)  # past the 2-hour idle time-out
    assert (
        await refused(server, origin=server.base, cookie=cookie(server, world.tokens["ana"])) == 403
    )


async def test_other_paths_are_not_found(server: RTServer, world: World) -> None:
    with pytest.raises(InvalidStatus) as caught:
        await connect(
            server.ws_url.replace("/ws", "/elsewhere"),
            origin=server.base,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie(server, world.tokens["ana"])},
        )
    assert caught.value.response.status_code == 404


async def test_frames_over_64_kib_close_the_socket_with_1009(
    server: RTServer, world: World
) -> None:
    client = await Client.open(server, world.tokens["ana"])
    await client.raw(json.dumps({"v": 1, "type": "ping", "ref": "x" * (64 * 1024)}))
    code, _ = await client.closed()
    assert code == 1009


@pytest.fixture
def capped_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    config: RealtimeConfig = TEST_CONFIG.with_overrides(sockets_per_user=3)
    with RTServer(rt_settings, clock=rt_clock, config=config) as srv:
        yield srv


async def test_sockets_per_person_are_capped(capped_server: RTServer, world: World) -> None:
    clients = [await Client.open(capped_server, world.tokens["ana"]) for _ in range(3)]
    status = await refused(
        capped_server, origin=capped_server.base, cookie=cookie(capped_server, world.tokens["ana"])
    )
    assert status == 429
    other = await Client.open(capped_server, world.tokens["ben"])  # others are not affected
    await clients[0].close()
    again = await Client.open(capped_server, world.tokens["ana"])  # a place is free again
    for client in (*clients[1:], other, again):
        await client.close()


async def test_logs_record_connections_but_never_tokens_or_text(
    server: RTServer, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_text = "my very private words 7f3a"
    client = await Client.open(server, world.tokens["ana"])
    await client.join(world.group_id)
    await client.say(world.group_id, secret_text, "log-00000001")
    await client.close()
    await refused(server, origin="https://evil.example", cookie=cookie(server, world.tokens["ben"]))
    # The server's records (the test's own websockets client logs its headers).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("peerhub"))
    assert "socket opened user=" + world.users["ana"] in logged
    assert secret_text not in logged
    for token in world.tokens.values():
        assert token not in logged


async def test_a_moderator_without_two_step_sign_in_gets_no_socket(
    server: RTServer, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from sqlalchemy import delete

    from peerhub.accounts.models_2fa import TwoFactor

    async with sessions() as db, db.begin():
        await db.execute(delete(TwoFactor).where(TwoFactor.user_id == world.users["mo"]))
    mo = cookie(server, world.tokens["mo"])
    assert await refused(server, origin=server.base, cookie=mo) == 403
    # Members never need it.
    ana = await Client.open(server, world.tokens["ana"])
    await ana.close()


async def test_a_member_made_moderator_mid_socket_must_set_up_two_step_to_moderate(
    server: RTServer, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from peerhub import realtime
    from peerhub.models import GroupMember

    ana = await Client.open(server, world.tokens["ana"])
    await ana.join(world.group_id)
    async with sessions() as db, db.begin():
        await db.execute(
            update(GroupMember)
            .where(GroupMember.user_id == world.users["ana"])
            .values(role="moderator")
        )
    await in_server(
        server, lambda: realtime.member_changed(server.rt, world.group_id, world.users["ana"])
    )
    await ana.send("session.open", room=world.group_id, ref="open")
    assert (await ana.expect("error", ref="open"))["code"] == "two_step_required"
    await ana.send("mod.slow", room=world.group_id, seconds=10, ref="slow")
    assert (await ana.expect("error", ref="slow"))["code"] == "two_step_required"
    await ana.close()
