"""What the care pages show, and who is unavailable: read-only, no permission decisions
(callers check first).

What a moderator answered to a check-in (``feeling``, ``words``) is read only by
:func:`my_check_ins`, for that moderator's own page. What organisers see
(:func:`debriefs_of`) selects its columns by name, and never those two.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.care.models import CheckIn, TrainingRecord, Unavailability
from peerhub.care.training import CRISIS_STAGE, missing_of, required_courses, today
from peerhub.models import Group, GroupMember, GroupTag, Organisation, TagKind, User


async def unavailable(db: AsyncSession, user_ids: Collection[str], now: datetime) -> set[str]:
    """The people among ``user_ids`` who said they are unavailable at ``now``: rotas
    and escalations skip them."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return set()
    return set(
        await db.scalars(
            select(Unavailability.user_id).where(
                Unavailability.user_id.in_(wanted),
                Unavailability.starts_at <= now,
                or_(Unavailability.ends_at.is_(None), Unavailability.ends_at > now),
            )
        )
    )


async def away_of(db: AsyncSession, user_id: str, now: datetime) -> Unavailability | None:
    """The person's time away, now or to come (None when none, or it is over)."""
    row = await db.get(Unavailability, user_id)
    if row is None or (row.ends_at is not None and row.ends_at <= now):
        return None
    return row


# --- the moderator's own page ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MyCheckIn:
    row: CheckIn
    group_name: str

    @property
    def waiting(self) -> bool:
        return self.row.closed_at is None


async def my_check_ins(db: AsyncSession, user_id: str, limit: int = 50) -> list[MyCheckIn]:
    rows = await db.execute(
        select(CheckIn, Group.name)
        .join(Group, Group.id == CheckIn.group_id)
        .where(CheckIn.user_id == user_id)
        .order_by(CheckIn.created_at.desc())
        .limit(limit)
    )
    return [MyCheckIn(row, name) for row, name in rows]


async def my_training(db: AsyncSession, user_id: str) -> list[tuple[TrainingRecord, str]]:
    rows = await db.execute(
        select(TrainingRecord, Organisation.name)
        .join(Organisation, Organisation.id == TrainingRecord.organisation_id)
        .where(TrainingRecord.user_id == user_id)
        .order_by(TrainingRecord.completed_on.desc())
    )
    return [(record, name) for record, name in rows]


# --- the organisers' page -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Debrief:
    """A debrief asked for, as organisers see it: who, after an alert on which day, in
    which group, and its state. Nothing of what the moderator answered."""

    id: str
    pseudonym: str
    group_name: str
    alert_at: datetime
    asked_at: datetime | None
    state: str


async def debriefs_of(db: AsyncSession, organisation_id: str) -> list[Debrief]:
    rows = await db.execute(
        # Named columns only: never CheckIn.feeling or CheckIn.words.
        select(
            CheckIn.id,
            User.pseudonym,
            Group.name,
            CheckIn.created_at,
            CheckIn.debrief_asked_at,
            CheckIn.debrief,
        )
        .join(Group, Group.id == CheckIn.group_id)
        .join(User, User.id == CheckIn.user_id)
        .where(Group.organisation_id == organisation_id, CheckIn.debrief.is_not(None))
        .order_by(CheckIn.debrief_asked_at.desc())
        .limit(200)
    )
    found = [
        Debrief(cid, pseudonym, group_name, alert_at, asked_at, state or "requested")
        for cid, pseudonym, group_name, alert_at, asked_at, state in rows
    ]
    # Waiting ones first.
    return sorted(found, key=lambda d: d.state == "done")


@dataclass(slots=True)
class Moderator:
    """A person on the organisation's care page: a moderator of its groups, or someone
    it holds training records for."""

    user_id: str
    pseudonym: str
    groups: list[tuple[str, bool]] = field(default_factory=list)  # (name, welcomes crisis)
    records: list[TrainingRecord] = field(default_factory=list)
    # Required courses without a valid record, for someone moderating a crisis group.
    needed: list[str] = field(default_factory=list)
    away: Unavailability | None = None

    @property
    def moderates_crisis(self) -> bool:
        return any(crisis for _name, crisis in self.groups)


async def people_of(db: AsyncSession, organisation_id: str, now: datetime) -> list[Moderator]:
    crisis_groups = set(
        await db.scalars(
            select(GroupTag.group_id)
            .join(Group, Group.id == GroupTag.group_id)
            .where(
                Group.organisation_id == organisation_id,
                GroupTag.kind == TagKind.STAGE.value,
                GroupTag.value == CRISIS_STAGE,
            )
        )
    )
    people: dict[str, Moderator] = {}
    for user_id, pseudonym, group_id, group_name in await db.execute(
        select(User.id, User.pseudonym, Group.id, Group.name)
        .join(GroupMember, GroupMember.user_id == User.id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(
            Group.organisation_id == organisation_id,
            Group.kind == "group",  # a private check-in's moderator is not listed by it
            GroupMember.role == "moderator",
            GroupMember.status == "active",
        )
        .order_by(Group.name)
    ):
        person = people.setdefault(user_id, Moderator(user_id, pseudonym))
        person.groups.append((group_name, group_id in crisis_groups))
    for record, pseudonym in await db.execute(
        select(TrainingRecord, User.pseudonym)
        .join(User, User.id == TrainingRecord.user_id)
        .where(TrainingRecord.organisation_id == organisation_id)
        .order_by(TrainingRecord.completed_on.desc())
    ):
        people.setdefault(record.user_id, Moderator(record.user_id, pseudonym)).records.append(
            record
        )
    required = await required_courses(db, organisation_id)
    on: date = today(now)
    # Time away is shown only to the organisers of groups the person moderates.
    moderating = sorted(uid for uid, person in people.items() if person.groups)
    away = {
        row.user_id: row
        for row in await db.scalars(
            select(Unavailability).where(
                Unavailability.user_id.in_(moderating),
                or_(Unavailability.ends_at.is_(None), Unavailability.ends_at > now),
            )
        )
    }
    for person in people.values():
        if person.moderates_crisis:
            person.needed = missing_of(required, person.records, on)
        person.away = away.get(person.user_id)
    return sorted(people.values(), key=lambda p: (not p.groups, p.pseudonym.casefold()))


@dataclass(frozen=True, slots=True)
class Marks:
    """What a group's organise page says beside a moderator."""

    needed: list[str]  # required courses without a valid record
    away: Unavailability | None


async def marks_for(
    db: AsyncSession, group_id: str, user_ids: Collection[str], now: datetime
) -> dict[str, Marks]:
    """For a group's moderators: training needed (a group that welcomes people
    approaching crisis, its organisation requiring training) and time away."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    organisation_id = await db.scalar(select(Group.organisation_id).where(Group.id == group_id))
    required: list[str] = []
    if organisation_id is not None and await db.scalar(
        select(GroupTag.value).where(
            GroupTag.group_id == group_id,
            GroupTag.kind == TagKind.STAGE.value,
            GroupTag.value == CRISIS_STAGE,
        )
    ):
        required = await required_courses(db, organisation_id)
    records: dict[str, list[TrainingRecord]] = {uid: [] for uid in wanted}
    if required:
        for record in await db.scalars(
            select(TrainingRecord).where(
                TrainingRecord.organisation_id == organisation_id,
                TrainingRecord.user_id.in_(wanted),
            )
        ):
            records[record.user_id].append(record)
    away = {
        row.user_id: row
        for row in await db.scalars(
            select(Unavailability).where(
                Unavailability.user_id.in_(wanted),
                or_(Unavailability.ends_at.is_(None), Unavailability.ends_at > now),
            )
        )
    }
    on = today(now)
    return {
        uid: Marks(missing_of(required, records[uid], on) if required else [], away.get(uid))
        for uid in wanted
    }
