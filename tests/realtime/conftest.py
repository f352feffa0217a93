"""Fixtures for the real-time tests: a real PeerHub (uvicorn + the WebSocket server)
on free ports, people and groups written straight to the database, and a client
that checks every frame it receives against the protocol's JSON Schemas.

No sleeps: tests wait for frames (with time-outs) or poll a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import jsonschema
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect

from peerhub.accounts.models_2fa import TwoFactor
from peerhub.app import create_app
from peerhub.config import Settings
from peerhub.context import Clock
from peerhub.models import (
    Group,
    GroupMember,
    Organisation,
    OrganisationOrganiser,
    User,
)
from peerhub.moderation.frames import server_schemas as moderation_schemas
from peerhub.realtime.config import RealtimeConfig
from peerhub.realtime.policy import Extension
from peerhub.realtime.protocol import server_schemas
from peerhub.realtime.service import Realtime
from peerhub.security.signins import start_sign_in
from tests.conftest import TEST_TOTP_SECRET, FakeClock, free_port, make_settings

# Generous limits for tests that are not about limits.
TEST_CONFIG = RealtimeConfig(
    send_rate=200.0,
    send_burst=200,
    frame_rate=500.0,
    frame_burst=1000,
    presence_flush=0.02,
    tail_check_every=0.5,
    revalidate_every=3600.0,
    freeze_gc=False,
)

RULES = "Be kind.\nWhat is said here stays here."


class RTServer:
    """PeerHub on a free port (uvicorn in a thread), its WebSocket server on another."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        config: RealtimeConfig = TEST_CONFIG,
        port: int | None = None,
        ws_port: int | None = None,
        extra_origins: tuple[str, ...] = (),
        extensions: tuple[Extension, ...] = (),
    ) -> None:
        import uvicorn

        self.port = port or free_port()
        self.ws_port = ws_port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        settings = settings.with_overrides(
            base_url=self.base,
            allowed_origins=(self.base, *extra_origins),
            extra={**settings.extra, "realtime": config, "ws_port": self.ws_port},
        )
        self.settings = settings
        self.app = create_app(settings, **({"clock": clock} if clock else {}))
        for extension in extensions:
            extension.setup(self.app.state.realtime_registry)
        cfg = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}/ws"

    @property
    def rt(self) -> Realtime:
        service: Realtime = self.app.state.realtime
        return service

    def __enter__(self) -> RTServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@dataclass
class World:
    group_id: str
    slug: str
    other_group_id: str
    users: dict[str, str] = field(default_factory=dict)  # name -> user id
    tokens: dict[str, str] = field(default_factory=dict)  # name -> session cookie token
    sign_in_ids: dict[str, str] = field(default_factory=dict)


async def make_world(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    *,
    rules: str = RULES,
    members: tuple[str, ...] = ("ana", "ben", "cat"),
) -> World:
    """Group "Tuesday Talk" (ana, ben, cat members; mo moderator; olga organiser) and
    "Other Room" (out, a member there only)."""
    async with sessions() as db, db.begin():
        # Verified: the rooms of an organisation PeerHub has not checked are closed.
        org = Organisation(slug="calder", name="Calder Peer Network", verified_at=now)
        db.add(org)
        await db.flush()
        common = {
            "organisation_id": org.id,
            "format": "online",
            "dtstart_local": "2026-10-20T18:00:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            "time_zone": "Europe/London",
            "duration_minutes": 90,
        }
        group = Group(slug="tuesday-talk", name="Tuesday Talk", ground_rules=rules, **common)
        other = Group(slug="other-room", name="Other Room", ground_rules="", **common)
        db.add_all([group, other])
        await db.flush()
        world = World(group.id, group.slug, other.id)
        for name in (*members, "mo", "olga", "out"):
            user = User(pseudonym=name.title(), pseudonym_key=name, password_hash="x")
            db.add(user)
            await db.flush()
            world.users[name] = user.id
            new = await start_sign_in(db, settings, user, now)
            world.tokens[name] = new.token
            world.sign_in_ids[name] = new.row.id
        for name in members:
            db.add(GroupMember(group_id=group.id, user_id=world.users[name], role="member"))
        db.add(GroupMember(group_id=group.id, user_id=world.users["mo"], role="moderator"))
        db.add(GroupMember(group_id=other.id, user_id=world.users["out"], role="member"))
        db.add(OrganisationOrganiser(organisation_id=org.id, user_id=world.users["olga"]))
        # Their roles need two-step sign-in (docs/two-factor.md): set up, as in life.
        for name in ("mo", "olga"):
            db.add(TwoFactor(user_id=world.users[name], secret=TEST_TOTP_SECRET, confirmed_at=now))
    return world


VALIDATORS = {
    name: jsonschema.Draft202012Validator(s)
    for name, s in {**server_schemas(), **moderation_schemas()}.items()
}


def check_frame(frame: dict[str, Any]) -> None:
    kind = frame.get("type")
    assert kind in VALIDATORS, f"unknown server frame {kind!r}"
    errors = sorted(VALIDATORS[kind].iter_errors(frame), key=str)
    assert not errors, f"{kind} frame breaks its schema: {errors[0].message} in {frame}"


class Listening(Protocol):
    """What Client.open needs of a server: an RTServer, or where a killed one listened."""

    @property
    def ws_url(self) -> str: ...
    @property
    def base(self) -> str: ...
    @property
    def settings(self) -> Settings: ...


class Client:
    """A real WebSocket client that keeps what it received and waits for frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.backlog: deque[dict[str, Any]] = deque()
        self.seen: list[dict[str, Any]] = []
        self.batches = 0

    @classmethod
    async def open(
        cls,
        server: Listening,
        token: str | None,
        *,
        origin: str | None = "default",
        **kwargs: Any,
    ) -> Client:
        headers = {}
        if token is not None:
            headers["Cookie"] = f"{server.settings.sign_in_cookie_name}={token}"
        kwargs.setdefault("max_queue", 4096)
        ws = await connect(
            server.ws_url,
            origin=server.base if origin == "default" else origin,  # type: ignore[arg-type]
            additional_headers=headers,
            compression=None,
            open_timeout=5,
            close_timeout=1,
            **kwargs,
        )
        client = cls(ws)
        await client.expect("welcome")
        return client

    async def send(self, frame_type: str, **fields: Any) -> None:
        await self.ws.send(json.dumps({"v": 1, "type": frame_type, **fields}))

    async def raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    def _take(self, raw: str | bytes) -> None:
        frame = json.loads(raw)
        check_frame(frame)
        if frame["type"] == "batch":
            self.batches += 1
            for inner in frame["frames"]:
                check_frame(inner)
                self.backlog.append(inner)
                self.seen.append(inner)
        else:
            self.backlog.append(frame)
            self.seen.append(frame)

    async def next(self, within: float = 5.0) -> dict[str, Any]:
        while not self.backlog:
            raw = await asyncio.wait_for(self.ws.recv(), within)
            self._take(raw)
        return self.backlog.popleft()

    async def expect(
        self,
        frame_type: str | tuple[str, ...],
        within: float = 5.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """The first frame of this type (or types, and these field values), skipping others."""
        types = (frame_type,) if isinstance(frame_type, str) else frame_type
        deadline = time.monotonic() + within
        kept: list[dict[str, Any]] = []
        try:
            while True:
                left = deadline - time.monotonic()
                try:
                    if left <= 0:
                        raise TimeoutError
                    frame = await self.next(left)
                except TimeoutError:
                    raise TimeoutError(
                        f"no {frame_type} {match} frame; saw {self.summary()}"
                    ) from None
                if (
                    frame["type"] in types
                    and all(frame.get(k) == v for k, v in match.items())
                    and (where is None or where(frame))
                ):
                    return frame
                kept.append(frame)
        finally:
            self.backlog.extendleft(reversed(kept))

    def drop(self, frame_type: str) -> None:
        self.backlog = deque(f for f in self.backlog if f["type"] != frame_type)

    async def messages(self, room: str, count: int, within: float = 10.0) -> list[dict[str, Any]]:
        """The next ``count`` message frames of a room, in the order received."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(out)}/{count} messages; saw {self.summary()}")
            out.append(await self.expect("message", left, room=room))
        return out

    async def subscribe(self, room: str, after: int | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"room": room}
        if after is not None:
            fields["after"] = after
        await self.send("subscribe", **fields)
        sub = await self.expect("subscribed", room=room)
        return sub

    async def synced(self, room: str) -> dict[str, Any]:
        return await self.expect("synced", room=room)

    async def join(self, room: str, after: int | None = None) -> dict[str, Any]:
        """Subscribe and wait until caught up; accept the rules if asked to."""
        sub = await self.subscribe(room, after)
        await self.synced(room)
        if not sub["rules"]["accepted"]:
            await self.send("rules.accept", room=room, version=sub["rules"]["version"])
            await self.expect("rules.accepted", room=room)
        return sub

    async def say(self, room: str, body: str, client_id: str) -> dict[str, Any]:
        await self.send("send", room=room, client_id=client_id, body=body)
        return await self.expect("ack", client_id=client_id)

    def summary(self) -> str:
        def short(f: dict[str, Any]) -> str:
            if f["type"] in ("error", "message"):
                return f"{f['type']}:{f.get('code') or f.get('seq')}"
            if f["type"] == "room":
                return f"room:{'w' if f['state']['writable'] else 'r'}"
            return str(f["type"])

        return ", ".join(short(f) for f in self.seen[-16:])

    async def close(self) -> None:
        await self.ws.close()

    def abort(self) -> None:
        self.ws.transport.abort()

    async def closed(self, within: float = 5.0) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket; its close code and reason."""
        try:
            async with asyncio.timeout(within):
                while True:
                    self._take(await self.ws.recv())
        except websockets.ConnectionClosed:
            pass
        rcvd = self.ws.protocol.close_rcvd
        return (rcvd.code, rcvd.reason) if rcvd else (None, None)


async def wait_for(predicate: Callable[[], bool], within: float = 5.0, what: str = "") -> None:
    """Poll a condition with a deadline (for state that sends no frame)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


@pytest.fixture
def rt_clock() -> FakeClock:
    # A Tuesday, an hour before the weekly session.
    return FakeClock(datetime(2026, 11, 3, 17, 0, tzinfo=UTC))


@pytest.fixture
def rt_settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
async def world(
    sessions: async_sessionmaker[AsyncSession], rt_settings: Settings, rt_clock: FakeClock
) -> World:
    return await make_world(sessions, rt_settings, rt_clock())


@pytest.fixture
def server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    with RTServer(rt_settings, clock=rt_clock) as srv:
        yield srv


@pytest.fixture
async def connect_as(server: RTServer, world: World) -> AsyncIterator[Any]:
    opened: list[Client] = []

    async def open_as(name: str, **kwargs: Any) -> Client:
        client = await Client.open(server, world.tokens[name], **kwargs)
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        client.abort()


async def joined(connect_as: Any, room: str, *names: str) -> list[Client]:
    """Sockets for these people (``connect_as``, closed after the test), each subscribed
    to the room (rules accepted)."""
    clients = [await connect_as(name) for name in names]
    for client in clients:
        await client.join(room)
    return clients


def later(clock: FakeClock, **delta: float) -> None:
    clock.now += timedelta(**delta)


async def in_server(server: RTServer, fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` (a coroutine function) in the server's event loop and await it here."""
    loop = server.rt.loop
    assert loop is not None
    future = asyncio.run_coroutine_threadsafe(fn(), loop)
    return await asyncio.wrap_future(future)
