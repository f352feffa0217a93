"""The Find-a-group page, saved searches, interest, the demand report and waiting lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.demo import load_demo
from peerhub.models import DemandRecord, GroupMember, SavedNeeds, User, WaitlistEntry
from peerhub.security.passwords import Passwords
from tests.conftest import FakeClock, enrol_2fa, post_form, sign_up
from tests.finding.conftest import add_group, add_user


async def test_form_then_results_without_javascript(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    clock: FakeClock,
) -> None:
    await load_demo(sessions, passwords, clock())
    form = await client.get("/find")
    assert form.status_code == 200
    assert 'name="languages" value="bfi"' in form.text
    assert "Need help now?" in form.text
    r = await client.get(
        "/find",
        params={
            "search": "1",
            "languages": "ur",
            "stage": "recovery",
            "communities": "south_asian",
            "format": "either",
        },
    )
    assert r.status_code == 200
    assert "Groups for you" in r.text
    assert "Meets in Urdu" in r.text
    assert "What you can do next" in r.text


async def test_page_shows_a_field_error(client: httpx.AsyncClient) -> None:
    r = await client.get("/find", params={"search": "1", "place": "ZZZZ ZZZ"})
    assert r.status_code == 422
    assert 'id="place-error"' in r.text and 'aria-invalid="true"' in r.text


async def test_approaching_crisis_page_shows_crisis_contacts_first(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Crisis Circle", stages=("approaching_crisis",))
    r = await client.get("/find", params={"search": "1", "stage": "approaching_crisis"})
    main = r.text.split('id="main"')[1]
    assert main.index("If things feel very hard right now") < main.index("Crisis Circle")
    assert "116 123" in main.split("Crisis Circle")[0]


async def test_days_and_times_become_availability(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Tuesday Evenings", rrule="FREQ=WEEKLY;BYDAY=TU")
    await add_group(
        sessions,
        "Saturday Mornings",
        dtstart_local="2026-09-05T10:00:00",
        rrule="FREQ=WEEKLY;BYDAY=SA",
    )
    r = await client.get("/find", params={"search": "1", "days": "saturday", "times": "morning"})
    page = r.text
    assert page.index("Saturday Mornings") < page.index("Tuesday Evenings")


async def test_signed_in_people_can_save_and_forget_their_needs(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(client, "Saver", "correct horse battery staple")
    r = await post_form(
        client, "/find/save", {"languages": "cy", "stage": "staying_well", "postcode": "CF10"}
    )
    assert r.status_code == 303
    page = await client.get("/find")
    assert "We have filled in the search you saved" in page.text
    assert 'value="cy" checked' in page.text
    r = await post_form(client, "/find/save", {"forget": "yes"})
    async with sessions() as db:
        assert (await db.scalars(select(SavedNeeds))).first() is None
    client.cookies.clear()
    anon = await post_form(client, "/find/save", {"languages": "cy"})
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")


async def test_register_interest_is_anonymous(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    r = await post_form(
        client,
        "/find/interest",
        {
            "languages": "ti",
            "communities": "refugees_asylum",
            "postcode": "B10 0AD",
            "stage": "recovery",
        },
    )
    assert r.status_code == 200 and "Thank you" in r.text
    async with sessions() as db:
        row = (await db.scalars(select(DemandRecord))).one()
    assert row.kind == "interest" and row.area == "B10" and row.languages == ["ti"]


async def test_demand_report_suppresses_small_numbers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    async with sessions() as db, db.begin():
        for _ in range(6):
            db.add(
                DemandRecord(
                    languages=["so"],
                    communities=["somali"],
                    stage="recovery",
                    topics=[],
                    format="either",
                    area="LS6",
                    at=app.state.ctx.clock(),
                )
            )
        for _ in range(2):
            db.add(
                DemandRecord(
                    languages=["ti"],
                    communities=[],
                    stage=None,
                    topics=[],
                    format="online",
                    area="online",
                    at=app.state.ctx.clock(),
                )
            )
    await sign_up(client, "Just A Member", "correct horse battery staple")
    assert (await client.get("/organise/demand")).status_code == 403
    async with sessions() as db, db.begin():
        me = await db.scalar(select(User).where(User.pseudonym == "Just A Member"))
        assert me is not None
        me.is_admin = True
    await enrol_2fa(sessions, me.id)
    page = await client.get("/organise/demand")
    assert page.status_code == 200
    assert "Somali" in page.text and "<td>6</td>" in page.text
    assert "fewer than 5" in page.text and "<td>2</td>" not in page.text


async def test_waiting_list_allocation_and_offer(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    app: Any,
    clock: FakeClock,
) -> None:
    holder = await add_user(sessions, "Holder")
    group = await add_group(sessions, "Small Group", capacity=1, members=(holder.id,))
    await sign_up(client, "Waiter", "correct horse battery staple")
    me = (await client.get("/api/me")).json()["id"]
    async with sessions() as db, db.begin():
        db.add(WaitlistEntry(group_id=group.id, user_id=me, fit=3.0, created_at=clock()))
    page = await client.get("/waiting-lists")
    assert "on the waiting list since" in page.text
    # No free place yet: nothing is offered.
    async with sessions() as db, db.begin():
        from peerhub.finding.actions import allocate_places

        assert await allocate_places(db, clock()) == []
        membership = await db.get(GroupMember, (group.id, holder.id))
        assert membership is not None
        await db.delete(membership)
    clock.advance(minutes=1)
    async with sessions() as db, db.begin():
        offers = await allocate_places(db, clock())
    assert [(o.person_id, o.group_id) for o in offers] == [(me, group.id)]
    page = await client.get("/waiting-lists")
    assert "a place is ready for you" in page.text
    r = await post_form(client, f"/waiting-lists/{group.id}", {"answer": "accept"})
    assert r.status_code == 303 and r.headers["location"] == "/groups/small-group?joined=1"
    async with sessions() as db:
        assert (await db.get(GroupMember, (group.id, me))) is not None
        assert (await db.get(WaitlistEntry, (group.id, me))) is None
    again = await post_form(client, f"/waiting-lists/{group.id}", {"answer": "accept"})
    assert again.status_code == 404


async def test_offers_expire(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    from peerhub.finding.actions import OFFER_LIFETIME, allocate_places

    group = await add_group(sessions, "Roomy", capacity=1)
    person = await add_user(sessions, "Slow Responder")
    other = await add_user(sessions, "Next In Line")
    async with sessions() as db, db.begin():
        db.add(
            WaitlistEntry(
                group_id=group.id,
                user_id=person.id,
                fit=5.0,
                created_at=clock() - timedelta(days=30),
            )
        )
        db.add(WaitlistEntry(group_id=group.id, user_id=other.id, fit=1.0, created_at=clock()))
    async with sessions() as db, db.begin():
        first = await allocate_places(db, clock())
    assert [o.person_id for o in first] == [person.id]
    clock.advance(seconds=OFFER_LIFETIME.total_seconds() + 60)
    async with sessions() as db, db.begin():
        second = await allocate_places(db, clock())
    assert [o.person_id for o in second] == [other.id]
    async with sessions() as db:
        expired = await db.get(WaitlistEntry, (group.id, person.id))
        assert expired is not None and expired.status == "expired"


async def test_admin_allocates_from_the_page(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(client, "Alloc Admin", "correct horse battery staple")
    r = await post_form(client, "/admin/allocate", {})
    assert r.status_code == 403
    async with sessions() as db, db.begin():
        me = await db.scalar(select(User).where(User.pseudonym == "Alloc Admin"))
        assert me is not None
        me.is_admin = True
    await enrol_2fa(sessions, me.id)
    r = await post_form(client, "/admin/allocate", {})
    assert r.status_code == 303 and r.headers["location"] == "/waiting-lists?offered=0"
