"""Single-use values: a nonce is spent once, in every process, on both databases.

A signed value (such as the two-step pre-sign-in cookie) proves where it came from but
not that it has not been used already. :func:`spend` records its nonce in
``used_nonces``, whose primary key (purpose, nonce) lets the database accept exactly
one insert: of two requests racing with the same value, the second finds the row
(SQLite serialises writers; PostgreSQL makes the second insert wait for the first
transaction and then do nothing). No read-then-write, so no window between them.

Rows are kept until the value they spent would have expired anyway, then deleted by
the next :func:`spend`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.security.models import UsedNonce
from peerhub.security.prune import delete_unlocked


async def spend(
    db: AsyncSession, purpose: str, nonce: str, expires_at: datetime, now: datetime
) -> bool:
    """True the first time (purpose, nonce) is spent; False ever after, until it expires."""
    await delete_unlocked(db, UsedNonce, UsedNonce.nonce, UsedNonce.expires_at < now)
    bind = db.bind
    insert = pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert
    stored = await db.scalar(
        insert(UsedNonce)
        .values(purpose=purpose, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(UsedNonce.nonce)
    )
    return stored is not None


async def is_spent(db: AsyncSession, purpose: str, nonce: str) -> bool:
    """Whether the nonce has been spent (a hint for pages; :func:`spend` decides)."""
    found = await db.scalar(
        select(UsedNonce.nonce).where(UsedNonce.purpose == purpose, UsedNonce.nonce == nonce)
    )
    return found is not None
