"""What the rota pages, the group pages and matching read: no permission decisions.

Who covers a session is answered in one place, :func:`covering_many` (and
:func:`covering`, one session): a rostered entry counts only while its person may
still moderate the group (an active moderator of it, or an organiser of its
organisation, with an account that is not disabled). Everything that says a
moderator is on duty (the pages, the gap check, matching) asks it, so a rule added
later (a moderator marked unavailable) is added here once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from peerhub.care.models import Unavailability
from peerhub.groups import meetings
from peerhub.models import Group, GroupMember, OrganisationOrganiser, User
from peerhub.rotas.models import (
    DEFAULT_GAP_HOURS,
    OFFERED,
    ROSTERED,
    RotaEntry,
    RotaFeed,
    RotaSettings,
)
from peerhub.schedule import ScheduleError

Session = tuple[str, str]  # (group id, session key)


def _may_moderate() -> ColumnElement[bool]:
    """The entry's person may moderate the entry's group now (for a query that joins
    RotaEntry and Group)."""
    moderator = (
        select(GroupMember.user_id)
        .where(
            GroupMember.group_id == RotaEntry.group_id,
            GroupMember.user_id == RotaEntry.user_id,
            GroupMember.role == "moderator",
            GroupMember.status == "active",
        )
        .exists()
    )
    organiser = (
        select(OrganisationOrganiser.user_id)
        .where(
            OrganisationOrganiser.organisation_id == Group.organisation_id,
            OrganisationOrganiser.user_id == RotaEntry.user_id,
        )
        .exists()
    )
    return or_(moderator, organiser)


def _rostered() -> ColumnElement[bool]:
    return and_(
        RotaEntry.status == ROSTERED,
        User.disabled_at.is_(None),
        _may_moderate(),
        ~_away_then(),
    )


def _away_then() -> ColumnElement[bool]:
    """The rostered person said they are away when the session starts (peerhub/care/):
    the session counts as a gap, so it is told and matching does not say "on duty"."""
    return exists().where(
        Unavailability.user_id == RotaEntry.user_id,
        Unavailability.starts_at <= RotaEntry.starts_at,
        or_(Unavailability.ends_at.is_(None), Unavailability.ends_at > RotaEntry.starts_at),
    )


def _entries_query() -> Select[str, str, str]:
    return (
        select(RotaEntry.group_id, RotaEntry.session_key, RotaEntry.user_id)
        .join(Group, Group.id == RotaEntry.group_id)
        .join(User, User.id == RotaEntry.user_id)
        .where(_rostered())
    )


async def covering_many(db: AsyncSession, sessions: Iterable[Session]) -> dict[Session, list[str]]:
    """Who is rostered, and may moderate, for each session (user ids, in the order
    they were rostered); a session nobody covers is absent. One query."""
    wanted = sorted(set(sessions))
    if not wanted:
        return {}
    out: dict[Session, list[str]] = defaultdict(list)
    # In chunks: a tuple IN list of a few hundred pairs is fine on both databases.
    for i in range(0, len(wanted), 200):
        chunk = wanted[i : i + 200]
        rows = await db.execute(
            _entries_query()
            .where(tuple_(RotaEntry.group_id, RotaEntry.session_key).in_(chunk))
            .order_by(RotaEntry.updated_at, RotaEntry.id)
        )
        for group_id, key, user_id in rows:
            out[(group_id, key)].append(user_id)
    return dict(out)


async def covering(db: AsyncSession, group_id: str, session_key: str) -> list[str]:
    """Who covers one session (see :func:`covering_many`)."""
    return (await covering_many(db, [(group_id, session_key)])).get((group_id, session_key), [])


async def covered_between(
    db: AsyncSession, start: datetime, end: datetime
) -> set[tuple[str, datetime]]:
    """Every (group id, UTC start) with someone covering it, for sessions starting in
    [start, end): one query for all groups (matching builds its index from it)."""
    rows = await db.execute(
        select(RotaEntry.group_id, RotaEntry.starts_at)
        .join(Group, Group.id == RotaEntry.group_id)
        .join(User, User.id == RotaEntry.user_id)
        .where(_rostered(), RotaEntry.starts_at >= start, RotaEntry.starts_at < end)
    )
    return {(group_id, starts_at) for group_id, starts_at in rows}


async def settings_of(db: AsyncSession, group_id: str) -> RotaSettings:
    """The group's settings (a transient row with the defaults when it has none)."""
    found = await db.get(RotaSettings, group_id)
    if found is not None:
        return found
    return RotaSettings(group_id=group_id, gap_hours=DEFAULT_GAP_HOURS, offers_stand=False)


async def gap_hours_of(db: AsyncSession, group_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(group_ids))
    found: dict[str, int] = dict.fromkeys(ids, DEFAULT_GAP_HOURS)
    if ids:
        rows = await db.execute(
            select(RotaSettings.group_id, RotaSettings.gap_hours).where(
                RotaSettings.group_id.in_(ids)
            )
        )
        found.update({gid: hours for gid, hours in rows})
    return found


def sessions_of(group: Group, now: datetime, count: int) -> list[meetings.Meeting]:
    """The group's next ``count`` sessions that are not cancelled (one on now first)."""
    try:
        found = meetings.upcoming(
            group.dtstart_local,
            group.rrule,
            group.time_zone,
            after=now,
            duration_minutes=group.duration_minutes,
            exdates=group.exdates,
            count=count + len(group.exdates or ()),
        )
    except ScheduleError:
        return []
    return [m for m in found if not m.cancelled][:count]


async def names_of(db: AsyncSession, user_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(ids)))
    return {uid: name for uid, name in rows}


async def may_moderate(db: AsyncSession, group: Group) -> list[tuple[str, str]]:
    """Who may be rostered for the group: (user id, pseudonym), by pseudonym."""
    moderators = select(GroupMember.user_id).where(
        GroupMember.group_id == group.id,
        GroupMember.role == "moderator",
        GroupMember.status == "active",
    )
    organisers = select(OrganisationOrganiser.user_id).where(
        OrganisationOrganiser.organisation_id == group.organisation_id
    )
    rows = await db.execute(
        select(User.id, User.pseudonym)
        .where(
            or_(User.id.in_(moderators), User.id.in_(organisers)),
            User.disabled_at.is_(None),
        )
        .order_by(User.pseudonym_key)
    )
    return [(uid, name) for uid, name in rows]


# -- a group's rota, as its page shows it ---------------------------------------------------


@dataclass(slots=True)
class RotaSession:
    """One session of a group's rota: who is rostered, who offered, and if it is a gap."""

    group: Group
    meeting: meetings.Meeting
    rostered: list[tuple[str, str]] = field(default_factory=list)  # (user id, pseudonym)
    offered: list[tuple[str, str]] = field(default_factory=list)
    gap: bool = False  # nobody rostered, and it starts within the group's gap window

    @property
    def key(self) -> str:
        return self.meeting.key

    @property
    def covered(self) -> bool:
        return bool(self.rostered)


async def group_rota(
    db: AsyncSession, group: Group, now: datetime, count: int = 8
) -> list[RotaSession]:
    """The group's next ``count`` sessions, with who covers each and who offered."""
    upcoming = sessions_of(group, now, count)
    keys = [m.key for m in upcoming]
    cover = await covering_many(db, [(group.id, k) for k in keys])
    offers: dict[str, list[str]] = defaultdict(list)
    if keys:
        rows = await db.execute(
            select(RotaEntry.session_key, RotaEntry.user_id)
            .join(Group, Group.id == RotaEntry.group_id)
            .join(User, User.id == RotaEntry.user_id)
            .where(
                RotaEntry.group_id == group.id,
                RotaEntry.session_key.in_(keys),
                RotaEntry.status == OFFERED,
                User.disabled_at.is_(None),
                _may_moderate(),
            )
            .order_by(RotaEntry.created_at, RotaEntry.id)
        )
        for key, user_id in rows:
            offers[key].append(user_id)
    names = await names_of(
        db, [u for us in cover.values() for u in us] + [u for us in offers.values() for u in us]
    )
    window = timedelta(hours=(await settings_of(db, group.id)).gap_hours)
    out: list[RotaSession] = []
    for m in upcoming:
        who = cover.get((group.id, m.key), [])
        out.append(
            RotaSession(
                group,
                m,
                [(u, names.get(u, "")) for u in who],
                [(u, names.get(u, "")) for u in offers[m.key]],
                gap=not who and m.start_utc <= now + window,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class NextCover:
    """Who runs a group's next session (pseudonyms), for the pages members see."""

    start: datetime  # aware, in the group's zone
    names: tuple[str, ...]


async def next_cover(
    db: AsyncSession, groups: Iterable[Group], now: datetime
) -> dict[str, NextCover]:
    """For each group with a next session: who is rostered for it (maybe nobody)."""
    nexts: dict[str, meetings.Meeting] = {}
    for g in groups:
        found = sessions_of(g, now, 1)
        if found:
            nexts[g.id] = found[0]
    cover = await covering_many(db, [(gid, m.key) for gid, m in nexts.items()])
    names = await names_of(db, [u for us in cover.values() for u in us])
    return {
        gid: NextCover(
            m.start, tuple(names.get(u, "") for u in cover.get((gid, m.key), []) if u in names)
        )
        for gid, m in nexts.items()
    }


# -- a moderator's own rota -------------------------------------------------------------------


async def groups_moderated(db: AsyncSession, user_id: str) -> list[Group]:
    """The active groups the person may moderate (as a moderator or an organiser)."""
    moderated = select(GroupMember.group_id).where(
        GroupMember.user_id == user_id,
        GroupMember.role == "moderator",
        GroupMember.status == "active",
    )
    organised = select(OrganisationOrganiser.organisation_id).where(
        OrganisationOrganiser.user_id == user_id
    )
    return list(
        (
            await db.scalars(
                select(Group)
                .where(
                    Group.status == "active",
                    Group.kind == "group",  # not a private check-in's room
                    or_(Group.id.in_(moderated), Group.organisation_id.in_(organised)),
                )
                .order_by(Group.name)
            )
        ).all()
    )


async def my_entries(
    db: AsyncSession, user_id: str, groups: list[Group], now: datetime, count: int = 8
) -> list[tuple[RotaSession, str | None]]:
    """Each coming session of the person's groups, with the person's own standing in
    it: ``rostered``, ``offered`` or None."""
    out: list[tuple[RotaSession, str | None]] = []
    for group in groups:
        for session in await group_rota(db, group, now, count):
            mine: str | None = None
            if any(u == user_id for u, _n in session.rostered):
                mine = ROSTERED
            elif any(u == user_id for u, _n in session.offered):
                mine = OFFERED
            out.append((session, mine))
    out.sort(key=lambda pair: pair[0].meeting.start_utc)
    return out


async def feed_user(db: AsyncSession, token_hash: str) -> User | None:
    """The person whose feed the token names (None: no such feed, or a disabled account)."""
    return await db.scalar(
        select(User)
        .join(RotaFeed, RotaFeed.user_id == User.id)
        .where(RotaFeed.token_hash == token_hash, User.disabled_at.is_(None))
    )


async def has_feed(db: AsyncSession, user_id: str) -> bool:
    return (await db.get(RotaFeed, user_id)) is not None
