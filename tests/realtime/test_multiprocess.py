"""Two PeerHub processes and a real Redis: fan-out across processes, gap filling, control
events, presence, and a process killed with SIGKILL mid-stream (0 lost, 0 duplicated)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import realtime
from peerhub.config import Settings
from tests.conftest import REPO, free_port
from tests.realtime.conftest import Client, RTServer, World, in_server, make_world

Sessions = async_sessionmaker[AsyncSession]
ORIGIN = "http://peerhub.test"


@pytest.fixture
async def live_world(sessions: Sessions, rt_settings: Settings) -> World:
    # The real clock: the second process has no fake one.
    return await make_world(sessions, rt_settings, datetime.now(UTC), rules="")


@pytest.fixture
def pair(rt_settings: Settings, redis_url: str, live_world: World) -> Iterator[list[RTServer]]:
    settings = rt_settings.with_overrides(redis_url=redis_url)
    with (
        RTServer(settings, extra_origins=(ORIGIN,)) as a,
        RTServer(settings, extra_origins=(ORIGIN,)) as b,
    ):
        yield [a, b]


async def open_on(server: RTServer, world: World, name: str) -> Client:
    return await Client.open(server, world.tokens[name], origin=ORIGIN)


async def test_messages_cross_processes_in_order(pair: list[RTServer], live_world: World) -> None:
    a, b = pair
    world = live_world
    ana, ben = await open_on(a, world, "ana"), await open_on(b, world, "ben")
    cat_a, cat_b = await open_on(a, world, "cat"), await open_on(b, world, "cat")
    for client in (ana, ben, cat_a, cat_b):
        await client.join(world.group_id)

    async def talk(client: Client, tag: str) -> None:
        for i in range(15):
            await client.send("send", room=world.group_id, client_id=f"{tag}-{i:08d}", body=tag)

    await asyncio.gather(talk(ana, "from-a"), talk(ben, "from-b"))
    for client in (ana, ben, cat_a, cat_b):
        got = await client.messages(world.group_id, 30)
        assert [m["seq"] for m in got] == list(range(1, 31))
        assert sorted(m["body"] for m in got) == ["from-a"] * 15 + ["from-b"] * 15
    for client in (ana, ben, cat_a, cat_b):
        await client.close()


async def test_a_lost_bus_message_is_filled_from_the_database(
    pair: list[RTServer], live_world: World
) -> None:
    a, b = pair
    world = live_world
    ana, ben = await open_on(a, world, "ana"), await open_on(b, world, "ben")
    await ana.join(world.group_id)
    await ben.join(world.group_id)
    hub_b = b.rt.hub
    real = hub_b.on_event
    lost: list[int] = []

    def lossy(event: Any) -> None:
        if not lost:
            lost.append(event.seq)  # Redis pub/sub is at-most-once
            return
        real(event)

    hub_b.on_event = lossy  # type: ignore[method-assign]
    try:
        for i in range(3):
            await ana.say(world.group_id, f"hop {i}", f"hop-{i:08d}")
        got = await ben.messages(world.group_id, 3)
    finally:
        hub_b.on_event = real  # type: ignore[method-assign]
    assert [m["body"] for m in got] == ["hop 0", "hop 1", "hop 2"]
    assert lost, "a message was dropped on the way"
    await ana.close()
    await ben.close()


async def test_control_events_and_presence_reach_the_other_process(
    pair: list[RTServer], live_world: World
) -> None:
    a, b = pair
    world = live_world
    ana, mo = await open_on(a, world, "ana"), await open_on(b, world, "mo")
    await ana.join(world.group_id)
    await mo.join(world.group_id)
    seen = await ana.expect(
        "presence", where=lambda f: any(p["name"] == "Mo" for p in f["joined"]), within=10
    )
    assert seen["room"] == world.group_id
    await in_server(a, lambda: realtime.disconnect_user(a.app, world.users["mo"]))
    assert (await mo.closed())[0] == 1008
    await ana.expect("presence", where=lambda f: world.users["mo"] in f["left"], within=10)
    await ana.close()


def _peerhub(
    port: int, ws_port: int, db_url: str, redis_url: str, data: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PEERHUB_DATABASE_URL": db_url,
        "PEERHUB_REDIS_URL": redis_url,
        "PEERHUB_SECRET_KEY": "test-secret-key-" + "x" * 40,
        "PEERHUB_BASE_URL": f"http://127.0.0.1:{port}",
        "PEERHUB_ALLOWED_ORIGINS": ORIGIN,
        "PEERHUB_DATA_DIR": str(data),
        "PEERHUB_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peerhub",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws-port",
            str(ws_port),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while True:
            assert proc.poll() is None, "the PeerHub process exited"
            try:
                if (await http.get(f"http://127.0.0.1:{port}/api/realtime")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the PeerHub process did not start"
            await asyncio.sleep(0.05)


class Stub:
    """Enough of an RTServer for Client.open: where the killed process listens."""

    def __init__(self, port: int, ws_port: int, settings: Settings) -> None:
        self.ws_url = f"ws://127.0.0.1:{ws_port}/ws"
        self.base = ORIGIN
        self.settings = settings


async def test_a_process_killed_mid_stream_loses_and_duplicates_nothing(
    rt_settings: Settings,
    redis_url: str,
    live_world: World,
    db_url: str,
    tmp_path: Path,
) -> None:
    world = live_world
    port, ws_port = free_port(), free_port()
    proc = _peerhub(port, ws_port, db_url, redis_url, tmp_path / "victim")
    settings = rt_settings.with_overrides(redis_url=redis_url)
    try:
        with RTServer(settings, extra_origins=(ORIGIN,)) as survivor:
            await _ready(port, proc)
            victim = Stub(port, ws_port, survivor.settings)
            watchers = [
                await Client.open(victim, world.tokens[n], origin=ORIGIN) for n in ("cat", "mo")
            ]
            ana = await Client.open(victim, world.tokens["ana"], origin=ORIGIN)
            ben = await open_on(survivor, world, "ben")
            for client in (*watchers, ana, ben):
                await client.join(world.group_id)

            acked: dict[str, int] = {}
            unacked: list[str] = []
            # Ana (on the victim) sends without waiting for acks; Ben (on the survivor)
            # sends throughout. The victim is killed half-way.
            for i in range(20):
                cid = f"ana-{i:08d}"
                await ana.send("send", room=world.group_id, client_id=cid, body=f"a{i}")
                unacked.append(cid)
                ack = await ben.say(world.group_id, f"b{i}", f"ben-{i:08d}")
                acked[f"ben-{i:08d}"] = ack["seq"]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            for i in range(20, 40):
                ack = await ben.say(world.group_id, f"b{i}", f"ben-{i:08d}")
                acked[f"ben-{i:08d}"] = ack["seq"]

            # Ana's client reconnects to the survivor and retries what was not acked,
            # with the same client ids.
            for frame in list(ana.seen) + list(ana.backlog):
                if frame["type"] == "ack":
                    acked[frame["client_id"]] = frame["seq"]
            try:
                while True:
                    ana._take(await asyncio.wait_for(ana.ws.recv(), 1))
            except (websockets.ConnectionClosed, TimeoutError):
                pass
            for frame in ana.seen:
                if frame["type"] == "ack":
                    acked[frame["client_id"]] = frame["seq"]
            ana2 = await open_on(survivor, world, "ana")
            await ana2.join(world.group_id, after=10**6)
            for cid in unacked:
                if cid not in acked:
                    ack = await ana2.say(world.group_id, f"a{int(cid[4:])}", cid)
                    acked[cid] = ack["seq"]
            total = len(acked)
            assert total == 60

            for watcher in watchers:
                try:
                    while True:
                        watcher._take(await asyncio.wait_for(watcher.ws.recv(), 1))
                except (websockets.ConnectionClosed, TimeoutError):
                    pass
                before = [f["seq"] for f in watcher.seen if f["type"] == "message"]
                assert before == sorted(set(before)), "no duplicates before the crash"
                resumed = await Client.open(
                    survivor, world.tokens["cat" if watcher is watchers[0] else "mo"], origin=ORIGIN
                )
                await resumed.send("resume", rooms={world.group_id: before[-1] if before else 0})
                rest = await resumed.messages(world.group_id, total - len(before), within=15)
                everything = before + [m["seq"] for m in rest]
                assert everything == list(range(1, total + 1)), "0 lost, 0 duplicated"
                await resumed.close()
            assert sorted(acked.values()) == list(range(1, total + 1))
            await ben.close()
            await ana2.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
