"""Points 2–5: idempotent sends, order and durability, resume, fan-out and slow clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.realtime.events import Event
from peerhub.realtime.hub import Peer
from peerhub.realtime.models import Room, RoomMessage
from tests.conftest import FakeClock
from tests.realtime.conftest import (
    TEST_CONFIG,
    Client,
    RTServer,
    World,
    in_server,
    wait_for,
)

Sessions = async_sessionmaker[AsyncSession]


async def rows(sessions: Sessions, room: str) -> list[tuple[int, str, str]]:
    async with sessions() as db:
        result = await db.execute(
            select(RoomMessage.seq, RoomMessage.client_id, RoomMessage.body)
            .where(RoomMessage.room_id == room)
            .order_by(RoomMessage.seq)
        )
        return [tuple(r) for r in result]  # type: ignore[misc]


async def test_a_retry_gets_the_original_ack_and_no_second_message(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    first = await ana.say(world.group_id, "Only once, please", "retry-0000001")
    again = await ana.say(world.group_id, "Only once, please", "retry-0000001")
    assert not first["duplicate"] and again["duplicate"]
    assert again["seq"] == first["seq"] and again["at"] == first["at"]
    # From a new socket too (the browser reconnected before it saw the ack).
    await ana.close()
    ana2 = await connect_as("ana")
    await ana2.join(world.group_id, after=first["seq"])
    third = await ana2.say(world.group_id, "Only once, please", "retry-0000001")
    assert third["duplicate"] and third["seq"] == first["seq"]
    # A marker sent afterwards shows Ben got exactly one copy before it.
    await ana2.say(world.group_id, "marker", "retry-0000002")
    await ben.expect("message", client_id="retry-0000002")
    copies = [f for f in ben.seen if f["type"] == "message" and f["client_id"] == "retry-0000001"]
    assert len(copies) == 1
    assert [r[1] for r in await rows(sessions, world.group_id)] == [
        "retry-0000001",
        "retry-0000002",
    ]


async def test_the_same_client_id_from_two_people_is_two_messages(
    connect_as: Any, world: World
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    a = await ana.say(world.group_id, "mine", "shared-000001")
    b = await ben.say(world.group_id, "mine too", "shared-000001")
    assert not a["duplicate"] and not b["duplicate"] and a["seq"] != b["seq"]


async def test_concurrent_senders_are_ordered_without_gaps_or_duplicates(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    senders = [await connect_as(n) for n in ("ana", "ben", "cat")]
    watcher = await connect_as("mo")
    for client in (*senders, watcher):
        await client.join(world.group_id)
    per_sender = 25

    async def burst(client: Client, name: str) -> None:
        for i in range(per_sender):
            await client.send(
                "send", room=world.group_id, client_id=f"{name}-{i:08d}", body=f"{name} {i}"
            )

    await asyncio.gather(*(burst(c, n) for c, n in zip(senders, "abc", strict=True)))
    total = per_sender * len(senders)
    got = await watcher.messages(world.group_id, total)
    assert [m["seq"] for m in got] == list(range(1, total + 1))
    for name in "abc":
        mine = [int(m["body"].split()[1]) for m in got if m["body"].startswith(name + " ")]
        assert mine == list(range(per_sender)), "one sender's messages stay in their order"
    for client, name in zip(senders, "abc", strict=True):
        acks = [await client.expect("ack", client_id=f"{name}-{i:08d}") for i in range(per_sender)]
        assert [a["seq"] for a in acks] == sorted(a["seq"] for a in acks)
    stored = await rows(sessions, world.group_id)
    assert [r[0] for r in stored] == list(range(1, total + 1))
    async with sessions() as db:
        assert await db.scalar(select(Room.next_seq).where(Room.id == world.group_id)) == total + 1


async def test_nothing_is_acknowledged_or_delivered_unless_committed(
    connect_as: Any, server: RTServer, world: World, sessions: Sessions
) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    engine = server.rt.ctx.engine.sync_engine

    def fail_inserts(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ROOM_MESSAGES"):
            raise RuntimeError("injected failure after the seq was taken")

    event.listen(engine, "before_cursor_execute", fail_inserts)
    try:
        await ana.send("send", room=world.group_id, client_id="doomed-00001", body="lost?")
        err = await ana.expect("error", client_id="doomed-00001")
        assert err["code"] == "internal"
    finally:
        event.remove(engine, "before_cursor_execute", fail_inserts)
    assert not [f for f in ana.seen if f["type"] == "ack"]
    assert await rows(sessions, world.group_id) == []
    # The counter rolled back with the insert: the retry takes seq 1, no hole.
    ack = await ana.say(world.group_id, "lost?", "doomed-00001")
    assert ack["seq"] == 1 and not ack["duplicate"]
    got = await ben.expect("message", client_id="doomed-00001")
    assert got["seq"] == 1
    assert len([f for f in ben.seen if f["type"] == "message"]) == 1


async def test_resume_sends_exactly_what_was_missed_in_order(connect_as: Any, world: World) -> None:
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    for i in range(5):
        await ana.say(world.group_id, f"m{i}", f"first-{i:06d}")
    seen = await ben.messages(world.group_id, 5)
    last = seen[-1]["seq"]
    await ben.close()
    for i in range(3):
        await ana.say(world.group_id, f"n{i}", f"later-{i:06d}")
    ben2 = await connect_as("ben")
    await ben2.send("resume", rooms={world.group_id: last})
    sub = await ben2.expect("subscribed", room=world.group_id)
    assert sub["limited"] is False and sub["latest_seq"] == last + 3
    missed = await ben2.messages(world.group_id, 3)
    assert [m["seq"] for m in missed] == [last + 1, last + 2, last + 3]
    synced = await ben2.synced(world.group_id)
    assert synced["seq"] == last + 3
    # Then live, with no repeat of anything already sent.
    await ana.say(world.group_id, "live", "live-00000001")
    live = await ben2.expect("message", client_id="live-00000001")
    assert live["seq"] == last + 4
    seqs = [f["seq"] for f in ben2.seen if f["type"] == "message"]
    assert seqs == sorted(set(seqs))


@pytest.fixture
def small_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    config = TEST_CONFIG.with_overrides(resume_max=20, page_size=5, ring_size=8)
    with RTServer(rt_settings, clock=rt_clock, config=config) as srv:
        yield srv


async def test_resume_too_far_behind_is_limited_and_pages_back(
    small_server: RTServer, world: World
) -> None:
    ana = await Client.open(small_server, world.tokens["ana"])
    await ana.join(world.group_id)
    for i in range(30):
        await ana.send("send", room=world.group_id, client_id=f"bulk-{i:06d}", body=f"b{i}")
    await ana.expect("ack", client_id="bulk-000029")
    ben = await Client.open(small_server, world.tokens["ben"])
    await ben.send("resume", rooms={world.group_id: 2})  # missed 28 > resume_max 20
    sub = await ben.expect("subscribed", room=world.group_id)
    assert sub["limited"] is True and sub["latest_seq"] == 30
    page = await ben.messages(world.group_id, 5)
    assert [m["seq"] for m in page] == [26, 27, 28, 29, 30]
    await ben.synced(world.group_id)
    await ben.send("history", room=world.group_id, before_seq=26, limit=10)
    older = await ben.expect("history", room=world.group_id)
    assert [m["seq"] for m in older["messages"]] == list(range(16, 26)) and older["more"]
    await ben.send("history", room=world.group_id, before_seq=16, limit=100)
    oldest = await ben.expect("history", room=world.group_id, before_seq=16)
    assert [m["seq"] for m in oldest["messages"]] == list(range(1, 16))
    assert oldest["more"] is False
    # Within the bound: a plain resume (from the database: the ring holds only 8).
    carl = await Client.open(small_server, world.tokens["cat"])
    await carl.send("resume", rooms={world.group_id: 12})
    sub = await carl.expect("subscribed", room=world.group_id)
    assert sub["limited"] is False
    assert [m["seq"] for m in await carl.messages(world.group_id, 18)] == list(range(13, 31))
    for client in (ana, ben, carl):
        await client.close()


async def test_first_visit_gets_the_latest_page(small_server: RTServer, world: World) -> None:
    ana = await Client.open(small_server, world.tokens["ana"])
    await ana.join(world.group_id)
    for i in range(7):
        await ana.say(world.group_id, f"p{i}", f"page-{i:07d}")
    ben = await Client.open(small_server, world.tokens["ben"])
    sub = await ben.subscribe(world.group_id)  # no "after": the newest page
    assert sub["limited"] is True
    assert [m["seq"] for m in await ben.messages(world.group_id, 5)] == [3, 4, 5, 6, 7]
    await ana.close()
    await ben.close()


async def test_a_lost_fan_out_is_filled_from_the_log(
    server: RTServer, world: World, connect_as: Any, sessions: Sessions
) -> None:
    """An event that never reaches this process's hub (a lost bus message) still arrives."""
    ana, ben = await connect_as("ana"), await connect_as("ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    await ana.say(world.group_id, "one", "gap-00000001")
    rt = server.rt
    real = rt.hub.on_event
    dropped: list[int] = []

    def lossy(event: Event) -> None:
        if event.seq == 2:
            dropped.append(event.seq)  # lost on the way
            return
        real(event)

    rt.hub.on_event = lossy  # type: ignore[method-assign]
    try:
        await ana.say(world.group_id, "two", "gap-00000002")
        await ana.say(world.group_id, "three", "gap-00000003")
        got = await ben.messages(world.group_id, 3)
    finally:
        rt.hub.on_event = real  # type: ignore[method-assign]
    assert dropped == [2]
    assert [m["body"] for m in got] == ["one", "two", "three"]
    # The last event lost, with nothing after it: the tail check finds it.
    rt.hub.on_event = lambda event: None  # type: ignore[method-assign]
    try:
        await ana.say(world.group_id, "four", "gap-00000004")
        await in_server(server, rt.tail_check)
    finally:
        rt.hub.on_event = real  # type: ignore[method-assign]
    assert (await ben.expect("message", client_id="gap-00000004"))["seq"] == 4


@pytest.fixture
def tight_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    config = TEST_CONFIG.with_overrides(queue_frames=16, queue_bytes=256 * 1024, write_limit=8192)
    with RTServer(rt_settings, clock=rt_clock, config=config) as srv:
        yield srv


async def test_a_slow_client_is_closed_with_1013_and_resumes_without_loss(
    tight_server: RTServer, world: World
) -> None:
    server = tight_server
    ana = await Client.open(server, world.tokens["ana"])
    await ana.join(world.group_id)
    # Ben reads nothing: a tiny receive buffer, and websockets stops reading after 1 frame.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.ws_port))
    ben = await Client.open(server, world.tokens["ben"], sock=sock, max_queue=1)
    await ben.join(world.group_id)
    peer: Peer = next(iter(server.rt.hub.peers_of(world.users["ben"])))
    server_sock = peer.conn.transport.get_extra_info("socket")
    server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    body = "x" * 3900
    sent = 0
    while not peer.closing:
        await ana.send("send", room=world.group_id, client_id=f"slow-{sent:06d}", body=body)
        await ana.expect("ack", client_id=f"slow-{sent:06d}")
        sent += 1
        assert len(peer.outbox.queue) <= 16  # memory stays bounded
        assert sent < 2000, "the slow client was never closed"
    for i in range(5):  # more while Ben is away
        await ana.say(world.group_id, body, f"slow-{sent + i:06d}")
    total = sent + 5
    code, _ = await ben.closed(within=10)
    assert code == 1013
    got = [f["seq"] for f in ben.seen if f["type"] == "message"]
    assert got == list(range(1, len(got) + 1))
    ben2 = await Client.open(server, world.tokens["ben"])
    await ben2.send("resume", rooms={world.group_id: got[-1] if got else 0})
    rest = await ben2.messages(world.group_id, total - len(got))
    assert got + [m["seq"] for m in rest] == list(range(1, total + 1))
    await wait_for(lambda: world.users["ben"] not in server.rt.hub.by_user or True)
    await ana.close()
    await ben2.close()


async def test_queued_frames_are_coalesced_into_batch_frames(
    tight_server: RTServer, world: World
) -> None:
    server = tight_server
    ana = await Client.open(server, world.tokens["ana"])
    ben = await Client.open(server, world.tokens["ben"])
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    peer = next(iter(server.rt.hub.peers_of(world.users["ben"])))

    async def burst() -> None:
        # Fill Ben's TCP buffer from the server's loop, then queue more behind it.
        for i in range(12):
            peer.send(b'{"v":1,"type":"pong","ref":"' + str(i).encode() + b'"}')
        peer.outbox.enqueue(b'{"v":1,"type":"pong","ref":"a"}')
        peer.outbox.enqueue(b'{"v":1,"type":"pong","ref":"b"}')

    await in_server(server, burst)
    await ben.expect("pong", ref="b")
    refs = [f.get("ref") for f in ben.seen if f["type"] == "pong"]
    assert refs == [*map(str, range(12)), "a", "b"]
    assert ben.batches >= 1
    await ana.close()
    await ben.close()


async def test_the_log_count_matches_after_everything(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    for i in range(3):
        await ana.say(world.group_id, f"c{i}", f"count-{i:06d}")
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RoomMessage)) == 3
