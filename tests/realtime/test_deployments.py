"""Issue 10, point 2: deployments that share one Redis never hear each other.

Two deployments, each its own app on its own database, on one real Redis (the test
Redis, PEERHUB_TEST_REDIS_URL). Deployment B's database is a copy of A's: the same
rooms, people and sessions (as a staging copy restored from production's backup, or
two demo installs, whose ids are fixed), with A's deployment id too (a restored
copy) or its own (another install). Nothing crosses: messages, presence, typing,
control events. A process refuses to start in a namespace another deployment uses,
and a receiver drops any bus message that is not its own deployment's.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import migrate, realtime
from peerhub.app import create_app
from peerhub.config import Settings
from peerhub.db import make_engine
from peerhub.models import Base
from peerhub.realtime.deployment import NamespaceInUse
from peerhub.realtime.events import pack
from peerhub.realtime.models import Deployment
from tests.conftest import DEFAULT_PG, REPO, _pg_admin, free_port
from tests.realtime.conftest import (
    TEST_CONFIG,
    Client,
    RTServer,
    World,
    in_server,
    make_world,
    wait_for,
)

Sessions = async_sessionmaker[AsyncSession]
ORIGIN = "http://peerhub.test"


@pytest.fixture
async def live_world(sessions: Sessions, rt_settings: Settings) -> World:
    return await make_world(sessions, rt_settings, datetime.now(UTC), rules="")


@pytest.fixture
async def second_db(backend_name: str, db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """Another, empty, migrated database of the same kind (deployment B's)."""
    if backend_name == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'deployment-b.sqlite3'}"
        await migrate.upgrade(url)
        yield url
        return
    admin = os.environ.get("PEERHUB_TEST_POSTGRES_URL", DEFAULT_PG)
    name = f"peerhub_b_{os.getpid()}_{secrets.token_hex(3)}"
    await _pg_admin(admin, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(db_url).set(database=name).render_as_string(hide_password=False)
        await migrate.upgrade(url)
        yield url
    finally:
        await _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def copy_database(source: str, target: str, *, with_deployment_id: bool) -> None:
    """Every row of ``source`` into ``target``, as a restore from a backup would
    (``with_deployment_id=False``: the target keeps the deployment id it was made with)."""
    src, dst = make_engine(source), make_engine(target)
    try:
        tables = [
            t
            for t in Base.metadata.sorted_tables
            if with_deployment_id or t.name != Deployment.__tablename__
        ]
        async with src.connect() as reading, dst.begin() as writing:
            for table in reversed(tables):
                await writing.execute(delete(table))
            for table in tables:
                rows = [dict(r._mapping) for r in await reading.execute(select(table))]
                if rows:
                    await writing.execute(insert(table), rows)
    finally:
        await src.dispose()
        await dst.dispose()


class Monitor:
    """A raw Redis subscriber to every channel: which channels carry messages that
    name this test's room or people (others may share the Redis)."""

    def __init__(self, url: str, world: World) -> None:
        self.marks = [world.group_id.encode(), *(u.encode() for u in world.users.values())]
        self.client = Redis.from_url(url)
        self.pubsub: Any = self.client.pubsub()
        self.channels: dict[str, int] = {}
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Monitor:
        await self.pubsub.psubscribe("*")

        async def read() -> None:
            while True:
                message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if (
                    message
                    and message["type"] == "pmessage"
                    and any(mark in message["data"] for mark in self.marks)
                ):
                    name = message["channel"].decode()
                    self.channels[name] = self.channels.get(name, 0) + 1

        self.task = asyncio.create_task(read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.pubsub.aclose()
        await self.client.aclose()


async def open_on(server: RTServer, world: World, name: str) -> Client:
    return await Client.open(server, world.tokens[name], origin=ORIGIN)


def bodies(client: Client) -> list[str]:
    return [f["body"] for f in client.seen if f["type"] == "message"]


@pytest.mark.parametrize("restored", [True, False], ids=["restored-copy", "another-install"])
async def test_two_deployments_on_one_redis_never_cross(
    restored: bool,
    rt_settings: Settings,
    live_world: World,
    db_url: str,
    second_db: str,
    redis_url: str,
) -> None:
    world = live_world
    settings = rt_settings.with_overrides(redis_url=redis_url)
    async with Monitor(redis_url, world) as monitor:
        with RTServer(settings, extra_origins=(ORIGIN,)) as a:
            # B: a copy of A's database (rooms, people, sessions: the same ids).
            await copy_database(db_url, second_db, with_deployment_id=restored)
            with RTServer(
                settings.with_overrides(database_url=second_db), extra_origins=(ORIGIN,)
            ) as b:
                id_a, id_b = a.rt.identity, b.rt.identity
                assert id_a is not None and id_b is not None
                assert (id_a.deployment_id == id_b.deployment_id) is restored
                assert id_a.namespace != id_b.namespace and id_a.tag != id_b.tag

                ana_a, ben_a, cat_a = [await open_on(a, world, n) for n in ("ana", "ben", "cat")]
                ana_b, ben_b = [await open_on(b, world, n) for n in ("ana", "ben")]
                for client in (ana_a, ben_a, ana_b, ben_b):
                    await client.join(world.group_id)
                await cat_a.join(world.group_id)

                # Messages: each room's log is its own deployment's.
                assert (await ana_a.say(world.group_id, "only in A", "cross-a-0001"))["seq"] == 1
                assert (await ana_b.say(world.group_id, "only in B", "cross-b-0001"))["seq"] == 1
                got_a = await ben_a.expect("message", room=world.group_id)
                got_b = await ben_b.expect("message", room=world.group_id)
                assert (got_a["seq"], got_a["body"]) == (1, "only in A")
                assert (got_b["seq"], got_b["body"]) == (1, "only in B")
                # Typing and presence: Cat is only in A.
                await cat_a.send("typing", room=world.group_id)
                await ana_a.expect("typing", room=world.group_id)
                await ana_a.expect(
                    "presence", where=lambda f: any(p["name"] == "Cat" for p in f["joined"])
                )
                # Control events: Ben's sign-out in A closes his socket there only.
                await in_server(a, lambda: realtime.disconnect_user(a.app, world.users["ben"]))
                assert (await ben_a.closed())[0] == 1008
                await ben_b.send("ping", ref="still-here")
                await ben_b.expect("pong", ref="still-here")
                # And a later message in B still reaches B (its bus works throughout).
                await ana_b.say(world.group_id, "B again", "cross-b-0002")
                assert (await ben_b.expect("message", room=world.group_id))["seq"] == 2

                for client in (ana_b, ben_b):
                    assert "only in A" not in bodies(client)
                    names = {
                        p["name"]
                        for f in client.seen
                        if f["type"] in ("presence", "subscribed")
                        for p in f.get("joined", f.get("present", []))
                    }
                    assert "Cat" not in names, "A's presence reached B"
                    assert not [f for f in client.seen if f["type"] == "typing"]
                assert "only in B" not in bodies(ana_a) + bodies(cat_a)
                assert a.rt.foreign_dropped == 0 and b.rt.foreign_dropped == 0
                # Both used the one Redis, each on its own channels only.
                wanted = {id_a.rooms_channel, id_b.rooms_channel, id_a.control_channel}
                await wait_for(lambda: wanted <= set(monitor.channels), 5, "the bus messages")
                used = set(monitor.channels)
                assert all(c.startswith((f"{id_a.namespace}:", f"{id_b.namespace}:")) for c in used)
                for client in (ana_a, cat_a, ana_b, ben_b):
                    await client.close()


async def test_a_receiver_drops_bus_messages_of_another_deployment(
    rt_settings: Settings, live_world: World, redis_url: str
) -> None:
    world = live_world
    with RTServer(rt_settings.with_overrides(redis_url=redis_url), extra_origins=(ORIGIN,)) as a:
        identity = a.rt.identity
        assert identity is not None
        ana = await open_on(a, world, "ana")
        await ana.join(world.group_id)
        await ana.say(world.group_id, "first", "drop-0000001")

        def event(tag: str | None, body: str) -> bytes:
            header: dict[str, Any] = {
                "t": "m", "n": "elsewhere", "r": world.group_id, "s": 2,
                "st": "visible", "u": world.users["ben"], "k": "text",
            }  # fmt: skip
            if tag is not None:
                header["d"] = tag
            frame = {
                "v": 1, "type": "message", "room": world.group_id, "seq": 2, "kind": "text",
                "sender": {"id": world.users["ben"], "name": "Ben"}, "client_id": "intruder1",
                "body": body, "status": "visible", "at": "2026-11-03T18:00:00.000Z",
            }  # fmt: skip
            return pack(header, json.dumps(frame).encode())

        redis = Redis.from_url(redis_url)
        try:
            # On this deployment's own channel, but another deployment's (or an older
            # version's, untagged) message: never applied.
            await redis.publish(identity.rooms_channel, event("0123456789abcdef", "from another"))
            await redis.publish(identity.rooms_channel, event(None, "untagged"))
            await redis.publish(
                identity.control_channel,
                pack(
                    {"t": "c", "n": "elsewhere", "op": "core.close_user", "d": "0" * 16,
                     "p": {"user": world.users["ana"], "session": None, "code": 1008,
                           "reason": "not yours"}},
                ),
            )  # fmt: skip
            for _ in range(200):
                if a.rt.foreign_dropped >= 3:
                    break
                await asyncio.sleep(0.01)
            assert a.rt.foreign_dropped == 3
            # The same message with this deployment's tag is applied: the path is live.
            await redis.publish(identity.rooms_channel, event(identity.tag, "tagged"))
            got = await ana.expect("message", room=world.group_id, seq=2)
            assert got["body"] == "tagged"
        finally:
            await redis.aclose()
        assert "from another" not in bodies(ana) and "untagged" not in bodies(ana)
        assert ana.ws.close_code is None, "a foreign control event closed the socket"
        await ana.close()


def serve_once(db_url: str, redis_url: str, tmp_path: Path, **env: str) -> Any:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PEERHUB_")}
    environment.update(
        {
            "PEERHUB_DATABASE_URL": db_url,
            "PEERHUB_REDIS_URL": redis_url,
            "PEERHUB_SECRET_KEY": "test-secret-key-" + "x" * 40,
            "PEERHUB_DATA_DIR": str(tmp_path / "serve-data"),
            "PEERHUB_LOG_LEVEL": "WARNING",
            **env,
        }
    )
    port = free_port()
    return subprocess.run(
        [sys.executable, "-m", "peerhub", "serve", "--port", str(port), "--ws-port", "0"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=60,
        check=False,
    )


async def test_a_second_deployment_in_the_same_namespace_refuses_to_start(
    rt_settings: Settings,
    live_world: World,
    second_db: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    namespace = f"shared-{secrets.token_hex(3)}"
    config = TEST_CONFIG.with_overrides(namespace=namespace)
    settings = rt_settings.with_overrides(redis_url=redis_url)
    settings_b = settings.with_overrides(
        database_url=second_db, extra={**settings.extra, "realtime": config}
    )
    with RTServer(settings, config=config, extra_origins=(ORIGIN,)) as a:
        assert a.rt.identity is not None and a.rt.identity.namespace == namespace
        # Another process of the same deployment is welcome in its namespace.
        same = create_app(settings.with_overrides(extra={**settings.extra, "realtime": config}))
        async with same.router.lifespan_context(same):
            assert same.state.realtime.identity.tag == a.rt.identity.tag
        # Another deployment is not: the app refuses to start...
        other = create_app(settings_b)
        with pytest.raises(NamespaceInUse) as refused:
            async with other.router.lifespan_context(other):
                pass  # pragma: no cover - never reached
        assert f"'{namespace}' is already used by another PeerHub deployment" in str(refused.value)
        # ...and `peerhub serve` says so in one line.
        result = await asyncio.to_thread(
            serve_once, second_db, redis_url, tmp_path, PEERHUB_REDIS_NAMESPACE=namespace
        )
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"peerhub: error: Redis channel namespace '{namespace}'")
        assert "PEERHUB_REDIS_NAMESPACE" in lines[0]
    # Once A has stopped, the namespace is free: the claim is a live subscription.
    other = create_app(settings_b)
    async with other.router.lifespan_context(other):
        assert other.state.realtime.identity.namespace == namespace


def test_a_bad_namespace_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = serve_once(
        f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}",
        "redis://127.0.0.1:1/0",
        tmp_path,
        PEERHUB_REDIS_NAMESPACE="two words*",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peerhub: error: PEERHUB_REDIS_NAMESPACE:")
