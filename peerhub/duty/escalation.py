"""The ladder: a crisis alert nobody on duty has opened, or a report left unhandled,
climbs to the group's organisers and then to the organisation's safeguarding leads.

Each step is a durable job in the outbox (:data:`ESCALATE`, ``duty.escalate``), recorded
in the transaction that makes it necessary: a crisis alert's first step in the
message's own transaction (:func:`first_step`, through the moderation toolkit's
``rows_for``), a report's in the report's (:func:`schedule_report`), each next step in
the transaction of the step before. So a restart, a crash of one process or a lost
socket loses no step: the row waits in the outbox and any process's dispatcher runs it
when it falls due.

A step runs at least once (the outbox's promise) and acts at most once: it locks the
alert or report, and does nothing when it has been opened or handled since, or when its
``level`` shows this step (or a later one) has run already. Acting means, in one
transaction: telling each person of the step (:func:`peerhub.notify.tell`, which
records one delivery job per channel they chose), raising ``level``, adding the line
``alert.escalated`` / ``report.escalated`` to the moderation log with how many were
told, and recording the next step.

Who is told:

- step 1: the organisers of the group's organisation;
- step 2: its safeguarding leads; when it has none, PeerHub's administrators, so the
  ladder never ends with nobody.

A step whose people are all missing or unavailable goes straight on to the next, in
the same run. What an ordinary message costs is unchanged: only a message the crisis
lexicon flags adds a row, in the insert its alert already makes.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Insert, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import notify, outbox
from peerhub.care import queries as care_queries
from peerhub.duty.models import (
    DEFAULT_ALERT_MINUTES,
    DEFAULT_LEAD_MINUTES,
    DEFAULT_REPORT_HOURS,
    DEFAULT_REPORT_LEAD_HOURS,
    DutySettings,
)
from peerhub.i18n import lazy_gettext
from peerhub.models import Group, OrganisationOrganiser, SafeguardingLead, User
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.outbox.models import OutboxEntry

if TYPE_CHECKING:
    from peerhub.outbox.dispatcher import Dispatcher

log = logging.getLogger("peerhub.duty")

#: The last step: the safeguarding leads (or the administrators).
TOP = 2

ALERT_TOPIC = notify.topic(
    "duty.crisis_alert",
    lazy_gettext("A crisis alert needs someone on duty"),
    lazy_gettext(
        "A crisis alert on PeerHub has not been opened by a moderator. "
        "Please open it now, or make sure someone does."
    ),
)
REPORT_TOPIC = notify.topic(
    "duty.report",
    lazy_gettext("A report is waiting for a moderator"),
    lazy_gettext("A report on PeerHub has waited a long time without a moderator. Please look."),
)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """The step ``step`` of the ladder of the alert or report ``id``."""

    item: str  # "alert" | "report"
    id: str
    step: int


ESCALATE = outbox.kind("duty.escalate", Step)


@dataclasses.dataclass(frozen=True, slots=True)
class Timers:
    first: timedelta
    next: timedelta


def alert_timers(settings: DutySettings | None) -> Timers:
    if settings is None:
        return Timers(
            timedelta(minutes=DEFAULT_ALERT_MINUTES), timedelta(minutes=DEFAULT_LEAD_MINUTES)
        )
    return Timers(
        timedelta(minutes=settings.alert_minutes), timedelta(minutes=settings.lead_minutes)
    )


def report_timers(settings: DutySettings | None) -> Timers:
    if settings is None:
        return Timers(
            timedelta(hours=DEFAULT_REPORT_HOURS), timedelta(hours=DEFAULT_REPORT_LEAD_HOURS)
        )
    return Timers(
        timedelta(hours=settings.report_hours), timedelta(hours=settings.report_lead_hours)
    )


def first_step(alert_id: str, raised_at: datetime, after: timedelta) -> Insert:
    """The alert's first step, as an insert for the message's own transaction (the
    writer runs the toolkit's rows there; ``outbox.record`` needs an ORM session)."""
    return insert(OutboxEntry).values(
        kind=ESCALATE.name,
        payload=ESCALATE.encode(Step("alert", alert_id, 1)),
        created_at=raised_at,
        run_at=raised_at + after,
        attempts=0,
    )


async def schedule_report(db: AsyncSession, report: Report, now: datetime) -> None:
    """The report's first step, in the report's transaction."""
    timers = report_timers(await db.get(DutySettings, report.group_id))
    outbox.record(db, ESCALATE, Step("report", report.id, 1), run_at=now + timers.first)


#: Who may not be told now (away): takes the session, the ids and the time; returns
#: those unavailable. The care module's answer unless a caller gives another.
Unavailable = Callable[[AsyncSession, set[str], datetime], Awaitable[set[str]]]


async def _away(db: AsyncSession, ids: set[str], now: datetime) -> set[str]:
    # Time away a person set on their care page (peerhub/care/): the ladder skips them.
    return await care_queries.unavailable(db, ids, now)


async def people_of(
    db: AsyncSession,
    organisation_id: str,
    step: int,
    now: datetime,
    unavailable: Unavailable = _away,
) -> set[str]:
    """The people step ``step`` tells, less the unavailable and disabled."""
    if step == 1:
        query = select(OrganisationOrganiser.user_id).where(
            OrganisationOrganiser.organisation_id == organisation_id
        )
    else:
        query = select(SafeguardingLead.user_id).where(
            SafeguardingLead.organisation_id == organisation_id
        )
    ids = set((await db.scalars(query)).all())
    if ids:
        active = select(User.id).where(User.id.in_(ids), User.disabled_at.is_(None))
        ids = set((await db.scalars(active)).all())
    ids -= await unavailable(db, ids, now)
    if not ids and step >= TOP:
        # Nobody left at the top: PeerHub's administrators, so it never ends unseen.
        admins = select(User.id).where(User.is_admin.is_(True), User.disabled_at.is_(None))
        ids = set((await db.scalars(admins)).all())
    return ids


async def run(db: AsyncSession, step: Step, now: datetime, unavailable: Unavailable = _away) -> int:
    """Run one step in ``db``'s transaction; how many people were told (0: nothing
    to do, the alert was opened or the step has run already)."""
    found: CrisisAlert | Report | None
    if step.item == "alert":
        found = await db.get(CrisisAlert, step.id, with_for_update=True)
        if found is None or found.opened_at is not None or found.handled_at is not None:
            return 0
    elif step.item == "report":
        found = await db.get(Report, step.id, with_for_update=True)
        if found is None or found.status != "open":
            return 0
    else:
        log.warning("duty.escalate: an unknown item kind %r", step.item)
        return 0
    if found.level >= step.step:
        return 0  # this step ran already (a second delivery)
    group = await db.get(Group, found.group_id)
    if group is None:
        return 0
    settings = await db.get(DutySettings, group.id)
    timers = alert_timers(settings) if step.item == "alert" else report_timers(settings)
    level = step.step
    if group.kind == "check_in":
        # A private check-in's room (docs/check-ins.md): the organisers have no rank
        # there and could not open it, so it goes straight to the safeguarding leads.
        level = TOP
    people = await people_of(db, group.organisation_id, level, now, unavailable)
    while not people and level < TOP:
        level += 1  # nobody at this step: the next one, now
        people = await people_of(db, group.organisation_id, level, now, unavailable)
    found.level, found.escalated_at = level, now
    if step.item == "alert":
        topic, url = ALERT_TOPIC, f"/duty/alerts/{found.id}"
    else:
        topic, url = REPORT_TOPIC, f"/duty/reports/{found.id}"
    for person in sorted(people):
        await notify.tell(
            db, person, topic, url=url, ref=f"{step.item}:{found.id}", now=now, urgent=True
        )
    db.add(
        ModerationEvent(
            group_id=group.id,
            at=now,
            actor_id=None,
            action=f"{step.item}.escalated",
            subject_id=found.user_id if isinstance(found, CrisisAlert) else found.subject_id,
            message_seq=found.message_seq,
            detail={"step": level, "told": len(people), step.item: found.id},
        )
    )
    if level < TOP:
        outbox.record(db, ESCALATE, Step(step.item, found.id, level + 1), run_at=now + timers.next)
    return len(people)


def register(
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    unavailable: Unavailable = _away,
) -> None:
    """Run the ladder's steps when the outbox delivers them (the application)."""

    async def handle(step: Step) -> None:
        # A plain transaction, not peerhub.db.transaction: the deliveries it records are
        # woken after the commit and sent by the dispatcher's loop, not inside this step.
        async with sessions() as db, db.begin():
            await run(db, step, clock(), unavailable)

    dispatcher.register(ESCALATE, handle, max_attempts=20)
