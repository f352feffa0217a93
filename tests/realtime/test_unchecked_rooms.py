"""Issue 9, point 12: the room of a group whose organisation PeerHub has not verified
is closed to everyone, on the page and on the socket, and withdrawing verification
closes open rooms at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group, Organisation, SignIn, User
from tests.realtime.conftest import RTServer, World

Sessions = async_sessionmaker[AsyncSession]


async def _set_verified(sessions: Sessions, world: World, verified: bool) -> None:
    async with sessions() as db, db.begin():
        org_id = await db.scalar(select(Group.organisation_id).where(Group.id == world.group_id))
        await db.execute(
            update(Organisation)
            .where(Organisation.id == org_id)
            .values(verified_at=datetime(2026, 10, 1, tzinfo=UTC) if verified else None)
        )


async def _page(server: RTServer, path: str, token: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        if token is not None:
            http.cookies.set(server.settings.sign_in_cookie_name, token)
        return await http.get(path)


async def test_an_unchecked_organisations_room_is_closed_to_everyone(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    await _set_verified(sessions, world, False)
    # The socket: member, moderator and organiser alike are refused, as for no room;
    # sending without a subscription is not_subscribed, for every room (docs/protocol.md).
    for name in ("ana", "mo", "olga"):
        client = await connect_as(name)
        await client.send("subscribe", room=world.group_id)
        assert (await client.expect("error", room=world.group_id))["code"] == "not_found"
        await client.send("send", room=world.group_id, client_id=f"{name}-msg-0001", body="hi")
        refused = await client.expect("error", client_id=f"{name}-msg-0001")
        assert refused["code"] == "not_subscribed"
    # The page: people in the group are told why, without the chat client; to anyone
    # else the room does not exist, like the group's public page.
    for name in ("ana", "mo", "olga"):
        inside = await _page(server, "/groups/tuesday-talk/room", world.tokens[name])
        assert inside.status_code == 403, name
        assert "closed while PeerHub checks the organisation" in inside.text
        assert "room.js" not in inside.text
    assert (
        await _page(server, "/groups/tuesday-talk/room", world.tokens["out"])
    ).status_code == 404
    assert (await _page(server, "/groups/tuesday-talk/room")).status_code == 404
    # Checked again: the same people are back in, nothing was lost.
    await _set_verified(sessions, world, True)
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    assert (
        await _page(server, "/groups/tuesday-talk/room", world.tokens["ana"])
    ).status_code == 200


async def test_withdrawing_verification_closes_open_rooms_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, olga, ben = await connect_as("ana"), await connect_as("olga"), await connect_as("ben")
    await ana.join(world.group_id)
    await olga.join(world.group_id)
    # Olga organises the group; make "mo" an administrator to withdraw the verification.
    async with sessions() as db, db.begin():
        await db.execute(update(User).where(User.id == world.users["mo"]).values(is_admin=True))
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids["mo"])
        )
        org_id = await db.scalar(select(Group.organisation_id).where(Group.id == world.group_id))
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["mo"])
        response = await http.post(
            "/admin",
            data={"action": "unverify_org", "organisation_id": str(org_id)},
            headers={"X-CSRF-Token": str(csrf), "Origin": server.base},
        )
    assert response.status_code == 303, response.text[:300]
    for client in (ana, olga):
        code, reason = await client.closed()
        assert code == 1008 and reason is not None and "checks the group" in reason
    # A socket that was not in the room stays open, and cannot get in.
    await ben.send("ping", ref="still-here")
    await ben.expect("pong", ref="still-here")
    await ben.send("subscribe", room=world.group_id)
    assert (await ben.expect("error", room=world.group_id))["code"] == "not_found"
