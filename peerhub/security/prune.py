"""Deleting rows that have run out, without waiting for anyone.

Several small tables here (throttle counters, token buckets, spent nonces, known
devices) are tidied by the requests that use them. Such a clean-up must never wait for
a row another transaction holds: two of them each holding one row the other wants would
deadlock. So on PostgreSQL the rows to delete are picked with ``FOR UPDATE SKIP
LOCKED`` (a row someone holds is left for a later clean-up); SQLite has one writer at a
time and needs nothing. At most :data:`BATCH` rows go at once, so one clean-up never
turns a sign-in into a long transaction.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

BATCH: Final = 500


async def delete_unlocked(
    db: AsyncSession, model: Any, key: Any, condition: ColumnElement[bool]
) -> None:
    """Delete up to :data:`BATCH` rows of ``model`` matching ``condition`` that nobody
    holds; ``key`` picks them out (a column unique enough for the rows matched)."""
    picked = select(key).where(condition).limit(BATCH)
    bind = db.bind
    if bind is not None and bind.dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    await db.execute(
        delete(model).where(condition, key.in_(picked.scalar_subquery())),
        execution_options={"synchronize_session": False},
    )
