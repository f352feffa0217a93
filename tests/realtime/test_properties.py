"""Random frames thrown at a live server (hypothesis, bounded examples).

Whatever arrives, the server never crashes, never acknowledges a message that is not
committed (with exactly that seq and client id), and never shows one room's
messages to someone who is not in it.
"""

from __future__ import annotations

import json
from typing import Any

import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.realtime.models import RoomMessage
from tests.conftest import run_sync
from tests.realtime.conftest import Client, RTServer, World

KEYS = [
    "v",
    "type",
    "room",
    "client_id",
    "body",
    "seq",
    "after",
    "before_seq",
    "rooms",
    "ref",
    "x",
    # moderation frames
    "user",
    "minutes",
    "reason",
    "category",
    "words",
    "kind",
    "value",
    "locked",
    "outcome",
    "report",
]
TYPES = [
    "send",
    "subscribe",
    "unsubscribe",
    "history",
    "read",
    "typing",
    "resume",
    "ping",
    "rules.accept",
    "session.open",
    "session.close",
    "room.settings",
    "mod.ban",
    "mod.timeout",
    "mod.redact",
    "mod.queue",
    "report.create",
    "me.mute",
    "me.block",
    "me.controls",
    "",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def frames(draw: st.DrawFn, rooms: tuple[str, str]) -> str | bytes:
    mine, theirs = rooms
    room = draw(st.sampled_from([mine, mine, theirs, "no-such-room", "bad room!"]))
    kind = draw(st.integers(0, 5))
    if kind == 0:  # well-formed sends (retries included: a small pool of ids)
        body = draw(st.text(min_size=1, max_size=60).filter(lambda t: t.strip()))
        cid = draw(st.sampled_from(["prop-aaaaaaa1", "prop-aaaaaaa2", "prop-aaaaaaa3"]))
        return json.dumps({"v": 1, "type": "send", "room": room, "client_id": cid, "body": body})
    if kind == 1:  # other well-formed frames
        frame_type = draw(st.sampled_from(TYPES))
        fields: dict[str, Any] = {"v": 1, "type": frame_type, "room": room}
        if frame_type == "history":
            fields["before_seq"] = draw(st.integers(1, 50))
        if frame_type == "read":
            fields["seq"] = draw(st.integers(0, 50))
        if frame_type in ("mod.redact", "report.create"):
            fields["seq"] = draw(st.integers(1, 50))
            fields["category"] = draw(st.sampled_from(["unkind", "spam", "nope"]))
        if frame_type in ("mod.timeout", "mod.ban", "me.block"):
            fields["user"] = draw(st.sampled_from(["ben", "x" * 36, "../../etc"]))
            fields["minutes"] = draw(st.integers(-5, 20000))
        if frame_type == "me.mute":
            fields["kind"] = draw(st.sampled_from(["word", "person", "colour"]))
            fields["value"] = draw(st.text(max_size=90))
        if frame_type == "resume":
            fields = {"v": 1, "type": "resume", "rooms": {room: draw(st.integers(0, 20))}}
        return json.dumps(fields)
    if kind == 2:  # random objects with plausible keys
        obj = draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6))
        if draw(st.booleans()):
            obj["type"] = draw(st.sampled_from(TYPES))
        return json.dumps(obj)
    if kind == 3:
        return draw(st.text(max_size=80))
    if kind == 4:
        return draw(st.binary(max_size=40))
    return json.dumps(draw(json_values))


async def scenario(server: RTServer, world: World, db_url: str, batch: list[str | bytes]) -> None:
    ana = await Client.open(server, world.tokens["ana"])
    out = await Client.open(server, world.tokens["out"])
    await ana.join(world.group_id)
    await out.join(world.other_group_id)
    await out.say(world.other_group_id, "only for the other room", "other-room-01")
    closed = False
    try:
        for raw in batch:
            await ana.raw(raw)
        await ana.send("ping", ref="barrier")
        await ana.expect("pong", ref="barrier", within=10)
    except websockets.ConnectionClosed:
        closed = True
    await out.send("ping", ref="barrier")
    await out.expect("pong", ref="barrier")
    if closed:
        code, _ = await ana.closed()
        assert code in (1008, 1009), f"closed with {code}"

    # 1. Never crashed: a new socket works.
    check = await Client.open(server, world.tokens["ben"])
    await check.send("ping", ref="alive")
    await check.expect("pong", ref="alive")
    await check.close()

    # 2. Every ack names a committed row with that seq and client id.
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as db:
            for ack in [f for f in ana.seen if f["type"] == "ack"]:
                row = await db.scalar(
                    select(RoomMessage.client_id).where(
                        RoomMessage.room_id == ack["room"],
                        RoomMessage.seq == ack["seq"],
                        RoomMessage.sender_id == world.users["ana"],
                    )
                )
                assert row == ack["client_id"], ack
            leaked = await db.scalar(
                select(RoomMessage.seq).where(
                    RoomMessage.room_id == world.other_group_id,
                    RoomMessage.sender_id == world.users["ana"],
                )
            )
            assert leaked is None, "wrote into a room she is not in"
    finally:
        await engine.dispose()

    # 3. No room's messages reach someone outside it; nothing went wrong inside.
    for frame in ana.seen:
        assert not (frame["type"] == "error" and frame["code"] == "internal"), frame
        if frame["type"] in ("message", "history", "subscribed", "typing", "presence", "synced"):
            assert frame["room"] == world.group_id, frame
    for frame in out.seen:
        if "room" in frame and frame["type"] != "error":
            assert frame["room"] == world.other_group_id, frame
    ana.abort()
    out.abort()


def test_random_frames_never_crash_leak_or_ack_uncommitted(
    server: RTServer, world: World, db_url: str
) -> None:
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(batch=st.lists(frames((world.group_id, world.other_group_id)), min_size=1, max_size=8))
    def run(batch: list[str | bytes]) -> None:
        run_sync(scenario, server, world, db_url, batch)
        examples.append(len(batch))

    examples: list[int] = []
    run()
    assert len(examples) >= 10, "hypothesis ran the scenario"
