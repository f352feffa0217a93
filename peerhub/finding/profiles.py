"""From the directory in the database to the matching engine's GroupProfiles.

Building profiles means reading every active group and expanding its recurrence,
so the :class:`MatchIndex` keeps a built :class:`~peerhub.matching.GroupIndex` and
rebuilds it when it is older than ``ttl`` seconds or when this process changed a
group. Between rebuilds, next meetings and places left may be up to ``ttl`` old;
joining re-checks places, and the blocked-member rule never relies on the cache
(see :func:`peerhub.finding.actions.find_groups`).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from peerhub import places
from peerhub.groups.models import AddedCommunity
from peerhub.matching import GroupIndex, GroupProfile
from peerhub.models import Group, GroupMember, Organisation, TagKind
from peerhub.rotas import queries as rota_queries
from peerhub.schedule import ScheduleError, occurrences

# The engine scores availability over the next 35 days: ten meetings cover that for
# anything from daily (with a short gap) to monthly groups.
MEETINGS_AHEAD = 10
# "A moderator on duty" is said of a group whose next session starts within this many
# hours and has someone rostered for it (peerhub/rotas). The matching engine's
# ``crisis_window_hours`` is the same 48 hours.
ON_DUTY_HOURS = 48
# Sessions on now started up to this long ago (longer ones count as not covered).
LONGEST_SESSION = timedelta(days=1)


def on_duty(meetings: tuple[datetime, ...], covered: Collection[datetime], now: datetime) -> bool:
    """Whether the group's next session (one on now included) starts within
    ``ON_DUTY_HOURS`` and someone is rostered for it. Only the *next* session: a
    person told "meets in the next 48 hours, with a moderator on duty" goes to the
    first one, so a covered later session does not make it true."""
    if not meetings:
        return False
    first = meetings[0].astimezone(UTC)
    return first <= now + timedelta(hours=ON_DUTY_HOURS) and first in covered


def area_of(group: Group) -> str:
    """What a result calls the group's place: its town ("Manchester"), from the
    postcode's district, not the district code; "online" for an online group."""
    if group.format == "online" or not group.postcode:
        return "online"
    return places.district_label(group.postcode)


def profile_of(
    group: Group,
    members: Iterable[GroupMember],
    base_url: str,
    now: datetime,
    names: Mapping[str, str] | None = None,
    covered: Collection[datetime] = (),
) -> GroupProfile:
    """One group as the matcher sees it. Capacity counts active members only.
    ``covered``: the UTC starts of its sessions that have someone rostered."""
    rows = list(members)
    active_members = sum(1 for m in rows if m.status == "active" and m.role == "member")
    try:
        meetings = tuple(
            o.start
            for o in occurrences(
                group.dtstart_local,
                group.rrule,
                group.time_zone,
                after=now,
                count=MEETINGS_AHEAD,
                duration_minutes=group.duration_minutes,
                exdates=group.exdates,
            )
        )
    except ScheduleError:
        meetings = ()
    location = (
        None
        if group.latitude is None or group.longitude is None
        else (group.latitude, group.longitude)
    )
    communities = frozenset(group.tag_values(TagKind.COMMUNITY))
    named = names or {}
    return GroupProfile(
        id=group.id,
        name=group.name,
        description=group.description,
        only_communities=frozenset(
            t.value for t in group.tags if t.kind == TagKind.COMMUNITY and t.only
        ),
        community_names=tuple((c, named[c]) for c in sorted(communities) if c in named),
        url=f"{base_url}/groups/{group.slug}",
        languages=tuple(group.tag_values(TagKind.LANGUAGE)),
        interpretation=tuple(group.tag_values(TagKind.INTERPRETATION)),
        communities=communities,
        stages=frozenset(group.tag_values(TagKind.STAGE)),
        topics=frozenset(group.tag_values(TagKind.TOPIC)),
        format=group.format,  # type: ignore[arg-type]  # checked by a DB constraint
        location=location if group.format != "online" else None,
        area=area_of(group),
        next_meetings=meetings,
        time_zone=group.time_zone,
        age_min=group.age_min,
        age_max=group.age_max,
        access_features=frozenset(group.tag_values(TagKind.ACCESS)),
        capacity=group.capacity,
        places_left=(None if group.capacity is None else max(0, group.capacity - active_members)),
        # Requests count as membership for the blocked rule: someone who asked to
        # join will soon be in the room.
        member_ids=frozenset(m.user_id for m in rows),
        # Someone is rostered for the next session, within 48 hours (peerhub/rotas):
        # only then do results say "with a moderator on duty".
        moderator_on_duty=on_duty(meetings, covered, now),
    )


async def load_profiles(db: AsyncSession, base_url: str, now: datetime) -> list[GroupProfile]:
    # Only groups the public directory shows: active, of a verified organisation.
    query = (
        select(Group)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(
            Group.status == "active",
            Group.kind == "group",  # never a private check-in's hidden group
            Organisation.verified_at.is_not(None),
        )
        .options(selectinload(Group.tags))
    )
    groups = (await db.scalars(query)).all()
    members: dict[str, list[GroupMember]] = defaultdict(list)
    for row in (await db.scalars(select(GroupMember))).all():
        members[row.group_id].append(row)
    rows = (await db.execute(select(AddedCommunity.code, AddedCommunity.label))).all()
    names = {code: label for code, label in rows}
    # Every group's covered sessions in the window, in one query.
    covered: dict[str, set[datetime]] = defaultdict(set)
    for group_id, start in await rota_queries.covered_between(
        db, now - LONGEST_SESSION, now + timedelta(hours=ON_DUTY_HOURS, seconds=1)
    ):
        covered[group_id].add(start)
    return [
        profile_of(g, members[g.id], base_url, now, names, covered.get(g.id, set())) for g in groups
    ]


class MatchIndex:
    """A built GroupIndex, rebuilt when stale. One per application."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        base_url: str,
        clock: Callable[[], datetime],
        ttl: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._base_url = base_url
        self._clock = clock
        self._ttl = ttl
        self._index: GroupIndex | None = None
        self._built_at = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._index = None

    async def get(self) -> GroupIndex:
        index = self._index
        if index is not None and time.monotonic() - self._built_at < self._ttl:
            return index
        async with self._lock:
            if self._index is not None and time.monotonic() - self._built_at < self._ttl:
                return self._index
            async with self._sessions() as db:
                profiles = await load_profiles(db, self._base_url, self._clock())
            self._index = GroupIndex(profiles)
            self._built_at = time.monotonic()
            return self._index
