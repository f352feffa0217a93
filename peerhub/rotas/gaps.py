"""Gaps: sessions with nobody rostered inside their group's gap window; telling them,
once each; and the gap check, a delayed outbox job that schedules its own next run.

Every ``EVERY`` the dispatcher (peerhub/outbox/dispatcher.py) runs
:func:`check_gaps`, which tells each session that entered its
group's gap window with nobody rostered, once (the ``rota_gaps`` row is the lock, so a
restart, a retry or a second process never tells it twice), and then records the next
run (``run_at`` = now + ``EVERY``) in the same transaction: if the check fails, the
row is retried with the dispatcher's backoff, and the chain is not lost.

:func:`start` (called once the dispatcher runs in ``peerhub serve``, peerhub/app.py)
records a first run when no run is waiting, and so does each rota action (a run
``EVERY`` later): a new deployment, or one whose chain was lost (a row given up after
its retries), starts it again. Two processes starting at once may each start
a chain; a run records the next one only when no later one is waiting, so they
merge again at the next run. Extra runs cost a query; they never tell twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import audit, notify, outbox
from peerhub.groups import meetings
from peerhub.i18n import lazy_gettext
from peerhub.models import Group, Organisation
from peerhub.outbox.dispatcher import Dispatcher
from peerhub.outbox.models import OutboxEntry
from peerhub.rotas import queries
from peerhub.rotas.models import RotaGap

EVERY = timedelta(minutes=15)


GAP_TOPIC = notify.topic(
    "rota.gap",
    lazy_gettext("A session has no moderator yet"),
    lazy_gettext(
        "A session of one of your groups on PeerHub has nobody on the rota. "
        "Please offer to cover it, or find someone who can."
    ),
)


async def tell_gap(
    db: AsyncSession,
    group: Group,
    session_key: str,
    starts_at: datetime,
    user_ids: list[str],
    now: datetime,
) -> None:
    """Tell the group's organisers and moderators that a session has nobody rostered:
    the one place a gap is told from, by each person's own channels (peerhub/notify),
    with the audit trail's line. The gap is also shown on the group's rota page and on
    each moderator's rota."""
    for user_id in sorted(set(user_ids)):
        await notify.tell(
            db,
            user_id,
            GAP_TOPIC,
            url=f"/organise/groups/{group.id}/rota",
            ref=f"rota-gap:{group.id}:{session_key}",
            now=now,
        )
    audit.record(
        db,
        now,
        "rota.gap_told",
        subject_id=group.id,
        session=session_key,
        starts_at=starts_at.isoformat(),
        told=sorted(user_ids),
    )


async def tell_once(
    db: AsyncSession, group: Group, key: str, starts_at: datetime, now: datetime
) -> bool:
    """Record that the session's gap was told and tell it, unless it was told already
    (by this or another process: the insert is the lock). True when told now."""
    bind = db.bind
    insert = pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert
    stored = await db.scalar(
        insert(RotaGap)
        .values(group_id=group.id, session_key=key, starts_at=starts_at, told_at=now)
        .on_conflict_do_nothing()
        .returning(RotaGap.session_key)
    )
    if stored is None:
        return False
    who = [uid for uid, _name in await queries.may_moderate(db, group)]
    await tell_gap(db, group, key, starts_at, who, now)
    return True


async def check_gaps(db: AsyncSession, now: datetime) -> int:
    """Find every session that has entered its group's gap window with nobody rostered,
    and tell each once. Returns how many were told now. Active groups of checked
    organisations only (no other group has a room or sessions people come to)."""
    groups = (
        await db.scalars(
            select(Group)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(
                Group.status == "active",
                Group.kind == "group",  # not a private check-in's room
                Organisation.verified_at.is_not(None),
            )
        )
    ).all()
    hours = await queries.gap_hours_of(db, [g.id for g in groups])
    due: list[tuple[Group, meetings.Meeting]] = []
    for group in groups:
        window = now + timedelta(hours=hours[group.id])
        # Sessions already on count too: one that started unstaffed is still a gap.
        for meeting in queries.sessions_of(group, now, 64):
            if meeting.start_utc > window:
                break
            due.append((group, meeting))
    if not due:
        return 0
    cover = await queries.covering_many(db, [(g.id, m.key) for g, m in due])
    told_already = {
        (gid, key)
        for gid, key in await db.execute(
            select(RotaGap.group_id, RotaGap.session_key).where(
                RotaGap.group_id.in_(sorted({g.id for g, _m in due}))
            )
        )
    }
    told = 0
    for group, meeting in due:
        if cover.get((group.id, meeting.key)) or (group.id, meeting.key) in told_already:
            continue
        if await tell_once(db, group, meeting.key, meeting.start_utc, now):
            told += 1
    return told


async def forget_old_gaps(db: AsyncSession, now: datetime) -> None:
    """Gaps told for sessions long past are of no more use."""
    await db.execute(delete(RotaGap).where(RotaGap.starts_at < now - timedelta(days=30)))


# -- the check, as an outbox job -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GapCheck:
    """No payload: the check reads the rotas as they are when it runs."""


CHECK = outbox.kind("rotas.check_gaps", GapCheck)


async def _waiting(db: AsyncSession, after: datetime | None) -> int:
    query = select(func.count()).where(
        OutboxEntry.kind == CHECK.name,
        OutboxEntry.done_at.is_(None),
        OutboxEntry.failed_at.is_(None),
    )
    if after is not None:
        query = query.where(OutboxEntry.run_at > after)
    return int(await db.scalar(query) or 0)


async def run_check(db: AsyncSession, now: datetime) -> int:
    """One run: tell the new gaps, forget old ones, and record the next run unless a
    later one is waiting already. Returns how many gaps were told."""
    told = await check_gaps(db, now)
    await forget_old_gaps(db, now)
    if not await _waiting(db, now):
        outbox.record(db, CHECK, GapCheck(), run_at=now + EVERY)
    return told


async def ensure_scheduled(db: AsyncSession, run_at: datetime | None = None) -> bool:
    """Record a run (now, or at ``run_at``) when none is waiting. True when it did."""
    if await _waiting(db, None):
        return False
    outbox.record(db, CHECK, GapCheck(), run_at=run_at)
    return True


def register(
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
) -> None:
    async def check(_payload: GapCheck) -> None:
        async with sessions() as db, db.begin():
            await run_check(db, clock())

    dispatcher.register(CHECK, check)


async def start(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Once the dispatcher runs: make sure a gap check is waiting."""
    async with sessions() as db, db.begin():
        await ensure_scheduled(db)
