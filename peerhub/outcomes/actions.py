"""Recording and following match outcomes. Each function writes and leaves the
commit to the caller, like the other actions.

- :func:`record_shown`: after a signed-in person's search, one anonymous outcome per
  group shown (not one they already belong to, and not again while one is followed).
- :func:`note_presence`: the person was in the group's room while a meeting was on
  (their client told the server what they had read): they came to a meeting.
- :func:`settle`: joins are read from memberships; an outcome is settled eight weeks
  after the group was shown if they did not join, or eight weeks after joining; its
  link to the person and the group is then deleted. Settled outcomes older than
  :data:`OUTCOME_RETENTION` are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.matching import GroupIndex, MatchResult, Needs, classify
from peerhub.models import Group, GroupMember, new_id
from peerhub.outcomes.models import MatchOutcome, OutcomeLink
from peerhub.realtime.models import Room
from peerhub.schedule import next_meeting

#: How long a person has to join after being shown a group, and how long after
#: joining "still coming" is judged.
FOLLOW_FOR = timedelta(weeks=8)
#: "Still coming": came to a meeting in the last four of those eight weeks.
STILL_WINDOW = timedelta(weeks=4)
#: Settled outcomes (anonymous) are kept this long after the week they were shown.
OUTCOME_RETENTION = timedelta(days=730)
#: At most this many results of one search are recorded (the first page's worth).
RECORD_LIMIT = 20


def week_of(moment: datetime) -> date:
    """The Monday of ``moment``'s week, in UTC."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


async def record_shown(
    db: AsyncSession,
    index: GroupIndex,
    needs: Needs,
    result: MatchResult,
    user_id: str,
    now: datetime,
) -> int:
    """Record the groups this search showed the person, by kind; returns how many."""
    shown = [(pos, item.group_id) for pos, item in enumerate(result.results[:RECORD_LIMIT], 1)]
    if not shown:
        return 0
    ids = [gid for _, gid in shown]
    followed = set(
        await db.scalars(
            select(OutcomeLink.group_id).where(
                OutcomeLink.user_id == user_id, OutcomeLink.group_id.in_(ids)
            )
        )
    )
    member_of = set(
        await db.scalars(
            select(GroupMember.group_id).where(
                GroupMember.user_id == user_id, GroupMember.group_id.in_(ids)
            )
        )
    )
    existing = set(await db.scalars(select(Group.id).where(Group.id.in_(ids))))
    made = 0
    for position, group_id in shown:
        profile = index.get(group_id)
        if (
            profile is None
            or group_id in followed
            or group_id in member_of
            or group_id not in existing
        ):
            continue
        kind = classify(profile, needs, position)
        outcome = MatchOutcome(
            id=new_id(),
            shown_week=week_of(now),
            attendance_seen=profile.format != "in_person",
            joined=False,
            came=False,
            still_coming=False,
            settled=False,
            **kind.as_dict(),
        )
        db.add(outcome)
        db.add(OutcomeLink(outcome_id=outcome.id, user_id=user_id, group_id=group_id, shown_at=now))
        made += 1
    return made


async def meeting_on(db: AsyncSession, group_id: str, now: datetime) -> bool:
    """Whether the group is meeting: its room is open (a moderator opened it), or ``now``
    falls within one of its scheduled meetings."""
    room_open = await db.scalar(select(Room.is_open).where(Room.id == group_id))
    if room_open:
        return True
    group = await db.get(Group, group_id)
    if group is None:
        return False
    on = next_meeting(group, now)
    return on is not None and on.start <= now < on.end


async def note_presence(db: AsyncSession, group_id: str, user_id: str, now: datetime) -> bool:
    """The person read the group's room at ``now``: if a meeting was on and their
    outcome is being followed, they came. Returns whether anything was recorded."""
    link = await db.scalar(
        select(OutcomeLink).where(OutcomeLink.user_id == user_id, OutcomeLink.group_id == group_id)
    )
    if link is None or not await meeting_on(db, group_id, now):
        return False
    if link.joined_at is None:
        member = await db.get(GroupMember, (group_id, user_id))
        if member is None or member.status != "active":
            return False
        link.joined_at = max(member.joined_at, link.shown_at)
    outcome = await db.get(MatchOutcome, link.outcome_id)
    if outcome is None or outcome.settled:
        return False
    outcome.joined = True
    if outcome.attendance_seen:
        outcome.came = True
    link.first_came_at = link.first_came_at or now
    link.last_came_at = now
    return True


@dataclass(slots=True)
class Settled:
    joined: int = 0
    settled: int = 0
    deleted: int = 0


async def settle(db: AsyncSession, now: datetime) -> Settled:
    """Bring followed outcomes up to date, settle those whose time is up, and delete
    settled outcomes past :data:`OUTCOME_RETENTION`. Each step reads only the rows it
    changes, so it stays cheap however many outcomes are being followed."""
    done = Settled()
    member_of_link = (GroupMember.group_id == OutcomeLink.group_id) & (
        GroupMember.user_id == OutcomeLink.user_id
    )
    # Joins since the last run: an active place taken after the group was shown.
    joins = (
        await db.execute(
            select(OutcomeLink, MatchOutcome, GroupMember.joined_at)
            .join(MatchOutcome, MatchOutcome.id == OutcomeLink.outcome_id)
            .join(GroupMember, member_of_link)
            .where(
                OutcomeLink.joined_at.is_(None),
                GroupMember.status == "active",
                GroupMember.joined_at >= OutcomeLink.shown_at,
            )
        )
    ).all()
    for link, outcome, joined_at in joins:
        link.joined_at = joined_at
        outcome.joined = True
        done.joined += 1
    await db.flush()
    # Those whose eight weeks are up.
    cutoff = now - FOLLOW_FOR
    finished = (
        await db.execute(
            select(OutcomeLink, MatchOutcome, GroupMember.status)
            .join(MatchOutcome, MatchOutcome.id == OutcomeLink.outcome_id)
            .outerjoin(GroupMember, member_of_link)
            .where(
                or_(
                    and_(OutcomeLink.joined_at.is_(None), OutcomeLink.shown_at <= cutoff),
                    OutcomeLink.joined_at <= cutoff,
                )
            )
        )
    ).all()
    for link, outcome, status in finished:
        if link.joined_at is not None:
            outcome.still_coming = bool(
                status == "active"
                and outcome.came
                and link.last_came_at is not None
                and link.last_came_at >= link.joined_at + FOLLOW_FOR - STILL_WINDOW
            )
        outcome.settled = True
        await db.delete(link)
        done.settled += 1
    await db.flush()
    # Outcomes whose link went with the person's account or the group: settle them
    # with what was known (they can no longer be followed).
    orphans = (
        await db.scalars(
            select(MatchOutcome).where(
                MatchOutcome.settled.is_(False),
                ~select(OutcomeLink.outcome_id)
                .where(OutcomeLink.outcome_id == MatchOutcome.id)
                .exists(),
            )
        )
    ).all()
    for outcome in orphans:
        outcome.settled = True
        done.settled += 1
    gone = await db.execute(
        delete(MatchOutcome).where(
            MatchOutcome.settled.is_(True),
            MatchOutcome.shown_week < week_of(now - OUTCOME_RETENTION),
        )
    )
    done.deleted = int(getattr(gone, "rowcount", 0) or 0)
    return done
