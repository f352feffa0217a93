"""A private check-in's room over the real socket: only its two people may be in it
(not the organisation's organisers, not the group's other members); they talk as in
any room; when it ends their sockets close with the check-in's own reason."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import realtime
from peerhub.checkins import actions
from peerhub.checkins.models import CheckIn
from peerhub.models import Group, User
from peerhub.moderation.models import CrisisAlert
from tests.conftest import FakeClock
from tests.realtime.conftest import RTServer, World, in_server

Sessions = async_sessionmaker[AsyncSession]


async def a_check_in(sessions: Sessions, world: World, now: Any) -> CheckIn:
    async with sessions() as db, db.begin():
        alert = CrisisAlert(
            group_id=world.group_id, user_id=world.users["ana"], message_seq=1, created_at=now
        )
        db.add(alert)
        await db.flush()
        mo = await db.get(User, world.users["mo"])
        ana = await db.get(User, world.users["ana"])
        assert mo is not None and ana is not None
        source = await actions.source_of(db, "alert", alert.id, "")
        check_in = await actions.start(db, mo, source, now)
        await actions.accept(db, ana, check_in, now)
        return check_in


async def room_page(server: RTServer, path: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, token)
        return await http.get(path)


async def test_only_its_two_people_are_in_the_room_and_it_ends_for_both(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions, rt_clock: FakeClock
) -> None:
    check_in = await a_check_in(sessions, world, rt_clock())
    room = check_in.group_id
    # The organisation's organiser and the group's other members: no such room.
    for name in ("olga", "ben", "out"):
        outsider = await connect_as(name)
        await outsider.send("subscribe", room=room)
        assert (await outsider.expect("error", room=room))["code"] == "not_found", name
    # The room's page is the rooms' own, titled and linked as a check-in; for anyone
    # else (the organiser too) it does not exist.
    async with sessions() as db:
        slug = await db.scalar(select(Group.slug).where(Group.id == room))
    for name, status in (("ana", 200), ("mo", 200), ("olga", 404), ("ben", 404)):
        page = await room_page(server, f"/groups/{slug}/room", world.tokens[name])
        assert page.status_code == status, name
        if status == 200:
            assert f'href="/check-ins/{check_in.id}"' in page.text
            assert "Private check-in" in page.text and 'id="room"' in page.text
    # The two of them talk as in any room (it is open from the start).
    ana, mo = await connect_as("ana"), await connect_as("mo")
    await ana.join(room)
    await mo.join(room)
    ack = await ana.say(room, "Thanks for checking in", "k-000000001")
    assert ack["seq"] >= 1
    got = await mo.expect("message", room=room, client_id="k-000000001")
    assert got["body"] == "Thanks for checking in"
    # She leaves: both places end; the after-commit effect closes their sockets there.
    async with sessions() as db, db.begin():
        found = await db.get(CheckIn, check_in.id, with_for_update=True)
        user = await db.get(User, world.users["ana"])
        assert found is not None and user is not None
        assert await actions.leave(db, user, found, rt_clock())
    for person in ("ana", "mo"):
        await in_server(
            server,
            lambda person=person: realtime.revoke_membership(  # type: ignore[misc]
                server.app, room, world.users[person], reason=actions.ENDED
            ),
        )
    for client in (ana, mo):
        code, reason = await client.closed()
        assert code == 1008 and reason == "This private conversation has ended."
    again = await connect_as("ana")
    await again.send("subscribe", room=room)
    assert (await again.expect("error", room=room))["code"] == "not_found"
