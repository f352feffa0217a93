"""Issue 10, point 3: a catch-up is paced by the socket's own drain, so a client that
reads is never cut off whatever it missed; a client that stops reading is still
closed, and what it sees is what docs/protocol.md says (1013, or 1006 once it has
stopped reading for longer than the close grace)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.realtime.hub import Peer
from peerhub.realtime.models import Room, RoomMessage
from tests.conftest import FakeClock
from tests.realtime.conftest import TEST_CONFIG, Client, RTServer, World, wait_for

Sessions = async_sessionmaker[AsyncSession]
BIG = 3900  # characters: under the 4,000 limit, so 450 of them are about 1.8 MB


async def seed(sessions: Sessions, room: str, sender: str, count: int, size: int = BIG) -> None:
    """``count`` large messages already in the room's log (as if sent while away)."""
    at = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)
    async with sessions() as db, db.begin():
        db.add(Room(id=room, next_seq=count + 1))
        db.add_all(
            RoomMessage(
                room_id=room,
                seq=seq,
                sender_id=sender,
                client_id=f"seed-{seq:08d}",
                body=f"{seq:05d}" + "m" * (size - 5),
                created_at=at,
            )
            for seq in range(1, count + 1)
        )


async def open_small(server: RTServer, token: str, **kwargs: Any) -> Client:
    """A client whose socket has a small receive buffer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.ws_port))
    return await Client.open(server, token, sock=sock, **kwargs)


def shrink_server_side(server: RTServer, user_id: str) -> Peer:
    """The server's end of the person's socket gets a small send buffer."""
    peer: Peer = next(iter(server.rt.hub.peers_of(user_id)))
    sock = peer.conn.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    return peer


async def test_a_reading_client_catches_up_on_450_large_messages_and_stays_open(
    server: RTServer, world: World, sessions: Sessions
) -> None:
    await seed(sessions, world.group_id, world.users["ben"], 450)
    # Small kernel buffers on both sides (as on a phone's link): what does not fit
    # waits in the server's outbox, so an unpaced catch-up of 1.8 MB overflows it.
    ana = await open_small(server, world.tokens["ana"])
    shrink_server_side(server, world.users["ana"])
    await ana.send("resume", rooms={world.group_id: 0})
    sub = await ana.expect("subscribed", room=world.group_id)
    assert sub["limited"] is False and sub["latest_seq"] == 450
    got = await ana.messages(world.group_id, 450, within=60)
    assert [m["seq"] for m in got] == list(range(1, 451))
    assert all(m["body"].startswith(f"{m['seq']:05d}") and len(m["body"]) == BIG for m in got)
    await ana.synced(world.group_id)
    # Still open, and live: a ping is answered and a new message arrives.
    await ana.send("ping", ref="after-catch-up")
    await ana.expect("pong", ref="after-catch-up")
    ben = await Client.open(server, world.tokens["ben"])
    await ben.join(world.group_id, after=450)
    await ben.say(world.group_id, "still here", "live-00000001")
    assert (await ana.expect("message", room=world.group_id))["seq"] == 451
    assert ana.ws.close_code is None
    await ana.close()
    await ben.close()


@pytest.fixture
def strict_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    """Small queues, a short stall limit and close grace: the slow-consumer paths, fast."""
    config = TEST_CONFIG.with_overrides(
        queue_frames=16,
        queue_bytes=256 * 1024,
        write_limit=8192,
        stall_timeout=1.0,
        close_grace=0.5,
    )
    with RTServer(rt_settings, clock=rt_clock, config=config) as srv:
        yield srv


async def gone(server: RTServer, user_id: str, within: float) -> None:
    """The server has let go of the person's socket (its place is free again)."""
    await wait_for(lambda: user_id not in server.rt.hub.by_user, within, "the socket to go")


async def test_a_client_that_stops_reading_mid_stream_is_dropped_and_sees_1006(
    strict_server: RTServer, world: World
) -> None:
    server = strict_server
    ana = await Client.open(server, world.tokens["ana"])
    await ana.join(world.group_id)
    ben = await open_small(server, world.tokens["ben"], max_queue=1)
    await ben.join(world.group_id)
    peer = shrink_server_side(server, world.users["ben"])
    ben.ws.transport.pause_reading()  # Ben stops reading, and does not come back soon
    body = "x" * 3900
    sent = 0
    while not peer.closing:
        await ana.say(world.group_id, body, f"away-{sent:06d}")
        sent += 1
        assert sent < 2000, "the client that stopped reading was never closed"
    assert peer.close_code == 1013
    # Its 1013 waits behind what it did not read; after the close grace the server
    # drops the connection, so the socket's place is not held for ever.
    await gone(server, world.users["ben"], within=5)
    ben.ws.transport.resume_reading()
    code, _ = await ben.closed(within=10)
    assert code is None and ben.ws.close_code == 1006  # no close frame: "abnormal"
    got = [f["seq"] for f in ben.seen if f["type"] == "message"]
    assert got == list(range(1, len(got) + 1)), "what did arrive was in order"
    # As docs/protocol.md says: reconnect at once and resume; nothing is lost.
    ben2 = await Client.open(server, world.tokens["ben"])
    await ben2.send("resume", rooms={world.group_id: got[-1] if got else 0})
    rest = await ben2.messages(world.group_id, sent - len(got))
    assert got + [m["seq"] for m in rest] == list(range(1, sent + 1))
    await ana.close()
    await ben2.close()


async def test_a_client_that_stops_reading_during_its_catch_up_is_closed_in_a_quiet_room(
    strict_server: RTServer, world: World, sessions: Sessions
) -> None:
    """No live traffic to fill its queue: the stalled send itself gives it away."""
    server = strict_server
    await seed(sessions, world.group_id, world.users["ana"], 450)
    ben = await open_small(server, world.tokens["ben"], max_queue=1)
    peer = shrink_server_side(server, world.users["ben"])
    ben.ws.transport.pause_reading()
    await ben.send("resume", rooms={world.group_id: 0})
    await wait_for(lambda: peer.closing, 10, "the stalled socket to be closed")
    assert peer.close_code == 1013
    await gone(server, world.users["ben"], within=5)
    # Paced: it was never sent more than its buffers and half its queue could hold.
    ben.ws.transport.resume_reading()
    code, _ = await ben.closed(within=10)
    assert ben.ws.close_code == 1006 and code is None
    got = [f["seq"] for f in ben.seen if f["type"] == "message"]
    assert got == list(range(1, len(got) + 1)) and len(got) < 450
    ben2 = await Client.open(server, world.tokens["ben"])
    await ben2.send("resume", rooms={world.group_id: got[-1] if got else 0})
    rest = await ben2.messages(world.group_id, 450 - len(got), within=30)
    assert got + [m["seq"] for m in rest] == list(range(1, 451))
    await ben2.close()
