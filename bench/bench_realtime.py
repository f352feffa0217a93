"""Benchmarks of the real-time rooms (results and method: docs/performance.md, "Real-time").

Run:  .venv/bin/python bench/bench_realtime.py [--scenario NAME ...] [--quick] [--json out.json]

Scenarios (each on a fresh PostgreSQL database, loopback only, clients in separate
processes, the server in its own process started like ``peerhub serve``):

  idle         10,000 authenticated, subscribed, idle sockets: server memory each
  small-rooms  1,000 rooms x 10 members, 500 messages/s in all: send -> last receipt
  throughput   200 rooms x 10 members at 2,000 messages/s: persisted and delivered
  large-room   one room of 1,000 at 20 messages/s; then the bare-websockets floor
               relaying pre-encoded frames to the same 1,000 clients, same rate;
               deliveries per server CPU-second for both, and the ratio
  cluster      two PeerHub processes + Redis, clients and senders on both;
               cross-process latency; one process killed with SIGKILL half-way,
               its clients resume on the other: lost and duplicated messages
  escalation   the throughput load, with an unopened crisis alert falling due half-way:
               seconds from its deadline to its first channel (the duty ladder)

Needs PostgreSQL (PEERHUB_BENCH_POSTGRES_URL, default the local server's "test"
database's server) and, for "cluster", Redis (PEERHUB_BENCH_REDIS_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.realtime.clients import Member, Plan, run  # noqa: E402
from peerhub import migrate  # noqa: E402
from peerhub.db import make_engine  # noqa: E402
from peerhub.models import Group, GroupMember, Organisation, SignIn, User  # noqa: E402
from peerhub.realtime.models import Room  # noqa: E402
from peerhub.security.tokens import digest  # noqa: E402

PG = os.environ.get(
    "PEERHUB_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS = os.environ.get("PEERHUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ORIGIN = "http://bench.peerhub.test"
COOKIE = "peerhub_session"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the database -----------------------------------------------------------------------


async def _admin(statement: str) -> None:
    engine = make_engine(PG, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@dataclass
class World:
    url: str
    name: str
    rooms: list[str]
    tokens: list[list[str]]  # per room, the members' sign-in tokens


async def _fill(url: str, rooms: int, per_room: int) -> World:
    engine = make_engine(url)
    now = datetime.now(UTC)
    world = World(url, "", [], [])
    try:
        async with engine.begin() as conn:
            org = {
                "id": "00000000-0000-4000-8000-000000000000",
                "slug": "bench",
                "name": "Bench",
                "verified_at": now,  # rooms open only in groups of checked organisations
            }
            await conn.execute(insert(Organisation), [org])
            groups, room_rows, users, sign_ins, members = [], [], [], [], []
            for r in range(rooms):
                gid = f"00000000-0000-4000-9000-{r:012d}"
                groups.append(
                    {
                        "id": gid,
                        "organisation_id": org["id"],
                        "slug": f"bench-{r}",
                        "name": f"Bench room {r}",
                        "format": "online",
                        "dtstart_local": "2026-10-20T18:00:00",
                        "rrule": "FREQ=WEEKLY;BYDAY=TU",
                        "ground_rules": "",
                        "exdates": [],
                        "time_zone": "Europe/London",
                        "duration_minutes": 90,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                room_rows.append({"id": gid, "next_seq": 1, "created_at": now})
                world.rooms.append(gid)
                tokens = []
                for m in range(per_room):
                    uid = f"00000000-0000-4000-a000-{r * per_room + m:012d}"
                    token = secrets.token_urlsafe(32)
                    tokens.append(token)
                    users.append(
                        {
                            "id": uid,
                            "pseudonym": f"Person {r}-{m}",
                            "pseudonym_key": f"person {r}-{m}",
                            "password_hash": "x",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    sign_ins.append(
                        {
                            "id": f"00000000-0000-4000-b000-{r * per_room + m:012d}",
                            "user_id": uid,
                            "token_hash": digest(token),
                            "csrf_token": "x",
                            "created_at": now,
                            "last_seen_at": now,
                            "expires_at": now + timedelta(days=1),
                        }
                    )
                    members.append(
                        {
                            "group_id": gid,
                            "user_id": uid,
                            "role": "member",
                            "status": "active",
                            "joined_at": now,
                        }
                    )
                world.tokens.append(tokens)
            for table, rows in (
                (Group, groups),
                (Room, room_rows),
                (User, users),
                (SignIn, sign_ins),
                (GroupMember, members),
            ):
                for start in range(0, len(rows), 2000):
                    await conn.execute(insert(table), rows[start : start + 2000])
    finally:
        await engine.dispose()
    return world


def make_world(rooms: int, per_room: int) -> World:
    name = f"peerhub_bench_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    asyncio.run(migrate.upgrade(url))
    world = asyncio.run(_fill(url, rooms, per_room))
    world.name = name
    # Fresh tables have no statistics; a running site's have (autovacuum).
    asyncio.run(_analyze(url))
    return world


async def _analyze(url: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def drop_world(world: World) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{world.name}" WITH (FORCE)'))


async def _room_tails(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(Room.id, Room.next_seq))
            return {rid: int(nxt) - 1 for rid, nxt in rows}
    finally:
        await engine.dispose()


# --- processes ----------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    ws_port: int
    kind: str = "peerhub"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_peerhub(world: World, redis: str | None = None) -> Server:
    port, ws_port = free_port(), free_port()
    env = {
        **os.environ,
        "PEERHUB_DATABASE_URL": world.url,
        "PEERHUB_SECRET_KEY": "bench-secret-" + "x" * 40,
        "PEERHUB_DATA_DIR": str(Path(tempfile.gettempdir()) / f"peerhub-bench-{port}"),
        "PEERHUB_LOG_LEVEL": "warning",
    }
    env.pop("PEERHUB_REDIS_URL", None)
    if redis:
        env["PEERHUB_REDIS_URL"] = redis
    proc = subprocess.Popen(
        [
            sys.executable,
            os.environ.get("PEERHUB_BENCH_SERVER", str(ROOT / "bench/realtime/server.py")),
            "--port",
            str(port),
            "--ws-port",
            str(ws_port),
            *os.environ.get("PEERHUB_BENCH_SERVER_ARGS", "").split(),
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/realtime", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("PeerHub did not start")
        time.sleep(0.1)
    return Server(proc, port, ws_port)


def start_floor() -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench/realtime/floor.py"), "--port", str(port)]
    )
    deadline = time.monotonic() + 20
    import socket

    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("the floor server did not start") from None
            time.sleep(0.05)
    return Server(proc, port, port, kind="floor")


@dataclass
class Workers:
    procs: list[Any] = field(default_factory=list)
    pipes: list[Any] = field(default_factory=list)
    connected: int = 0
    failed: int = 0

    def start(self, plans: list[Plan]) -> None:
        ctx = mp.get_context("spawn")
        for plan in plans:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run, args=(plan, child), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.pipes.append(parent)
        for pipe in self.pipes:
            kind, ok, bad = pipe.recv()
            assert kind == "ready"
            self.connected += ok
            self.failed += bad

    def go(self) -> None:
        for pipe in self.pipes:
            pipe.send("go")

    def results(self) -> list[dict[str, Any]]:
        return [pipe.recv()[1] for pipe in self.pipes]

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send("stop")
        for proc in self.procs:
            proc.join(20)
            if proc.is_alive():
                proc.kill()


def split(members: list[Member], n: int) -> list[list[Member]]:
    return [members[i::n] for i in range(n)]


def members_of(world: World, senders_per_room: int = 1, homes: int = 1) -> list[Member]:
    out = []
    for room, tokens in zip(world.rooms, world.tokens, strict=True):
        for m, token in enumerate(tokens):
            out.append(Member(token, room, sender=m < senders_per_room, home=m % homes))
    return out


def plans_for(
    members: list[Member], urls: list[str], workers: int, rate: float, duration: float, **kw: Any
) -> list[Plan]:
    groups = split(members, workers)
    senders = [sum(1 for m in g if m.sender) for g in groups]
    total = sum(senders) or 1
    return [
        Plan(
            urls=urls,
            origin=ORIGIN,
            cookie=COOKIE,
            members=g,
            rate=rate * s / total,
            duration=duration,
            worker=i,
            **kw,
        )
        for i, (g, s) in enumerate(zip(groups, senders, strict=True))
    ]


# --- measuring ----------------------------------------------------------------------------


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def wait_quiet(limit: float = 900.0) -> float:
    """Wait until the machine has been nearly idle for 3 s (this machine is shared)."""
    deadline = time.monotonic() + limit
    quiet = 0
    busy_pct = 100.0
    while time.monotonic() < deadline and quiet < 3:
        b0, t0 = cpu_times()
        time.sleep(1)
        b1, t1 = cpu_times()
        busy_pct = 100 * (b1 - b0) / max(1, t1 - t0)
        quiet = quiet + 1 if busy_pct < 15 else 0
    return busy_pct


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    latency: dict[str, list[float]] = {}
    for res in results:
        for cid, (count, last, cross, sent_at) in res["latency"].items():
            entry = latency.setdefault(cid, [0, 0.0, 0.0, sent_at])
            entry[0] += count
            entry[1] = max(entry[1], last)
            entry[2] = max(entry[2], cross)
    errors: dict[str, int] = {}
    for res in results:
        for code, n in res["errors"].items():
            errors[code] = errors.get(code, 0) + n
    return {
        "latency": latency,
        "sent": sum(r["sent"] for r in results),
        "odd_sent": sum(r["odd_sent"] for r in results),
        "acks": sum(r["acks"] for r in results),
        "unacked": sum(r["unacked"] for r in results),
        "write_failures": sum(r["write_failures"] for r in results),
        "skipped_unsynced": sum(r["skipped_unsynced"] for r in results),
        "closed_by_server": [c for r in results for c in r["closed_by_server"]],
        "errors": errors,
        "socks": [s for r in results for s in r["socks"]],
    }


def delivery_check(merged: dict[str, Any], tails: dict[str, int] | None) -> dict[str, int]:
    socks = merged["socks"]
    duplicates = sum(s[2] for s in socks)
    gaps = sum(s[3] for s in socks)
    lost = 0
    if tails is not None:
        for room, received, _dups, _gaps, _last, _re in socks:
            lost += max(0, tails.get(room, 0) - received)
    return {"duplicates": duplicates, "gaps": gaps, "lost": lost}


def run_load(
    servers: list[Server],
    plans: list[Plan],
    *,
    kill_after: float | None = None,
) -> dict[str, Any]:
    workers = Workers()
    started = time.monotonic()
    workers.start(plans)
    connect_s = time.monotonic() - started
    cpu0 = [s.cpu() for s in servers]
    rss0 = [s.rss() for s in servers]
    machine0 = cpu_times()
    t0 = time.monotonic()
    if os.environ.get("PEERHUB_BENCH_PROFILE"):  # a profiling wrapper listens (method notes)
        for s in servers:
            s.proc.send_signal(signal.SIGUSR1)
    workers.go()
    killed = None
    killed_at = None
    if kill_after is not None:
        time.sleep(kill_after)
        victim = servers[0]
        killed_at = time.monotonic()
        cpu_victim = victim.cpu()
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)
        killed = cpu_victim
    results = workers.results()
    elapsed = time.monotonic() - t0
    machine1 = cpu_times()
    if os.environ.get("PEERHUB_BENCH_PROFILE"):
        for s in servers:
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGUSR2)
    cpu1 = [s.cpu() if s.proc.poll() is None else killed or 0.0 for s in servers]
    rss1 = [s.rss() if s.proc.poll() is None else 0 for s in servers]
    workers.stop()
    merged = merge(results)
    merged.update(
        connected=workers.connected,
        failed=workers.failed,
        connect_seconds=connect_s,
        elapsed=elapsed,
        server_cpu=[c1 - c0 for c0, c1 in zip(cpu0, cpu1, strict=True)],
        server_rss=rss1,
        server_rss_before=rss0,
        killed_at=killed_at,
        machine_busy_percent=round(
            100 * (machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 1
        ),
    )
    return merged


def latency_summary(merged: dict[str, Any], expected_receipts: int | None) -> dict[str, Any]:
    lat = merged["latency"]
    lasts = [v[1] * 1000 for v in lat.values()]
    complete = sum(
        1 for v in lat.values() if expected_receipts is None or v[0] >= expected_receipts
    )
    deliveries = sum(int(v[0]) for v in lat.values())
    return {
        "messages": len(lat),
        "complete": complete,
        "deliveries": deliveries,
        "p50_ms": round(pct(lasts, 0.50), 1),
        "p99_ms": round(pct(lasts, 0.99), 1),
        "max_ms": round(max(lasts), 1) if lasts else None,
    }


def report(name: str, data: dict[str, Any]) -> None:
    print(f"\n== {name} ==")
    for key, value in data.items():
        print(f"  {key}: {value}")
    sys.stdout.flush()


# --- scenarios ----------------------------------------------------------------------------


def scenario_idle(args: argparse.Namespace) -> dict[str, Any]:
    count = 2_000 if args.quick else 10_000
    world = make_world(count // 10, 10)
    server = start_peerhub(world)
    try:
        time.sleep(1)
        base = server.rss()
        workers = Workers()
        started = time.monotonic()
        workers.start(plans_for(members_of(world, 0), [server.ws_url], args.workers, 0, 0))
        connected_in = time.monotonic() - started
        time.sleep(3)  # let allocations settle
        rss = server.rss()
        cpu = server.cpu()
        time.sleep(10)  # idle: what do 10,000 quiet sockets cost?
        idle_cpu = server.cpu() - cpu
        workers.stop()
        out = {
            "connections": workers.connected,
            "failed": workers.failed,
            "connect_seconds": round(connected_in, 1),
            "server_rss_before_mib": round(base / 2**20, 1),
            "server_rss_after_mib": round(rss / 2**20, 1),
            "kib_per_connection": round((rss - base) / max(1, workers.connected) / 1024, 1),
            "idle_cpu_percent_over_10s": round(idle_cpu / 10 * 100, 1),
        }
    finally:
        server.stop()
        drop_world(world)
    report("idle connections", out)
    return out


def _rooms_scenario(
    args: argparse.Namespace, name: str, rooms: int, per_room: int, rate: float
) -> dict[str, Any]:
    duration = 8.0 if args.quick else args.duration
    world = make_world(rooms, per_room)
    server = start_peerhub(world)
    try:
        plans = plans_for(
            members_of(world),
            [server.ws_url],
            args.workers,
            rate,
            duration,
            odd_share=args.odd_share,
        )
        merged = run_load([server], plans)
        tails = asyncio.run(_room_tails(world.url))
    finally:
        server.stop()
        drop_world(world)
    lat = latency_summary(merged, per_room)
    checks = delivery_check(merged, tails)
    committed = sum(tails.values())
    cpu = merged["server_cpu"][0]
    out = {
        "target_msgs_per_s": rate,
        "sent": merged["sent"],
        "odd_sent": merged["odd_sent"],
        "committed": committed,
        "acked": merged["acks"],
        "unacked_at_end": merged["unacked"],
        "client_write_failures": merged["write_failures"],
        "closed_by_server": merged["closed_by_server"],
        "achieved_msgs_per_s": round(committed / duration, 1),
        **lat,
        "deliveries_per_s": round(lat["deliveries"] / merged["elapsed"], 0),
        **checks,
        "errors": merged["errors"],
        "server_cpu_s": round(cpu, 2),
        "server_cpu_percent": round(cpu / merged["elapsed"] * 100, 1),
        "deliveries_per_cpu_s": round(lat["deliveries"] / cpu, 0) if cpu else None,
        "server_rss_mib": round(merged["server_rss"][0] / 2**20, 1),
        "connections": merged["connected"],
        "machine_busy_percent": merged["machine_busy_percent"],
    }
    report(name, out)
    return out


def scenario_small_rooms(args: argparse.Namespace) -> dict[str, Any]:
    return _rooms_scenario(args, "1,000 rooms x 10 at 500 msg/s", 1000, 10, 500)


def scenario_throughput(args: argparse.Namespace) -> dict[str, Any]:
    return _rooms_scenario(args, f"throughput at {args.rate} msg/s", 200, 10, args.rate)


async def _plant_alert(url: str, room: str, due: datetime) -> str:
    """A crisis alert in ``room`` with its first step due at ``due``, as the moderation
    toolkit stores them in a message's transaction (peerhub/duty/escalation.py), and an
    organiser of the organisation to tell. The step is due sooner than a group may set
    (1 minute at least), to keep the run short; what is measured is the same."""
    from peerhub.duty import escalation
    from peerhub.models import OrganisationOrganiser
    from peerhub.moderation.models import CrisisAlert

    engine = make_engine(url)
    alert_id = "00000000-0000-4000-c000-000000000001"
    try:
        async with engine.begin() as conn:
            org = await conn.scalar(select(Group.organisation_id).where(Group.id == room))
            organiser = await conn.scalar(
                select(GroupMember.user_id).where(GroupMember.group_id == room).limit(1)
            )
            await conn.execute(
                insert(OrganisationOrganiser),
                [{"organisation_id": org, "user_id": organiser, "added_at": due}],
            )
            raised = due - timedelta(minutes=5)
            await conn.execute(
                insert(CrisisAlert),
                [
                    {
                        "id": alert_id,
                        "group_id": room,
                        "user_id": organiser,
                        "message_seq": 1,
                        "created_at": raised,
                        "level": 0,
                        "outcome_note": "",
                        "review_note": "",
                    }
                ],
            )
            await conn.execute(escalation.first_step(alert_id, raised, due - raised))
    finally:
        await engine.dispose()
    return alert_id


async def _told_at(url: str) -> datetime | None:
    from peerhub.notify.models import Notice

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            found: datetime | None = await conn.scalar(select(func.min(Notice.created_at)))
            return found
    finally:
        await engine.dispose()


def scenario_escalation(args: argparse.Namespace) -> dict[str, Any]:
    """An unopened crisis alert falls due half-way through the throughput load: how long
    after its deadline its first channel (the organiser's page notice) was written."""
    rate = args.rate
    duration = 8.0 if args.quick else args.duration
    world = make_world(200, 10)
    server = start_peerhub(world)
    try:
        plans = plans_for(
            members_of(world), [server.ws_url], args.workers, rate, duration, odd_share=0.0
        )
        # Due half-way through the load (connecting takes a few seconds first).
        due = datetime.now(UTC) + timedelta(seconds=5 + duration / 2)
        asyncio.run(_plant_alert(world.url, world.rooms[0], due))
        merged = run_load([server], plans)
        told = asyncio.run(_told_at(world.url))
        tails = asyncio.run(_room_tails(world.url))
    finally:
        server.stop()
        drop_world(world)
    lat = latency_summary(merged, 10)
    out = {
        "target_msgs_per_s": rate,
        "achieved_msgs_per_s": round(sum(tails.values()) / duration, 1),
        "p50_ms": lat.get("p50_ms"),
        "p99_ms": lat.get("p99_ms"),
        "told_after_deadline_s": None if told is None else round((told - due).total_seconds(), 2),
    }
    report("escalation under load", out)
    return out


def scenario_large_room(args: argparse.Namespace) -> dict[str, Any]:
    duration = 8.0 if args.quick else args.duration
    world = make_world(1, 1000)
    results: dict[str, Any] = {}
    try:
        server = start_peerhub(world)
        try:
            plans = plans_for(members_of(world), [server.ws_url], args.workers, 20, duration)
            merged = run_load([server], plans)
            tails = asyncio.run(_room_tails(world.url))
        finally:
            server.stop()
        lat = latency_summary(merged, 1000)
        cpu = merged["server_cpu"][0]
        results["peerhub"] = {
            "connections": merged["connected"],
            "failed": merged["failed"],
            **lat,
            **delivery_check(merged, tails),
            "errors": merged["errors"],
            "server_cpu_s": round(cpu, 2),
            "deliveries_per_cpu_s": round(lat["deliveries"] / cpu) if cpu else None,
            "machine_busy_percent": merged["machine_busy_percent"],
        }
        floor = start_floor()
        try:
            members = [Member(None, "floor-room", sender=(i == 0)) for i in range(1000)]
            plans = plans_for(members, [floor.ws_url], args.workers, 20, duration, mode="floor")
            merged = run_load([floor], plans)
        finally:
            floor.stop()
        lat = latency_summary(merged, 1000)
        cpu = merged["server_cpu"][0]
        results["floor"] = {
            "connections": merged["connected"],
            **lat,
            "server_cpu_s": round(cpu, 2),
            "deliveries_per_cpu_s": round(lat["deliveries"] / cpu) if cpu else None,
            "machine_busy_percent": merged["machine_busy_percent"],
        }
        a = results["peerhub"]["deliveries_per_cpu_s"]
        b = results["floor"]["deliveries_per_cpu_s"]
        results["ratio"] = round(a / b, 2) if a and b else None
    finally:
        drop_world(world)
    report("one room of 1,000 at 20 msg/s, and the floor", results)
    return results


def scenario_cluster(args: argparse.Namespace) -> dict[str, Any]:
    duration = 10.0 if args.quick else args.duration
    world = make_world(100, 10)
    a = start_peerhub(world, REDIS)
    b = start_peerhub(world, REDIS)
    try:
        members = members_of(world, senders_per_room=2, homes=2)
        plans = plans_for(
            members,
            [a.ws_url, b.ws_url],
            args.workers,
            200,
            duration,
            failover=True,
            odd_share=args.odd_share,
        )
        merged = run_load([a, b], plans, kill_after=duration / 2)
        tails = asyncio.run(_room_tails(world.url))
    finally:
        a.stop()
        b.stop()
        drop_world(world)
    lat = latency_summary(merged, 10)
    killed_at = merged["killed_at"]
    # Steady state: messages sent before the kill (with a second's margin).
    before = [v for v in merged["latency"].values() if v[3] < killed_at - 1.0]
    after = [v for v in merged["latency"].values() if v[3] >= killed_at - 1.0]
    cross = [v[2] * 1000 for v in before if v[2] > 0]
    out = {
        "sent": merged["sent"],
        "odd_sent": merged["odd_sent"],
        "committed": sum(tails.values()),
        "acked": merged["acks"],
        "unacked_at_end": merged["unacked"],
        **lat,
        "before_kill_messages": len(before),
        "before_kill_p99_ms": round(pct([v[1] * 1000 for v in before], 0.99), 1),
        "cross_process_p50_ms": round(pct(cross, 0.5), 1),
        "cross_process_p99_ms": round(pct(cross, 0.99), 1),
        "around_and_after_kill_max_ms": round(max((v[1] * 1000 for v in after), default=0), 1),
        "after_kill_p50_ms": round(pct([v[1] * 1000 for v in after], 0.5), 1),
        **delivery_check(merged, tails),
        "reconnected_sockets": sum(1 for s in merged["socks"] if s[5]),
        "errors": merged["errors"],
        "server_cpu_s": [round(c, 2) for c in merged["server_cpu"]],
        "machine_busy_percent": merged["machine_busy_percent"],
    }
    report("two processes + Redis, one killed with SIGKILL half-way", out)
    return out


SCENARIOS = {
    "idle": scenario_idle,
    "small-rooms": scenario_small_rooms,
    "throughput": scenario_throughput,
    "large-room": scenario_large_room,
    "cluster": scenario_cluster,
    "escalation": scenario_escalation,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="smaller and shorter")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--rate", type=float, default=2000.0, help="throughput: messages/s")
    parser.add_argument(
        "--odd-share",
        type=float,
        default=0.0,
        help="small-rooms, throughput, cluster: share of senders whose every message holds "
        "text no database can store (a lone surrogate); lost/duplicates must stay 0",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--wait-quiet", action="store_true", help="wait for an idle machine before each scenario"
    )
    args = parser.parse_args()
    print(
        f"# PeerHub real-time bench: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {args.workers} client processes"
    )
    out = {}
    for name in args.scenario or list(SCENARIOS):
        if args.wait_quiet:
            print(f"(waiting for a quiet machine: {wait_quiet():.0f}% busy)", flush=True)
        out[name] = SCENARIOS[name](args)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
