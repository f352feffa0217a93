"""Migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from peerhub import migrate
from peerhub.db import make_engine
from peerhub.schema import metadata
from tests.migration_helpers import revision_before


async def test_database_is_at_head(db_url: str) -> None:
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_upgrade_is_idempotent(db_url: str) -> None:
    await migrate.upgrade(db_url)
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(
                    sync_conn,
                    opts={"compare_type": True, "include_object": migrate.include_object},
                )
                return compare_metadata(context, metadata)

            changes = await conn.run_sync(diff)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert changes == [], f"models and migrations differ: {changes}"
    assert {t.name for t in metadata.sorted_tables} <= tables


async def test_every_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    await migrate.downgrade(db_url, "base")
    assert await migrate.current_revision(db_url) is None
    await migrate.upgrade(db_url)
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_directory_indexes_exist_on_postgresql(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(
                lambda c: {i["name"] for i in inspect(c).get_indexes("groups")}
            )
    finally:
        await engine.dispose()
    if db_url.startswith("postgresql"):
        assert names >= migrate.POSTGRES_ONLY_INDEXES
    else:
        assert not (migrate.POSTGRES_ONLY_INDEXES & names)


async def test_sharing_choices_move_to_each_group_the_person_is_in(db_url: str) -> None:
    """Migration 0012: a per-audience choice stays in force exactly for the groups the
    person was already in (places and requests), never for a group they join later;
    the referrer's stays per person. Going back restores only what held everywhere."""
    from sqlalchemy import text

    before = revision_before("0012")
    await migrate.downgrade(db_url, before)
    at: object = "2026-11-01 09:00:00"  # as SQLite stores it; asyncpg needs a datetime
    if db_url.startswith("postgresql"):
        from datetime import UTC, datetime

        at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            for uid in ("u-rhian", "u-bea", "u-new"):
                await conn.execute(
                    text(
                        "INSERT INTO users (id, pseudonym, pseudonym_key, password_hash, "
                        "is_admin, professional_status, created_at, updated_at) "
                        "VALUES (:id, :id, :id, 'x', false, 'none', :at, :at)"
                    ),
                    {"id": uid, "at": at},
                )
            await conn.execute(
                text(
                    "INSERT INTO organisations (id, slug, name, description, "
                    "lived_experience_led, created_at, updated_at) "
                    "VALUES ('o1', 'o1', 'O', '', false, :at, :at)"
                ),
                {"at": at},
            )
            for gid in ("g-a", "g-b", "g-c"):
                await conn.execute(
                    text(
                        "INSERT INTO groups (id, organisation_id, slug, name, description, "
                        "format, join_policy, status, ground_rules, time_zone, dtstart_local, "
                        "rrule, exdates, duration_minutes, created_at, updated_at) VALUES "
                        "(:id, 'o1', :id, :id, '', 'online', 'open', 'active', '', "
                        "'Europe/London', '2026-11-01T10:00:00', 'FREQ=WEEKLY', '[]', 90, "
                        ":at, :at)"
                    ),
                    {"id": gid, "at": at},
                )
            for gid, uid, status in (
                ("g-a", "u-rhian", "active"),
                ("g-b", "u-rhian", "requested"),
                ("g-a", "u-bea", "active"),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO group_members (group_id, user_id, role, status, joined_at) "
                        "VALUES (:g, :u, 'member', :s, :at)"
                    ),
                    {"g": gid, "u": uid, "s": status, "at": at},
                )
            for uid, audience, item in (
                ("u-rhian", "organisers", "contact"),
                ("u-rhian", "moderators", "crisis_plan"),
                ("u-rhian", "referrer", "first_name"),
                ("u-bea", "members", "pronouns"),
                ("u-new", "organisers", "contact"),  # in no group yet
            ):
                await conn.execute(
                    text(
                        "INSERT INTO sharing_choices (user_id, audience, item, at) "
                        "VALUES (:u, :a, :i, :at)"
                    ),
                    {"u": uid, "a": audience, "i": item, "at": at},
                )
        await migrate.upgrade(db_url)
        async with engine.connect() as conn:
            per_group = {
                tuple(r)
                for r in await conn.execute(
                    text("SELECT group_id, user_id, audience, item FROM group_sharing_choices")
                )
            }
            per_person = {
                tuple(r)
                for r in await conn.execute(
                    text("SELECT user_id, audience, item FROM sharing_choices")
                )
            }
        assert per_group == {
            ("g-a", "u-rhian", "organisers", "contact"),
            ("g-a", "u-rhian", "moderators", "crisis_plan"),
            ("g-b", "u-rhian", "organisers", "contact"),
            ("g-b", "u-rhian", "moderators", "crisis_plan"),
            ("g-a", "u-bea", "members", "pronouns"),
        }
        assert per_person == {("u-rhian", "referrer", "first_name")}
        # The person-wide table now refuses a group audience.
        refused = False
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO sharing_choices (user_id, audience, item, at) "
                        "VALUES ('u-bea', 'organisers', 'contact', :at)"
                    ),
                    {"at": at},
                )
        except Exception:  # IntegrityError, wrapped differently by each driver
            refused = True
        assert refused
        # A group's choice goes with the place in it.
        async with engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM group_members WHERE group_id = 'g-b' AND user_id = 'u-rhian'")
            )
            left = (
                await conn.execute(
                    text("SELECT count(*) FROM group_sharing_choices WHERE group_id = 'g-b'")
                )
            ).scalar()
        assert left == 0
        # Back again: Rhian is now in g-a only, so its choices hold "everywhere".
        await migrate.downgrade(db_url, before)
        async with engine.connect() as conn:
            restored = {
                tuple(r)
                for r in await conn.execute(
                    text("SELECT user_id, audience, item FROM sharing_choices")
                )
            }
        assert restored == {
            ("u-rhian", "referrer", "first_name"),
            ("u-rhian", "organisers", "contact"),
            ("u-rhian", "moderators", "crisis_plan"),
            ("u-bea", "members", "pronouns"),
        }
    finally:
        await engine.dispose()
        await migrate.upgrade(db_url)
