"""Message retention: each group may choose how long its room keeps messages.

``peerhub retention`` (run it daily, from cron or a systemd timer) deletes, for each
group with a setting, the room messages older than its number of days, in batches of
a few hundred rows, each batch its own short transaction. The room's ``next_seq``
counter is never touched: the log simply starts higher. Resume copes with that: a
client that asks for seqs that no longer exist gets what is left after them, in order
(``store.fetch_after`` reads ``seq > after``), and history ends where the log starts.

With the same window it deletes *resolved* reports of the group; open ones are kept
whatever their age, so nothing waiting for a moderator is ever lost (hazards H3, H8).
Crisis alerts are kept, open or handled: each is the organisation's safeguarding record
of what was done (peerhub/duty/, docs/duty.md), and holds no message text (the message
it points to goes with the others). The moderation log is kept too: it holds no message
text and it is the record of what moderators did.

Deleting a row is not the end of its text on disk. Afterwards :func:`reclaim` makes
the storage forget it too: on SQLite (``secure_delete`` is on, so deleted content is
zeroed) a ``TRUNCATE`` checkpoint empties the write-ahead log; on PostgreSQL each
table deleted from is vacuumed, outside any transaction, together with every table
an account erasure touched since the last run (erasures are noted in the audit
trail as ``account.erased``; VACUUM cannot run inside the erasure's own request).
``--vacuum-full`` makes that VACUUM FULL, which also removes the bytes from the
table's files (plain VACUUM leaves them in free space until it is reused).
What still remains, and for how long, is in docs/privacy.md.

Live rooms keep a small ring of recent frames in memory. When the deleted messages
could still be in a ring (they were among the newest :data:`RING_REACH` of the room),
a system event is appended to the room's log; every process's feed drops its ring when
a system event passes (found through the two-second tail check), so no catch-up serves
a deleted message from memory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from peerhub import audit
from peerhub.db import checkpoint, vacuum
from peerhub.models import AuditEvent, Group, User
from peerhub.moderation.models import Report
from peerhub.privacy.models import MAX_RETENTION_DAYS, GroupRetention
from peerhub.realtime.config import RealtimeConfig
from peerhub.realtime.models import Room, RoomMessage

DEFAULT_BATCH = 500
# Twice the feeds' ring: a ring holds at most that many of a room's newest events.
RING_REACH = 2 * RealtimeConfig().ring_size
MARKER_PREFIX = "retention-"


async def retention_days(db: AsyncSession, group_id: str) -> int | None:
    row = await db.get(GroupRetention, group_id)
    return None if row is None else row.message_retention_days


async def set_retention(
    db: AsyncSession, actor: User, group_id: str, days: int | None, now: datetime
) -> bool:
    """Set (or, with None, remove) the group's retention; True if it changed.

    The caller has checked that ``actor`` organises the group.
    """
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(days)
    row = await db.get(GroupRetention, group_id)
    before = None if row is None else row.message_retention_days
    if before == days:
        return False
    if days is None:
        await db.execute(delete(GroupRetention).where(GroupRetention.group_id == group_id))
    elif row is None:
        db.add(GroupRetention(group_id=group_id, message_retention_days=days, updated_at=now))
    else:
        row.message_retention_days, row.updated_at = days, now
    audit.record(
        db, now, "group.retention_changed", actor_id=actor.id, subject_id=group_id, days=days
    )
    return True


@dataclass(frozen=True, slots=True)
class Purged:
    group_id: str
    slug: str
    days: int
    messages: int
    reports: int
    marked: bool


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    batch_size: int = DEFAULT_BATCH,
) -> list[Purged]:
    """Apply every group's retention; what was deleted, per group."""
    async with sessions() as db:
        settings = (
            await db.execute(
                select(GroupRetention.group_id, Group.slug, GroupRetention.message_retention_days)
                .join(Group, Group.id == GroupRetention.group_id)
                .order_by(Group.slug)
            )
        ).all()
    return [
        await _purge_group(sessions, group_id, slug, days, now, batch_size)
        for group_id, slug, days in settings
    ]


async def _purge_group(
    sessions: async_sessionmaker[AsyncSession],
    group_id: str,
    slug: str,
    days: int,
    now: datetime,
    batch_size: int,
) -> Purged:
    cutoff = now - timedelta(days=days)
    deleted = 0
    newest_gone = 0  # the highest seq deleted that was not a retention notice
    while True:
        async with sessions() as db, db.begin():
            rows = (
                await db.execute(
                    select(RoomMessage.seq, RoomMessage.client_id)
                    .where(RoomMessage.room_id == group_id, RoomMessage.created_at < cutoff)
                    .order_by(RoomMessage.seq)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                break
            seqs = [seq for seq, _ in rows]
            await db.execute(
                delete(RoomMessage).where(
                    RoomMessage.room_id == group_id, RoomMessage.seq.in_(seqs)
                )
            )
            deleted += len(seqs)
            newest_gone = max(
                [newest_gone, *(s for s, c in rows if not c.startswith(MARKER_PREFIX))]
            )
        if len(rows) < batch_size:
            break
    async with sessions() as db, db.begin():
        reports = await db.execute(
            delete(Report).where(
                Report.group_id == group_id,
                Report.status == "resolved",
                Report.resolved_at < cutoff,
            )
        )
    marked = False
    if newest_gone:
        marked = await _mark_if_cached(sessions, group_id, days, newest_gone, now)
    return Purged(
        group_id,
        slug,
        days,
        deleted,
        int(getattr(reports, "rowcount", 0) or 0),
        marked,
    )


class _NotNeeded(Exception):
    pass


async def _mark_if_cached(
    sessions: async_sessionmaker[AsyncSession],
    room_id: str,
    days: int,
    newest_gone: int,
    now: datetime,
) -> bool:
    """Append a retention notice to the room's log if a feed's ring could still hold
    a deleted message. Takes the seq from the room's counter row in the same
    transaction, as the writer does, so the log stays gap-free and in commit order."""
    try:
        async with sessions() as db, db.begin():
            # The UPDATE first: it takes the counter row's lock (and SQLite's write lock).
            taken = await db.scalar(
                update(Room)
                .where(Room.id == room_id)
                .values(next_seq=Room.next_seq + 1)
                .returning(Room.next_seq)
            )
            if taken is None:
                raise _NotNeeded
            seq = int(taken) - 1
            if seq - newest_gone > RING_REACH:
                # Far below anything a ring can hold. Rolling back gives the seq
                # back: nothing was inserted, so the log has no hole.
                raise _NotNeeded
            db.add(
                RoomMessage(
                    room_id=room_id,
                    seq=seq,
                    kind="system",
                    sender_id=None,
                    client_id=MARKER_PREFIX + uuid.uuid4().hex,
                    body="",
                    # No text: each reader's page words it in their own language
                    # from the number of days (peerhub/static/js/room-events.js, systemText).
                    data={"event": "room.retention", "days": days},
                    status="visible",
                    created_at=now,
                )
            )
    except _NotNeeded:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Reclaimed:
    """What :func:`reclaim` did to the storage."""

    erasures: int  # account erasures since the last run, now covered
    vacuumed: tuple[str, ...]  # PostgreSQL: the tables vacuumed
    checkpointed: bool | None  # SQLite: the write-ahead log emptied (None elsewhere)


async def reclaim(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    purged: list[Purged],
    now: datetime,
    *,
    full: bool = False,
) -> Reclaimed:
    """After deleting: make the database files forget what was deleted (see above).

    ``full``: on PostgreSQL, VACUUM FULL (each table rewritten, locked meanwhile)."""
    from peerhub.privacy.erasure import erased_tables

    async with sessions() as db:
        last = await db.scalar(
            select(func.max(AuditEvent.id)).where(AuditEvent.action == "storage.reclaimed")
        )
        erasures = int(
            await db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "account.erased", AuditEvent.id > (last or 0))
            )
            or 0
        )
    tables: set[str] = set()
    if any(p.messages for p in purged):
        tables.add(RoomMessage.__tablename__)
    if any(p.reports for p in purged):
        tables.add(Report.__tablename__)
    if erasures:
        tables |= erased_tables()
    vacuumed = await vacuum(engine, tables, full=full)
    done = await checkpoint(engine)
    if tables or erasures or done is not None:
        async with sessions() as db, db.begin():
            audit.record(
                db,
                now,
                "storage.reclaimed",
                erasures=erasures,
                vacuumed=len(vacuumed),
                full=full,
                checkpointed=done,
            )
        # The audit row itself went through the log: empty it again (no deleted text
        # is in it, but a file that is empty after every run is easy to check).
        await checkpoint(engine)
    return Reclaimed(erasures, tuple(vacuumed), done)
