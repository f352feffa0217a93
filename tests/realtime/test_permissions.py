"""Point 6: permissions on every frame; logout, disabling, removal and bans cut live sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import realtime
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.models import GroupMember, SignIn, User
from peerhub.realtime import queries
from peerhub.realtime.models import RoomMessage
from tests.conftest import TEST_TOTP_SECRET, FakeClock
from tests.realtime.conftest import Client, RTServer, World, in_server

Sessions = async_sessionmaker[AsyncSession]


def now_utc() -> datetime:
    return datetime.now(UTC)


async def count_rows(sessions: Sessions, room: str) -> int:
    async with sessions() as db:
        return int(
            await db.scalar(
                select(func.count()).select_from(RoomMessage).where(RoomMessage.room_id == room)
            )
            or 0
        )


async def test_a_room_the_person_is_not_in_looks_like_no_room(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    out = await connect_as("out")
    await out.send("subscribe", room=world.group_id)
    assert (await out.expect("error", room=world.group_id))["code"] == "not_found"
    await out.send("subscribe", room="no-such-room")
    assert (await out.expect("error", room="no-such-room"))["code"] == "not_found"
    # Sending without subscribing gets the answer anyone gets for any room: it says
    # nothing about this one (docs/protocol.md, not_subscribed).
    await out.send("send", room=world.group_id, client_id="sneak-000001", body="hello?")
    assert (await out.expect("error", client_id="sneak-000001"))["code"] == "not_subscribed"
    await out.send("history", room=world.group_id, before_seq=100)
    assert (await out.expect("error", room=world.group_id))["code"] == "not_found"
    await out.send("read", room=world.group_id, seq=1)
    assert (await out.expect("error", room=world.group_id))["code"] == "not_found"
    # The connection stays usable for the person's own room.
    await out.join(world.other_group_id)
    assert await count_rows(sessions, world.group_id) == 0


async def test_disconnect_user_closes_every_socket_of_the_person_with_1008(
    server: RTServer, connect_as: Any, world: World
) -> None:
    ana1, ana2, ben = await connect_as("ana"), await connect_as("ana"), await connect_as("ben")
    await ana1.join(world.group_id)
    await in_server(server, lambda: realtime.disconnect_user(server.app, world.users["ana"]))
    assert (await ana1.closed())[0] == 1008
    assert (await ana2.closed())[0] == 1008
    await ben.send("ping", ref="still-here")
    await ben.expect("pong", ref="still-here")


async def test_logout_closes_the_live_sockets_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    async with sessions() as db:
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids["ana"])
        )
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["ana"])
        response = await http.post(
            "/logout", headers={"X-CSRF-Token": str(csrf), "Origin": server.base}
        )
    assert response.status_code in (200, 303)
    code, reason = await ana.closed()
    assert code == 1008 and reason == "Your session has ended."
    # Only that person's sockets: Ben's stays open and answers.
    await ben.send("ping")
    await ben.expect("pong")


async def test_an_ended_sign_in_is_refused_by_the_writer_even_without_a_control_event(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    # The session ends in the database only (as on another process whose control
    # event was lost): the next message is refused in the transaction that would
    # have written it, and the socket is closed.
    async with sessions() as db, db.begin():
        await db.execute(delete(SignIn).where(SignIn.id == world.sign_in_ids["ana"]))
    await ana.send("send", room=world.group_id, client_id="after-logout1", body="still me?")
    error = await ana.expect("error", client_id="after-logout1")
    assert error["code"] == "session_ended"
    assert (await ana.closed())[0] == 1008
    assert await count_rows(sessions, world.group_id) == 0
    assert not [f for f in ben.seen if f["type"] == "message"]


async def test_a_frame_racing_the_close_is_never_acted_on(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    async with sessions() as db, db.begin():  # logout commits first...
        await db.execute(delete(SignIn).where(SignIn.user_id == world.users["ana"]))
    frames = [
        ana.send("send", room=world.group_id, client_id=f"race-{i:07d}", body="racing")
        for i in range(20)
    ]
    # ...then the control event and a burst of frames race each other.
    await asyncio.gather(
        in_server(server, lambda: realtime.disconnect_user(server, world.users["ana"])),
        *frames,
        return_exceptions=True,
    )
    assert (await ana.closed())[0] == 1008
    assert await count_rows(sessions, world.group_id) == 0
    assert not [f for f in ana.seen if f["type"] == "ack"]


async def test_a_disabled_account_cannot_send_and_is_closed(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ben = await connect_as("ben")
    await ben.join(world.group_id)
    async with sessions() as db, db.begin():
        await db.execute(
            update(User)
            .where(User.id == world.users["ben"])
            .values(disabled_at=datetime(2026, 11, 3, tzinfo=UTC))
        )
    await ben.send("send", room=world.group_id, client_id="disabled-0001", body="hi")
    assert (await ben.expect("error", client_id="disabled-0001"))["code"] == "session_ended"
    assert (await ben.closed())[0] == 1008
    assert await count_rows(sessions, world.group_id) == 0


async def test_removal_closes_the_socket_and_stops_delivery_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    async with sessions() as db, db.begin():
        await db.execute(
            delete(GroupMember).where(
                GroupMember.group_id == world.group_id, GroupMember.user_id == world.users["ben"]
            )
        )
    await in_server(
        server,
        lambda: realtime.revoke_membership(server.app, world.group_id, world.users["ben"]),
    )
    assert (await ben.closed())[0] == 1008
    await ana.say(world.group_id, "after Ben left", "removed-0001")
    assert not [f for f in ben.seen if f["type"] == "message"]
    # Reconnecting does not get Ben back in.
    ben2 = await connect_as("ben")
    await ben2.send("subscribe", room=world.group_id)
    assert (await ben2.expect("error", room=world.group_id))["code"] == "not_found"


async def test_a_removal_without_the_control_event_is_still_enforced(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    """A ban written straight to the database: the next send is refused in the
    transaction and the socket closed; the periodic re-check closes idle sockets."""
    ben, cat = await connect_as("ben"), await connect_as("cat")
    await ben.join(world.group_id)
    await cat.join(world.group_id)
    async with sessions() as db, db.begin():
        await db.execute(
            delete(GroupMember).where(
                GroupMember.group_id == world.group_id,
                GroupMember.user_id.in_([world.users["ben"], world.users["cat"]]),
            )
        )
    await ben.send("send", room=world.group_id, client_id="banned-00001", body="hello")
    assert (await ben.expect("error", client_id="banned-00001"))["code"] == "not_found"
    assert (await ben.closed())[0] == 1008
    await in_server(server, server.rt.revalidate)
    assert (await cat.closed())[0] == 1008
    assert await count_rows(sessions, world.group_id) == 0


async def test_an_expired_sign_in_is_closed_by_the_periodic_check(
    server: RTServer, connect_as: Any, world: World, rt_clock: FakeClock
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    rt_clock.advance(hours=3)  # past the idle time-out
    await in_server(server, server.rt.revalidate)
    assert (await ana.closed())[0] == 1008


async def test_chatting_keeps_the_sign_in_alive(
    server: RTServer, connect_as: Any, world: World, rt_clock: FakeClock, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    rt_clock.advance(minutes=90)
    await ana.say(world.group_id, "still here", "alive-000001")
    await in_server(server, server.rt.revalidate)  # touches the session
    rt_clock.advance(minutes=90)  # 3 hours since sign-in, 90 minutes since chatting
    await in_server(server, server.rt.revalidate)
    await ana.send("ping", ref="alive")
    await ana.expect("pong", ref="alive")


async def test_a_new_moderator_gets_moderator_rights_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ben = await connect_as("ben")
    sub = await ben.join(world.group_id)
    assert sub["role"] == "member"
    await ben.send("session.open", room=world.group_id)
    assert (await ben.expect("error", room=world.group_id))["code"] == "forbidden"
    async with sessions() as db, db.begin():
        await db.execute(
            update(GroupMember)
            .where(
                GroupMember.group_id == world.group_id, GroupMember.user_id == world.users["ben"]
            )
            .values(role="moderator")
        )
        # A moderator's role needs two-step sign-in, which Ben has set up.
        db.add(
            TwoFactor(user_id=world.users["ben"], secret=TEST_TOTP_SECRET, confirmed_at=now_utc())
        )
    await in_server(
        server, lambda: realtime.member_changed(server.app, world.group_id, world.users["ben"])
    )
    await ben.expect("room", room=world.group_id)
    await ben.send("session.open", room=world.group_id)
    opened = await ben.expect("message", room=world.group_id, kind="system")
    assert opened["data"]["event"] == "session.opened"


async def test_the_periodic_check_leaves_alone_a_subscription_it_did_not_check(
    server: RTServer, connect_as: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket that subscribes while the re-check awaits the database is not closed
    for lack of an answer (it was checked when it subscribed)."""
    ana = await connect_as("ana")
    await ana.join(world.group_id)

    async def nothing_known(db: Any, pairs: Any) -> dict[Any, Any]:
        return {}

    monkeypatch.setattr(queries, "ranks", nothing_known)
    await in_server(server, server.rt.revalidate)
    await ana.send("ping", ref="still-open")
    await ana.expect("pong", ref="still-open")


async def _post_as(
    server: RTServer, sessions: Sessions, world: World, name: str, path: str, data: dict[str, str]
) -> httpx.Response:
    async with sessions() as db:
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids[name])
        )
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens[name])
        return await http.post(
            path, data=data, headers={"X-CSRF-Token": str(csrf), "Origin": server.base}
        )


async def test_leaving_the_group_closes_its_room_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    cat = await connect_as("cat")
    await cat.join(world.group_id)
    response = await _post_as(server, sessions, world, "cat", f"/groups/{world.slug}/leave", {})
    assert response.status_code == 303
    code, reason = await cat.closed()
    assert code == 1008 and reason == "You left the group."


async def test_disabling_an_account_closes_its_sockets_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(User).where(User.id == world.users["olga"]).values(is_admin=True))
    ben = await connect_as("ben")
    await ben.join(world.group_id)
    response = await _post_as(
        server,
        sessions,
        world,
        "olga",
        "/admin",
        {"user_id": world.users["ben"], "action": "disable"},
    )
    assert response.status_code == 303, response.text
    code, reason = await ben.closed()
    assert code == 1008 and reason == "This account is disabled."


async def test_the_close_reason_is_in_the_closed_persons_language_not_the_admins(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    """The action records the reason in English; each socket words it in its own
    person's language (realtime/service.py CLOSE_REASONS), not the admin's page's."""
    from peerhub import i18n

    reason = "This account is disabled."
    with i18n.using("cy"):
        assert str(i18n._(reason)) != reason  # Welsh has its own words for it
    async with sessions() as db, db.begin():
        await db.execute(update(User).where(User.id == world.users["olga"]).values(is_admin=True))
    ben = await connect_as("ben")  # an English socket
    await ben.join(world.group_id)
    response = await _post_as(
        server,
        sessions,
        world,
        "olga",
        "/admin?lang=cy",  # the administrator reads PeerHub in Welsh
        {"user_id": world.users["ben"], "action": "disable"},
    )
    assert response.status_code == 303, response.text
    assert await ben.closed() == (1008, reason)


async def test_ending_one_sign_in_closes_only_its_sockets(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    # Ana signs in a second time (another device) and ends the first session from it.
    async with sessions() as db, db.begin():
        from peerhub.security.signins import start_sign_in

        user = await db.get(User, world.users["ana"])
        assert user is not None
        second = await start_sign_in(db, server.settings, user, server.app.state.ctx.clock())
    other = await Client.open(server, second.token)
    await other.join(world.group_id)
    csrf = second.row.csrf_token
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, second.token)
        response = await http.post(
            "/account/sessions",
            data={"session_id": world.sign_in_ids["ana"]},
            headers={"X-CSRF-Token": str(csrf), "Origin": server.base},
        )
    assert response.status_code == 303, response.text
    assert (await ana.closed())[0] == 1008
    await other.send("ping")
    await other.expect("pong")
    await other.close()
