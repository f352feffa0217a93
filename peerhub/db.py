"""Async engine and session factory, created inside the app's lifespan (never at import)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import BigInteger, Integer, SmallInteger, event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from peerhub.inputs import INT64_MAX, INT64_MIN, check_parameter

_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Never echo bound parameters into error messages or logs: they hold user data.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # One writer at a time; a busy timeout makes concurrent writers queue
        # instead of failing, and WAL lets readers carry on while one writes.
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed, not left in free space on
            # the page: erased text must not be readable from the file
            # (docs/privacy.md, "What remains on disk"). Per connection, so here.
            cur.execute("PRAGMA secure_delete=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return _refusing_unstorable(engine)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # Fail fast when PostgreSQL is unreachable so /readyz and pages answer quickly.
    kwargs.setdefault("connect_args", {"timeout": 5})
    return _refusing_unstorable(create_async_engine(url, **kwargs))


# The range of each integer type on PostgreSQL (SQLite's are all 64-bit; the same limits
# are applied there, so both backends answer alike).
_INT_RANGES: list[tuple[type[Integer], int, int]] = [
    (BigInteger, INT64_MIN, INT64_MAX),
    (SmallInteger, -(2**15), 2**15 - 1),
    (Integer, -(2**31), 2**31 - 1),
]


def _int_range(kind: object) -> tuple[int, int]:
    for base, low, high in _INT_RANGES:
        if isinstance(kind, base):
            return low, high
    return INT64_MIN, INT64_MAX


def _refusing_unstorable(engine: AsyncEngine) -> AsyncEngine:
    """Refuse, on both backends, values that PostgreSQL cannot take or that SQLite would
    store wrongly — a NUL in text, an unpaired surrogate, an integer beyond its column's
    range, NaN — as :class:`~peerhub.errors.BadInput` (a 400) instead of a driver error
    (a 500) or a silently different row. The input guard refuses such values in
    requests first; this catches any other way in (docs/security.md, "Bad input").

    The statement's own values are checked as the code gave them (before JSON columns
    serialise theirs, which would hide a NUL as ``\\u0000``), each integer against its
    bind's type; then what goes to the driver, for SQL sent as text."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(
        _conn: Any, _cursor: Any, _sql: str, parameters: Any, context: Any, _many: bool
    ) -> None:
        compiled = getattr(context, "compiled", None)
        for row in getattr(context, "compiled_parameters", None) or ():
            for name, value in row.items():
                bind = compiled.binds.get(name) if compiled is not None else None
                low, high = _int_range(bind.type if bind is not None else None)
                check_parameter(value, low=low, high=high)
        check_parameter(parameters)

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on error.

    After the commit, each of :data:`AFTER_COMMIT` runs before this returns: the outbox
    delivers what the transaction recorded (:func:`peerhub.outbox.settle`)."""
    async with maker() as session:
        session.sync_session.info[HOOKED] = True
        async with session.begin():
            yield session
        for hook in AFTER_COMMIT:
            await hook(session)


#: Awaited, with the session, after each :func:`transaction` commits (not after a
#: rollback). ``peerhub.outbox`` adds its ``settle`` when imported (this module imports
#: no model, so every model module may import it).
AFTER_COMMIT: list[Callable[[AsyncSession], Awaitable[None]]] = []
#: In ``session.info`` of the sessions :func:`transaction` opens: their commits are
#: followed by :data:`AFTER_COMMIT`.
HOOKED = "peerhub.db.after_commit"


# --- after deleting personal data ---------------------------------------------------------


async def checkpoint(engine: AsyncEngine) -> bool | None:
    """SQLite: copy the write-ahead log into the database file and empty the log file.

    In WAL mode a page's old versions stay in the ``-wal`` file until a checkpoint
    resets it; with ``secure_delete`` the new versions carry zeros where the deleted
    text was, and ``TRUNCATE`` cuts the log to nothing, so no copy of the text stays
    in either file. True when the checkpoint completed, False when a reader still
    holds an old snapshot (call it again later), None on other databases.
    """
    if engine.dialect.name != "sqlite":
        return None
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    # (busy, frames in the log, frames checkpointed); busy=1 means it could not finish.
    return row is not None and int(row[0]) == 0


async def vacuum(engine: AsyncEngine, tables: Iterable[str], *, full: bool = False) -> list[str]:
    """PostgreSQL: VACUUM each table, outside any transaction.

    A plain VACUUM prunes the dead row versions that hold deleted text and makes
    their space reusable, without blocking anyone; the bytes stay in the page's free
    space until a new row is written there. ``full`` runs VACUUM FULL, which rewrites
    each table into a new file (the old file is deleted), so no copy is left in the
    database's files; it locks each table while it runs. What neither reaches (WAL
    segments, backups) is in docs/privacy.md. Returns the tables vacuumed; on SQLite
    (where :func:`checkpoint` is the answer) nothing.
    """
    if engine.dialect.name != "postgresql":
        return []
    done = []
    command = "VACUUM FULL" if full else "VACUUM"
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in sorted(set(tables)):
            if not _TABLE_NAME.fullmatch(table):
                raise ValueError(f"not a table name: {table!r}")
            # Names come from the models' metadata, never from input (checked above).
            await autocommit.exec_driver_sql(f'{command} "{table}"')
            done.append(table)
    return done
