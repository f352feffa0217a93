"""Issue 9, point 19: the room says when no moderator is here (live, through presence),
with the next meeting; and the room of a group that welcomes people approaching crisis
opens only while a moderator is present unless its moderators choose otherwise.

Real servers and sockets, both databases. The page's banner is tested in Chromium
(tests/realtime/browser/test_room_layout_browser.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.groups import actions
from peerhub.groups.validation import GroupInput
from peerhub.models import Group, GroupMember, User
from peerhub.realtime.models import Room
from tests.conftest import FakeClock
from tests.realtime.conftest import RTServer, World

Sessions = async_sessionmaker[AsyncSession]


async def new_group(
    sessions: Sessions, world: World, clock: FakeClock, name: str, stages: list[str]
) -> str:
    """A group made by its organiser through the group action, with Ana and Mo in it."""
    async with sessions() as db, db.begin():
        olga = await db.get(User, world.users["olga"])
        assert olga is not None
        org_id = await db.scalar(select(Group.organisation_id).where(Group.id == world.group_id))
        assert org_id is not None
        data = GroupInput(
            name=name,
            description="",
            format="online",
            languages=["en"],
            stages=stages,
            dtstart_local="2026-10-20T18:00:00",
            rrule="FREQ=WEEKLY;BYDAY=TU",
        )
        group = await actions.create_group(db, olga, org_id, data, clock())
        db.add(GroupMember(group_id=group.id, user_id=world.users["ana"], role="member"))
        db.add(GroupMember(group_id=group.id, user_id=world.users["mo"], role="moderator"))
        return group.id


async def test_a_new_crisis_stage_group_opens_only_while_a_moderator_is_present(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions, rt_clock: FakeClock
) -> None:
    crisis = await new_group(
        sessions, world, rt_clock, "Harder Days", ["approaching_crisis", "recovery"]
    )
    calm = await new_group(sessions, world, rt_clock, "Staying Well Circle", ["staying_well"])
    ana = await connect_as("ana")
    state = (await ana.join(crisis))["state"]
    assert state["moderator_only"] and not state["writable"]
    assert not state["moderator_present"]
    assert "next session is Tuesday 3 November, 18:00" in state["reason"]
    await ana.send("send", room=crisis, client_id="crisis-room-01", body="hello?")
    assert (await ana.expect("error", client_id="crisis-room-01"))["code"] == "room_closed"
    assert not (await ana.join(calm))["state"]["moderator_only"]
    assert (await ana.say(calm, "hello", "calm-room-0001"))["status"] == "visible"

    # A moderator arrives and opens the session: Ana can write.
    mo = await connect_as("mo")
    await mo.join(crisis)
    await mo.send("session.open", room=crisis)
    await ana.expect("room", room=crisis, where=lambda f: f["state"]["writable"])
    # (Accepted, and held: Ana is new here, and the group welcomes people in crisis.)
    assert (await ana.say(crisis, "hello", "crisis-room-02"))["status"] == "held"
    # The moderators may still choose "open at any time" for their room.
    await mo.send("room.settings", room=crisis, moderator_only=False)
    await ana.expect("room", room=crisis, where=lambda f: not f["state"]["moderator_only"])
    async with sessions() as db:
        row = await db.get(Room, crisis)
        assert row is not None and row.moderator_only is False


async def test_the_room_says_live_whether_a_moderator_is_here(
    server: RTServer, connect_as: Any, world: World
) -> None:
    room = world.group_id
    ana = await connect_as("ana")
    state = (await ana.join(room))["state"]
    # Not a moderator-only room: Ana may write, and is still told nobody moderates now.
    assert state["writable"] and not state["moderator_present"]
    assert state["next_session_text"] == "Tuesday 3 November, 18:00 to 19:30 GMT"

    mo = await connect_as("mo")
    await mo.join(room)
    await ana.expect("room", where=lambda f: f["state"]["moderator_present"])
    ana.drop("room")
    await mo.close()
    await ana.expect("room", where=lambda f: not f["state"]["moderator_present"])
    # An organiser counts as a moderator here.
    ana.drop("room")
    olga = await connect_as("olga")
    await olga.join(room)
    await ana.expect("room", where=lambda f: f["state"]["moderator_present"])
