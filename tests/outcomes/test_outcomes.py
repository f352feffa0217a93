"""Following what happens after a match, without names: recorded for signed-in
searches, joins read from memberships, presence in a session, settled after eight
weeks with the link to the person deleted, erased with the account, and published
to organisers only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.db import transaction
from peerhub.models import GroupMember, User
from peerhub.outcomes import actions
from peerhub.outcomes.models import MatchOutcome, OutcomeLink
from peerhub.realtime.models import Room
from tests.conftest import FakeClock, enrol_2fa, sign_up
from tests.finding.conftest import add_group


async def _me(sessions: async_sessionmaker[AsyncSession], name: str) -> User:
    async with sessions() as db:
        user = await db.scalar(select(User).where(User.pseudonym == name))
    assert user is not None
    return user


async def _search(client: httpx.AsyncClient, body: Mapping[str, object]) -> dict[str, object]:
    r = await client.post("/api/match", json=body)
    assert r.status_code == 200, r.text
    data: dict[str, object] = r.json()
    return data


async def test_a_signed_in_search_records_each_group_shown_once_by_kind(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    urdu = await add_group(
        sessions,
        "Urdu Circle",
        languages=("ur",),
        communities=("south_asian", "women"),
        stages=("recovery",),
    )
    await add_group(sessions, "English Circle", languages=("en",), stages=("staying_well",))
    body = {"languages": ["ur", "en"], "communities": ["south_asian"], "stage": "recovery"}
    await _search(client, body)  # not signed in: nothing followed
    async with sessions() as db:
        assert (await db.scalars(select(MatchOutcome))).all() == []
    await sign_up(client, "Follow Me")
    me = await _me(sessions, "Follow Me")
    await _search(client, body)
    await _search(client, body)  # the same groups again: still one outcome each
    async with sessions() as db:
        outcomes = (await db.scalars(select(MatchOutcome))).all()
        links = (await db.scalars(select(OutcomeLink))).all()
    assert len(outcomes) == 2 and len(links) == 2
    assert {link.user_id for link in links} == {me.id}
    by_group = {link.group_id: link.outcome_id for link in links}
    first = next(o for o in outcomes if o.id == by_group[urdu.id])
    assert (first.fit, first.language, first.community, first.stage, first.rank) == (
        "good",
        "first",
        "all",
        "met",
        "1",
    )
    assert first.shown_week.weekday() == 0 and not first.settled
    # The anonymous record has no column for a person or a group.
    assert not {"user_id", "group_id"} & set(MatchOutcome.__table__.columns.keys())


async def test_groups_they_already_belong_to_are_not_followed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_up(client, "Already In")
    me = await _me(sessions, "Already In")
    await add_group(sessions, "My Group", members=(me.id,))
    await _search(client, {"languages": ["en"]})
    async with sessions() as db:
        assert (await db.scalars(select(OutcomeLink))).all() == []


async def test_joining_coming_and_staying_are_followed_then_the_link_goes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    group = await add_group(sessions, "Tuesday Group", languages=("en",))
    await sign_up(client, "Stayer")
    me = await _me(sessions, "Stayer")
    await _search(client, {"languages": ["en"], "stage": "recovery"})
    clock.advance(days=1)
    async with transaction(sessions) as db:
        db.add(GroupMember(group_id=group.id, user_id=me.id, role="member", joined_at=clock.now))
    async with transaction(sessions) as db:
        done = await actions.settle(db, clock.now)
    assert done.joined == 1 and done.settled == 0
    # Reading the room outside a session is not coming to one (Tuesday 09:00 UTC).
    async with transaction(sessions) as db:
        assert not await actions.note_presence(db, group.id, me.id, clock.now)
    # In the scheduled session (Tuesday 18:00 London, for 90 minutes) it is.
    session = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
    async with transaction(sessions) as db:
        assert await actions.note_presence(db, group.id, me.id, session)
    async with sessions() as db:
        outcome = await db.scalar(select(MatchOutcome))
        assert outcome is not None and outcome.joined and outcome.came
    # Six weeks on, in the room the moderator opened outside the schedule.
    later = datetime(2026, 12, 17, 11, 0, tzinfo=UTC)
    async with transaction(sessions) as db:
        db.add(Room(id=group.id, is_open=True))
    async with transaction(sessions) as db:
        assert await actions.note_presence(db, group.id, me.id, later)
    # Seven weeks after joining: not yet settled.
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now + timedelta(weeks=7))).settled == 0
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now + timedelta(weeks=8))).settled == 1
    async with sessions() as db:
        outcome = await db.scalar(select(MatchOutcome))
        assert outcome is not None and outcome.settled and outcome.still_coming
        assert (await db.scalars(select(OutcomeLink))).all() == []


async def test_a_person_who_stops_coming_is_not_still_coming(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    group = await add_group(sessions, "Early Leaver Group")
    await sign_up(client, "Came Once")
    me = await _me(sessions, "Came Once")
    await _search(client, {"languages": ["en"]})
    async with transaction(sessions) as db:
        db.add(GroupMember(group_id=group.id, user_id=me.id, role="member", joined_at=clock.now))
    async with transaction(sessions) as db:
        await actions.note_presence(db, group.id, me.id, datetime(2026, 11, 3, 18, 5, tzinfo=UTC))
    async with transaction(sessions) as db:
        await actions.settle(db, clock.now + timedelta(weeks=9))
    async with sessions() as db:
        outcome = await db.scalar(select(MatchOutcome))
    assert outcome is not None and outcome.settled
    assert outcome.joined and outcome.came and not outcome.still_coming


async def test_not_joining_is_settled_after_eight_weeks(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await add_group(sessions, "Never Joined")
    await sign_up(client, "Just Looking")
    await _search(client, {"languages": ["en"]})
    async with transaction(sessions) as db:
        assert (
            await actions.settle(db, clock.now + timedelta(weeks=8) - timedelta(seconds=1))
        ).settled == 0
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now + timedelta(weeks=8))).settled == 1
    async with sessions() as db:
        outcome = await db.scalar(select(MatchOutcome))
        assert outcome is not None and outcome.settled and not outcome.joined
        assert (await db.scalars(select(OutcomeLink))).all() == []


async def test_the_link_goes_with_the_account_and_old_outcomes_are_deleted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await add_group(sessions, "Any Group")
    await sign_up(client, "Leaving")
    me = await _me(sessions, "Leaving")
    await _search(client, {"languages": ["en"]})
    async with transaction(sessions) as db:
        await db.execute(delete(User).where(User.id == me.id))
    async with sessions() as db:
        assert (await db.scalars(select(OutcomeLink))).all() == []
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now)).settled == 1  # can no longer be followed
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now + timedelta(days=720))).deleted == 0
    async with transaction(sessions) as db:
        assert (await actions.settle(db, clock.now + timedelta(days=740))).deleted == 1
    async with sessions() as db:
        assert (await db.scalars(select(MatchOutcome))).all() == []


async def test_the_report_is_for_organisers_and_administrators_and_suppresses(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with transaction(sessions) as db:
        for i in range(23):
            db.add(
                MatchOutcome(
                    shown_week=clock.now.date(),
                    fit="good",
                    language="first",
                    community="not_asked",
                    stage="met",
                    relaxed="none",
                    rank="1" if i < 20 else "2-3",
                    format="online",
                    attendance_seen=True,
                    joined=i < 12,
                    came=i < 11,
                    still_coming=i < 10,
                    settled=True,
                )
            )
    await sign_up(client, "Member Only")
    assert (await client.get("/organise/outcomes")).status_code == 403
    me = await _me(sessions, "Member Only")
    async with transaction(sessions) as db:
        user = await db.get(User, me.id)
        assert user is not None
        user.is_admin = True
    await enrol_2fa(sessions, me.id)
    page = await client.get("/organise/outcomes")
    assert page.status_code == 200
    text = page.text
    assert "What happens after a match" in text
    assert "<td>23</td>" in text and "<td>12</td>" in text
    assert "fewer than 10" in text
    assert "<td>3</td>" not in text  # the three shown second or third
    assert "Shown second or third" in text


async def test_the_find_page_says_what_is_followed_only_to_someone_signed_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Said Group")
    note = "whether you join these groups and come to their sessions"
    anonymous = await client.get("/find", params={"search": "1", "languages": "en"})
    assert anonymous.status_code == 200 and note not in anonymous.text
    await sign_up(client, "Told")
    signed_in = await client.get("/find", params={"search": "1", "languages": "en"})
    assert signed_in.status_code == 200 and note in signed_in.text
    async with sessions() as db:
        assert len((await db.scalars(select(OutcomeLink))).all()) == 1
