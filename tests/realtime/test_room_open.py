"""Point 9: a moderator opens and closes a group's room (the ``session.open`` and
``session.close`` frames, whose names stay on the wire); a moderator-only room takes
members' messages only while open with a moderator present; ground rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group
from peerhub.realtime.models import RoomRulesAcceptance
from tests.realtime.conftest import RULES, RTServer, World

Sessions = async_sessionmaker[AsyncSession]


async def test_members_accept_the_ground_rules_before_their_first_message(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    sub = await ana.subscribe(world.group_id)
    await ana.synced(world.group_id)
    assert sub["rules"]["text"] == RULES and sub["rules"]["accepted"] is False
    await ana.send("send", room=world.group_id, client_id="early-000001", body="hi")
    assert (await ana.expect("error", client_id="early-000001"))["code"] == "rules_not_accepted"
    await ana.send("rules.accept", room=world.group_id, version="0000000000000000")
    assert (await ana.expect("error", room=world.group_id))["code"] == "rules_changed"
    await ana.send("rules.accept", room=world.group_id, version=sub["rules"]["version"])
    await ana.expect("rules.accepted", room=world.group_id)
    await ana.say(world.group_id, "hi", "early-000001")
    async with sessions() as db:
        kept = await db.scalar(
            select(RoomRulesAcceptance.version).where(
                RoomRulesAcceptance.user_id == world.users["ana"]
            )
        )
    assert kept == sub["rules"]["version"]
    # Accepted once is remembered; new rules must be accepted again.
    again = await connect_as("ana")
    assert (await again.subscribe(world.group_id))["rules"]["accepted"] is True
    async with sessions() as db, db.begin():
        await db.execute(
            update(Group)
            .where(Group.id == world.group_id)
            .values(ground_rules=RULES + "\nNo advice.")
        )
    third = await connect_as("ana")
    assert (await third.subscribe(world.group_id))["rules"]["accepted"] is False


async def test_moderators_and_organisers_need_not_accept(connect_as: Any, world: World) -> None:
    for name in ("mo", "olga"):
        client = await connect_as(name)
        sub = await client.subscribe(world.group_id)
        await client.synced(world.group_id)
        assert sub["rules"]["accepted"] is True
        assert sub["role"] == ("moderator" if name == "mo" else "organiser")
        await client.say(world.group_id, f"hello from {name}", f"staff-{name}-0001")


async def test_a_moderator_only_room_is_read_only_unless_open_with_a_moderator(
    server: RTServer, connect_as: Any, world: World
) -> None:
    mo = await connect_as("mo")
    await mo.join(world.group_id)
    await mo.send("room.settings", room=world.group_id, moderator_only=True)
    notice = await mo.expect("message", kind="system", room=world.group_id)
    assert notice["data"] == {"event": "room.settings", "moderator_only": True}
    await mo.close()

    ana = await connect_as("ana")
    sub = await ana.join(world.group_id)
    state = sub["state"]
    assert state["moderator_only"] and not state["writable"] and not state["session_open"]
    # Tuesday 17:00 in London: the next meeting is today at 18:00 (the wire says session).
    assert state["next_session"] == "2026-11-03T18:00:00.000Z"
    assert state["next_session_text"] == "Tuesday 3 November, 18:00 to 19:30 GMT"
    assert "next session is Tuesday 3 November, 18:00" in state["reason"]
    await ana.send("send", room=world.group_id, client_id="closed-00001", body="anyone?")
    error = await ana.expect("error", client_id="closed-00001")
    assert error["code"] == "room_closed" and error["next_session"] == "2026-11-03T18:00:00.000Z"

    mo = await connect_as("mo")
    await mo.join(world.group_id)
    await mo.send("session.open", room=world.group_id)
    opened = await ana.expect(
        "message", kind="system", where=lambda f: f["data"]["event"] == "session.opened"
    )
    assert opened["sender"] == {"id": world.users["mo"], "name": "Mo"}
    await ana.expect("room", where=lambda f: f["state"]["writable"])
    await ana.say(world.group_id, "hello, everyone", "open-000001")

    # The moderator leaves: members can read but not write until one is back.
    # (If the moderator came and went within one presence flush, nobody saw them
    # arrive and there is no presence change to send; the room state still changes.)
    ana.drop("room")
    await mo.close()
    await ana.expect("room", where=lambda f: not f["state"]["moderator_present"])
    await ana.send("send", room=world.group_id, client_id="nomod-00001", body="hello?")
    error = await ana.expect("error", client_id="nomod-00001")
    assert error["code"] == "room_closed" and "no moderator is here" in error["message"]

    ana.drop("room")
    mo = await connect_as("mo")
    await mo.join(world.group_id)
    await ana.expect("room", where=lambda f: f["state"]["writable"])
    await mo.send("session.close", room=world.group_id)
    await ana.expect(
        "message", kind="system", where=lambda f: f["data"]["event"] == "session.closed"
    )
    await ana.expect(
        "room", where=lambda f: not f["state"]["writable"] and not f["state"]["session_open"]
    )
    await mo.send("session.close", room=world.group_id)
    assert (await mo.expect("error", room=world.group_id))["code"] == "already_closed"


async def test_opening_replays_as_an_event_of_the_log(connect_as: Any, world: World) -> None:
    olga = await connect_as("olga")
    await olga.join(world.group_id)
    await olga.send("session.open", room=world.group_id)
    await olga.expect("message", kind="system")
    await olga.send("session.open", room=world.group_id)
    assert (await olga.expect("error", room=world.group_id))["code"] == "already_open"
    ben = await connect_as("ben")
    await ben.subscribe(world.group_id, after=0)
    replay = await ben.expect("message", kind="system")
    assert replay["seq"] == 1 and replay["data"]["event"] == "session.opened"
    assert (await ben.synced(world.group_id))["seq"] == 1


async def test_members_cannot_open_or_close_the_room(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    for frame, fields in (
        ("session.open", {}),
        ("session.close", {}),
        ("room.settings", {"moderator_only": True}),
    ):
        await ana.send(frame, room=world.group_id, **fields)
        assert (await ana.expect("error", room=world.group_id))["code"] == "forbidden"
        ana.drop("error")
