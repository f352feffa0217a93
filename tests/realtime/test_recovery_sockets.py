"""Changing or resetting a password closes live room sockets, with real sockets on a
real server: a change closes those of the person's other sessions (this one stays),
and every reset (words, or a code handed over in person) closes all of them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.accounts import recovery
from peerhub.models import Consent, SignIn, User
from peerhub.security.passwords import Passwords
from peerhub.security.signins import start_sign_in
from tests.conftest import CHEAP_ARGON2, FakeClock, csrf_token
from tests.realtime.conftest import Client, RTServer, World

Sessions = async_sessionmaker[AsyncSession]
PASSWORD = "ana's own long password"
NEW_PASSWORD = "a new and quiet morning"


async def _give_password(sessions: Sessions, world: World) -> None:
    async with sessions() as db, db.begin():
        ana = await db.get(User, world.users["ana"])
        assert ana is not None
        ana.password_hash = await Passwords(CHEAP_ARGON2).hash(PASSWORD)


async def test_changing_the_password_closes_the_other_sign_ins_sockets_only(
    server: RTServer, world: World, sessions: Sessions, rt_clock: FakeClock
) -> None:
    await _give_password(sessions, world)
    async with sessions() as db, db.begin():
        ana = await db.get(User, world.users["ana"])
        assert ana is not None
        phone = await start_sign_in(db, server.settings, ana, rt_clock())
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids["ana"])
        )
    here = await Client.open(server, world.tokens["ana"])
    there = await Client.open(server, phone.token)
    ben = await Client.open(server, world.tokens["ben"])
    try:
        for socket in (here, there, ben):
            await socket.join(world.group_id)
        async with httpx.AsyncClient(base_url=server.base) as http:
            http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["ana"])
            response = await http.post(
                "/account/password",
                data={
                    "csrf_token": str(csrf),
                    "current_password": PASSWORD,
                    "new_password": NEW_PASSWORD,
                    "confirm_password": NEW_PASSWORD,
                },
                headers={"Origin": server.base},
            )
        assert response.status_code == 303, response.text[:300]
        code, reason = await there.closed()
        assert code == 1008 and reason == "Your session has ended."
        # This device's socket and other people's stay open.
        await here.send("ping", ref="still-here")
        await here.expect("pong", ref="still-here")
        await ben.send("ping", ref="ben")
        await ben.expect("pong", ref="ben")
    finally:
        for socket in (here, there, ben):
            socket.abort()


async def _words(sessions: Sessions, world: World, rt_clock: FakeClock) -> str:
    async with sessions() as db, db.begin():
        ana = await db.get(User, world.users["ana"])
        assert ana is not None
        words = await recovery.make_words(db, Passwords(CHEAP_ARGON2), ana, rt_clock())
    return " ".join(words)


async def _code(sessions: Sessions, world: World, rt_clock: FakeClock, settings: Any) -> str:
    async with sessions() as db, db.begin():
        olga = await db.get(User, world.users["olga"])
        assert olga is not None
        # Ana took her place herself (the world's rows stand for that): an organiser's
        # code needs a member's own join on record.
        db.add(
            Consent(
                user_id=world.users["ana"],
                kind="group.join",
                subject_id=world.group_id,
                granted=True,
                at=rt_clock(),
            )
        )
        await db.flush()
        issued = await recovery.issue_organiser_code(
            db, settings.secret_key, olga, world.group_id, world.users["ana"], rt_clock()
        )
    assert isinstance(issued, recovery.IssuedCode)
    return issued.code


@pytest.mark.parametrize("method", ["words", "code"])
async def test_a_reset_closes_every_socket_of_the_person(
    server: RTServer, world: World, sessions: Sessions, rt_clock: FakeClock, method: str
) -> None:
    await _give_password(sessions, world)
    async with sessions() as db, db.begin():
        ana = await db.get(User, world.users["ana"])
        assert ana is not None
        phone = await start_sign_in(db, server.settings, ana, rt_clock())
    sockets = [
        await Client.open(server, world.tokens["ana"]),
        await Client.open(server, phone.token),
        await Client.open(server, world.tokens["ben"]),
    ]
    try:
        for socket in sockets:
            await socket.join(world.group_id)
        if method == "words":
            path, data = "/recover", {"words": await _words(sessions, world, rt_clock)}
        else:
            path, data = (
                "/recover/code",
                {"code": await _code(sessions, world, rt_clock, server.settings)},
            )
        async with httpx.AsyncClient(base_url=server.base) as lost:
            token = await csrf_token(lost, "/recover")
            proved = await lost.post(
                path,
                data={"csrf_token": token, "pseudonym": "Ana", **data},
                headers={"Origin": server.base},
            )
            assert proved.status_code == 303, proved.text[:300]
            done = await lost.post(
                "/recover/password",
                data={
                    "csrf_token": token,
                    "new_password": NEW_PASSWORD,
                    "confirm_password": NEW_PASSWORD,
                },
                headers={"Origin": server.base},
            )
            assert done.status_code == 200, done.text[:300]
        for socket in sockets[:2]:
            code, reason = await socket.closed()
            assert code == 1008 and reason == "Your password was changed."
        await sockets[2].send("ping", ref="ben")
        await sockets[2].expect("pong", ref="ben")
        async with sessions() as db:
            left = await db.scalars(select(SignIn.id).where(SignIn.user_id == world.users["ana"]))
            assert not list(left)
    finally:
        for socket in sockets:
            socket.abort()
