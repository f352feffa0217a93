from __future__ import annotations

from typing import Any

from tests.realtime.conftest import World


async def test_two_people_talk(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    ben = await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    ack = await ana.say(world.group_id, "Hello, Ben", "c-000000001")
    assert ack["seq"] >= 1 and not ack["duplicate"]
    got = await ben.expect("message", room=world.group_id, client_id="c-000000001")
    assert got["body"] == "Hello, Ben" and got["sender"]["name"] == "Ana"
