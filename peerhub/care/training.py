"""Training a moderator needs before moderating a group that welcomes people approaching
crisis (hazard H27): the check that appointing and inviting a moderator call.

An organisation may name courses it requires (:class:`RequiredTraining`). A group of it
whose stage tags include ``approaching_crisis`` is then moderated only by people with a
valid record of each: completed, and ``valid_until`` empty or not before today (UK
time). Course names match however they are capitalised or spaced.

This module imports only models, so peerhub/groups/invitations.py can call it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.care.models import RequiredTraining, TrainingRecord
from peerhub.errors import FieldError
from peerhub.i18n import _
from peerhub.models import Group, GroupTag, TagKind

CRISIS_STAGE: Final = "approaching_crisis"
# Dates of training are days in the UK, where PeerHub's organisations are.
LOCAL: Final = ZoneInfo("Europe/London")
COURSE_MAX: Final = 120


def today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def course_key(name: str) -> str:
    """The same course however it is capitalised or spaced."""
    return " ".join(name.split()).casefold()


def is_valid(record: TrainingRecord, on: date) -> bool:
    return record.completed_on <= on and (record.valid_until is None or record.valid_until >= on)


async def welcomes_crisis(db: AsyncSession, group_id: str) -> bool:
    found = await db.scalar(
        select(GroupTag.value).where(
            GroupTag.group_id == group_id,
            GroupTag.kind == TagKind.STAGE.value,
            GroupTag.value == CRISIS_STAGE,
        )
    )
    return found is not None


async def required_courses(db: AsyncSession, organisation_id: str) -> list[str]:
    return list(
        await db.scalars(
            select(RequiredTraining.course)
            .where(RequiredTraining.organisation_id == organisation_id)
            .order_by(RequiredTraining.course)
        )
    )


def missing_of(required: list[str], records: list[TrainingRecord], on: date) -> list[str]:
    """The required courses without a valid record among ``records``."""
    have = {course_key(r.course) for r in records if is_valid(r, on)}
    return [course for course in required if course_key(course) not in have]


async def missing_training(
    db: AsyncSession, group_id: str, user_id: str, now: datetime
) -> list[str]:
    """The required courses the person lacks to moderate this group: none when the
    group does not welcome people approaching crisis or its organisation requires none."""
    organisation_id = await db.scalar(select(Group.organisation_id).where(Group.id == group_id))
    if organisation_id is None or not await welcomes_crisis(db, group_id):
        return []
    required = await required_courses(db, organisation_id)
    if not required:
        return []
    records = list(
        await db.scalars(
            select(TrainingRecord).where(
                TrainingRecord.organisation_id == organisation_id,
                TrainingRecord.user_id == user_id,
            )
        )
    )
    return missing_of(required, records, today(now))


async def require_training(
    db: AsyncSession,
    group_id: str,
    user_id: str,
    pseudonym: str | None,
    now: datetime,
    *,
    field: str,
) -> None:
    """Refuse (a FieldError naming the courses) when the person lacks required training.
    ``pseudonym`` None: the person is told themselves (accepting an invitation)."""
    missing = await missing_training(db, group_id, user_id, now)
    if not missing:
        return
    if pseudonym is None:
        raise FieldError(
            field,
            _(
                "You cannot moderate this group yet: it welcomes people approaching crisis, "
                "and its organisation requires training you have no valid record of: "
                "%(courses)s. Ask its organisers. Your invitation is kept.",
                courses=", ".join(missing),
            ),
        )
    raise FieldError(
        field,
        _(
            "%(name)s cannot moderate this group yet: it welcomes people approaching "
            "crisis, and its organisation requires training %(name)s has no valid "
            "record of: %(courses)s. An organiser can add the record on the "
            "organisation's care page.",
            name=pseudonym,
            courses=", ".join(missing),
        ),
    )
