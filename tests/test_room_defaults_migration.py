"""Migration 0013 on both databases: the rooms of groups that welcome people approaching
crisis, whose moderators never chose, become "open only while a moderator is present";
a room whose moderators chose keeps their choice; other groups' rooms are untouched."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select

from tests.migration_helpers import (
    add_group,
    add_organisation,
    migrate_seeded,
    stored_now,
    tables,
)

REVISION = "0013"


def _seed(conn: Connection) -> None:
    t = tables(conn, ["organisations", "groups", "group_tags", "rooms", "moderation_events"])
    now = stored_now(conn)
    add_organisation(conn, t, "org-1", "calder", "Calder")
    for gid, slug in (("g-crisis", "harder-days"), ("g-chosen", "chosen"), ("g-calm", "calm")):
        add_group(conn, t, gid, "org-1", slug=slug, name=slug)
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
    table = tables(conn, ["rooms"])["rooms"]
    return {r.id: bool(r.moderator_only) for r in conn.execute(select(table))}


async def test_crisis_stage_rooms_nobody_chose_for_take_the_new_default(db_url: str) -> None:
    flags = await migrate_seeded(db_url, REVISION, _seed, _flags)
    assert flags == {"g-crisis": True, "g-chosen": False, "g-calm": False}
