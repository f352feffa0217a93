"""Points 7–8: rate limits, heartbeats, presence by pseudonym, typing, read positions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.models import Base
from peerhub.realtime.models import RoomMessage
from tests.conftest import FakeClock
from tests.realtime.conftest import TEST_CONFIG, Client, RTServer, World

Sessions = async_sessionmaker[AsyncSession]


async def test_presence_shows_who_is_here_by_pseudonym_only(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    sub = await ana.join(world.group_id)
    assert sub["present"] == [{"id": world.users["ana"], "name": "Ana", "role": "member"}]
    mo = await connect_as("mo")
    sub = await mo.join(world.group_id)
    assert {p["name"] for p in sub["present"]} == {"Ana", "Mo"}
    joined = await ana.expect(
        "presence", where=lambda f: any(p["name"] == "Mo" for p in f["joined"])
    )
    mo_entry = {"id": world.users["mo"], "name": "Mo", "role": "moderator"}
    assert mo_entry in joined["joined"]
    for person in joined["joined"]:
        assert set(person) == {"id", "name", "role"}  # a pseudonym, nothing more
    await mo.close()
    left = await ana.expect("presence", where=lambda f: world.users["mo"] in f["left"])
    assert left["joined"] == []


async def test_two_sockets_of_one_person_are_one_presence(connect_as: Any, world: World) -> None:
    ben = await connect_as("ben")
    await ben.join(world.group_id)
    ana1, ana2 = await connect_as("ana"), await connect_as("ana")
    await ana1.join(world.group_id)
    await ana2.join(world.group_id)
    await ben.expect("presence", where=lambda f: any(p["name"] == "Ana" for p in f["joined"]))
    await ana1.close()
    await ana2.send("ping", ref="p")
    await ana2.expect("pong", ref="p")
    await ben.send("ping", ref="q")
    await ben.expect("pong", ref="q")
    assert not [f for f in ben.seen if f["type"] == "presence" and world.users["ana"] in f["left"]]
    await ana2.close()
    await ben.expect("presence", where=lambda f: world.users["ana"] in f["left"])


async def test_typing_reaches_the_others_and_is_never_stored(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    await ana.send("typing", room=world.group_id)
    typing = await ben.expect("typing", room=world.group_id)
    assert typing["user"] == {"id": world.users["ana"], "name": "Ana"}
    await ana.send("ping", ref="t")
    await ana.expect("pong", ref="t")
    assert not [f for f in ana.seen if f["type"] == "typing"]
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RoomMessage)) == 0
    assert not [t for t in Base.metadata.tables if "typing" in t]


async def test_typing_is_rate_limited_quietly(connect_as: Any, world: World) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    for _ in range(10):
        await ana.send("typing", room=world.group_id)
    await ana.send("ping", ref="done")
    await ana.expect("pong", ref="done")
    await ben.expect("typing")
    await ana.say(world.group_id, "barrier", "typing-barrier")
    await ben.expect("message", client_id="typing-barrier")
    assert len([f for f in ben.seen if f["type"] == "typing"]) <= TEST_CONFIG.typing_burst


async def test_read_positions_are_kept_and_never_go_back(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    sub = await ana.join(world.group_id)
    assert sub["last_read"] == 0
    for i in range(3):
        await ana.say(world.group_id, f"r{i}", f"read-{i:07d}")
    await ana.send("read", room=world.group_id, seq=2)
    assert (await ana.expect("read", room=world.group_id))["seq"] == 2
    await ana.send("read", room=world.group_id, seq=1)
    assert (await ana.expect("read", room=world.group_id, seq=2))["seq"] == 2
    await ana.send("read", room=world.group_id, seq=999)  # clamped to the log's end
    assert (await ana.expect("read", room=world.group_id, seq=3))["seq"] == 3
    await ana.close()
    again = await connect_as("ana")
    assert (await again.subscribe(world.group_id))["last_read"] == 3


@pytest.fixture
def limited_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    config = TEST_CONFIG.with_overrides(send_rate=0.5, send_burst=3)
    with RTServer(rt_settings, clock=rt_clock, config=config) as srv:
        yield srv


async def test_sending_is_rate_limited_per_person_per_room(
    limited_server: RTServer, world: World, sessions: Sessions
) -> None:
    ana = await Client.open(limited_server, world.tokens["ana"])
    await ana.join(world.group_id)
    for i in range(3):
        await ana.say(world.group_id, f"quick {i}", f"quick-{i:06d}")
    await ana.send("send", room=world.group_id, client_id="quick-000003", body="one more")
    error = await ana.expect("error", client_id="quick-000003")
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= 2.0
    # Another person is not limited by Ana.
    ben = await Client.open(limited_server, world.tokens["ben"])
    await ben.join(world.group_id)
    await ben.say(world.group_id, "my turn", "bens-0000001")
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RoomMessage)) == 4
    await ana.close()
    await ben.close()


async def test_heartbeats_answer(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    await ana.send("ping", ref="hb-1")
    assert await ana.expect("pong", ref="hb-1")
    latency = await ana.ws.ping()  # the protocol-level heartbeat
    assert await latency >= 0
