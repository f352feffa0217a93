"""Private check-ins (peerhub/checkins/, hazard H28): asked from a crisis alert or a
report, accepted, declined, left and closed; who may start one and who may be in its
room; the safeguarding leads' read-only page; the quiet close with a fake clock; and
that a check-in's hidden group shows up nowhere public or in any group listing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub.checkins import actions
from peerhub.checkins.models import CheckIn
from peerhub.finding.profiles import load_profiles
from peerhub.models import Group, GroupMember, GroupRole, User
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.notify.models import Notice
from peerhub.outbox.models import OutboxEntry
from peerhub.realtime import queries
from peerhub.realtime.models import Room, RoomMessage
from peerhub.sharing import rules as sharing
from peerhub.sharing.models import CrisisPlan
from tests.conftest import BASE, FakeClock, enrol_me
from tests.groups.helpers import (
    anonymous,
    create_group,
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
    clock: FakeClock
    org: str
    group: str
    olu: httpx.AsyncClient  # organiser
    mo: httpx.AsyncClient  # moderator
    lee: httpx.AsyncClient  # safeguarding lead
    ana: httpx.AsyncClient  # a member: the alert is about her
    bea: httpx.AsyncClient  # a member, not a moderator
    ids: dict[str, str]

    @property
    def sessions(self) -> Any:
        return self.app.state.ctx.sessions


@pytest.fixture
async def world(app: Any, clock: FakeClock) -> AsyncIterator[World]:
    async with (
        person(app, "Oluwa") as olu,
        person(app, "Moira") as mo,
        person(app, "Leela") as lee,
        person(app, "Anaya") as ana,
        person(app, "Beatrix") as bea,
    ):
        org = await register_org(olu)
        await verify_org(olu, org)
        group = await create_group(olu, org, name="Harbour Evening Circle")
        await make_moderator(olu, mo, group, "Moira")
        r = await post(
            olu, f"/organise/organisations/{org}/leads", {"action": "invite", "lead": "Leela"}
        )
        assert r.status_code == 303, r.text
        r = await post(
            lee, "/account/invitations", {"kind": "lead", "place_id": org, "answer": "accept"}
        )
        assert r.status_code == 303, r.text
        await enrol_me(lee)
        sessions = app.state.ctx.sessions
        names = {"olu": "Oluwa", "mo": "Moira", "lee": "Leela", "ana": "Anaya", "bea": "Beatrix"}
        ids = {k: (await user_row(sessions, v)).id for k, v in names.items()}
        async with sessions() as db, db.begin():
            for who in ("ana", "bea"):
                db.add(GroupMember(group_id=group, user_id=ids[who], role="member"))
        yield World(app, clock, org, group, olu, mo, lee, ana, bea, ids)


async def an_alert(world: World) -> str:
    now = world.clock()
    async with world.sessions() as db, db.begin():
        if await db.get(Room, world.group) is None:
            db.add(Room(id=world.group))
            await db.flush()
        db.add(
            RoomMessage(
                room_id=world.group,
                seq=1,
                kind="text",
                sender_id=world.ids["ana"],
                client_id="c-1",
                body="I can't go on",
                created_at=now,
            )
        )
        alert = CrisisAlert(
            group_id=world.group, user_id=world.ids["ana"], message_seq=1, created_at=now
        )
        db.add(alert)
        await db.flush()
        return alert.id


async def ask(world: World, client: httpx.AsyncClient, alert: str) -> httpx.Response:
    return await post(client, "/check-ins", {"source": "alert", "source_id": alert})


async def started(world: World) -> CheckIn:
    alert = await an_alert(world)
    r = await ask(world, world.mo, alert)
    assert r.status_code == 303, r.text
    check_in_id = r.headers["location"].split("/")[2].split("?")[0]
    return await row(world, check_in_id)


async def row(world: World, check_in_id: str) -> CheckIn:
    async with world.sessions() as db:
        found: CheckIn | None = await db.get(CheckIn, check_in_id)
    assert found is not None
    return found


async def ranks_in(world: World, group_id: str) -> dict[str, GroupRole]:
    async with world.sessions() as db:
        found = await queries.ranks(db, [(group_id, uid) for uid in world.ids.values()])
    names = {uid: name for name, uid in world.ids.items()}
    return {names[uid]: rank for (_g, uid), rank in found.items()}


async def act(client: httpx.AsyncClient, check_in: CheckIn, action: str) -> httpx.Response:
    return await post(client, f"/check-ins/{check_in.id}", {"action": action})


# --- ask, accept, leave --------------------------------------------------------------------


async def test_a_moderator_asks_the_member_accepts_talks_and_leaves(world: World) -> None:
    alert = await an_alert(world)
    page = await world.mo.get(f"/duty/alerts/{alert}")
    assert "Start a private check-in with Anaya" in page.text
    r = await ask(world, world.mo, alert)
    assert r.status_code == 303, r.text
    check_in = await row(world, r.headers["location"].split("/")[2].split("?")[0])
    assert check_in.status == "asked" and check_in.member_id == world.ids["ana"]
    # Asking again gives the same check-in, not a second one.
    again = await ask(world, world.mo, alert)
    assert again.headers["location"].startswith(f"/check-ins/{check_in.id}")
    # The member is told in generic words, with a link to the check-in.
    async with world.sessions() as db:
        notice = await db.scalar(select(Notice).where(Notice.user_id == world.ids["ana"]))
        hidden = await db.get(Group, check_in.group_id)
        asked_logged = await db.scalar(
            select(ModerationEvent).where(
                ModerationEvent.group_id == world.group, ModerationEvent.action == "check_in.asked"
            )
        )
    assert notice is not None and notice.url == f"/check-ins/{check_in.id}"
    assert notice.topic == "checkins.asked"
    assert hidden is not None and hidden.kind == "check_in"
    assert asked_logged is not None
    # Before she answers only the moderator is in the room.
    assert (await ranks_in(world, check_in.group_id)) == {
        "olu": GroupRole.NONE,
        "mo": GroupRole.MODERATOR,
        "lee": GroupRole.NONE,
        "ana": GroupRole.NONE,
        "bea": GroupRole.NONE,
    }
    # She is told who is asking and who can read it, and may say yes or no.
    page = await world.ana.get(f"/check-ins/{check_in.id}")
    assert page.status_code == 200
    assert "Moira, a moderator, would like to check in with you privately." in page.text
    assert "safeguarding leads" in page.text
    assert 'value="accept"' in page.text and 'value="decline"' in page.text
    r = await act(world.ana, check_in, "accept")
    assert r.status_code == 303 and r.headers["location"] == f"/groups/{hidden.slug}/room"
    check_in = await row(world, check_in.id)
    assert check_in.status == "open" and check_in.answered_at is not None
    assert (await ranks_in(world, check_in.group_id)) == {
        "olu": GroupRole.NONE,  # the organiser has no rank in a check-in's room
        "mo": GroupRole.MODERATOR,
        "lee": GroupRole.NONE,
        "ana": GroupRole.MEMBER,
        "bea": GroupRole.NONE,
    }
    # The room page is the rooms' own; for anyone else it does not exist.
    for client in (world.ana, world.mo):
        room_page = await client.get(f"/groups/{hidden.slug}/room")
        assert room_page.status_code in (200, 503)  # 503: no rooms server in this test
        if room_page.status_code == 200:
            assert f'href="/check-ins/{check_in.id}"' in room_page.text
    for client in (world.olu, world.bea, world.lee):
        assert (await client.get(f"/groups/{hidden.slug}/room")).status_code == 404
    async with world.sessions() as db:
        room = await db.get(Room, check_in.group_id)
    assert room is not None and room.is_open and not room.moderator_only
    # She leaves whenever she likes: both places end, both sockets are told.
    page = await world.ana.get(f"/check-ins/{check_in.id}")
    assert "Leave this conversation" in page.text
    assert "A private conversation between you and Moira, a moderator." in page.text
    r = await act(world.ana, check_in, "leave")
    assert r.status_code == 303
    check_in = await row(world, check_in.id)
    assert (check_in.status, check_in.closed_reason) == ("closed", "left")
    assert set((await ranks_in(world, check_in.group_id)).values()) == {GroupRole.NONE}
    async with world.sessions() as db:
        revokes = list(
            await db.scalars(
                select(OutboxEntry.payload).where(OutboxEntry.kind == "realtime.revoke_membership")
            )
        )
    assert len(revokes) == 2  # the moderator's sockets and hers, after the commit
    # Leaving twice changes nothing.
    assert (await act(world.ana, check_in, "leave")).status_code == 303


async def test_the_member_declines(world: World) -> None:
    check_in = await started(world)
    r = await act(world.ana, check_in, "decline")
    assert r.status_code == 303
    check_in = await row(world, check_in.id)
    assert (check_in.status, check_in.closed_reason) == ("declined", "declined")
    assert set((await ranks_in(world, check_in.group_id)).values()) == {GroupRole.NONE}
    async with world.sessions() as db:
        told = await db.scalar(
            select(Notice).where(
                Notice.user_id == world.ids["mo"], Notice.topic == "checkins.changed"
            )
        )
    assert told is not None
    # No second answer.
    assert (await act(world.ana, check_in, "accept")).status_code == 422
    # Asking again at once is refused; a day later it is allowed.
    r = await ask(world, world.mo, check_in.source_id)
    assert r.status_code == 422 and "safeguarding leads" in r.text
    world.clock.advance(hours=25)
    assert (await ask(world, world.mo, check_in.source_id)).status_code == 303


async def test_nobody_the_member_has_blocked_can_ask(world: World) -> None:
    from peerhub.models import Block

    alert = await an_alert(world)
    async with world.sessions() as db, db.begin():
        db.add(Block(user_id=world.ids["ana"], blocked_user_id=world.ids["mo"]))
    r = await ask(world, world.mo, alert)
    assert r.status_code == 422
    assert "block" not in r.text.lower()  # the block stays her private choice
    async with world.sessions() as db:
        assert await db.scalar(select(CheckIn.id)) is None
        assert await db.scalar(select(Notice.id).where(Notice.user_id == world.ids["ana"])) is None
    # Another moderator (here the organiser) can.
    assert (await ask(world, world.olu, alert)).status_code == 303


async def test_the_moderator_closes_it_and_the_member_cannot(world: World) -> None:
    check_in = await started(world)
    assert (await act(world.ana, check_in, "accept")).status_code == 303
    assert (await act(world.ana, check_in, "close")).status_code == 404
    assert (await act(world.mo, check_in, "leave")).status_code == 404
    assert (await act(world.mo, check_in, "close")).status_code == 303
    check_in = await row(world, check_in.id)
    assert (check_in.status, check_in.closed_reason) == ("closed", "closed")
    assert set((await ranks_in(world, check_in.group_id)).values()) == {GroupRole.NONE}


# --- who may ------------------------------------------------------------------------------


async def test_only_the_groups_moderators_and_organisers_may_start_one(world: World) -> None:
    alert = await an_alert(world)
    for client in (world.bea, world.ana, world.lee):
        assert (await ask(world, client, alert)).status_code == 404
    async with anonymous(world.app) as nobody:
        r = await nobody.post(
            "/check-ins", data={"source": "alert", "source_id": alert}, headers={"Origin": BASE}
        )
        assert r.status_code in (303, 401, 403)
    assert (await ask(world, world.mo, "nonsense")).status_code == 404
    assert (await ask(world, world.mo, "x" * 300)).status_code == 404
    # An organiser of the group may.
    assert (await ask(world, world.olu, alert)).status_code == 303
    # A report: with the person reported or the person who reported it.
    async with world.sessions() as db, db.begin():
        report = Report(
            group_id=world.group,
            reporter_id=world.ids["bea"],
            subject_id=world.ids["ana"],
            category="unkind",
            created_at=world.clock(),
        )
        db.add(report)
        await db.flush()
        report_id = report.id
    page = await world.mo.get(f"/duty/reports/{report_id}")
    assert "Start a private check-in with the person who reported it" in page.text
    r = await post(
        world.mo, "/check-ins", {"source": "report", "source_id": report_id, "person": "reporter"}
    )
    assert r.status_code == 303
    check_in = await row(world, r.headers["location"].split("/")[2].split("?")[0])
    assert check_in.member_id == world.ids["bea"] and check_in.source == "report"
    # Nobody but its two people sees the check-in's own page.
    for client in (world.olu, world.lee, world.ana):
        assert (await client.get(f"/check-ins/{check_in.id}")).status_code == 404
    assert (await world.bea.get(f"/check-ins/{check_in.id}")).status_code == 200
    assert (await world.mo.get(f"/check-ins/{check_in.id}")).status_code == 200
    assert (await act(world.ana, check_in, "accept")).status_code == 404


async def test_the_safeguarding_leads_read_it_and_nobody_else(world: World) -> None:
    check_in = await started(world)
    assert (await act(world.ana, check_in, "accept")).status_code == 303
    async with world.sessions() as db, db.begin():
        db.add(
            RoomMessage(
                room_id=check_in.group_id,
                seq=1,
                kind="text",
                sender_id=world.ids["ana"],
                client_id="k-1",
                body="Thank you for asking, it helps",
                created_at=world.clock(),
            )
        )
    page = await world.lee.get(f"/duty/check-ins/{check_in.id}")
    assert page.status_code == 200
    assert "Thank you for asking, it helps" in page.text and "Moira" in page.text
    for client in (world.olu, world.mo, world.ana, world.bea):
        assert (await client.get(f"/duty/check-ins/{check_in.id}")).status_code == 404
    # The leads find them from their duty desk.
    desk = await world.lee.get("/duty")
    listing = f"/duty/organisations/{world.org}/check-ins"
    assert f'href="{listing}"' in desk.text
    found = await world.lee.get(listing)
    assert found.status_code == 200 and f'href="/duty/check-ins/{check_in.id}"' in found.text
    assert "Moira with Anaya" in found.text
    for client in (world.olu, world.mo, world.ana, world.bea):
        assert (await client.get(listing)).status_code == 404
    assert (await world.lee.get("/duty/check-ins/nonsense")).status_code == 404


async def test_the_crisis_plan_sits_beside_it_only_as_shared_with_the_groups_moderators(
    world: World,
) -> None:
    check_in = await started(world)
    page = await world.mo.get(f"/check-ins/{check_in.id}")
    assert "I stop answering texts" not in page.text
    async with world.sessions() as db, db.begin():
        db.add(CrisisPlan(user_id=world.ids["ana"], early_signs="I stop answering texts"))
        ana = await db.get(User, world.ids["ana"])
        assert ana is not None
        await sharing.set_group_choices(
            db, ana, world.group, {("moderators", "crisis_plan")}, world.clock()
        )
    page = await world.mo.get(f"/check-ins/{check_in.id}")
    assert "I stop answering texts" in page.text
    # Never on the member's own view of it.
    page = await world.ana.get(f"/check-ins/{check_in.id}")
    assert "I stop answering texts" not in page.text


# --- the quiet close ---------------------------------------------------------------------


async def quiet_jobs(world: World) -> list[actions.Quiet]:
    async with world.sessions() as db:
        rows = list(
            await db.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.kind == actions.QUIET.name)
                .order_by(OutboxEntry.id)
            )
        )
    return [actions.QUIET.decode(r.payload) for r in rows]


async def run(world: World, job: actions.Quiet) -> str:
    async with world.sessions() as db, db.begin():
        return await actions.quiet_check(db, job, world.clock())


async def test_it_closes_by_itself_after_the_organisations_quiet_period(world: World) -> None:
    # The organisation chooses 30 minutes (organisers only).
    r = await post(
        world.mo, f"/organise/organisations/{world.org}/check-ins", {"quiet_minutes": "30"}
    )
    assert r.status_code == 404
    r = await post(
        world.olu, f"/organise/organisations/{world.org}/check-ins", {"quiet_minutes": "1"}
    )
    assert r.status_code == 422
    r = await post(
        world.olu, f"/organise/organisations/{world.org}/check-ins", {"quiet_minutes": "x"}
    )
    assert r.status_code == 422
    r = await post(
        world.olu, f"/organise/organisations/{world.org}/check-ins", {"quiet_minutes": "30"}
    )
    assert r.status_code == 303
    start = world.clock()
    check_in = await started(world)
    [first] = await quiet_jobs(world)
    assert first.due == (start + timedelta(minutes=30)).isoformat()
    world.clock.advance(minutes=10)
    assert (await act(world.ana, check_in, "accept")).status_code == 303
    world.clock.advance(minutes=15)
    async with world.sessions() as db, db.begin():
        db.add(
            RoomMessage(
                room_id=check_in.group_id,
                seq=1,
                kind="text",
                sender_id=world.ids["mo"],
                client_id="q-1",
                body="How are you doing?",
                created_at=world.clock(),
            )
        )
    # At 30 minutes it is not quiet: the message came 5 minutes ago.
    world.clock.advance(minutes=5)
    assert await run(world, first) == "rescheduled"
    assert await run(world, first) == "nothing"  # a second delivery acts once
    second = (await quiet_jobs(world))[-1]
    assert second.due == (start + timedelta(minutes=55)).isoformat()
    world.clock.advance(minutes=24)
    assert await run(world, first) == "nothing"
    assert (await row(world, check_in.id)).status == "open"
    world.clock.advance(minutes=1)
    assert await run(world, second) == "closed"
    check_in = await row(world, check_in.id)
    assert (check_in.status, check_in.closed_reason) == ("closed", "quiet")
    assert set((await ranks_in(world, check_in.group_id)).values()) == {GroupRole.NONE}
    assert await run(world, second) == "nothing"


async def test_an_unanswered_check_in_closes_after_the_quiet_period_too(world: World) -> None:
    check_in = await started(world)
    [job] = await quiet_jobs(world)
    world.clock.advance(minutes=60)
    assert await run(world, job) == "closed"
    assert (await row(world, check_in.id)).status == "closed"
    assert (await act(world.ana, check_in, "accept")).status_code == 422


# --- privacy -----------------------------------------------------------------------------


async def test_a_check_in_appears_nowhere_public_or_in_any_group_listing(world: World) -> None:
    check_in = await started(world)
    assert (await act(world.ana, check_in, "accept")).status_code == 303
    async with world.sessions() as db:
        hidden = await db.get(Group, check_in.group_id)
        org_slug = (await db.execute(select(Group.slug).where(Group.id == world.group))).scalar()
        from peerhub.models import Organisation

        org = await db.get(Organisation, world.org)
    assert hidden is not None and org is not None and org_slug
    secrets = (hidden.id, hidden.slug, hidden.name)
    async with anonymous(world.app) as visitor:
        pages = {
            "/groups": await visitor.get("/groups"),
            "/groups?q=private": await visitor.get("/groups", params={"q": "private check"}),
            "/groups.ics": await visitor.get("/groups.ics"),
            f"/organisations/{org.slug}": await visitor.get(f"/organisations/{org.slug}"),
            "/hsds/services": await visitor.get("/hsds/services"),
            "/hsds/services?text": await visitor.get("/hsds/services", params={"text": "private"}),
            f"/hsds/organizations/{org.id}": await visitor.get(f"/hsds/organizations/{org.id}"),
            "/hsds/organizations": await visitor.get("/hsds/organizations"),
            "/hsds/service_at_locations": await visitor.get("/hsds/service_at_locations"),
            "/find": await visitor.get("/find", params={"search": "1"}),
        }
        # The group itself, by its slug or id: as if it did not exist.
        for path in (
            f"/groups/{hidden.slug}",
            f"/groups/{hidden.slug}.ics",
            f"/groups/{hidden.slug}/join",
            f"/groups/{hidden.slug}/room",
            f"/hsds/services/{hidden.id}",
        ):
            assert (await visitor.get(path)).status_code == 404, path
    # The public pages do list the ordinary group (so the check is not vacuous).
    assert org_slug in pages["/groups"].text
    for who, client in (("olu", world.olu), ("mo", world.mo), ("ana", world.ana)):
        pages[f"{who} /account/groups"] = await client.get("/account/groups")
        pages[f"{who} /moderate"] = await client.get("/moderate")
        pages[f"{who} /find"] = await client.get("/find", params={"search": "1"})
    pages["olu /organise"] = await world.olu.get("/organise")
    pages["olu organisation"] = await world.olu.get(f"/organise/organisations/{world.org}")
    pages["olu /duty"] = await world.olu.get("/duty")
    pages["olu /organise/outcomes"] = await world.olu.get("/organise/outcomes")
    pages["olu group moderation log"] = await world.olu.get(
        f"/organise/groups/{world.group}/moderation"
    )
    pages["olu group page"] = await world.olu.get(f"/organise/groups/{world.group}")
    for path, response in pages.items():
        assert response.status_code < 500, path
        for secret in secrets:
            # (The organiser's page links to "Private check-ins: when they close...".)
            assert not re.search(re.escape(secret) + r"(?!s:)", response.text), (path, secret)
    # The source group's moderation log says a check-in was asked (the same audit as
    # any moderator's action), never where.
    log = pages["olu group moderation log"]
    assert log.status_code == 200 and "asked Anaya for a private check-in" in log.text
    assert pages["olu /organise/outcomes"].status_code == 200
    # The organiser cannot reach it through the organiser's pages either.
    for path in (f"/organise/groups/{hidden.id}", f"/organise/groups/{hidden.id}/edit"):
        assert (await world.olu.get(path)).status_code == 404, path
    # Matching: the profiles the match index is built from.
    async with world.sessions() as db:
        profiles = await load_profiles(db, BASE, world.clock())
    assert profiles and all(hidden.id not in str(p) for p in profiles)
    assert all(hidden.slug not in str(p) for p in profiles)
    # "Your groups" links to them (never lists them); her own list has it, without the
    # group's slug.
    assert 'href="/check-ins"' in pages["ana /account/groups"].text
    assert 'href="/check-ins"' not in pages["olu /account/groups"].text
    mine = await world.ana.get("/check-ins")
    assert f"/check-ins/{check_in.id}" in mine.text and "Moira" in mine.text
    assert hidden.slug not in mine.text


async def test_the_quiet_close_is_a_durable_job_the_outbox_runs(db_url: str) -> None:
    """Through a dispatcher as the application registers it: the job waits in the
    outbox until due, then closes the check-in once, however often it is delivered."""
    from peerhub.db import make_engine, make_sessionmaker
    from peerhub.models import Organisation
    from peerhub.outbox.dispatcher import Dispatcher

    clock = FakeClock()
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as db, db.begin():
            org = Organisation(slug="harbour", name="Harbour", verified_at=clock())
            db.add(org)
            await db.flush()
            group = Group(
                organisation_id=org.id,
                slug="harbour-evening",
                name="Harbour evening",
                format="online",
                dtstart_local="2026-12-01T18:00:00",
                rrule="FREQ=WEEKLY",
                time_zone="Europe/London",
            )
            people = {
                k: User(pseudonym=k.title(), pseudonym_key=k, password_hash="x")
                for k in ("mo", "ana")
            }
            db.add_all([group, *people.values()])
            await db.flush()
            db.add(GroupMember(group_id=group.id, user_id=people["mo"].id, role="moderator"))
            alert = CrisisAlert(
                group_id=group.id, user_id=people["ana"].id, message_seq=1, created_at=clock()
            )
            db.add(alert)
            await db.flush()
            source = await actions.source_of(db, "alert", alert.id, "")
            check_in = await actions.start(db, people["mo"], source, clock())
            check_in_id = check_in.id
        d = Dispatcher(engine, clock=clock, name="quiet", listen=False)
        actions.register(d, sessions, clock)
        assert await d.run_once() == 0  # not due yet
        clock.advance(minutes=59)
        assert await d.run_once() == 0
        clock.advance(minutes=1)
        assert await d.run_once() == 1
        async with sessions() as db:
            found = await db.get(CheckIn, check_in_id)
            assert found is not None
            assert (found.status, found.closed_reason) == ("closed", "quiet")
        clock.advance(hours=2)
        assert await d.run_once() == 0  # nothing left to run
    finally:
        await engine.dispose()


async def test_an_alert_inside_a_check_in_goes_past_the_organisers_to_the_leads(
    world: World,
) -> None:
    """The organisers have no rank in a check-in's room, so the duty ladder does not
    ask them: its first step tells the safeguarding leads, and the organisers' desk
    does not list it."""
    from peerhub.duty import escalation

    check_in = await started(world)
    assert (await act(world.ana, check_in, "accept")).status_code == 303
    async with world.sessions() as db, db.begin():
        alert = CrisisAlert(
            group_id=check_in.group_id,
            user_id=world.ids["ana"],
            message_seq=1,
            created_at=world.clock(),
        )
        db.add(alert)
        await db.flush()
        alert_id = alert.id
    async with world.sessions() as db, db.begin():
        told = await escalation.run(db, escalation.Step("alert", alert_id, 1), world.clock())
    assert told == 1
    async with world.sessions() as db:
        found = await db.get(CrisisAlert, alert_id)
        notices = set(
            await db.scalars(select(Notice.user_id).where(Notice.topic == "duty.crisis_alert"))
        )
    assert found is not None and found.level == 2
    assert notices == {world.ids["lee"]}
    assert (await world.lee.get(f"/duty/alerts/{alert_id}")).status_code == 200
    assert (await world.olu.get(f"/duty/alerts/{alert_id}")).status_code == 404
    assert f"/duty/alerts/{alert_id}" not in (await world.olu.get("/duty")).text
    assert f"/duty/alerts/{alert_id}" in (await world.mo.get("/duty")).text
