"""Benchmark: the public directory with 50,000 groups in PostgreSQL.

    .venv/bin/python bench/bench_directory.py [--groups 50000] [--requests 400]

Creates a temporary database ``peerhub_bench_<random>`` in the PostgreSQL server of
``PEERHUB_BENCH_POSTGRES_URL`` (default postgresql+asyncpg://postgres@127.0.0.1:5432/test),
migrates it, fills it with generated organisations, groups, tags and memberships
(COPY, fixed seed), then times requests through the ASGI app in this one process
(httpx ASGITransport: routing, middleware, SQL, templates and JSON included, no
network): ``/hsds/services?search=...&page=...`` and filtered ``/groups?...`` pages.
It measures twice: with the schema as migrated, then after creating the indexes
proposed in docs/directory.md ("Performance"). The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peerhub import geo, migrate, taxonomy
from peerhub.app import create_app
from peerhub.config import DEFAULT_CRISIS_CONTACTS, PACKAGE_DIR, Settings
from peerhub.db import make_engine
from peerhub.directory import present

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# The indexes migration 0005 creates (see docs/directory.md, "Performance"); the main
# round re-creates them after the baseline round dropped them.
PROPOSED_INDEXES = [
    # Word search (query.search_document): exact posting lists, so no per-row recheck.
    "CREATE INDEX IF NOT EXISTS ix_groups_search ON groups USING gin "
    "(to_tsvector('simple'::regconfig, "
    "regexp_replace((name || ' ') || description, '[^[:alnum:]]+', ' ', 'g')))",
    # The day filter reads the distinct RRULEs (query.day_condition): 5 ms, not 30.
    "CREATE INDEX IF NOT EXISTS ix_groups_rrule ON groups (rrule)",
    # The web pages' order: lets a page stop after 20 rows instead of sorting them all.
    'CREATE INDEX IF NOT EXISTS ix_groups_status_name ON groups (status, (name COLLATE "C"), id)',
    # Near a postcode: the bounding box becomes an index range instead of a table scan.
    "CREATE INDEX IF NOT EXISTS ix_groups_latitude_longitude ON groups (latitude, longitude)",
    # kind and value are correlated ("recovery" is only ever a stage): without this the
    # planner multiplies their selectivities, underestimates by 5x and picks bad joins.
    "CREATE STATISTICS IF NOT EXISTS st_group_tags_kind_value (mcv, dependencies) "
    "ON kind, value FROM group_tags",
]
# The baseline: the schema without them, to show what they are worth.
WITHOUT_INDEXES = [
    "DROP STATISTICS IF EXISTS st_group_tags_kind_value",
    "DROP INDEX IF EXISTS ix_groups_latitude_longitude",
    "DROP INDEX IF EXISTS ix_groups_status_name",
    "DROP INDEX IF EXISTS ix_groups_rrule",
    "DROP INDEX IF EXISTS ix_groups_search",
]

TOWNS = [
    "Leeds", "Bradford", "Birmingham", "Manchester", "Cardiff", "Swansea", "London",
    "Bristol", "Leicester", "Glasgow", "Edinburgh", "Newcastle", "Sheffield", "Nottingham",
    "Luton", "Liverpool", "Belfast", "Norwich", "Plymouth", "Hull", "Derby", "Wrexham",
]  # fmt: skip
KINDS = [
    "Peer Support Group", "Wellbeing Circle", "Talking Space", "Drop-in", "Peer Network",
    "Coffee Morning", "Walk and Talk", "Recovery Group", "Support Circle", "Women's Group",
    "Men's Group", "Hearing Voices Group", "Carers' Circle", "Young Adults Group",
]  # fmt: skip
SENTENCES = [
    "A friendly group for people living with {topic}.",
    "We meet to talk about {topic} and {topic2}, without judgement.",
    "Run by people with lived experience of {topic}.",
    "You are welcome whether things are hard right now or you are staying well.",
    "Tea, biscuits and good company; no need to talk if you would rather listen.",
    "We share what helps with {topic2} and support each other between sessions.",
    "Sessions are relaxed and confidential, and moderators keep the space safe.",
    "Come along to meet others in {town} who understand what it is like.",
    "We sometimes invite guests, but mostly we just talk and listen.",
    "New members are always welcome; bring a friend if that helps.",
]
SEARCHES = [
    "anxiety", "depression", "voices", "bipolar", "carers", "Leeds", "Cardiff", "trauma",
    "loneliness", "women", "walk", "coffee", "psychosis", "bereavement", "ocd", "young",
    "hearing voices", "peer support", "Manchester group", "eating", "autism", "welcome",
]  # fmt: skip


def _rng_tags(rng: random.Random, codes: Sequence[str], k: tuple[int, int]) -> list[str]:
    return rng.sample(list(codes), rng.randint(*k))


def generate(n_groups: int, seed: int = 20261102) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    districts = list(geo.districts().items())
    languages = list(taxonomy.LANGUAGE_NAMES)
    n_orgs = max(10, n_groups // 50)
    orgs = []
    for i in range(n_orgs):
        town = rng.choice(TOWNS)
        orgs.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                f"org-{i}",
                f"{town} {rng.choice(['Peer', 'Mind', 'Together', 'Voices', 'Circle'])} {i}",
                f"A user-led organisation in {town}.",
                f"https://org-{i}.example.org",
                f"hello@org-{i}.example.org",
                None,
                rng.random() < 0.8,
                NOW - timedelta(days=400) if rng.random() < 0.95 else None,
                NOW - timedelta(days=400),
                NOW - timedelta(days=rng.randint(0, 400)),
            )
        )
    groups, tags = [], []
    topics = [t.code for t in taxonomy.TOPICS.terms]
    topic_labels = {t.code: t.label.lower() for t in taxonomy.TOPICS.terms}
    for i in range(n_groups):
        gid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        org = rng.choice(orgs)
        town = rng.choice(TOWNS)
        fmt = rng.choices(["in_person", "online", "hybrid"], [5, 3, 2])[0]
        group_topics = _rng_tags(rng, topics, (1, 3))
        words = {"topic": topic_labels[group_topics[0]], "town": town}
        words["topic2"] = topic_labels[group_topics[-1]]
        description = " ".join(s.format(**words) for s in rng.sample(SENTENCES, rng.randint(3, 6)))
        place: tuple[Any, ...] = (None, None, None, None)
        if fmt != "online":
            code, point = rng.choice(districts)
            place = (
                f"Room {rng.randint(1, 9)}, {rng.randint(1, 200)} Example Street, {town}",
                f"{code} {rng.randint(1, 9)}AA",
                round(point.lat + rng.uniform(-0.02, 0.02), 5),
                round(point.lon + rng.uniform(-0.02, 0.02), 5),
            )
        start = NOW - timedelta(days=rng.randint(0, 700))
        day = rng.choice(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])
        rule = rng.choice(
            [
                f"FREQ=WEEKLY;BYDAY={day}",
                f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}",
                f"FREQ=MONTHLY;BYDAY={rng.choice(['1', '2', '-1'])}{day}",
                "FREQ=WEEKLY",
            ]
        )
        status = rng.choices(["active", "paused", "closed"], [90, 7, 3])[0]
        groups.append(
            (
                gid,
                org[0],
                f"g-{i}",
                f"{town} {rng.choice(KINDS)} {i}",
                description,
                fmt,
                *place,
                None,
                None,
                rng.choice([None, 8, 10, 12, 15, 20]),
                rng.choice(["open", "request"]),
                status,
                "Be kind. What is shared here stays here.",
                "Europe/London",
                start.strftime("%Y-%m-%dT") + rng.choice(["10:30:00", "14:00:00", "18:30:00"]),
                rule,
                "[]",
                90,
                NOW - timedelta(days=700),
                NOW - timedelta(days=rng.randint(0, 700)),
            )
        )
        langs = ["en"] if rng.random() < 0.7 else []
        langs += _rng_tags(rng, languages, (0 if langs else 1, 2))
        kinds = (
            ("language", list(dict.fromkeys(langs))),
            ("community", _rng_tags(rng, sorted(taxonomy.COMMUNITY_CODES), (0, 2))),
            ("stage", _rng_tags(rng, sorted(taxonomy.STAGE_CODES), (1, 2))),
            ("topic", group_topics),
            ("access", _rng_tags(rng, sorted(taxonomy.ACCESS_CODES), (0, 3))),
        )
        for kind, values in kinds:
            tags += [(gid, kind, v, pos) for pos, v in enumerate(values)]
    users = [
        (str(uuid.uuid4()), f"user{i}", f"user{i}", "x", False, "none", NOW, NOW)
        for i in range(5000)
    ]
    members = {
        (g[0], rng.choice(users)[0]) for g in rng.sample(groups, len(groups) // 2) for _ in range(3)
    }
    return {
        "organisations": orgs,
        "groups": groups,
        "group_tags": tags,
        "users": users,
        "group_members": [(g, u, "member", "active", NOW) for g, u in members],
    }


COLUMNS = {
    "organisations": [
        "id", "slug", "name", "description", "website", "email", "phone",
        "lived_experience_led", "verified_at", "created_at", "updated_at",
    ],
    "groups": [
        "id", "organisation_id", "slug", "name", "description", "format", "address",
        "postcode", "latitude", "longitude", "age_min", "age_max", "capacity", "join_policy",
        "status", "ground_rules", "time_zone", "dtstart_local", "rrule", "exdates",
        "duration_minutes", "created_at", "updated_at",
    ],
    "group_tags": ["group_id", "kind", "value", "position"],
    "users": [
        "id", "pseudonym", "pseudonym_key", "password_hash", "is_admin",
        "professional_status", "created_at", "updated_at",
    ],
    "group_members": ["group_id", "user_id", "role", "status", "joined_at"],
}  # fmt: skip


async def fill(dsn: str, data: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for table, rows in data.items():
            await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
        # The steady state autovacuum keeps: statistics, and a visibility map so that
        # index-only scans need not visit the table.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def requests_for(rng: random.Random, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    langs = ["ur", "pl", "cy", "bfi", "so", "ar", "pa", "en", "ro", "yue"]
    postcodes = ["LS6", "B10", "M1", "CF10", "E1", "G1", "BS1", "NE1", "SA1", "N1"]
    for _ in range(n):
        words = rng.choice(SEARCHES).replace(" ", "+")
        out.append(
            ("hsds services search", f"/hsds/services?search={words}&page={rng.randint(1, 5)}")
        )
        params = [f"language={rng.choice(langs)}"]
        if rng.random() < 0.5:
            params.append(f"stage={rng.choice(sorted(taxonomy.STAGE_CODES))}")
        if rng.random() < 0.4:
            params.append(f"day={rng.choice(['monday', 'tuesday', 'wednesday', 'saturday'])}")
        if rng.random() < 0.3:
            params.append(f"community={rng.choice(sorted(taxonomy.COMMUNITY_CODES))}")
        if rng.random() < 0.3:
            params.append(f"format={rng.choice(['online', 'in_person'])}")
        if rng.random() < 0.3:
            params.append(f"postcode={rng.choice(postcodes)}&within={rng.choice([5, 10, 25])}")
        if rng.random() < 0.3:
            params.append(f"page={rng.randint(2, 3)}")
        rng.shuffle(params)
        out.append(("groups filtered page", "/groups?" + "&".join(params)))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(
    app: Any, plan: list[tuple[str, str]], rounds: int = 1
) -> list[dict[str, list[float]]]:
    """Timings of each request, per round (the same requests in the same order)."""
    transport = httpx.ASGITransport(app=app)
    results: list[dict[str, list[float]]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _, path in plan[:10]:  # warm up: connections, prepared statements, templates
            (await client.get(path)).raise_for_status()
        for _ in range(rounds):
            present._MEMO.clear()  # every round starts without remembered sessions
            timings: dict[str, list[float]] = {}
            for kind, path in plan:
                started = time.perf_counter()
                response = await client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
                timings.setdefault(kind, []).append(elapsed)
            results.append(timings)
    return results


def report(title: str, timings: dict[str, list[float]]) -> str:
    lines = [
        f"#### {title}",
        "",
        "| request | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, values in timings.items():
        lines.append(
            f"| {kind} | {len(values)} | {statistics.median(values):.1f} | "
            f"{pct(values, 95):.1f} | {pct(values, 99):.1f} | {max(values):.1f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=400, help="of each kind")
    parser.add_argument("--no-baseline", action="store_true", help="only with the indexes")
    parser.add_argument(
        "--baseline-requests",
        type=int,
        default=25,
        help="of each kind without the indexes (a word search then takes seconds)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (to study it)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="replay the requests this many times and also report each request's best "
        "time (filters out other processes' use of the CPU)",
    )
    args = parser.parse_args()

    admin = os.environ.get("PEERHUB_BENCH_POSTGRES_URL", DEFAULT_URL)
    db_name = f"peerhub_bench_{secrets.token_hex(4)}"
    url = make_url(admin).set(database=db_name).render_as_string(hide_password=False)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    admin_engine = make_engine(admin, isolation_level="AUTOCOMMIT", poolclass=None)
    async with admin_engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        await migrate.upgrade(url)
        started = time.perf_counter()
        data = generate(args.groups)
        await fill(dsn, data)
        print(
            f"{args.groups} groups, {len(data['group_tags'])} tags, "
            f"{len(data['group_members'])} memberships loaded in "
            f"{time.perf_counter() - started:.1f} s into {db_name}"
        )
        settings = Settings(
            database_url=url,
            secret_key="bench-" + "x" * 40,
            base_url="http://bench",
            allowed_origins=("http://bench",),
            data_dir=Path(tempfile.mkdtemp()),
            frontend_dir=PACKAGE_DIR,
            crisis_contacts=DEFAULT_CRISIS_CONTACTS,
        )
        plan = requests_for(random.Random(7), args.requests)
        results = []
        rounds: list[tuple[str, list[str], list[tuple[str, str]], int]] = []
        if not args.no_baseline:
            rounds.append(
                (
                    "without the directory indexes",
                    WITHOUT_INDEXES,
                    plan[: 2 * args.baseline_requests],
                    1,
                )
            )
        rounds.append(
            ("as migrated (with the directory indexes)", PROPOSED_INDEXES, plan, args.rounds)
        )
        for title, statements, requests, repeat in rounds:
            if statements:
                conn = await asyncpg.connect(dsn)
                try:
                    for sql in statements:
                        await conn.execute(sql)
                    await conn.execute("VACUUM ANALYZE")
                finally:
                    await conn.close()
            app = create_app(settings, clock=lambda: NOW)
            async with app.router.lifespan_context(app):
                per_round = await measure(app, requests, repeat)
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            heading = f"{args.groups} groups, {title} (load average {load})"
            results.append(report(f"{heading}, first round", per_round[0]))
            if repeat > 1:
                best = {
                    kind: [min(r[kind][i] for r in per_round) for i in range(len(values))]
                    for kind, values in per_round[0].items()
                }
                results.append(report(f"{heading}, best of {repeat} rounds per request", best))
            print("\n" + "\n\n".join(results[-2 if repeat > 1 else -1 :]), flush=True)
    finally:
        if args.keep:
            print(f"kept {url}")
        else:
            async with admin_engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        await admin_engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
