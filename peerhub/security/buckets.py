"""Token buckets in the database, shared by every server process.

For actions that are rare for a person and cheap to repeat for a script: making an
account and registering an organisation. Each address (an IPv6 /64 counts as one)
has a bucket of :attr:`Bucket.burst` tokens that refills one token every
:attr:`Bucket.every`; each action that succeeds takes one, and an empty bucket is
answered with 429 and ``Retry-After``.

An IPv6 address also draws on wider buckets with larger caps: its /56 (what one
household or site is usually given: 256 /64s) and its /48 (one organisation or
hosting customer: 65,536 /64s). With the /64 bucket alone, one /56 could make some
5,000 accounts at once. A :data:`Limit` is the buckets one action takes from.

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

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.security.clientip import network_of, parse_address
from peerhub.security.models import RateBucket
from peerhub.security.prune import delete_unlocked


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    burst: int  # tokens when full
    every: timedelta  # one token comes back after this long
    # What the limit is about ("signup", "organisations"): the 429 page's words.
    purpose: str = ""
    # IPv6 addresses count by this prefix; None: an IPv4-or-/64 bucket (network_of).
    v6_prefix: int | None = None

    @property
    def refill(self) -> timedelta:
        """An empty bucket is full again after this long."""
        return self.every * self.burst


# Enough for a whole group signing up together on a venue's wi-fi, or a few people
# behind one mobile network address; then one account every 5 minutes.
SIGNUP: Final = Bucket("signup", burst=20, every=timedelta(minutes=5), purpose="signup")
# One IPv6 household or site (/56), and one organisation or hosting customer (/48):
# room for a few busy venues, far below 256 or 65,536 separate /64 buckets.
SIGNUP_56: Final = Bucket(
    "signup56", burst=40, every=timedelta(minutes=5), purpose="signup", v6_prefix=56
)
SIGNUP_48: Final = Bucket(
    "signup48", burst=100, every=timedelta(minutes=2), purpose="signup", v6_prefix=48
)
# A charity registers one organisation, perhaps a few; then one an hour.
ORGANISATIONS: Final = Bucket(
    "organisations", burst=5, every=timedelta(hours=1), purpose="organisations"
)
ORGANISATIONS_56: Final = Bucket(
    "organisations56", burst=10, every=timedelta(hours=1), purpose="organisations", v6_prefix=56
)
ORGANISATIONS_48: Final = Bucket(
    "organisations48",
    burst=20,
    every=timedelta(minutes=30),
    purpose="organisations",
    v6_prefix=48,
)

Limit = tuple[Bucket, ...]
SIGNUPS: Final[Limit] = (SIGNUP, SIGNUP_56, SIGNUP_48)
REGISTRATIONS: Final[Limit] = (ORGANISATIONS, ORGANISATIONS_56, ORGANISATIONS_48)


class Exhausted(Exception):
    """The bucket is empty: try again in ``retry_after`` seconds."""

    def __init__(self, bucket: Bucket, retry_after: int) -> None:
        super().__init__(f"{bucket.name}: retry after {retry_after} s")
        self.bucket = bucket
        self.retry_after = retry_after


def _v6(address: str) -> ipaddress.IPv6Address | None:
    ip = parse_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return ip
    return None


def applies(bucket: Bucket, address: str) -> bool:
    """Wider buckets are for IPv6 only (an IPv4 address is one unit already)."""
    return bucket.v6_prefix is None or _v6(address) is not None


def key_of(bucket: Bucket, address: str) -> str:
    six = _v6(address) if bucket.v6_prefix is not None else None
    if six is not None and bucket.v6_prefix is not None:
        unit = str(ipaddress.IPv6Network(f"{six}/{bucket.v6_prefix}", strict=False))
    else:
        unit = network_of(address)
    return f"{bucket.name}:{unit}"


def _level(bucket: Bucket, row: RateBucket | None, now: datetime) -> float:
    if row is None:
        return float(bucket.burst)
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    return min(float(bucket.burst), row.tokens + elapsed / bucket.every.total_seconds())


def _wait(bucket: Bucket, level: float) -> int:
    return max(1, math.ceil((1.0 - level) * bucket.every.total_seconds()))


async def waiting(db: AsyncSession, limit: Limit, address: str, now: datetime) -> int:
    """Seconds until every bucket of the limit has a token (0: they have one now). Reads
    only, so slow work (hashing a password) can be skipped when the answer will be
    "wait" anyway."""
    longest = 0
    for bucket in limit:
        if not applies(bucket, address):
            continue
        row = await db.get(RateBucket, key_of(bucket, address))
        level = _level(bucket, row, now)
        if level < 1.0:
            longest = max(longest, _wait(bucket, level))
    return longest


async def take(db: AsyncSession, limit: Limit, address: str, now: datetime) -> None:
    """Take one token from each bucket of the limit, or raise :class:`Exhausted` for
    the one that waits longest (the caller's transaction then rolls back, taking
    nothing)."""
    rows: list[tuple[Bucket, RateBucket, float]] = []
    for bucket in limit:
        await _prune(db, bucket, now)
        if applies(bucket, address):
            row = await _locked(db, bucket, address, now)
            rows.append((bucket, row, _level(bucket, row, now)))
    empty = [(bucket, level) for bucket, _, level in rows if level < 1.0]
    if empty:
        bucket, level = max(empty, key=lambda found: _wait(found[0], found[1]))
        raise Exhausted(bucket, _wait(bucket, level))
    for _, row, level in rows:
        row.tokens = level - 1.0
        row.updated_at = now
    await db.flush()


async def _prune(db: AsyncSession, bucket: Bucket, now: datetime) -> None:
    """Rows of the bucket full again for a while are the same as no row: deleted."""
    await delete_unlocked(
        db,
        RateBucket,
        RateBucket.key,
        RateBucket.key.startswith(f"{bucket.name}:", autoescape=True)
        & (RateBucket.updated_at < now - bucket.refill),
    )


async def _locked(db: AsyncSession, bucket: Bucket, address: str, now: datetime) -> RateBucket:
    """The bucket's row for the address, made full if missing, locked until the
    transaction ends."""
    key = key_of(bucket, address)
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
    return row
