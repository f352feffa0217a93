"""Migration 0013 on both databases: the rooms of groups that welcome people approaching
crisis, whose moderators never chose, become "open only while a moderator is present";
a room whose moderators chose keeps their choice; other groups' rooms are untouched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, insert, select

from peerhub import migrate
from peerhub.db import make_engine

REVISION = "0013"


def _before() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    down = script.get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _seed(conn: Connection) -> None:
    meta = MetaData()
    meta.reflect(conn, only=["organisations", "groups", "group_tags", "rooms", "moderation_events"])
    now: Any = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    t = meta.tables
    conn.execute(
        insert(t["organisations"]).values(
            id="org-1",
            slug="calder",
            name="Calder",
            description="",
            lived_experience_led=True,
            created_at=now,
            updated_at=now,
        )
    )
    for gid, slug in (("g-crisis", "harder-days"), ("g-chosen", "chosen"), ("g-calm", "calm")):
        conn.execute(
            insert(t["groups"]).values(
                id=gid,
                organisation_id="org-1",
                slug=slug,
                name=slug,
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
        conn.execute(
            insert(t["rooms"]).values(
                id=gid, next_seq=1, session_open=False, moderator_only=False, created_at=now
            )
        )
    for gid in ("g-crisis", "g-chosen"):
        conn.execute(
            insert(t["group_tags"]).values(
                group_id=gid, kind="stage", value="approaching_crisis", position=0
            )
        )
    conn.execute(
        insert(t["group_tags"]).values(
            group_id="g-calm", kind="stage", value="staying_well", position=0
        )
    )
    # The moderators of "chosen" set their room to open at any time (audited).
    conn.execute(
        insert(t["moderation_events"]).values(
            group_id="g-chosen",
            at=now,
            action="room.settings",
            reason="",
            detail={"moderator_only": False},
        )
    )


def _flags(conn: Connection) -> dict[str, bool]:
    rooms = MetaData()
    rooms.reflect(conn, only=["rooms"])
    table = rooms.tables["rooms"]
    return {r.id: bool(r.moderator_only) for r in conn.execute(select(table))}


async def test_crisis_stage_rooms_nobody_chose_for_take_the_new_default(db_url: str) -> None:
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
            flags = await conn.run_sync(_flags)
    finally:
        await engine.dispose()
    assert flags == {"g-crisis": True, "g-chosen": False, "g-calm": False}
