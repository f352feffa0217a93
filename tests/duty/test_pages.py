"""The duty desk's pages: a safeguarding lead by invitation, an alert's record (who
sees what), closing with what was done, a serious incident's review, the safeguarding
log with its filters and CSV, and the group's timers on its form."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub.accounts import twofactor
from peerhub.duty.models import DutySettings
from peerhub.models import User
from peerhub.moderation.models import CrisisAlert, ModerationEvent
from peerhub.notify.models import Notice
from peerhub.outbox.models import OutboxEntry
from peerhub.realtime.models import Room, RoomMessage
from tests.conftest import enrol_me
from tests.groups.helpers import (
    anonymous,
    create_group,
    group_form,
    make_moderator,
    person,
    post,
    register_org,
    user_row,
    verify_org,
)


@dataclass
class World:
    app: Any
    org: str
    group: str
    olu: httpx.AsyncClient  # organiser
    mo: httpx.AsyncClient  # moderator
    lee: httpx.AsyncClient  # safeguarding lead
    ana: httpx.AsyncClient  # a member (the alert is about her)
    ids: dict[str, str]


@pytest.fixture
async def world(app: Any) -> AsyncIterator[World]:
    async with (
        person(app, "Oluwa") as olu,
        person(app, "Moira") as mo,
        person(app, "Leela") as lee,
        person(app, "Anaya") as ana,
    ):
        org = await register_org(olu)
        await verify_org(olu, org)
        group = await create_group(olu, org)
        await make_moderator(olu, mo, group, "Moira")
        r = await post(
            olu, f"/organise/organisations/{org}/leads", {"action": "invite", "lead": "Leela"}
        )
        assert r.status_code == 303 and "done=lead_invite" in r.headers["location"], r.text
        r = await post(
            lee, "/account/invitations", {"kind": "lead", "place_id": org, "answer": "accept"}
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/account/2fa"), r.text
        await enrol_me(lee)
        sessions = app.state.ctx.sessions
        names = {"olu": "Oluwa", "mo": "Moira", "lee": "Leela", "ana": "Anaya"}
        ids = {k: (await user_row(sessions, v)).id for k, v in names.items()}
        yield World(app, org, group, olu, mo, lee, ana, ids)


async def an_alert(world: World, words: str = "I can't go on") -> str:
    sessions = world.app.state.ctx.sessions
    now = world.app.state.ctx.clock()
    async with sessions() as db, db.begin():
        if await db.get(Room, world.group) is None:
            db.add(Room(id=world.group))
        await db.flush()
        seq = 1 + len(
            list(
                await db.scalars(select(RoomMessage.seq).where(RoomMessage.room_id == world.group))
            )
        )
        db.add(
            RoomMessage(
                room_id=world.group,
                seq=seq,
                kind="text",
                sender_id=world.ids["ana"],
                client_id=f"c-{seq}",
                body=words,
                status="visible",
                created_at=now,
            )
        )
        alert = CrisisAlert(
            group_id=world.group, user_id=world.ids["ana"], message_seq=seq, created_at=now
        )
        db.add(alert)
        await db.flush()
        return alert.id


async def test_a_lead_is_named_only_by_accepting_and_needs_two_step_sign_in(
    world: World,
) -> None:
    sessions = world.app.state.ctx.sessions
    async with sessions() as db:
        lee = await db.get(User, world.ids["lee"])
        assert lee is not None
        assert "safeguarding_lead" in (await twofactor.standing(db, lee)).roles
    page = await world.olu.get(f"/organise/organisations/{world.org}")
    assert "Leela" in page.text and f"/duty/log/{world.org}" in page.text
    # Nobody but an organiser names one; a second invitation to a lead is refused.
    r = await post(
        world.mo,
        f"/organise/organisations/{world.org}/leads",
        {"action": "invite", "lead": "Anaya"},
    )
    assert r.status_code == 404
    r = await post(
        world.olu,
        f"/organise/organisations/{world.org}/leads",
        {"action": "invite", "lead": "Leela"},
    )
    assert r.status_code == 422 and "already a safeguarding lead" in r.text
    # Ana says no: nothing changes.
    r = await post(
        world.olu,
        f"/organise/organisations/{world.org}/leads",
        {"action": "invite", "lead": "Anaya"},
    )
    assert r.status_code == 303
    r = await post(
        world.ana,
        "/account/invitations",
        {"kind": "lead", "place_id": world.org, "answer": "decline"},
    )
    assert r.status_code == 303
    assert (await world.ana.get(f"/duty/log/{world.org}")).status_code == 404
    # A lead may step down; an organiser may end the role.
    r = await post(
        world.olu,
        f"/organise/organisations/{world.org}/leads",
        {"action": "remove", "user_id": world.ids["lee"]},
    )
    assert r.status_code == 303
    assert (await world.lee.get(f"/duty/log/{world.org}")).status_code == 404


async def test_an_alerts_record_is_for_the_people_on_duty_only(world: World) -> None:
    alert = await an_alert(world)
    for who in (world.mo, world.olu, world.lee):
        page = await who.get(f"/duty/alerts/{alert}")
        assert page.status_code == 200
        assert "Nobody has opened it yet." in page.text
    assert (await world.ana.get(f"/duty/alerts/{alert}")).status_code == 404
    async with anonymous(world.app) as nobody:
        assert (await nobody.get(f"/duty/alerts/{alert}")).status_code in (302, 303, 401)
    desk = await world.olu.get("/duty")
    assert f"/duty/alerts/{alert}" in desk.text


async def test_closing_records_what_was_done_and_only_leads_read_the_words(
    world: World,
) -> None:
    alert = await an_alert(world)
    r = await post(world.mo, f"/duty/alerts/{alert}", {"action": "open"})
    assert r.status_code == 303
    bad = await post(world.mo, f"/duty/alerts/{alert}", {"action": "close", "outcome": "shrug"})
    assert bad.status_code == 422 and "Choose what was done" in bad.text
    r = await post(
        world.mo,
        f"/duty/alerts/{alert}",
        {"action": "close", "outcome": "check_in", "note": "Spoke privately; she felt safer."},
    )
    assert r.status_code == 303
    again = await post(
        world.mo, f"/duty/alerts/{alert}", {"action": "close", "outcome": "check_in"}
    )
    assert again.status_code == 422
    lead_view = (await world.lee.get(f"/duty/alerts/{alert}")).text
    assert "Spoke privately" in lead_view and "A private check-in with the person" in lead_view
    organiser_view = (await world.olu.get(f"/duty/alerts/{alert}")).text
    assert "Closed" in organiser_view and "Spoke privately" not in organiser_view
    assert "A private check-in" not in organiser_view
    sessions = world.app.state.ctx.sessions
    async with sessions() as db:
        found = await db.get(CrisisAlert, alert)
        assert found is not None and found.outcome == "check_in"
        assert found.opened_by == world.ids["mo"] and found.handled_by == world.ids["mo"]
        log = await db.execute(
            select(ModerationEvent.action, ModerationEvent.detail).where(
                ModerationEvent.group_id == world.group
            )
        )
        rows = [(a, d) for a, d in log if a.startswith("alert.")]
    # The log says what was done, never the words.
    assert [a for a, _d in rows] == ["alert.opened", "alert.seen"]
    assert "Spoke" not in repr(rows)


async def test_emergency_services_make_a_serious_incident_for_the_lead_to_review(
    world: World,
) -> None:
    alert = await an_alert(world)
    r = await post(world.olu, f"/duty/alerts/{alert}", {"action": "close", "outcome": "emergency"})
    assert r.status_code == 303
    sessions = world.app.state.ctx.sessions
    async with sessions() as db:
        found = await db.get(CrisisAlert, alert)
        assert found is not None and found.review_due_at is not None
        topics = list(
            await db.scalars(select(Notice.topic).where(Notice.user_id == world.ids["lee"]))
        )
        reminder = await db.scalar(select(OutboxEntry).where(OutboxEntry.kind == "duty.review_due"))
    assert topics == ["duty.review"]
    assert reminder is not None and reminder.run_at == found.review_due_at
    assert f"/duty/alerts/{alert}" in (await world.lee.get("/duty")).text
    # Only a lead reviews; it needs words; once.
    assert (
        await post(world.olu, f"/duty/alerts/{alert}", {"action": "review", "review": "Fine"})
    ).status_code == 404
    assert (
        await post(world.lee, f"/duty/alerts/{alert}", {"action": "review", "review": " "})
    ).status_code == 422
    r = await post(
        world.lee,
        f"/duty/alerts/{alert}",
        {"action": "review", "review": "Handled well; debrief held."},
    )
    assert r.status_code == 303
    assert (
        await post(world.lee, f"/duty/alerts/{alert}", {"action": "review", "review": "Again"})
    ).status_code == 422
    assert "Handled well" in (await world.lee.get(f"/duty/alerts/{alert}")).text


async def test_the_safeguarding_log_filters_exports_and_holds_no_message_text(
    world: World,
) -> None:
    first = await an_alert(world, "the words they wrote")
    await an_alert(world, "other words")
    r = await post(
        world.mo,
        f"/duty/alerts/{first}",
        {"action": "close", "outcome": "signposted", "note": '=HYPERLINK("http://x")'},
    )
    assert r.status_code == 303
    log = await world.lee.get(f"/duty/log/{world.org}")
    assert log.status_code == 200
    assert "2 alerts" in log.text and "the words they wrote" not in log.text
    closed = await world.lee.get(f"/duty/log/{world.org}?state=closed")
    assert "1 alert" in closed.text
    open_ = await world.lee.get(f"/duty/log/{world.org}?state=open&outcome=signposted")
    assert "0 alerts" in open_.text
    # Unknown filters are ignored, never an error.
    odd = await world.lee.get(f"/duty/log/{world.org}?from=yesterday&to=2026-99-99&group=nope")
    assert odd.status_code == 200 and "2 alerts" in odd.text
    exported = await world.lee.get(f"/duty/log/{world.org}?format=csv&state=closed")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) == 2 and rows[1][7].startswith("'=")  # no formula runs
    assert "the words they wrote" not in exported.text
    # Not for organisers who are not leads, nor for moderators.
    assert (await world.olu.get(f"/duty/log/{world.org}")).status_code == 404
    assert (await world.mo.get(f"/duty/log/{world.org}?format=csv")).status_code == 404


async def test_the_groups_timers_are_set_on_its_form(world: World) -> None:
    form = group_form(
        alert_minutes="2", lead_minutes="7", report_hours="12", report_lead_hours="30"
    )
    r = await post(world.olu, f"/organise/groups/{world.group}/edit", form)
    assert r.status_code == 303, r.text[:300]
    sessions = world.app.state.ctx.sessions
    async with sessions() as db:
        row = await db.get(DutySettings, world.group)
        assert row is not None
        assert (row.alert_minutes, row.lead_minutes, row.report_hours, row.report_lead_hours) == (
            2,
            7,
            12,
            30,
        )
    page = await world.olu.get(f"/organise/groups/{world.group}/edit")
    assert 'name="alert_minutes" type="text" value="2"' in page.text
    for bad in ("0", "1441", "soon"):
        r = await post(
            world.olu, f"/organise/groups/{world.group}/edit", group_form(alert_minutes=bad)
        )
        assert r.status_code == 422, bad
