"""Migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from peerhub import migrate
from peerhub.db import make_engine
from peerhub.models import Base


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
                return compare_metadata(context, Base.metadata)

            changes = await conn.run_sync(diff)
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    assert changes == [], f"models and migrations differ: {changes}"
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


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
