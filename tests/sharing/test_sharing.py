"""Sharing levels: each audience against each item, consent records, the crisis plan."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    Organisation,
    OrganisationOrganiser,
    ProfessionalStatus,
    Referral,
    SavedNeeds,
    User,
)
from peerhub.moderation.extension import queue_of
from peerhub.moderation.models import CrisisAlert
from peerhub.realtime import store
from peerhub.security.sessions import start_session
from peerhub.sharing.rules import AUDIENCES, ITEMS
from tests.conftest import BASE, FakeClock, csrf_token, enrol_2fa

Sessions = async_sessionmaker[AsyncSession]

# What each item looks like when it is shared (a marker to look for).
MARKERS = {
    "first_name": "Rosalind",
    "pronouns": "ze/zir",
    "languages": "Welsh",
    "stage": "Recovery",
    "contact": "07700 900456",
    "crisis_plan": "I stop answering texts",
}


@dataclass
class Cast:
    app: Any
    group: Group
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest.fixture
async def cast(app: Any, sessions: Sessions, clock: FakeClock) -> Any:
    now = clock()
    settings = app.state.settings
    async with sessions() as db, db.begin():
        org = Organisation(slug="valley", name="Valley Peers", verified_at=now)
        db.add(org)
        await db.flush()
        group = Group(
            slug="sunday-circle",
            name="Sunday Circle",
            organisation_id=org.id,
            format="online",
            dtstart_local="2026-11-01T10:00:00",
            rrule="FREQ=WEEKLY;BYDAY=SU",
            time_zone="Europe/London",
        )
        db.add(group)
        await db.flush()
        world = Cast(app, group)
        tokens = {}
        for name in ("rhian", "bea", "mo", "olu", "pat", "xan"):
            user = User(
                pseudonym=name.title(),
                pseudonym_key=name,
                password_hash="!unusable",
                email="rhian@example.org" if name == "rhian" else None,
            )
            if name == "pat":
                user.professional_status = ProfessionalStatus.VERIFIED
            db.add(user)
            await db.flush()
            world.users[name] = user.id
            tokens[name] = (await start_session(db, settings, user, now)).token
        for name, role in (("rhian", "member"), ("bea", "member"), ("mo", "moderator")):
            db.add(GroupMember(group_id=group.id, user_id=world.users[name], role=role))
        db.add(OrganisationOrganiser(organisation_id=org.id, user_id=world.users["olu"]))
        db.add(
            SavedNeeds(
                user_id=world.users["rhian"],
                needs={"languages": ["cy"], "communities": [], "stage": "recovery"},
            )
        )
        db.add(
            Referral(
                code_hash="0" * 64,
                group_id=group.id,
                professional_id=world.users["pat"],
                person_user_id=world.users["rhian"],
                person_name="R. Jones",
                contact_method="code",
                consent_confirmed_at=now,
            )
        )
    for name in ("mo", "olu", "pat"):
        await enrol_2fa(sessions, world.users[name])
    for name, token in tokens.items():
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE)
        client.cookies.set(settings.session_cookie_name, token)
        world.clients[name] = client
    yield world
    await world.close()


async def save(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> httpx.Response:
    form = {**data, "csrf_token": await csrf_token(client, path)}
    response = await client.post(path, data=form, headers={"Origin": BASE})
    assert response.status_code == 303, response.text
    return response


async def rhian_shares(cast: Cast, chosen: list[str]) -> None:
    rhian = cast.clients["rhian"]
    await save(
        rhian,
        "/account/sharing",
        {
            "first_name": "Rosalind",
            "pronouns": "ze/zir",
            "phone": "07700 900456",
            "share": chosen,
        },
    )
    await save(
        rhian,
        "/account/crisis-plan",
        {
            "early_signs": "I stop answering texts",
            "what_helps": "A walk and a cup of tea",
            "plan_audience": [c.split(":")[0] for c in chosen if c.endswith(":crisis_plan")],
        },
    )


async def seen_by(cast: Cast, audience: str) -> str:
    """Everything this audience's viewer can see of Rhian, as text."""
    viewer = {"members": "bea", "moderators": "mo", "organisers": "olu", "referrer": "pat"}
    client = cast.clients[viewer[audience]]
    if audience == "referrer":
        page = await client.get("/referrals")
        assert page.status_code == 200
        return page.text
    card = await client.get(
        f"/groups/{cast.group.slug}/people/{cast.users['rhian']}",
        headers={"Accept": "application/json"},
    )
    assert card.status_code == 200, card.text
    assert card.json()["audience"] == audience
    html = await client.get(f"/groups/{cast.group.slug}/people/{cast.users['rhian']}")
    return str(card.json()) + html.text


async def test_nothing_is_shared_until_the_person_chooses(cast: Cast) -> None:
    await rhian_shares(cast, [])
    for audience in AUDIENCES:
        text = await seen_by(cast, audience)
        for marker in MARKERS.values():
            assert marker not in text, (audience, marker)
        if audience != "referrer":
            assert "Rhian" in text  # the pseudonym, always
    assert "Rhian" not in await seen_by(cast, "referrer")


@pytest.mark.parametrize("item", list(ITEMS))
async def test_each_item_reaches_only_the_audience_it_was_shared_with(
    cast: Cast, item: str, sessions: Sessions
) -> None:
    for audience in AUDIENCES:
        await rhian_shares(cast, [f"{audience}:{item}"])
        for viewer in AUDIENCES:
            text = await seen_by(cast, viewer)
            assert (MARKERS[item] in text) == (viewer == audience), (item, audience, viewer)
    # Withdrawn: gone at once, for everyone.
    await rhian_shares(cast, [])
    for viewer in AUDIENCES:
        assert MARKERS[item] not in await seen_by(cast, viewer)
    async with sessions() as db:
        kinds = [
            (c.kind, c.granted, c.version)
            for c in (
                await db.execute(
                    select(Consent)
                    .where(Consent.user_id == cast.users["rhian"], Consent.kind.like("share.%"))
                    .order_by(Consent.id)
                )
            ).scalars()
        ]
    # Each switch grants the new audience, then withdraws the old one.
    order = list(AUDIENCES)
    expected = [(f"share.{order[0]}.{item}", True, "1")]
    for old, new in itertools.pairwise(order):
        expected += [(f"share.{new}.{item}", True, "1"), (f"share.{old}.{item}", False, "1")]
    expected.append((f"share.{order[-1]}.{item}", False, "1"))
    assert kinds == expected


async def test_cards_are_for_people_in_the_group_only(cast: Cast) -> None:
    path = f"/groups/{cast.group.slug}/people/{cast.users['rhian']}"
    assert (await cast.clients["xan"].get(path)).status_code == 404
    outsider = f"/groups/{cast.group.slug}/people/{cast.users['xan']}"
    assert (await cast.clients["bea"].get(outsider)).status_code == 404
    assert (await cast.clients["bea"].get(path + "x")).status_code == 404
    own = await cast.clients["rhian"].get(path)
    assert own.status_code == 200 and "what the other members" in own.text
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=cast.app, client=("203.0.113.7", 50000)),
        base_url=BASE,
    )
    async with anonymous:
        assert (await anonymous.get(path)).status_code in (303, 401)


async def test_bad_input_gets_a_clear_error_and_changes_nothing(cast: Cast) -> None:
    rhian = cast.clients["rhian"]
    form = {"phone": "call me maybe", "share": "members:first_name"}
    form["csrf_token"] = await csrf_token(rhian, "/account/sharing")
    response = await rhian.post(
        "/account/sharing", data=form, headers={"Origin": BASE, "Accept": "application/json"}
    )
    assert response.status_code == 422 and "phone" in response.text
    assert MARKERS["first_name"] not in await seen_by(cast, "members")
    too_long = {"early_signs": "x" * 2001, "csrf_token": await csrf_token(rhian, "/")}
    response = await rhian.post("/account/crisis-plan", data=too_long, headers={"Origin": BASE})
    assert response.status_code == 422
    # Unknown audiences or items are ignored, never stored.
    await save(rhian, "/account/sharing", {"share": ["everyone:first_name", "members:password"]})
    page = await rhian.get("/account/sharing")
    assert "checked" not in page.text


async def test_a_crisis_alert_shows_the_plan_only_if_shared_with_that_audience(
    cast: Cast, sessions: Sessions, clock: FakeClock
) -> None:
    room = cast.group.id
    async with sessions() as db, db.begin():
        await store.ensure_room(db, room)
        db.add(CrisisAlert(group_id=room, user_id=cast.users["rhian"], message_seq=1))

    async def plans() -> dict[str, Any]:
        async with sessions() as db:
            return {
                audience: (await queue_of(db, room, clock(), audience=audience))["alerts"][0][
                    "crisis_plan"
                ]
                for audience in ("moderators", "organisers")
            }

    await rhian_shares(cast, [])
    assert await plans() == {"moderators": None, "organisers": None}
    await rhian_shares(cast, ["moderators:crisis_plan"])
    shown = await plans()
    assert shown["organisers"] is None
    assert shown["moderators"]["early_signs"] == "I stop answering texts"
    await rhian_shares(cast, ["organisers:crisis_plan"])
    shown = await plans()
    assert shown["moderators"] is None and shown["organisers"]["what_helps"].startswith("A walk")


async def test_joining_and_leaving_are_consents_with_a_version(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    from tests.conftest import post_form, sign_up
    from tests.finding.conftest import add_group

    group = await add_group(sessions, "Open Door", ground_rules="Be kind.")
    await sign_up(client, "Joanna")
    joined = await post_form(client, f"/groups/{group.slug}/join", {})
    assert joined.status_code == 303
    left = await post_form(client, f"/groups/{group.slug}/leave", {})
    assert left.status_code == 303
    async with sessions() as db:
        rows = (
            await db.execute(
                select(Consent.kind, Consent.subject_id, Consent.granted, Consent.version)
                .where(Consent.kind == "group.join")
                .order_by(Consent.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("group.join", group.id, True, store.rules_version("Be kind.")),
        ("group.join", group.id, False, "-"),
    ]
