"""Rota actions: offer, confirm, assign, swap, remove, step back; settings; the
calendar feed; and the gap check.

Who may do what (docs/rotas.md):

- a **moderator** of the group (or an organiser, who may moderate every group of
  their organisation) offers to cover a session, and steps back from one;
- an **organiser** confirms an offer, assigns someone, swaps one person for another,
  removes an entry, and sets the group's rota settings.

An offer waits for an organiser to confirm it, unless the group lets offers stand
(``RotaSettings.offers_stand``): then it is rostered at once. An organiser's
assignment is rostered at once; the moderator sees it on their own rota and may step
back. Whoever leaves a session with nobody rostered inside the group's gap window
makes it a gap at once, and the group's organisers and moderators are told
(:func:`tell_gap`), once per session.

Each change is written to the audit trail (peerhub/audit.py: ``rota.offered``,
``rota.confirmed``, ``rota.assigned``, ``rota.swapped``, ``rota.removed``,
``rota.stepped_back``), with who did it, to whom, for which group and session, and
when: who stepped back, and when, is on record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.errors import FieldError
from peerhub.groups import meetings
from peerhub.groups.actions import group_for
from peerhub.i18n import _
from peerhub.models import Group, GroupRole, User
from peerhub.rotas import gaps, queries
from peerhub.rotas.models import (
    MAX_GAP_HOURS,
    MIN_GAP_HOURS,
    OFFERED,
    ROSTERED,
    RotaEntry,
    RotaFeed,
    RotaGap,
    RotaSettings,
)
from peerhub.schedule import ScheduleError, parse_local, zone
from peerhub.security.tokens import digest, new_token

# -- helpers --------------------------------------------------------------------------------


def session_start(group: Group, key: str, now: datetime) -> datetime:
    """The UTC start of the group's session ``key``, or FieldError("session") when it is
    not one of its sessions, is cancelled, or has ended."""
    key = key.strip()
    try:
        real = meetings.is_meeting(group.dtstart_local, group.rrule, key)
    except ScheduleError:
        real = False
    if not real or key in (group.exdates or ()):
        raise FieldError("session", _("That is not one of this group's coming sessions."))
    if meetings.meeting_end(key, group.time_zone, group.duration_minutes) <= now:
        raise FieldError("session", _("That session has already happened."))
    return parse_local(key, "session").replace(tzinfo=zone(group.time_zone)).astimezone(UTC)


def _log(
    db: AsyncSession,
    group: Group,
    actor: User | None,
    action: str,
    subject_id: str | None,
    key: str,
    now: datetime,
) -> None:
    audit.record(
        db,
        now,
        action,
        actor_id=actor.id if actor else None,
        subject_id=group.id,
        person=subject_id,
        session=key,
    )


async def _entry(db: AsyncSession, group_id: str, key: str, user_id: str) -> RotaEntry | None:
    return await db.scalar(
        select(RotaEntry).where(
            RotaEntry.group_id == group_id,
            RotaEntry.session_key == key,
            RotaEntry.user_id == user_id,
        )
    )


async def _eligible(db: AsyncSession, group: Group, user_id: str) -> bool:
    return any(uid == user_id for uid, _name in await queries.may_moderate(db, group))


async def _target(db: AsyncSession, group: Group, user_id: str) -> str:
    """A person the organiser names (by id) who may moderate the group."""
    user_id = user_id.strip()
    if not user_id or not await _eligible(db, group, user_id):
        raise FieldError("user_id", _("Choose one of this group's moderators or organisers."))
    return user_id


async def _rostered(
    db: AsyncSession,
    group: Group,
    key: str,
    starts_at: datetime,
    user_id: str,
    actor: User,
    now: datetime,
) -> None:
    """Make ``user_id`` rostered for the session (whatever they had), and forget any gap
    told for it: a gap there later is a new one, told again."""
    entry = await _entry(db, group.id, key, user_id)
    if entry is None:
        db.add(
            RotaEntry(
                group_id=group.id,
                session_key=key,
                starts_at=starts_at,
                user_id=user_id,
                status=ROSTERED,
                assigned_by=actor.id,
                created_at=now,
                updated_at=now,
            )
        )
    else:
        entry.status = ROSTERED
        entry.assigned_by = actor.id
        entry.starts_at = starts_at
        entry.updated_at = now
    await db.execute(
        delete(RotaGap).where(RotaGap.group_id == group.id, RotaGap.session_key == key)
    )


async def _after_leaving(
    db: AsyncSession, group: Group, key: str, starts_at: datetime, now: datetime
) -> bool:
    """Someone left the session: if nobody is left and it starts within the gap
    window, it is a gap now, told at once. True when it became one."""
    await db.flush()
    if await queries.covering(db, group.id, key):
        return False
    window = timedelta(hours=(await queries.settings_of(db, group.id)).gap_hours)
    if starts_at > now + window:
        return False  # the gap check tells it when it enters the window
    return await gaps.tell_once(db, group, key, starts_at, now)


async def _keep_checking(db: AsyncSession, now: datetime) -> None:
    """A group uses its rota: make sure the gap check runs (peerhub/rotas/gaps.py)."""
    await gaps.ensure_scheduled(db, now + gaps.EVERY)


# -- moderators -----------------------------------------------------------------------------


async def offer(db: AsyncSession, actor: User, group_id: str, key: str, now: datetime) -> str:
    """The moderator offers to cover a session. Returns the entry's status: rostered at
    once when the group lets offers stand, or when an organiser offers (they would
    confirm it themselves)."""
    group, rank = await group_for(db, actor, group_id, GroupRole.MODERATOR)
    starts_at = session_start(group, key, now)
    key = key.strip()
    if await _entry(db, group.id, key, actor.id) is not None:
        raise FieldError("session", _("You have already offered to cover that session."))
    await _keep_checking(db, now)
    settings = await queries.settings_of(db, group.id)
    if settings.offers_stand or rank >= GroupRole.ORGANISER:
        await _rostered(db, group, key, starts_at, actor.id, actor, now)
        _log(db, group, actor, "rota.offered", actor.id, key, now)
        return ROSTERED
    db.add(
        RotaEntry(
            group_id=group.id,
            session_key=key,
            starts_at=starts_at,
            user_id=actor.id,
            status=OFFERED,
            assigned_by=actor.id,
            created_at=now,
            updated_at=now,
        )
    )
    _log(db, group, actor, "rota.offered", actor.id, key, now)
    return OFFERED


async def step_back(db: AsyncSession, actor: User, group_id: str, key: str, now: datetime) -> bool:
    """The person takes themselves off a session (an offer or a rostered place). True
    when that left a gap inside the window (told at once)."""
    # Anyone who can see the group's rota may step back from their own entry: someone
    # who stopped moderating keeps the right to take their name off.
    group, _rank = await group_for(db, actor, group_id, GroupRole.MEMBER)
    key = key.strip()
    entry = await _entry(db, group.id, key, actor.id)
    if entry is None:
        raise FieldError("session", _("You are not on the rota for that session."))
    starts_at = entry.starts_at
    if meetings.meeting_end(key, group.time_zone, group.duration_minutes) <= now:
        raise FieldError("session", _("That session has already happened."))
    was_rostered = entry.status == ROSTERED
    await db.delete(entry)
    _log(db, group, actor, "rota.stepped_back", actor.id, key, now)
    return was_rostered and await _after_leaving(db, group, key, starts_at, now)


# -- organisers -----------------------------------------------------------------------------


async def confirm(
    db: AsyncSession, actor: User, group_id: str, key: str, user_id: str, now: datetime
) -> None:
    """An organiser confirms a moderator's offer: they are rostered."""
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    starts_at = session_start(group, key, now)
    key = key.strip()
    entry = await _entry(db, group.id, key, user_id.strip())
    if entry is None or entry.status != OFFERED or not await _eligible(db, group, entry.user_id):
        raise FieldError("user_id", _("There is no such offer for that session."))
    await _rostered(db, group, key, starts_at, entry.user_id, actor, now)
    await _keep_checking(db, now)
    _log(db, group, actor, "rota.confirmed", entry.user_id, key, now)


async def assign(
    db: AsyncSession, actor: User, group_id: str, key: str, user_id: str, now: datetime
) -> None:
    """An organiser rosters a moderator (or organiser) of the group for a session."""
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    starts_at = session_start(group, key, now)
    key = key.strip()
    target = await _target(db, group, user_id)
    entry = await _entry(db, group.id, key, target)
    if entry is not None and entry.status == ROSTERED:
        raise FieldError("user_id", _("That person is already rostered for that session."))
    await _rostered(db, group, key, starts_at, target, actor, now)
    await _keep_checking(db, now)
    _log(db, group, actor, "rota.assigned", target, key, now)


async def swap(
    db: AsyncSession,
    actor: User,
    group_id: str,
    key: str,
    from_user_id: str,
    to_user_id: str,
    now: datetime,
) -> None:
    """An organiser moves a rostered place on a session from one person to another."""
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    starts_at = session_start(group, key, now)
    key = key.strip()
    entry = await _entry(db, group.id, key, from_user_id.strip())
    if entry is None or entry.status != ROSTERED:
        raise FieldError("from_user_id", _("That person is not rostered for that session."))
    target = await _target(db, group, to_user_id)
    if target == entry.user_id:
        raise FieldError("user_id", _("Choose someone else to take the session."))
    taken = await _entry(db, group.id, key, target)
    if taken is not None and taken.status == ROSTERED:
        raise FieldError("user_id", _("That person is already rostered for that session."))
    was = entry.user_id
    await db.delete(entry)
    await db.flush()
    await _rostered(db, group, key, starts_at, target, actor, now)
    _log(db, group, actor, "rota.swapped", target, key, now)
    _log(db, group, actor, "rota.swapped_out", was, key, now)


async def remove(
    db: AsyncSession, actor: User, group_id: str, key: str, user_id: str, now: datetime
) -> bool:
    """An organiser takes someone off a session (a rostered place, or declines an
    offer). True when that left a gap inside the window (told at once)."""
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    key = key.strip()
    entry = await _entry(db, group.id, key, user_id.strip())
    if entry is None:
        raise FieldError("user_id", _("That person is not on the rota for that session."))
    starts_at = entry.starts_at
    was_rostered = entry.status == ROSTERED
    await db.delete(entry)
    _log(db, group, actor, "rota.removed", entry.user_id, key, now)
    return was_rostered and await _after_leaving(db, group, key, starts_at, now)


async def set_settings(
    db: AsyncSession,
    actor: User,
    group_id: str,
    gap_hours: str,
    offers_stand: bool,
    now: datetime,
) -> RotaSettings:
    """An organiser sets the group's gap window (whole hours) and whether offers stand."""
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    text = gap_hours.strip()
    hours = int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else -1
    if not MIN_GAP_HOURS <= hours <= MAX_GAP_HOURS:
        raise FieldError(
            "gap_hours",
            _(
                "Give a whole number of hours from %(low)s to %(high)s.",
                low=MIN_GAP_HOURS,
                high=MAX_GAP_HOURS,
            ),
        )
    found = await db.get(RotaSettings, group.id)
    if found is None:
        found = RotaSettings(group_id=group.id)
        db.add(found)
    found.gap_hours = hours
    found.offers_stand = offers_stand
    found.updated_at = now
    await _keep_checking(db, now)
    audit.record(
        db,
        now,
        "rota.settings",
        actor_id=actor.id,
        subject_id=group.id,
        gap_hours=hours,
        offers_stand=offers_stand,
    )
    return found


# -- the calendar feed -----------------------------------------------------------------------


async def new_feed(db: AsyncSession, actor: User, now: datetime) -> str:
    """A new secret feed address for the person's rota (the old one stops working).
    Returns the token, shown once; only its digest is kept."""
    token = new_token()
    found = await db.get(RotaFeed, actor.id)
    if found is None:
        db.add(RotaFeed(user_id=actor.id, token_hash=digest(token), created_at=now))
    else:
        found.token_hash = digest(token)
        found.created_at = now
    audit.record(db, now, "rota.feed_made", actor_id=actor.id, subject_id=actor.id)
    return token


async def revoke_feed(db: AsyncSession, actor: User, now: datetime) -> None:
    await db.execute(delete(RotaFeed).where(RotaFeed.user_id == actor.id))
    audit.record(db, now, "rota.feed_revoked", actor_id=actor.id, subject_id=actor.id)
