"""Token buckets in the database, shared by every server process.

For actions that are rare for a person and cheap to repeat for a script: making an
account and registering an organisation. Each address (an IPv6 /64 counts as one)
has a bucket of :attr:`Bucket.burst` tokens that refills one token every
:attr:`Bucket.every`; each action that succeeds takes one, and an empty bucket is
answered with 429 and ``Retry-After``.

Why the database and not Redis (or peerhub/security/ratelimit.py, which is in
process memory): PeerHub must work without Redis, and a limit kept in one process's
memory would be multiplied by the number of processes and forgotten at each restart.
These actions already write to the database, so one more small write costs nothing
worth measuring (docs/security.md, "Limits on making accounts and organisations").

A bucket row is locked while it is changed (``FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time), so two processes cannot both take the last token. A row that
has been full again for a while is the same as no row, and is deleted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.security.clientip import network_of
from peerhub.security.models import RateBucket
from peerhub.security.prune import delete_unlocked


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    burst: int  # tokens when full
    every: timedelta  # one token comes back after this long

    @property
    def refill(self) -> timedelta:
        """An empty bucket is full again after this long."""
        return self.every * self.burst


# Enough for a whole group signing up together on a venue's wi-fi, or a few people
# behind one mobile network address; then one account every 5 minutes.
SIGNUP: Final = Bucket("signup", burst=20, every=timedelta(minutes=5))
# A charity registers one organisation, perhaps a few; then one an hour.
ORGANISATIONS: Final = Bucket("organisations", burst=5, every=timedelta(hours=1))


class Exhausted(Exception):
    """The bucket is empty: try again in ``retry_after`` seconds."""

    def __init__(self, bucket: Bucket, retry_after: int) -> None:
        super().__init__(f"{bucket.name}: retry after {retry_after} s")
        self.bucket = bucket
        self.retry_after = retry_after


def key_of(bucket: Bucket, address: str) -> str:
    return f"{bucket.name}:{network_of(address)}"


def _level(bucket: Bucket, row: RateBucket | None, now: datetime) -> float:
    if row is None:
        return float(bucket.burst)
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    return min(float(bucket.burst), row.tokens + elapsed / bucket.every.total_seconds())


def _wait(bucket: Bucket, level: float) -> int:
    return max(1, math.ceil((1.0 - level) * bucket.every.total_seconds()))


async def waiting(db: AsyncSession, bucket: Bucket, address: str, now: datetime) -> int:
    """Seconds until the bucket has a token (0: it has one now). Reads only, so slow
    work (hashing a password) can be skipped when the answer will be "wait" anyway."""
    row = await db.get(RateBucket, key_of(bucket, address))
    level = _level(bucket, row, now)
    return 0 if level >= 1.0 else _wait(bucket, level)


async def take(db: AsyncSession, bucket: Bucket, address: str, now: datetime) -> None:
    """Take one token, or raise :class:`Exhausted` (the caller's transaction then
    rolls back, taking nothing)."""
    key = key_of(bucket, address)
    await delete_unlocked(
        db,
        RateBucket,
        RateBucket.key,
        RateBucket.key.startswith(f"{bucket.name}:", autoescape=True)
        & (RateBucket.updated_at < now - bucket.refill),
    )
    bind = db.bind
    insert = pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert
    await db.execute(
        insert(RateBucket)
        .values(key=key, tokens=float(bucket.burst), updated_at=now)
        .on_conflict_do_nothing()
    )
    row = await db.scalar(
        select(RateBucket)
        .where(RateBucket.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # noqa: S101 - inserted just above, in this transaction
    level = _level(bucket, row, now)
    if level < 1.0:
        raise Exhausted(bucket, _wait(bucket, level))
    row.tokens = level - 1.0
    row.updated_at = now
    await db.flush()
