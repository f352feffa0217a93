"""Sharing levels: each audience against each item, per group; consent records; the
crisis plan; what an organisation PeerHub has not checked may see (nothing)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select
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
from peerhub.moderation.models import CrisisAlert
from peerhub.moderation.queries import queue_of
from peerhub.realtime import queries, writer
from peerhub.security.signins import start_sign_in
from peerhub.sharing.models import GroupSharingChoice, PersonProfile
from peerhub.sharing.rules import AUDIENCES, ITEMS, view_for
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
    group: Group  # Sunday Circle: Rhian and Bea members, Mo moderator, Olu organiser
    other: Group  # Hill Circle, another organisation: Rhian member, Max moderator, Hal organiser
    unchecked: Group  # Shady Circle, not verified: Rhian member, Sly organiser
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
        hill = Organisation(slug="hill", name="Hill Peers", verified_at=now)
        shady = Organisation(slug="shady", name="Shady Peers")  # never checked
        db.add_all([org, hill, shady])
        await db.flush()

        def circle(slug: str, name: str, organisation: Organisation) -> Group:
            return Group(
                slug=slug,
                name=name,
                organisation_id=organisation.id,
                format="online",
                dtstart_local="2026-11-01T10:00:00",
                rrule="FREQ=WEEKLY;BYDAY=SU",
                time_zone="Europe/London",
            )

        group = circle("sunday-circle", "Sunday Circle", org)
        other = circle("hill-circle", "Hill Circle", hill)
        unchecked = circle("shady-circle", "Shady Circle", shady)
        db.add_all([group, other, unchecked])
        await db.flush()
        world = Cast(app, group, other, unchecked)
        tokens = {}
        for name in ("rhian", "bea", "mo", "olu", "pat", "xan", "max", "hal", "sly"):
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
            tokens[name] = (await start_sign_in(db, settings, user, now)).token
        for grp, name, role in (
            (group, "rhian", "member"),
            (group, "bea", "member"),
            (group, "mo", "moderator"),
            (other, "rhian", "member"),
            (other, "max", "moderator"),
            # Rhian joined before PeerHub withdrew Shady Peers' verification.
            (unchecked, "rhian", "member"),
        ):
            db.add(GroupMember(group_id=grp.id, user_id=world.users[name], role=role))
        for organisation, name in ((org, "olu"), (hill, "hal"), (shady, "sly")):
            db.add(
                OrganisationOrganiser(organisation_id=organisation.id, user_id=world.users[name])
            )
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
    for name in ("mo", "olu", "pat", "max", "hal", "sly"):
        await enrol_2fa(sessions, world.users[name])
    for name, token in tokens.items():
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        client = httpx.AsyncClient(transport=transport, base_url=BASE)
        client.cookies.set(settings.sign_in_cookie_name, token)
        world.clients[name] = client
    yield world
    await world.close()


async def save(client: httpx.AsyncClient, path: str, data: dict[str, Any]) -> httpx.Response:
    form = {**data, "csrf_token": await csrf_token(client, path)}
    response = await client.post(path, data=form, headers={"Origin": BASE})
    assert response.status_code == 303, response.text
    return response


GROUP_AUDIENCES = ("members", "moderators", "organisers")


async def rhian_shares(cast: Cast, chosen: list[str], group: Group | None = None) -> None:
    """Rhian's details, and ``chosen`` (``audience:item``): the referrer's on the
    sharing page, the group audiences' for ``group`` (Sunday Circle) on its own page,
    and the crisis plan's audiences on the plan page."""
    group = group or cast.group
    rhian = cast.clients["rhian"]
    await save(
        rhian,
        "/account/sharing",
        {
            "first_name": "Rosalind",
            "pronouns": "ze/zir",
            "phone": "07700 900456",
            "share": [c for c in chosen if c.startswith("referrer:")],
        },
    )
    await save(
        rhian,
        f"/account/sharing/groups/{group.slug}",
        {"share": [c for c in chosen if c.split(":")[0] in GROUP_AUDIENCES]},
    )
    plan_audiences = [c.split(":")[0] for c in chosen if c.endswith(":crisis_plan")]
    await save(
        rhian,
        "/account/crisis-plan",
        {
            "early_signs": "I stop answering texts",
            "what_helps": "A walk and a cup of tea",
            "plan_audience": [a for a in plan_audiences if a == "referrer"],
            "plan_group": [f"{group.id}:{a}" for a in plan_audiences if a != "referrer"],
        },
    )


async def seen_by(cast: Cast, audience: str, group: Group | None = None, who: str = "") -> str:
    """Everything this audience's viewer can see of Rhian (in ``group``), as text."""
    group = group or cast.group
    viewer = (
        who
        or {"members": "bea", "moderators": "mo", "organisers": "olu", "referrer": "pat"}[audience]
    )
    client = cast.clients[viewer]
    if audience == "referrer":
        page = await client.get("/referrals")
        assert page.status_code == 200
        return _main(page.text)
    card = await client.get(
        f"/groups/{group.slug}/people/{cast.users['rhian']}",
        headers={"Accept": "application/json"},
    )
    assert card.status_code == 200, card.text
    assert card.json()["audience"] == audience
    html = await client.get(f"/groups/{group.slug}/people/{cast.users['rhian']}")
    return str(card.json()) + _main(html.text)


def _main(html: str) -> str:
    """The page's own part: the crisis panel around it names languages too ("Samaritans
    in Welsh"), which is no one's shared detail."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


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
            (c.kind, c.subject_id, c.granted, c.version)
            for c in (
                await db.execute(
                    select(Consent)
                    .where(Consent.user_id == cast.users["rhian"], Consent.kind.like("share.%"))
                    .order_by(Consent.id)
                )
            ).scalars()
        ]
    # Each switch grants the new audience, then withdraws the old one; a group
    # audience's consent names the group it was given for.
    order = list(AUDIENCES)

    def about(audience: str) -> str | None:
        return None if audience == "referrer" else cast.group.id

    expected = [(f"share.{order[0]}.{item}", about(order[0]), True, "2")]
    for old, new in itertools.pairwise(order):
        expected += [
            (f"share.{new}.{item}", about(new), True, "2"),
            (f"share.{old}.{item}", about(old), False, "2"),
        ]
    expected.append((f"share.{order[-1]}.{item}", about(order[-1]), False, "2"))
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
    # Unknown audiences or items are ignored, never stored; a group audience on the
    # person-wide page is ignored too (it is chosen per group).
    await save(
        rhian,
        "/account/sharing",
        {"share": ["everyone:first_name", "members:password", "organisers:contact"]},
    )
    page = await rhian.get("/account/sharing")
    assert " checked>" not in page.text
    await save(
        rhian,
        f"/account/sharing/groups/{cast.group.slug}",
        {"share": ["referrer:contact", "members:password", "nobody:first_name"]},
    )
    page = await rhian.get(f"/account/sharing/groups/{cast.group.slug}")
    assert page.status_code == 200 and " checked>" not in page.text
    assert MARKERS["contact"] not in await seen_by(cast, "organisers")


async def test_a_crisis_alert_shows_the_plan_only_if_shared_with_that_audience(
    cast: Cast, sessions: Sessions, clock: FakeClock
) -> None:
    rooms = (cast.group.id, cast.other.id, cast.unchecked.id)
    async with sessions() as db, db.begin():
        for room in rooms:
            await writer.ensure_room(db, room)
            db.add(CrisisAlert(group_id=room, user_id=cast.users["rhian"], message_seq=1))

    async def plans(room: str = cast.group.id) -> dict[str, Any]:
        async with sessions() as db:
            return {
                audience: msgspec.to_builtins(
                    (await queue_of(db, room, clock(), audience=audience)).alerts[0].crisis_plan
                )
                for audience in ("moderators", "organisers")
            }

    nothing = {"moderators": None, "organisers": None}
    await rhian_shares(cast, [])
    assert await plans() == nothing
    await rhian_shares(cast, ["moderators:crisis_plan"])
    shown = await plans()
    assert shown["organisers"] is None
    assert shown["moderators"]["early_signs"] == "I stop answering texts"
    # Shared with Sunday Circle's moderators: never with another group's.
    assert await plans(cast.other.id) == nothing
    await rhian_shares(cast, ["organisers:crisis_plan"])
    shown = await plans()
    assert shown["moderators"] is None and shown["organisers"]["what_helps"].startswith("A walk")
    assert await plans(cast.other.id) == nothing
    # Shared with the unchecked organisation's group too: its console still gets nothing.
    await rhian_shares(cast, ["moderators:crisis_plan", "organisers:crisis_plan"], cast.unchecked)
    assert await plans(cast.unchecked.id) == nothing


async def test_what_one_group_is_shown_never_reaches_another_group(cast: Cast) -> None:
    """Issue 9, point 12: sharing with "organisers" once used to reach the organisers
    of every group the person was in, and of every group they joined later."""
    everything = [f"{a}:{i}" for a in GROUP_AUDIENCES for i in ITEMS]
    # The old way (one choice for "organisers", everywhere) reaches nobody now.
    await save(
        cast.clients["rhian"],
        "/account/sharing",
        {"phone": "07700 900456", "share": ["organisers:contact", "moderators:contact"]},
    )
    for audience, who in (("moderators", "max"), ("organisers", "hal")):
        assert MARKERS["contact"] not in await seen_by(cast, audience, cast.other, who)
    await rhian_shares(cast, everything)
    for audience in GROUP_AUDIENCES:
        text = await seen_by(cast, audience)
        assert all(marker in text for marker in MARKERS.values()), audience
    # Hill Circle's moderator and organiser, in another organisation: only her name.
    for audience, who in (("moderators", "max"), ("organisers", "hal")):
        text = await seen_by(cast, audience, cast.other, who)
        assert "Rhian" in text, who
        assert not [m for m in MARKERS.values() if m in text], who
    # Joining Hill Circle never widened anything; choosing for it does, for it alone.
    await save(
        cast.clients["rhian"],
        f"/account/sharing/groups/{cast.other.slug}",
        {"share": ["organisers:first_name"]},
    )
    text = await seen_by(cast, "organisers", cast.other, "hal")
    assert MARKERS["first_name"] in text and MARKERS["contact"] not in text
    assert MARKERS["first_name"] not in await seen_by(cast, "moderators", cast.other, "max")


async def test_an_organisation_peerhub_has_not_checked_sees_only_the_name(cast: Cast) -> None:
    everything = [f"{a}:{i}" for a in GROUP_AUDIENCES for i in ITEMS]
    await rhian_shares(cast, everything, cast.unchecked)
    text = await seen_by(cast, "organisers", cast.unchecked, "sly")
    assert "Rhian" in text
    assert not [m for m in MARKERS.values() if m in text]
    # Her choice is kept (it applies if PeerHub checks the organisation), and the
    # page tells her that, for now, nobody there sees it.
    page = await cast.clients["rhian"].get(f"/account/sharing/groups/{cast.unchecked.slug}")
    assert page.status_code == 200
    assert "PeerHub has not checked Shady Peers yet" in page.text
    assert page.text.count(" checked>") == len(everything)


async def test_the_groups_page_is_for_the_persons_own_groups_only(cast: Cast) -> None:
    path = f"/account/sharing/groups/{cast.group.slug}"
    for name in ("xan", "olu", "hal"):  # not in it (an organiser has no place to share from)
        assert (await cast.clients[name].get(path)).status_code == 404, name
        form = {"share": "organisers:contact", "csrf_token": await csrf_token(cast.clients[name])}
        r = await cast.clients[name].post(path, data=form, headers={"Origin": BASE})
        assert r.status_code == 404, name
    assert (await cast.clients["rhian"].get("/account/sharing/groups/nope")).status_code == 404
    listing = await cast.clients["rhian"].get("/account/sharing")
    for group in (cast.group, cast.other, cast.unchecked):
        assert f'href="/account/sharing/groups/{group.slug}"' in listing.text
    assert listing.text.count("Only your name on PeerHub") == 9  # 3 groups x 3 audiences


async def test_leaving_a_group_withdraws_what_it_was_shown(cast: Cast, sessions: Sessions) -> None:
    await rhian_shares(cast, ["organisers:contact", "members:first_name"])
    rhian = cast.clients["rhian"]
    left = await rhian.post(
        f"/groups/{cast.group.slug}/leave",
        data={"csrf_token": await csrf_token(rhian)},
        headers={"Origin": BASE},
    )
    assert left.status_code == 303
    async with sessions() as db:
        rows = await db.scalar(
            select(func.count())
            .select_from(GroupSharingChoice)
            .where(GroupSharingChoice.user_id == cast.users["rhian"])
        )
        withdrawn = (
            await db.execute(
                select(Consent.kind, Consent.subject_id)
                .where(Consent.user_id == cast.users["rhian"], Consent.granted.is_(False))
                .order_by(Consent.id)
            )
        ).all()
    assert rows == 0
    assert [tuple(r) for r in withdrawn] == [
        ("share.members.first_name", cast.group.id),
        ("share.organisers.contact", cast.group.id),
        ("group.join", cast.group.id),
    ]


async def test_joining_offers_the_choice_sharing_nothing_unless_chosen(
    client: httpx.AsyncClient, sessions: Sessions, app: Any
) -> None:
    from tests.conftest import post_form, sign_up
    from tests.finding.conftest import add_group, add_user

    group = await add_group(sessions, "Open Door", ground_rules="Be kind.")
    organiser = await add_user(sessions, "Oona")
    async with sessions() as db, db.begin():
        db.add(OrganisationOrganiser(organisation_id=group.organisation_id, user_id=organiser.id))
        db.add(PersonProfile(user_id=organiser.id, first_name="unused"))
    await sign_up(client, "Joanna")
    page = await client.get(f"/groups/{group.slug}/join")
    assert page.status_code == 200
    assert "What Open Door can see about you" in page.text
    assert 'name="share" value="organisers:crisis_plan"' in page.text
    assert " checked>" not in page.text  # least sharing by default
    await post_form(client, "/account/sharing", {"first_name": "Jo", "phone": "07700 900111"})
    joined = await post_form(client, f"/groups/{group.slug}/join", {})
    assert joined.status_code == 303 and "done=joined" in joined.headers["location"]
    me = (await client.get("/api/me")).json()["id"]
    async with sessions() as db:
        consents = (
            await db.execute(
                select(Consent.kind, Consent.subject_id, Consent.granted, Consent.version)
                .where(Consent.user_id == me, Consent.kind.like("share.%"))
                .order_by(Consent.id)
            )
        ).all()
        assert (
            await db.scalar(
                select(func.count())
                .select_from(GroupSharingChoice)
                .where(GroupSharingChoice.user_id == me)
            )
            == 0
        )
    # The choice was offered and "nothing more" is on record.
    assert [tuple(r) for r in consents] == [("share.group", group.id, False, "2")]
    # Someone else chooses, at joining, to let the organisers see their first name.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as kit:
        await sign_up(kit, "Kit")
        await post_form(kit, "/account/sharing", {"first_name": "Kitty", "phone": "07700 900222"})
        r = await post_form(
            kit,
            f"/groups/{group.slug}/join",
            {"share": "organisers:first_name"},
        )
        assert r.status_code == 303
        kit_id = (await kit.get("/api/me")).json()["id"]
    async with sessions() as db:
        rows = (
            await db.execute(
                select(Consent.kind, Consent.subject_id, Consent.granted)
                .where(Consent.user_id == kit_id, Consent.kind.like("share.%"))
                .order_by(Consent.id)
            )
        ).all()
        person = await db.get(User, kit_id)
        assert person is not None
        seen = await view_for(db, person, "organisers", group.id)
        seen_by_members = await view_for(db, person, "members", group.id)
    assert [tuple(r) for r in rows] == [
        ("share.group", group.id, True),
        ("share.organisers.first_name", group.id, True),
    ]
    assert seen.get("first_name") == "Kitty" and "contact" not in seen
    assert "first_name" not in seen_by_members


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
        ("group.join", group.id, True, queries.rules_version("Be kind.")),
        ("group.join", group.id, False, "-"),
    ]
