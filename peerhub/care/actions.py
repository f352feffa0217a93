"""Care for the moderators: check, write; the caller commits (docs/moderation.md,
"Care for moderators"; hazard H27).

Seams other parts call, in their own transaction:

- :func:`after_alert` — the alert-closing action, once a moderator has seen to a
  crisis alert: a check-in waits for them on ``/care``.
- :func:`peerhub.care.training.require_training` — inviting and appointing a moderator.
- :func:`peerhub.care.queries.unavailable` — rotas and escalations skip those away.

:func:`tell_check_in` and :func:`tell_debrief_request` are where a notification goes
(``peerhub.notify.tell``, being built apart): they do nothing yet. The pages show what
waits whatever they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit, notify
from peerhub.accounts.actions import pseudonym_key
from peerhub.care.models import (
    DEBRIEF_STATES,
    FEELINGS,
    CheckIn,
    RequiredTraining,
    TrainingRecord,
    Unavailability,
)
from peerhub.care.training import COURSE_MAX, LOCAL, course_key, today
from peerhub.errors import FieldError, NotFound
from peerhub.groups.actions import organisation_for_organiser
from peerhub.i18n import _, lazy_gettext
from peerhub.models import Group, OrganisationOrganiser, User

WORDS_MAX: Final = 2000
REQUIRED_MAX: Final = 20  # courses an organisation may require
RECORDS_PER_PERSON: Final = 50  # per organisation
AHEAD: Final = timedelta(days=2 * 366)  # how far ahead a date may be


# --- notifications (to be wired to peerhub.notify.tell) --------------------------------


CHECK_IN_TOPIC = notify.topic(
    "care.check_in",
    lazy_gettext("How are you after that alert?"),
    lazy_gettext(
        "You saw to a crisis alert on PeerHub. A short private check-in waits for you, "
        "if you would like it."
    ),
)
DEBRIEF_TOPIC = notify.topic(
    "care.debrief",
    lazy_gettext("A moderator asked for a debrief"),
    lazy_gettext(
        "A moderator on PeerHub asked to talk things over after a crisis alert. "
        "Please arrange a debrief."
    ),
)


async def tell_check_in(
    db: AsyncSession, moderator_id: str, url: str, ref: str, now: datetime
) -> None:
    """Tell the moderator a check-in waits for them at ``url`` (by the channels they
    chose; the words are generic, never the alert's)."""
    await notify.tell(db, moderator_id, CHECK_IN_TOPIC, url=url, ref=ref, now=now)


async def tell_debrief_request(
    db: AsyncSession, organiser_id: str, url: str, ref: str, now: datetime
) -> None:
    """Tell an organiser a moderator asked for a debrief (never how they said they were)."""
    await notify.tell(db, organiser_id, DEBRIEF_TOPIC, url=url, ref=ref, now=now)


# --- check-ins ------------------------------------------------------------------------


async def after_alert(
    db: AsyncSession, moderator_id: str, alert_id: str, group_id: str, now: datetime
) -> None:
    """A moderator has seen to a crisis alert: ask them, privately, how they are.

    One check-in per moderator and alert; calling again changes nothing."""
    found = await db.scalar(
        select(CheckIn.id).where(CheckIn.user_id == moderator_id, CheckIn.alert_id == alert_id)
    )
    if found is not None:
        return
    row = CheckIn(user_id=moderator_id, alert_id=alert_id, group_id=group_id, created_at=now)
    db.add(row)
    await db.flush()
    await tell_check_in(db, moderator_id, "/care", f"care.check_in:{row.id}", now)


async def own_check_in(db: AsyncSession, user: User, check_in_id: str) -> CheckIn:
    row = await db.get(CheckIn, check_in_id, with_for_update=True)
    if row is None or row.user_id != user.id:
        raise NotFound(check_in_id)  # not theirs: the same as none
    return row


async def answer_check_in(
    db: AsyncSession, user: User, check_in_id: str, feeling: str, words: str, now: datetime
) -> CheckIn:
    row = await own_check_in(db, user, check_in_id)
    words = words.strip()
    if feeling not in FEELINGS:
        raise FieldError(f"feeling-{check_in_id}", _("Choose how you are."))
    if len(words) > WORDS_MAX:
        raise FieldError(
            f"words-{check_in_id}",
            _("Please keep it under %(max)s characters.", max=WORDS_MAX),
        )
    row.feeling, row.words, row.closed_at = feeling, words, now
    return row


async def put_aside(db: AsyncSession, user: User, check_in_id: str, now: datetime) -> None:
    """ "Not now": the check-in stops waiting, with no answer."""
    row = await own_check_in(db, user, check_in_id)
    if row.closed_at is None:
        row.closed_at = now


async def forget_answer(db: AsyncSession, user: User, check_in_id: str, now: datetime) -> None:
    """The moderator deletes what they said (a debrief they asked for stays)."""
    row = await own_check_in(db, user, check_in_id)
    row.feeling, row.words = None, ""
    if row.closed_at is None:
        row.closed_at = now


async def organisers_of_group(db: AsyncSession, group_id: str) -> list[str]:
    return list(
        await db.scalars(
            select(OrganisationOrganiser.user_id)
            .join(Group, Group.organisation_id == OrganisationOrganiser.organisation_id)
            .where(Group.id == group_id)
            .order_by(OrganisationOrganiser.user_id)
        )
    )


async def ask_debrief(db: AsyncSession, user: User, check_in_id: str, now: datetime) -> bool:
    """Ask the group's organisers for a debrief. False when already asked."""
    row = await own_check_in(db, user, check_in_id)
    if row.debrief is not None:
        return False
    row.debrief, row.debrief_asked_at, row.debrief_updated_at = "requested", now, now
    if row.closed_at is None:
        row.closed_at = now
    organisation_id = await db.scalar(select(Group.organisation_id).where(Group.id == row.group_id))
    for organiser in await organisers_of_group(db, row.group_id):
        await tell_debrief_request(
            db,
            organiser,
            f"/organise/organisations/{organisation_id}/care#debriefs-title",
            f"care.debrief:{row.id}",
            now,
        )
    return True


async def set_debrief(
    db: AsyncSession, actor: User, organisation_id: str, check_in_id: str, state: str, now: datetime
) -> None:
    """An organiser marks a debrief arranged or done."""
    await organisation_for_organiser(db, actor, organisation_id)
    row = await db.get(CheckIn, check_in_id, with_for_update=True)
    if row is None or row.debrief is None:
        raise NotFound(check_in_id)
    owner = await db.scalar(select(Group.organisation_id).where(Group.id == row.group_id))
    if owner != organisation_id:
        raise NotFound(check_in_id)
    if state not in DEBRIEF_STATES[1:]:
        raise FieldError("debrief", _("Choose arranged or done."))
    row.debrief, row.debrief_updated_at = state, now
    audit.record(
        db,
        now,
        f"care.debrief_{state}",
        actor_id=actor.id,
        subject_id=row.user_id,
        organisation_id=organisation_id,
    )


# --- training records -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrainingInput:
    course: str
    completed_on: date
    valid_until: date | None


def _date(values: dict[str, str], name: str, *, required: bool) -> date | None:
    text = values.get(name, "").strip()
    if not text:
        if required:
            raise FieldError(name, _("Give the date."))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(name, _("Give a date like 2026-12-31.")) from None


def parse_training(values: dict[str, str], now: datetime) -> TrainingInput:
    course = " ".join(values.get("course", "").split())
    if not course:
        raise FieldError("course", _("Say what the training was."))
    if len(course) > COURSE_MAX:
        raise FieldError("course", _("Please keep it under %(max)s characters.", max=COURSE_MAX))
    completed = _date(values, "completed_on", required=True)
    assert completed is not None  # noqa: S101 - required above
    if completed > today(now):
        raise FieldError(
            "completed_on", _("The training cannot have been completed later than today.")
        )
    until = _date(values, "valid_until", required=False)
    if until is not None and until < completed:
        raise FieldError("valid_until", _("It cannot run out before it was completed."))
    if until is not None and until > today(now) + timedelta(days=20 * 366):
        raise FieldError("valid_until", _("Give a date within twenty years."))
    return TrainingInput(course, completed, until)


async def _person(db: AsyncSession, pseudonym: str) -> User:
    key = pseudonym_key(pseudonym)[:40]
    if not key:
        raise FieldError("pseudonym", _("Give their name on PeerHub."))
    user = await db.scalar(
        select(User).where(User.pseudonym_key == key, User.disabled_at.is_(None))
    )
    if user is None:
        raise FieldError(
            "pseudonym", _("There is no one with that name on PeerHub. Check the spelling.")
        )
    return user


async def add_training(
    db: AsyncSession,
    actor: User,
    organisation_id: str,
    pseudonym: str,
    data: TrainingInput,
    now: datetime,
) -> TrainingRecord:
    await organisation_for_organiser(db, actor, organisation_id)
    person = await _person(db, pseudonym)
    count = await db.scalar(
        select(func.count())
        .select_from(TrainingRecord)
        .where(
            TrainingRecord.organisation_id == organisation_id,
            TrainingRecord.user_id == person.id,
        )
    )
    if int(count or 0) >= RECORDS_PER_PERSON:
        raise FieldError("course", _("Remove some of their old records first."))
    row = TrainingRecord(
        organisation_id=organisation_id,
        user_id=person.id,
        course=data.course,
        completed_on=data.completed_on,
        valid_until=data.valid_until,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    await db.flush()
    audit.record(
        db,
        now,
        "care.training_added",
        actor_id=actor.id,
        subject_id=person.id,
        organisation_id=organisation_id,
        record_id=row.id,
    )
    return row


async def training_record(
    db: AsyncSession, actor: User, organisation_id: str, record_id: str
) -> TrainingRecord:
    """A record of this organisation's, for one of its organisers; NotFound otherwise."""
    await organisation_for_organiser(db, actor, organisation_id)
    row = await db.get(TrainingRecord, record_id)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound(record_id)
    return row


async def update_training(
    db: AsyncSession,
    actor: User,
    organisation_id: str,
    record_id: str,
    data: TrainingInput,
    now: datetime,
) -> TrainingRecord:
    row = await training_record(db, actor, organisation_id, record_id)
    row.course, row.completed_on, row.valid_until = data.course, data.completed_on, data.valid_until
    row.updated_at = now
    audit.record(
        db,
        now,
        "care.training_changed",
        actor_id=actor.id,
        subject_id=row.user_id,
        organisation_id=organisation_id,
        record_id=row.id,
    )
    return row


async def remove_training(
    db: AsyncSession, actor: User, organisation_id: str, record_id: str, now: datetime
) -> None:
    row = await training_record(db, actor, organisation_id, record_id)
    await db.delete(row)
    audit.record(
        db,
        now,
        "care.training_removed",
        actor_id=actor.id,
        subject_id=row.user_id,
        organisation_id=organisation_id,
        record_id=record_id,
    )


def parse_required(text: str) -> list[str]:
    """One course a line; blank lines and repeats (however capitalised) left out."""
    seen: dict[str, str] = {}
    for line in text.splitlines():
        course = " ".join(line.split())
        if not course:
            continue
        if len(course) > COURSE_MAX:
            raise FieldError(
                "required", _("Please keep each name under %(max)s characters.", max=COURSE_MAX)
            )
        seen.setdefault(course_key(course), course)
    if len(seen) > REQUIRED_MAX:
        raise FieldError("required", _("Name at most %(max)s courses.", max=REQUIRED_MAX))
    return list(seen.values())


async def set_required(
    db: AsyncSession, actor: User, organisation_id: str, courses: list[str], now: datetime
) -> None:
    """The courses required before moderating the organisation's groups that welcome
    people approaching crisis (existing moderators are not removed: their organisers
    see "training needed")."""
    await organisation_for_organiser(db, actor, organisation_id)
    await db.execute(
        delete(RequiredTraining).where(RequiredTraining.organisation_id == organisation_id)
    )
    for course in courses:
        db.add(RequiredTraining(organisation_id=organisation_id, course=course, added_at=now))
    audit.record(
        db,
        now,
        "care.required_training_set",
        actor_id=actor.id,
        organisation_id=organisation_id,
        courses=len(courses),
    )


# --- being unavailable ----------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL).astimezone(LOCAL)


@dataclass(frozen=True, slots=True)
class Away:
    starts_at: datetime
    ends_at: datetime | None


def parse_away(values: dict[str, str], now: datetime) -> Away:
    """From a day (empty: now) until the end of a day (empty: until they say they are
    back), in UK time."""
    first = _date(values, "away_from", required=False)
    last = _date(values, "away_until", required=False)
    horizon = today(now) + AHEAD
    if first is not None and first > horizon:
        raise FieldError("away_from", _("Give a date within two years."))
    if last is not None and last > horizon:
        raise FieldError("away_until", _("Give a date within two years."))
    if last is not None and last < today(now):
        raise FieldError("away_until", _("That day has passed."))
    if first is not None and last is not None and last < first:
        raise FieldError("away_until", _("The last day cannot come before the first."))
    starts = now if first is None or first <= today(now) else _start_of(first)
    ends = None if last is None else _start_of(last + timedelta(days=1))
    return Away(starts, ends)


async def set_away(db: AsyncSession, user: User, away: Away, now: datetime) -> None:
    row = await db.get(Unavailability, user.id, with_for_update=True)
    if row is None:
        db.add(
            Unavailability(
                user_id=user.id, starts_at=away.starts_at, ends_at=away.ends_at, updated_at=now
            )
        )
    else:
        row.starts_at, row.ends_at, row.updated_at = away.starts_at, away.ends_at, now


async def set_back(db: AsyncSession, user: User) -> None:
    await db.execute(delete(Unavailability).where(Unavailability.user_id == user.id))
