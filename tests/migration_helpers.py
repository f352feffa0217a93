"""What the tests of one migration share: going back to just before it, storing rows as
they were then, migrating, and reading what the migration made of them, on both
databases (the ``db_url`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, Table, insert

from peerhub import migrate
from peerhub.db import make_engine

T = TypeVar("T")

#: A group's columns that a migration test does not care about.
GROUP_COLUMNS: dict[str, Any] = {
    "description": "",
    "format": "online",
    "join_policy": "open",
    "status": "active",
    "ground_rules": "",
    "time_zone": "Europe/London",
    "dtstart_local": "2026-10-20T18:00:00",
    "rrule": "FREQ=WEEKLY;BYDAY=TU",
    "exdates": [],
    "duration_minutes": 90,
}


def revision_before(revision: str) -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


def stored_now(conn: Connection) -> Any:
    """Now, as the database stores a timestamp (SQLite: without a time zone)."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now


def tables(conn: Connection, names: list[str]) -> dict[str, Table]:
    """The tables as they are in the database now (not as the models say)."""
    meta = MetaData()
    meta.reflect(conn, only=names)
    return dict(meta.tables)


def add_organisation(
    conn: Connection, t: dict[str, Table], organisation_id: str, slug: str, name: str
) -> None:
    now = stored_now(conn)
    conn.execute(
        insert(t["organisations"]).values(
            id=organisation_id,
            slug=slug,
            name=name,
            description="",
            lived_experience_led=True,
            created_at=now,
            updated_at=now,
        )
    )


def add_group(
    conn: Connection, t: dict[str, Table], group_id: str, organisation_id: str, **values: Any
) -> None:
    """A group (slug and name: its id, unless given), with :data:`GROUP_COLUMNS`."""
    now = stored_now(conn)
    row = {"slug": group_id, "name": group_id, **GROUP_COLUMNS, **values}
    conn.execute(
        insert(t["groups"]).values(
            id=group_id, organisation_id=organisation_id, created_at=now, updated_at=now, **row
        )
    )


async def migrate_seeded(
    db_url: str,
    revision: str,
    seed: Callable[[Connection], None],
    read: Callable[[Connection], T],
) -> T:
    """Go back to just before ``revision``, ``seed`` the database, migrate to the head
    and return what ``read`` finds (in a transaction that is committed)."""
    await migrate.downgrade(db_url, revision_before(revision))
    await in_transaction(db_url, seed)
    await migrate.upgrade(db_url)
    return await in_transaction(db_url, read)


async def migrate_there_and_back(
    db_url: str,
    revision: str,
    seed: Callable[[Connection], None],
    read_after: Callable[[Connection], T],
    read_before: Callable[[Connection], T],
) -> tuple[T, T]:
    """Go back to just before ``revision``, ``seed``, migrate to the head and
    ``read_after``; then downgrade to just before it again and ``read_before``. The
    database is back at the head afterwards, whatever happened."""
    before = revision_before(revision)
    await migrate.downgrade(db_url, before)
    try:
        await in_transaction(db_url, seed)
        await migrate.upgrade(db_url)
        after = await in_transaction(db_url, read_after)
        await migrate.downgrade(db_url, before)
        return after, await in_transaction(db_url, read_before)
    finally:
        await migrate.upgrade(db_url)


async def in_transaction(db_url: str, work: Callable[[Connection], T]) -> T:
    """Run ``work`` on a fresh engine's connection, in one committed transaction."""
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()
