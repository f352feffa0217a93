"""Migration 0019 on both databases: stored language tags become canonical (groups'
languages and interpretation, demand records, saved searches), PeerHub's old "ise"
for Irish Sign Language becomes "isg", repeats collapse, unknown tags stay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, insert, select

from peerhub import migrate
from peerhub.db import make_engine

REVISION = "0019"


def _before() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _seed(conn: Connection) -> None:
    meta = MetaData()
    meta.reflect(
        conn,
        only=["organisations", "groups", "group_tags", "demand_records", "saved_needs", "users"],
    )
    now: Any = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    t = meta.tables
    conn.execute(
        insert(t["organisations"]).values(
            id="org-lang",
            slug="lang-org",
            name="Lang",
            description="",
            lived_experience_led=True,
            created_at=now,
            updated_at=now,
        )
    )
    for gid in ("g-punjabi", "g-deaf"):
        conn.execute(
            insert(t["groups"]).values(
                id=gid,
                organisation_id="org-lang",
                slug=gid,
                name=gid,
                description="",
                format="online",
                join_policy="open",
                status="active",
                ground_rules="",
                time_zone="Europe/London",
                dtstart_local="2026-10-20T18:00:00",
                rrule="FREQ=WEEKLY;BYDAY=TU",
                exdates=[],
                duration_minutes=90,
                created_at=now,
                updated_at=now,
            )
        )
    for gid, kind, value, position in (
        ("g-punjabi", "language", "pa-Guru", 0),
        ("g-punjabi", "language", "pa", 1),
        ("g-punjabi", "language", "en-GB", 2),
        ("g-punjabi", "language", "zz-Latn", 3),
        ("g-punjabi", "community", "south_asian", 0),
        ("g-deaf", "language", "ise", 0),
        ("g-deaf", "language", "sgn-GB", 1),
        ("g-deaf", "interpretation", "eng", 0),
    ):
        conn.execute(
            insert(t["group_tags"]).values(group_id=gid, kind=kind, value=value, position=position)
        )
    for languages in (["ur-PK", "ur"], ["zh-yue"], []):
        conn.execute(
            insert(t["demand_records"]).values(
                at=now,
                kind="no_fit",
                languages=languages,
                communities=[],
                topics=[],
                format="either",
                area="unknown",
            )
        )


def _state(conn: Connection) -> tuple[dict[str, list[tuple[str, str]]], list[list[str]]]:
    meta = MetaData()
    meta.reflect(conn, only=["group_tags", "demand_records"])
    tags = meta.tables["group_tags"]
    out: dict[str, list[tuple[str, str]]] = {}
    for row in conn.execute(
        select(tags)
        .where(tags.c.group_id.in_(("g-punjabi", "g-deaf")))
        .order_by(tags.c.group_id, tags.c.kind, tags.c.position)
    ):
        out.setdefault(row.group_id, []).append((row.kind, row.value))
    demand = meta.tables["demand_records"]
    languages = [list(r.languages) for r in conn.execute(select(demand).order_by(demand.c.id))]
    return out, languages


async def test_stored_language_tags_become_canonical(db_url: str) -> None:
    await migrate.downgrade(db_url, _before())
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_seed)
    finally:
        await engine.dispose()
    await migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            tags, demand = await conn.run_sync(_state)
    finally:
        await engine.dispose()
    assert tags["g-punjabi"] == [
        ("community", "south_asian"),
        ("language", "pa"),
        ("language", "en"),
        ("language", "zz-Latn"),
    ]
    assert tags["g-deaf"] == [("interpretation", "en"), ("language", "isg"), ("language", "bfi")]
    assert demand[-3:] == [["ur"], ["yue"], []]
