"""Issue 13, point 1: a moderation action's effects are recorded in its own transaction
(an outbox row, peerhub/moderation/after_commit.py) and delivered at least once.

- A ban whose commit succeeded but whose process "died" before delivering its effects
  (no dispatcher running) is delivered by the next dispatcher: the banned person's
  socket is closed, and the room's log holds the event once even when the effects
  run twice.
- A handler that fails once after running the effects is retried by the dispatcher:
  the log still holds the event once, and nobody receives it twice.

(The writer's side, a system event's stable ``client_id``, is in
test_idempotent_events.py.)
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.db import transaction
from peerhub.moderation import actions, after_commit
from peerhub.moderation.actions import Actor
from peerhub.outbox.dispatcher import Dispatcher
from peerhub.outbox.models import OutboxEntry
from peerhub.realtime.models import RoomMessage
from tests.conftest import FakeClock
from tests.realtime.conftest import Client, RTServer, World, in_server, joined, later

Sessions = async_sessionmaker[AsyncSession]


async def banned_events(sessions: Sessions, room: str) -> list[int]:
    async with sessions() as db:
        rows = await db.execute(
            select(RoomMessage.seq, RoomMessage.data, RoomMessage.client_id)
            .where(RoomMessage.room_id == room, RoomMessage.kind == "system")
            .order_by(RoomMessage.seq)
        )
        found = []
        for seq, data, client_id in rows:
            if (data or {}).get("event") == "member.banned":
                assert client_id.startswith(after_commit.CLIENT_ID_PREFIX)
                assert len(client_id) <= 64
                found.append(seq)
        return found


def seen_banned(client: Client) -> int:
    return sum(
        1
        for f in client.seen
        if f.get("type") == "message"
        and f.get("kind") == "system"
        and f.get("data", {}).get("event") == "member.banned"
    )


# --- the effects of a ban, through the outbox -------------------------------------------


async def test_a_ban_committed_before_a_crash_is_delivered_later_and_logged_once(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions, rt_clock: FakeClock
) -> None:
    room = world.group_id
    cat, mo = await joined(connect_as, world.group_id, "cat", "mo")
    dispatcher: Dispatcher = server.app.state.outbox
    # The process "dies" after the commit: no dispatcher runs here any more.
    await in_server(server, dispatcher.stop)

    # The action as act() runs it: its writes and its effects in one transaction.
    async with transaction(sessions) as db:
        outcome = await actions.ban(
            db, Actor(world.users["mo"], rt_clock()), room, world.users["cat"]
        )
        after_commit.record(db, world.users["mo"], outcome.after)
    async with sessions() as db:
        (row,) = (await db.scalars(select(OutboxEntry).where(OutboxEntry.done_at.is_(None)))).all()
        assert row.kind == "moderation.effects"
        payload = after_commit.EFFECTS.decode(row.payload)
    assert [e["t"] for e in payload.effects] == ["revoke", "event"]
    # transaction() has returned, and with no dispatcher its settle delivered nothing.
    assert await banned_events(sessions, room) == []  # nothing was published
    assert not cat.ws.protocol.close_rcvd

    # The next process's dispatcher delivers what was left.
    await in_server(server, dispatcher.start)
    code, reason = await cat.closed()
    assert code == 1008 and "banned" in str(reason)
    await mo.expect("message", where=lambda f: f.get("data", {}).get("event") == "member.banned")
    (seq,) = await banned_events(sessions, room)

    # Delivered again (at least once): nothing new in the log, nothing sent again.
    moderation = server.app.state.moderation

    async def again() -> None:
        await after_commit.run(server.rt, payload.actor, payload.effects, moderation.forget)

    await in_server(server, again)
    await mo.say(room, "after the ban", "after-00002")
    assert await banned_events(sessions, room) == [seq]
    assert seen_banned(mo) == 1
    async with sessions() as db:
        done = await db.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_not(None))
        )
    assert done == 1


async def test_a_handler_that_fails_after_running_is_retried_without_a_second_event(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions, rt_clock: FakeClock
) -> None:
    room = world.group_id
    cat, mo = await joined(connect_as, world.group_id, "cat", "mo")
    dispatcher: Dispatcher = server.app.state.outbox
    real = dispatcher.handlers[after_commit.EFFECTS.name]
    runs: list[int] = []

    async def dies_once(event: Any) -> None:
        await real.run(event)
        runs.append(1)
        if len(runs) == 1:  # the effects ran; the row was not marked done
            raise ConnectionError("the process died")

    dispatcher.handlers[after_commit.EFFECTS.name] = dataclasses.replace(real, run=dies_once)

    await mo.send("mod.ban", ref="ban-1", room=room, user=world.users["cat"], reason="Abuse")
    done = await mo.expect(("done", "error"), ref="ban-1")
    assert done["type"] == "done"  # the commit stands: the request did not fail
    code, _reason = await cat.closed()
    assert code == 1008
    (seq,) = await banned_events(sessions, room)
    assert runs == [1]

    # The retry falls due (backoff, on the server's clock) and runs the effects again.
    later(rt_clock, seconds=30)
    loop = server.rt.loop
    assert loop is not None
    async with asyncio.timeout(10):
        while len(runs) < 2:
            loop.call_soon_threadsafe(dispatcher.wake)
            await asyncio.sleep(0.05)
    await mo.say(room, "after the retry", "after-00003")
    assert await banned_events(sessions, room) == [seq]
    assert seen_banned(mo) == 1


async def test_a_refused_action_records_nothing(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions
) -> None:
    (mo,) = await joined(connect_as, world.group_id, "mo")
    await mo.send("mod.ban", ref="ban-2", room=world.group_id, user=world.users["olga"])
    refused = await mo.expect(("done", "error"), ref="ban-2")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    async with sessions() as db:
        kinds = (await db.scalars(select(OutboxEntry.kind))).all()
    assert after_commit.EFFECTS.name not in kinds
