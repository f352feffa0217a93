"""The duty ladder (peerhub/duty/escalation.py) with a fake clock: every step, an alert
opened in time, a second delivery, a restart mid-ladder, no lead (the administrators),
reports on their own timers, and, on PostgreSQL, two processes sharing the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from peerhub.db import make_engine, make_sessionmaker
from peerhub.duty import escalation
from peerhub.duty.models import DutySettings
from peerhub.models import (
    Group,
    GroupMember,
    Organisation,
    OrganisationOrganiser,
    SafeguardingLead,
    User,
)
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.notify.models import Notice
from peerhub.outbox.dispatcher import Dispatcher
from peerhub.outbox.models import OutboxEntry

DEADLINE = 10.0
START = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Desk:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    group: str
    org: str
    people: dict[str, str]


@pytest.fixture
async def desk(db_url: str) -> AsyncIterator[Desk]:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    people: dict[str, str] = {}
    async with sessions() as db, db.begin():
        for name in ("mo", "olu", "oona", "lee", "ada", "ana"):
            user = User(
                pseudonym=name.title(),
                pseudonym_key=name,
                password_hash="x",
                is_admin=name == "ada",
            )
            db.add(user)
            await db.flush()
            people[name] = user.id
        org = Organisation(slug="harbour", name="Harbour", verified_at=START)
        db.add(org)
        await db.flush()
        group = Group(
            organisation_id=org.id,
            slug="harbour-evening",
            name="Harbour evening",
            format="online",
            dtstart_local="2026-12-01T18:00:00",
            rrule="FREQ=WEEKLY",
        )
        db.add(group)
        await db.flush()
        db.add_all(
            [
                GroupMember(group_id=group.id, user_id=people["mo"], role="moderator"),
                GroupMember(group_id=group.id, user_id=people["ana"]),
                OrganisationOrganiser(organisation_id=org.id, user_id=people["olu"]),
                OrganisationOrganiser(organisation_id=org.id, user_id=people["oona"]),
                SafeguardingLead(organisation_id=org.id, user_id=people["lee"]),
            ]
        )
    try:
        yield Desk(engine, sessions, group.id, org.id, people)
    finally:
        await engine.dispose()


async def raise_alert(desk: Desk, at: datetime, minutes: int = 5) -> str:
    """An alert and its first step, as the message's transaction stores them."""
    alert = CrisisAlert(
        group_id=desk.group, user_id=desk.people["ana"], message_seq=7, created_at=at
    )
    async with desk.sessions() as db, db.begin():
        db.add(alert)
        await db.flush()
        await db.execute(escalation.first_step(alert.id, at, timedelta(minutes=minutes)))
    return alert.id


def dispatcher(
    desk: Desk, clock: Clock, name: str = "one", engine: AsyncEngine | None = None
) -> Dispatcher:
    engine = engine or desk.engine
    d = Dispatcher(engine, clock=clock, name=name, listen=False)
    escalation.register(d, make_sessionmaker(engine), clock)
    return d


async def told(desk: Desk) -> list[tuple[str, str]]:
    """(person's name, topic) of every notice, in the order given."""
    names = {v: k for k, v in desk.people.items()}
    async with desk.sessions() as db:
        rows = await db.execute(
            select(Notice.user_id, Notice.topic).order_by(Notice.created_at, Notice.user_id)
        )
        return sorted((names[u], t) for u, t in rows)


async def level(desk: Desk, alert_id: str) -> int:
    async with desk.sessions() as db:
        found = await db.get(CrisisAlert, alert_id)
        assert found is not None
        return found.level


async def test_an_unopened_alert_climbs_to_the_organisers_then_the_leads(desk: Desk) -> None:
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    d = dispatcher(desk, clock)
    assert await d.run_once() == 0  # not due yet
    clock.advance(minutes=4, seconds=59)
    assert await d.run_once() == 0
    clock.advance(seconds=1)
    assert await d.run_once() == 1
    assert await told(desk) == [("olu", "duty.crisis_alert"), ("oona", "duty.crisis_alert")]
    assert await level(desk, alert) == 1
    # The next step waits the group's 10 minutes more.
    clock.advance(minutes=9)
    assert await d.run_once() == 0
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    assert ("lee", "duty.crisis_alert") in await told(desk)
    assert len(await told(desk)) == 3
    assert await level(desk, alert) == 2
    # The top of the ladder: nothing more is scheduled.
    clock.advance(hours=5)
    assert await d.run_once() == 0
    async with desk.sessions() as db:
        steps = await db.execute(
            select(ModerationEvent.action, ModerationEvent.detail).order_by(ModerationEvent.id)
        )
        assert [(a, d_["step"], d_["told"]) for a, d_ in steps] == [
            ("alert.escalated", 1, 2),
            ("alert.escalated", 2, 1),
        ]


async def test_an_alert_opened_in_time_goes_no_further(desk: Desk) -> None:
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    clock.advance(minutes=3)
    async with desk.sessions() as db, db.begin():
        found = await db.get(CrisisAlert, alert)
        assert found is not None
        found.opened_by, found.opened_at = desk.people["mo"], clock.now
    clock.advance(minutes=30)
    d = dispatcher(desk, clock)
    assert await d.run_once() == 1  # the step ran, and did nothing
    assert await told(desk) == []
    assert await level(desk, alert) == 0


async def test_a_second_delivery_of_a_step_tells_nobody_twice(desk: Desk) -> None:
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    clock.advance(minutes=5)
    step = escalation.Step("alert", alert, 1)
    async with desk.sessions() as db, db.begin():
        assert await escalation.run(db, step, clock()) == 2
    async with desk.sessions() as db, db.begin():
        assert await escalation.run(db, step, clock()) == 0
    assert len(await told(desk)) == 2


async def test_a_restart_mid_ladder_loses_no_step_and_repeats_none(desk: Desk) -> None:
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    clock.advance(minutes=5)
    first = dispatcher(desk, clock, "before")
    await first.start()
    first.wake()
    await asyncio.wait_for(first.idle(), DEADLINE)
    await first.stop()
    assert await level(desk, alert) == 1
    # The process is gone; another starts later and finds the next step waiting.
    clock.advance(minutes=10)
    second = dispatcher(desk, clock, "after")
    await second.start()
    try:
        second.wake()
        await asyncio.wait_for(second.idle(), DEADLINE)
    finally:
        await second.stop()
    assert await level(desk, alert) == 2
    assert [n for n, _t in await told(desk)] == ["lee", "olu", "oona"]


async def test_a_step_with_nobody_goes_on_and_the_top_falls_back_to_administrators(
    desk: Desk,
) -> None:
    async with desk.sessions() as db, db.begin():
        await db.execute(delete(OrganisationOrganiser))
        await db.execute(delete(SafeguardingLead))
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    clock.advance(minutes=5)
    assert await dispatcher(desk, clock).run_once() == 1
    assert await told(desk) == [("ada", "duty.crisis_alert")]
    assert await level(desk, alert) == 2


async def test_the_unavailable_are_skipped(desk: Desk) -> None:
    clock = Clock()
    alert = await raise_alert(desk, clock.now)
    clock.advance(minutes=5)

    async def away(_db: AsyncSession, ids: set[str], _now: datetime) -> set[str]:
        return ids & {desk.people["olu"]}

    async with desk.sessions() as db, db.begin():
        await escalation.run(db, escalation.Step("alert", alert, 1), clock(), away)
    assert await told(desk) == [("oona", "duty.crisis_alert")]


async def test_the_groups_own_timers_are_used(desk: Desk) -> None:
    async with desk.sessions() as db, db.begin():
        db.add(
            DutySettings(
                group_id=desk.group,
                alert_minutes=2,
                lead_minutes=3,
                report_hours=1,
                report_lead_hours=2,
                updated_at=START,
            )
        )
    clock = Clock()
    alert = await raise_alert(desk, clock.now, minutes=2)
    d = dispatcher(desk, clock)
    clock.advance(minutes=2)
    assert await d.run_once() == 1 and await level(desk, alert) == 1
    clock.advance(minutes=3)
    assert await d.run_once() == 1 and await level(desk, alert) == 2


async def test_an_unhandled_report_climbs_on_its_own_longer_timers(desk: Desk) -> None:
    clock = Clock()
    async with desk.sessions() as db, db.begin():
        report = Report(
            group_id=desk.group,
            reporter_id=desk.people["ana"],
            subject_id=desk.people["mo"],
            category="unkind",
            created_at=clock.now,
        )
        db.add(report)
        await db.flush()
        await escalation.schedule_report(db, report, clock.now)
    d = dispatcher(desk, clock)
    clock.advance(hours=23, minutes=59)
    assert await d.run_once() == 0
    clock.advance(minutes=1)
    assert await d.run_once() == 1
    assert await told(desk) == [("olu", "duty.report"), ("oona", "duty.report")]
    async with desk.sessions() as db, db.begin():
        found = await db.get(Report, report.id)
        assert found is not None and found.level == 1
        found.status = "resolved"  # handled before the leads' step
    clock.advance(hours=48)
    assert await d.run_once() == 1
    assert len(await told(desk)) == 2


@pytest.mark.postgres_only
async def test_two_processes_sharing_the_outbox_run_each_step_once(desk: Desk, db_url: str) -> None:
    clock = Clock()
    alerts = [await raise_alert(desk, clock.now) for _ in range(20)]
    clock.advance(minutes=5)
    other = make_engine(db_url)
    try:
        a, b = dispatcher(desk, clock, "a"), dispatcher(desk, clock, "b", other)
        a.batch = b.batch = 3

        async def drain(d: Dispatcher) -> None:
            while await d.run_once():
                pass

        await asyncio.wait_for(asyncio.gather(drain(a), drain(b)), 3 * DEADLINE)
    finally:
        await other.dispose()
    async with desk.sessions() as db:
        notices = await db.scalar(select(func.count()).select_from(Notice))
        done = await db.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(
                OutboxEntry.kind == "duty.escalate",
                OutboxEntry.attempts == 1,
                OutboxEntry.done_at.is_not(None),
            )
        )
    assert notices == 2 * len(alerts)  # the two organisers, once for each alert
    assert done == len(alerts)
    assert {await level(desk, a_) for a_ in alerts} == {1}
