"""Issue 9, point 6: a new member's first messages in a group that welcomes people
approaching crisis wait for a moderator, and the writer is told why, kindly.

Real servers and sockets, both databases; across two processes with Redis; across a
restart. No sleeps: every wait is for a frame or a condition with a deadline.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import realtime
from peerhub.config import Settings
from peerhub.models import GroupTag
from peerhub.moderation.models import NewcomerProgress, NewcomerReview
from peerhub.realtime.models import Room
from tests.conftest import FakeClock
from tests.realtime.conftest import Client, RTServer, World, in_server, make_world

Sessions = async_sessionmaker[AsyncSession]
_refs = itertools.count(1)
ORIGIN = "http://peerhub.test"


async def act(client: Client, frame_type: str, **fields: Any) -> dict[str, Any]:
    ref = f"n{next(_refs)}"
    await client.send(frame_type, ref=ref, **fields)
    return await client.expect(("done", "error"), ref=ref)


async def welcome_crisis(sessions: Sessions, group_id: str) -> None:
    async with sessions() as db, db.begin():
        db.add(GroupTag(group_id=group_id, kind="stage", value="approaching_crisis", position=0))


async def choose(sessions: Sessions, group_id: str, mode: str, messages: int = 3) -> None:
    """What the group's form stores (peerhub/groups/newcomer_review.set_review)."""
    async with sessions() as db, db.begin():
        row = await db.get(NewcomerReview, group_id)
        if row is None:
            db.add(NewcomerReview(group_id=group_id, mode=mode, messages=messages))
        else:
            row.mode, row.messages = mode, messages


async def approved_count(sessions: Sessions, group_id: str, user_id: str) -> int:
    async with sessions() as db:
        value = await db.scalar(
            select(NewcomerProgress.approved).where(
                NewcomerProgress.group_id == group_id, NewcomerProgress.user_id == user_id
            )
        )
    return int(value or 0)


def approved_event(seq: int) -> Any:
    return lambda f: (
        f["kind"] == "system"
        and f["data"]
        == {
            **f["data"],
            "event": "message.approved",
            "seq": seq,
        }
    )


async def test_a_new_members_first_messages_wait_and_approvals_count(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    await welcome_crisis(sessions, room)
    mo = await connect_as("mo")
    await mo.join(room)
    # The room of a crisis-stage group opens only in a session, with a moderator here.
    await mo.send("session.open", room=room)
    await mo.expect("message", kind="system", room=room)
    ana, ben = await connect_as("ana"), await connect_as("ben")
    sub = await ana.join(room)
    await ben.join(room)
    assert sub["state"]["moderator_only"] and sub["state"]["writable"]
    newcomer = sub["extra"]["moderation"]["newcomer"]
    assert newcomer["messages"] == 3 and newcomer["seen"] == 0
    assert "new here" in newcomer["note"]

    seqs = []
    for i in range(3):
        ack = await ana.say(room, f"hello {i}", f"new-ana-{i:04d}")
        assert ack["status"] == "held"
        # Told kindly, privately, why: with the ack only Ana's socket receives.
        assert ack["note"].startswith("Thanks for writing. Because you are new here")
        assert "first 3 messages" in ack["note"]
        held = await mo.expect("message", client_id=f"new-ana-{i:04d}")
        assert held["status"] == "held"
        seqs.append(ack["seq"])

    # Two approvals and a rejection: two count, so the fourth still waits.
    for seq in seqs[:2]:
        assert (await act(mo, "mod.approve", room=room, seq=seq))["type"] == "done"
    assert (await act(mo, "mod.reject", room=room, seq=seqs[2]))["type"] == "done"
    assert await approved_count(sessions, room, world.users["ana"]) == 2
    fourth = await ana.say(room, "still here", "new-ana-0004")
    assert fourth["status"] == "held"
    await act(mo, "mod.approve", room=room, seq=fourth["seq"])
    await ben.expect("message", where=approved_event(fourth["seq"]))

    # Three approved: Ana's next message goes to everyone at once.
    fifth = await ana.say(room, "thank you all", "new-ana-0005")
    assert fifth["status"] == "visible" and "note" not in fifth
    got = await ben.expect("message", client_id="new-ana-0005")
    assert got["body"] == "thank you all"
    # Ben never saw Ana's held messages themselves (only the approval events).
    assert not [
        f
        for f in ben.seen
        if f.get("client_id", "").startswith("new-ana-000")
        and f.get("client_id") != "new-ana-0005"
        and f["type"] == "message"
    ]
    # Counted per member: Ben is still new.
    assert (await ben.say(room, "hi", "new-ben-0001"))["status"] == "held"
    # Moderators and organisers are never held.
    assert (await mo.say(room, "welcome", "new-mod-0001"))["status"] == "visible"
    olga = await connect_as("olga")
    await olga.join(room)
    assert (await olga.say(room, "hello from olga", "new-org-0001"))["status"] == "visible"
    # The console says why members' messages are held.
    await mo.send("mod.queue", room=room)
    assert (await mo.expect("mod.queue"))["settings"]["newcomer_messages"] == 3


async def test_the_group_chooses_on_off_and_how_many(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    room, other = world.group_id, world.other_group_id
    # A crisis-stage group that turned it off: nothing is held. (Its room was made
    # before the stage was added, so it is open at any time: no session is needed.)
    async with sessions() as db, db.begin():
        db.add(Room(id=other))
    await welcome_crisis(sessions, other)
    await choose(sessions, other, "off")
    out = await connect_as("out")
    sub = await out.join(other)
    assert "newcomer" not in sub.get("extra", {}).get("moderation", {})
    mo = await connect_as("mo")
    await mo.join(room)
    assert (await out.say(other, "first words", "off-out-0001"))["status"] == "visible"

    # A group without the stage that turned it on, for one message.
    await choose(sessions, room, "on", 1)
    await in_server(server, lambda: realtime.room_changed(server.app, room))
    ana = await connect_as("ana")
    sub = await ana.join(room)
    assert sub["extra"]["moderation"]["newcomer"]["messages"] == 1
    ack = await ana.say(room, "hello", "one-ana-0001")
    assert ack["status"] == "held" and "your first message before" in ack["note"]
    await act(mo, "mod.approve", room=room, seq=ack["seq"])
    assert (await ana.say(room, "and again", "one-ana-0002"))["status"] == "visible"


async def test_people_who_were_already_talking_are_not_new_when_it_is_turned_on(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    await choose(sessions, room, "off")
    ana, ben, mo = [await connect_as(n) for n in ("ana", "ben", "mo")]
    for client in (ana, ben, mo):
        await client.join(room)
    for i in range(3):
        assert (await ana.say(room, f"talk {i}", f"old-ana-{i:04d}"))["status"] == "visible"

    # An organiser turns it on (the form's action stores it, then tells every process).
    await choose(sessions, room, "on", 3)
    await in_server(server, lambda: realtime.room_changed(server.app, room))
    # Ben, who never wrote, is new; Ana's three messages in the log count.
    held = await ben.say(room, "hello?", "old-ben-0001")
    assert held["status"] == "held"
    assert (await ana.say(room, "still me", "old-ana-0099"))["status"] == "visible"
    # Turned off again: Ben's next message goes straight out.
    await choose(sessions, room, "off")
    await in_server(server, lambda: realtime.room_changed(server.app, room))
    assert (await ben.say(room, "hello!", "old-ben-0002"))["status"] == "visible"


@pytest.fixture
async def live_world(sessions: Sessions, rt_settings: Settings) -> World:
    # The real clock: a second process gets no fake one.
    return await make_world(sessions, rt_settings, datetime.now(UTC), rules="")


@pytest.fixture
def pair(rt_settings: Settings, redis_url: str, live_world: World) -> Iterator[list[RTServer]]:
    settings = rt_settings.with_overrides(redis_url=redis_url)
    with (
        RTServer(settings, extra_origins=(ORIGIN,)) as a,
        RTServer(settings, extra_origins=(ORIGIN,)) as b,
    ):
        yield [a, b]


async def test_the_count_is_shared_by_every_process_and_survives_a_restart(
    pair: list[RTServer],
    live_world: World,
    sessions: Sessions,
    rt_settings: Settings,
    redis_url: str,
) -> None:
    a, b = pair
    world, room = live_world, live_world.group_id
    await choose(sessions, room, "on", 2)
    ana = await Client.open(a, world.tokens["ana"], origin=ORIGIN)
    ben = await Client.open(a, world.tokens["ben"], origin=ORIGIN)
    mo = await Client.open(b, world.tokens["mo"], origin=ORIGIN)
    for client in (ana, ben, mo):
        await client.join(room)
    first = await ana.say(room, "one", "mp-ana-0001")
    second = await ana.say(room, "two", "mp-ana-0002")
    assert first["status"] == second["status"] == "held"
    # The moderator, on the other process, approves both.
    for ack in (first, second):
        await mo.expect("message", client_id=ack["client_id"])
        assert (await act(mo, "mod.approve", room=room, seq=ack["seq"]))["type"] == "done"
    await ana.expect("message", where=approved_event(second["seq"]))
    assert await approved_count(sessions, room, world.users["ana"]) == 2
    # Process A, which held Ana's messages, reads the count the approvals stored.
    assert (await ana.say(room, "three", "mp-ana-0003"))["status"] == "visible"
    assert (await ben.say(room, "me too", "mp-ben-0001"))["status"] == "held"
    for client in (ana, ben, mo):
        await client.close()

    # A fresh process after a restart agrees.
    with RTServer(rt_settings.with_overrides(redis_url=redis_url), extra_origins=(ORIGIN,)) as c:
        ana = await Client.open(c, world.tokens["ana"], origin=ORIGIN)
        sub = await ana.join(room)
        assert "newcomer" not in sub["extra"]["moderation"]
        assert (await ana.say(room, "four", "mp-ana-0004"))["status"] == "visible"
        ben = await Client.open(c, world.tokens["ben"], origin=ORIGIN)
        sub = await ben.join(room)
        assert sub["extra"]["moderation"]["newcomer"]["seen"] == 0
        assert (await ben.say(room, "again", "mp-ben-0002"))["status"] == "held"
        await ana.close()
        await ben.close()


async def test_a_crisis_message_from_a_new_member_is_held_and_still_routed_to_a_human(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions, rt_clock: FakeClock
) -> None:
    room = world.group_id
    await choose(sessions, room, "on")
    ana, mo = await connect_as("ana"), await connect_as("mo")
    await ana.join(room)
    await mo.join(room)
    ack = await ana.say(room, "I can't go on", "crisis-new-01")
    assert ack["status"] == "held" and "new here" in ack["note"]
    support = await ana.expect("support")
    # The support frame speaks to how Ana may feel, not to the hold.
    assert "new here" not in support["message"] and support["contacts"]
    await mo.expect("alert", seq=ack["seq"])
