"""Migration 0024 on both databases: the rooms' column ``session_open`` becomes
``is_open``, and every room keeps whether a moderator opened it (and when); going back
renames it again, still keeping each room's state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select

from tests.migration_helpers import (
    add_group,
    add_organisation,
    migrate_there_and_back,
    stored_now,
    tables,
)

REVISION = "0024"


def _seed(conn: Connection) -> None:
    t = tables(conn, ["organisations", "groups", "rooms"])
    now = stored_now(conn)
    add_organisation(conn, t, "org-1", "calder", "Calder")
    for gid, is_open in (("g-open", True), ("g-shut", False)):
        add_group(conn, t, gid, "org-1")
        conn.execute(
            insert(t["rooms"]).values(
                id=gid,
                next_seq=1,
                session_open=is_open,
                opened_at=now if is_open else None,
                moderator_only=True,
                created_at=now,
            )
        )


def _read(column: str) -> Any:
    def read(conn: Connection) -> tuple[set[str], dict[str, tuple[bool, bool]]]:
        rooms = tables(conn, ["rooms"])["rooms"]
        found = {
            r.id: (bool(r._mapping[column]), r.opened_at is not None)
            for r in conn.execute(select(rooms))
        }
        return {c["name"] for c in inspect(conn).get_columns("rooms")}, found

    return read


async def test_each_room_stays_open_or_shut_through_the_rename_and_back(db_url: str) -> None:
    (columns, rooms), (columns_back, rooms_back) = await migrate_there_and_back(
        db_url, REVISION, _seed, _read("is_open"), _read("session_open")
    )
    assert "is_open" in columns and "session_open" not in columns
    assert rooms == {"g-open": (True, True), "g-shut": (False, False)}
    assert "session_open" in columns_back and "is_open" not in columns_back
    assert rooms_back == {"g-open": (True, True), "g-shut": (False, False)}
