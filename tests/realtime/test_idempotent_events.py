"""A system event written with a caller-given ``client_id`` is idempotent (issue 13: the
outbox delivers at least once). Written twice, one after the other or twice in one
batch, the room's log holds it once, the second write gets the ORIGINAL seq back and
nothing is fanned out again (the writer's retry detection, by (room, client_id) with
no sender). Events without a caller-given id, and people's messages, are unaffected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.realtime.models import RoomMessage
from tests.realtime.conftest import RTServer, World, in_server, joined

Sessions = async_sessionmaker[AsyncSession]


async def system_events(sessions: Sessions, room: str, client_id: str) -> list[tuple[int, Any]]:
    async with sessions() as db:
        rows = await db.execute(
            select(RoomMessage.seq, RoomMessage.data)
            .where(RoomMessage.room_id == room, RoomMessage.client_id == client_id)
            .order_by(RoomMessage.seq)
        )
        return [(seq, data) for seq, data in rows]


async def test_a_system_event_with_the_same_client_id_is_stored_once(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions
) -> None:
    room, key = world.group_id, "mod-" + "a" * 32
    (ana,) = await joined(connect_as, world.group_id, "ana")

    async def append() -> int:
        return await server.rt.append_event(room, {"event": "room.unpinned"}, client_id=key)

    first = await in_server(server, append)
    second = await in_server(server, append)
    assert second == first  # the ORIGINAL seq, nothing new written
    assert [seq for seq, _ in await system_events(sessions, room, key)] == [first]

    # Twice in one batch (submitted together): one row, one seq for both.
    other = "mod-" + "b" * 32

    async def both() -> list[int]:
        async def one() -> int:
            return await server.rt.append_event(room, {"event": "room.unpinned"}, client_id=other)

        return list(await asyncio.gather(one(), one()))

    pair = await in_server(server, both)
    assert pair[0] == pair[1] > first
    assert [seq for seq, _ in await system_events(sessions, room, other)] == [pair[0]]

    # Fanned out once each: a message said after them arrives after them.
    await ana.say(room, "after the events", "after-00001")
    unpinned = [
        f["seq"]
        for f in ana.seen
        if f.get("type") == "message" and f.get("data", {}).get("event") == "room.unpinned"
    ]
    assert unpinned == [first, pair[0]]

    # Events without a caller-given id are never taken for one another.
    async def plain() -> int:
        return await server.rt.append_event(room, {"event": "room.unpinned"})

    a, b = await in_server(server, plain), await in_server(server, plain)
    assert b == a + 1


async def test_a_persons_message_is_not_taken_for_a_system_event_with_its_id(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions
) -> None:
    room, key = world.group_id, "same-id-0001"
    (ana,) = await joined(connect_as, world.group_id, "ana")
    said = await ana.say(room, "mine", key)

    async def append() -> int:
        return await server.rt.append_event(room, {"event": "room.unpinned"}, client_id=key)

    seq = await in_server(server, append)
    assert seq != said["seq"]
    assert len(await system_events(sessions, room, key)) == 2  # hers and the event
