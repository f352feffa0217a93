"""The organiser's pages over HTTP, on both databases: forms, errors and who may do what."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select

from peerhub.models import AuditEvent, GroupMember, Organisation, User
from tests.conftest import FakeClock, enrol_2fa, enrol_me, sign_up
from tests.groups.helpers import (
    anonymous,
    create_group,
    group_form,
    group_row,
    make_moderator,
    org_row,
    person,
    post,
    register_org,
    verify_org,
)

MAIN = re.compile(r"<main.*?</main>", re.S)


def main_of(response: httpx.Response) -> str:
    match = MAIN.search(response.text)
    assert match, response.text
    return match.group(0)


def errors_in(response: httpx.Response) -> list[str]:
    """The fields the error summary links to."""
    return re.findall(r'<li><a href="#([^"]+)">', response.text)


async def _make_admin(app: Any, pseudonym: str) -> None:
    async with app.state.ctx.sessions() as db, db.begin():
        user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
        user.is_admin = True
    await enrol_2fa(app, user.id)


async def test_registering_and_editing_an_organisation(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    home = await client.get("/organise")
    assert home.status_code == 200 and "You do not run an organisation" in home.text
    form = await client.get("/organise/organisations/new")
    assert 'name="csrf_token"' in form.text and 'id="lived_experience_led"' in form.text

    bad = await post(
        client,
        "/organise/organisations/new",
        {"name": "", "website": "not a site", "email": "nope"},
    )
    assert bad.status_code == 422
    assert errors_in(bad) == ["name", "website", "email"]
    assert 'id="website" name="website" type="url" value="not a site"' in bad.text
    as_json = await post(client, "/organise/organisations/new", {"name": "x"}, json=True)
    assert as_json.status_code == 422
    assert as_json.json()["field"] == "name"

    org_id = await register_org(client, "Calder <Peer> Network")
    page = await client.get(f"/organise/organisations/{org_id}?done=registered")
    assert "Calder &lt;Peer&gt; Network" in page.text and "<Peer>" not in page.text
    assert "Waiting to be checked" in page.text
    assert "Your organisation is registered" in page.text
    org = await org_row(sessions, org_id)
    assert org.lived_experience_led is True and org.slug == "calder-peer-network"

    edit = await client.get(f"/organise/organisations/{org_id}/edit")
    assert 'value="Calder &lt;Peer&gt; Network"' in edit.text
    assert 'id="lived_experience_led" name="lived_experience_led" value="yes"' in edit.text
    saved = await post(
        client,
        f"/organise/organisations/{org_id}/edit",
        {"name": "Calder Peers", "website": "calder.example.org", "phone": "0113 496 0000"},
    )
    assert saved.status_code == 303
    org = await org_row(sessions, org_id)
    assert (org.name, org.website, org.lived_experience_led) == (
        "Calder Peers",
        "https://calder.example.org",
        False,
    )
    again = await post(client, f"/organise/organisations/{org_id}/edit", {"name": "ab"})
    assert again.status_code == 422 and errors_in(again) == ["name"]


async def test_inviting_an_organiser_by_name(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    path = f"/organise/organisations/{org_id}/organisers"
    # Nobody is invited in PeerHub's name until PeerHub has checked the organisation.
    early = await post(client, path, {"pseudonym": "Olu"})
    assert early.status_code == 422 and "once PeerHub has checked" in early.text
    await verify_org(client, org_id)
    unknown = await post(client, path, {"pseudonym": "Nobody Yet"})
    assert unknown.status_code == 422 and errors_in(unknown) == ["pseudonym"]
    assert 'value="Nobody Yet"' in unknown.text
    async with person(app, "Priya") as priya:
        assert (await priya.get(f"/organise/organisations/{org_id}")).status_code == 404
        invited = await post(client, path, {"pseudonym": "priya"})
        assert invited.status_code == 303 and "done=organiser" in invited.headers["location"]
        page = await client.get(f"/organise/organisations/{org_id}")
        assert "Invited, waiting for their answer" in page.text and "Priya" in page.text
        # Invited is not an organiser: nothing changes until Priya says yes.
        assert (await priya.get(f"/organise/organisations/{org_id}")).status_code == 404
        mine = await priya.get("/account/groups")
        assert "Organise Calder Peer Network" in mine.text and "Two-step sign-in" in mine.text
        said = await post(
            priya,
            "/account/invitations",
            {"kind": "organiser", "place_id": org_id, "answer": "accept"},
        )
        # Organisers need two-step sign-in: saying yes leads straight to setting it up.
        assert said.status_code == 303 and said.headers["location"].startswith("/account/2fa?next=")
        await enrol_me(priya)
        page = await priya.get(f"/organise/organisations/{org_id}")
        assert page.status_code == 200 and "Priya (you)" in page.text and "Olu" in page.text
        twice = await post(client, path, {"pseudonym": "Priya"})
        assert twice.status_code == 422 and "already an organiser" in twice.text


async def test_creating_a_group_with_every_field(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    blank = await client.get(f"/organise/organisations/{org_id}/groups/new")
    assert blank.status_code == 200
    for needle in (
        'name="stages" value="recovery"',
        "Approaching crisis",
        'name="access" value="step_free"',
        "Black African and Caribbean",
        'name="repeat" value="fortnightly"',
        'id="rrule"',
        'value="Europe/London"',
        'name="join_policy" value="request"',
        'name="status" value="paused"',
        "British Sign Language",
    ):
        assert needle in blank.text, needle

    group_id = await create_group(
        client,
        org_id,
        format="hybrid",
        address="Friends Meeting House, 1 Park Lane",
        postcode="ls1 4ap",
        capacity="12",
        join_policy="request",
        repeat="monthly",
        first_date="2026-11-10",
        start_time="10:30",
        duration_minutes="120",
    )
    group = await group_row(sessions, group_id)
    assert (group.slug, group.format, group.postcode, group.capacity) == (
        "tuesday-talk",
        "hybrid",
        "LS1 4AP",
        12,
    )
    assert (group.rrule, group.dtstart_local, group.duration_minutes) == (
        "FREQ=MONTHLY;BYDAY=2TU",
        "2026-11-10T10:30:00",
        120,
    )
    assert group.latitude is not None and group.join_policy == "request"

    page = await client.get(f"/organise/groups/{group_id}")
    assert "The second Tuesday of every month at 10:30" in page.text
    assert "0 of 12 taken" in page.text

    edit = await client.get(f"/organise/groups/{group_id}/edit")
    for needle in (
        # Languages come back by name, one box each: no codes.
        'id="languages-1" name="languages" type="text" value="English"',
        'id="languages-2" name="languages" type="text" value="British Sign Language"',
        'value="Polish"',
        'name="stages" value="recovery" checked',
        'name="access" value="captions" checked',
        'value="monthly" checked',
        'value="2026-11-10"',
        'value="10:30"',
        'value="LS1 4AP"',
        'value="hybrid" checked',
        'value="request" checked',
    ):
        assert needle in edit.text, needle

    # A second group with the same name gets its own address.
    second = await create_group(client, org_id)
    assert (await group_row(sessions, second)).slug == "tuesday-talk-2"


async def test_bad_group_fields_get_422_naming_each_field(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    path = f"/organise/organisations/{org_id}/groups/new"
    cases = [
        ({"repeat": "advanced", "rrule": "FREQ=SOMETIMES"}, "rrule"),
        ({"languages": "Nonsenseish"}, "languages"),
        ({"capacity": "-1"}, "capacity"),
        ({"format": "in_person", "address": "Hall", "postcode": "QQ99 9QQQ"}, "postcode"),
    ]
    for overrides, field in cases:
        response = await post(client, path, group_form(**overrides))
        assert response.status_code == 422, overrides
        assert errors_in(response) == [field]
        assert f'id="{field}-error"' in response.text
        assert 'aria-invalid="true"' in response.text
        as_json = await post(client, path, group_form(**overrides), json=True)
        assert as_json.status_code == 422
        body = as_json.json()
        assert body["field"] == field and list(body["errors"]) == [field]
    # What was typed comes back, escaped.
    typed = await post(client, path, group_form(name="<b>Bold</b>", capacity="-1"))
    assert 'value="&lt;b&gt;Bold&lt;/b&gt;"' in typed.text and "<b>Bold" not in typed.text
    async with app.state.ctx.sessions() as db:
        assert (
            await db.scalar(select(Organisation.id).where(Organisation.id == org_id))
        ) is not None
    made = await post(client, path, group_form(), json=True)
    assert made.status_code == 201 and made.json()["slug"] == "tuesday-talk"


async def test_next_meetings_follow_the_clock_change(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    group_id = await create_group(client, org_id, first_date="2026-10-20", start_time="18:00")
    page = await client.get(f"/organise/groups/{group_id}")
    times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page.text)
    assert times[:3] == [
        ("2026-10-20T17:00:00Z", "Tuesday 20 October 2026, 18:00 to 19:30 BST"),
        ("2026-10-27T18:00:00Z", "Tuesday 27 October 2026, 18:00 to 19:30 GMT"),
        ("2026-11-03T18:00:00Z", "Tuesday 3 November 2026, 18:00 to 19:30 GMT"),
    ]
    assert len(times) == 8

    # And in spring, through an edit: a fortnightly Sunday group starting in March.
    edited = await post(
        client,
        f"/organise/groups/{group_id}/edit",
        group_form(first_date="2027-03-14", start_time="19:15", repeat="fortnightly"),
    )
    assert edited.status_code == 303
    assert edited.headers["location"] == f"/organise/groups/{group_id}?done=saved"
    page = await client.get(f"/organise/groups/{group_id}")
    times = re.findall(r'<time datetime="([^"]+)">', page.text)
    assert times[:3] == ["2027-03-14T19:15:00Z", "2027-03-28T18:15:00Z", "2027-04-11T18:15:00Z"]
    assert "Sunday 14 March 2027, 19:15 to 20:45 GMT" in page.text
    assert "Sunday 28 March 2027, 19:15 to 20:45 BST" in page.text
    assert "Every other Sunday at 19:15" in page.text


async def test_cancelling_a_meeting_from_the_list(
    client: httpx.AsyncClient, app: Any, clock: FakeClock, sessions: Any
) -> None:
    clock.now = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
    await sign_up(client, "Olu")
    group_id = await create_group(client, await register_org(client))
    path = f"/organise/groups/{group_id}/sessions"
    done = await post(client, path, {"session": "2026-10-27T18:00:00", "action": "cancel"})
    assert done.status_code == 303 and "done=cancelled" in done.headers["location"]
    page = await client.get(f"/organise/groups/{group_id}?done=cancelled")
    assert "The session is cancelled" in page.text
    item = re.search(r'<li class="cancelled">.*?</li>', page.text, re.S)
    assert item and "2026-10-27T18:00:00Z" in item.group(0) and "Put back on" in item.group(0)
    assert (await group_row(sessions, group_id)).exdates == ["2026-10-27T18:00:00"]

    bad = await post(client, path, {"session": "2026-10-28T18:00:00", "action": "cancel"})
    assert bad.status_code == 422 and errors_in(bad) == ["session"]
    assert 'id="session"' in bad.text
    odd = await post(client, path, {"session": "2026-10-27T18:00:00", "action": "explode"})
    assert odd.status_code == 422

    back = await post(client, path, {"session": "2026-10-27T18:00:00", "action": "restore"})
    assert back.status_code == 303
    assert (await group_row(sessions, group_id)).exdates == []


async def test_inviting_and_removing_moderators(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    group_id = await create_group(client, org_id)
    path = f"/organise/groups/{group_id}/moderators"
    async with person(app, "Moss") as mo:
        early = await post(client, path, {"pseudonym": "moss", "action": "invite"})
        assert early.status_code == 422 and "once PeerHub has checked" in early.text
        await verify_org(client, org_id)
        nobody = await post(client, path, {"pseudonym": "Ghost", "action": "invite"})
        assert nobody.status_code == 422 and errors_in(nobody) == ["pseudonym"]
        old_way = await post(client, path, {"pseudonym": "moss", "action": "appoint"})
        assert old_way.status_code == 422  # there is no appointing without a yes
        await make_moderator(client, mo, group_id, "moss")
        page = await mo.get(f"/organise/groups/{group_id}")
        assert page.status_code == 200
        assert "Invite a moderator" not in page.text  # organisers only
        assert "Edit the group" not in page.text
        account = await mo.get("/account")
        assert f'href="/organise/groups/{group_id}">Moderate' in account.text
        removed = await post(client, path, {"pseudonym": "Moss", "action": "remove"})
        assert removed.status_code == 303
        assert (await mo.get(f"/organise/groups/{group_id}")).status_code == 403


async def test_who_may_open_and_change_what(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    """anonymous, outsider, member, moderator, other organiser, admin and organiser."""
    clock.now = datetime(2026, 10, 19, 9, 0, tzinfo=UTC)
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id)
    slug = "tuesday-talk"
    unknown_page = await client.get("/no-such-page")
    assert unknown_page.status_code == 404
    pages = [
        f"/organise/organisations/{org_id}",
        f"/organise/organisations/{org_id}/edit",
        f"/organise/organisations/{org_id}/groups/new",
        f"/organise/groups/{group_id}",
        f"/organise/groups/{group_id}/edit",
    ]
    writes: list[tuple[str, dict[str, Any]]] = [
        (f"/organise/organisations/{org_id}/edit", {"name": "Taken Over"}),
        (f"/organise/organisations/{org_id}/organisers", {"pseudonym": "Oth"}),
        (f"/organise/organisations/{org_id}/groups/new", group_form(name="Sneaky")),
        (f"/organise/groups/{group_id}/edit", group_form(name="Renamed")),
        (f"/organise/groups/{group_id}/moderators", {"pseudonym": "Mia", "action": "invite"}),
    ]
    moderator_writes: list[tuple[str, dict[str, Any]]] = [
        (
            f"/organise/groups/{group_id}/sessions",
            {"session": "2026-10-27T18:00:00", "action": "cancel"},
        ),
    ]

    async with anonymous(app) as anon:
        for path in pages:
            response = await anon.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        for path, data in writes + moderator_writes:
            assert (await post(anon, path, data)).status_code == 303, path

    async with person(app, "Oth") as oth, person(app, "Ann") as ann, person(app, "Mia") as mia:
        await register_org(oth, "Other Org")
        await _make_admin(app, "Ann")
        assert (await post(mia, f"/groups/{slug}/join", {})).status_code == 303
        for who in (oth, ann):
            for path in pages:
                response = await who.get(path)
                assert response.status_code == 404, path
                # Not yours looks exactly like no such thing.
                assert main_of(response) == main_of(unknown_page)
            for path, data in writes + moderator_writes:
                response = await post(who, path, data)
                assert response.status_code == 404, path
                assert main_of(response) == main_of(unknown_page)
        # Even a form full of mistakes tells an outsider nothing about the form.
        for path, data in (
            (f"/organise/organisations/{org_id}/edit", {"name": ""}),
            (f"/organise/organisations/{org_id}/groups/new", group_form(capacity="-1")),
            (f"/organise/groups/{group_id}/edit", group_form(capacity="-1")),
            (f"/organise/groups/{group_id}/moderators", {"pseudonym": "Ghost", "action": "x"}),
            (f"/organise/groups/{group_id}/sessions", {"session": "x", "action": "x"}),
            (f"/organise/groups/{group_id}/requests", {"user_id": "x", "decision": "x"}),
        ):
            response = await post(oth, path, data)
            assert response.status_code == 404, path
            assert main_of(response) == main_of(unknown_page)
            assert (await post(mia, path, data)).status_code in (403, 404), path
        for path in pages[:3]:
            assert (await mia.get(path)).status_code == 404, path
        for path in pages[3:]:
            assert (await mia.get(path)).status_code == 403, path
        for path, data in writes[3:] + moderator_writes:
            assert (await post(mia, path, data)).status_code == 403, path

    # Unknown ids are the same 404 for the organiser too.
    for path in (
        "/organise/organisations/00000000-0000-0000-0000-000000000000",
        "/organise/groups/00000000-0000-0000-0000-000000000000",
        "/organise/groups/00000000-0000-0000-0000-000000000000/edit",
    ):
        response = await client.get(path)
        assert response.status_code == 404 and main_of(response) == main_of(unknown_page)
    json_404 = await client.get("/organise/groups/nope", headers={"Accept": "application/json"})
    assert json_404.status_code == 404 and "error" in json_404.json()

    # Nothing above changed anything.
    page = await client.get(f"/organise/groups/{group_id}")
    assert "Tuesday Talk" in page.text and "Renamed" not in page.text
    assert "Sneaky" not in (await client.get(f"/organise/organisations/{org_id}")).text
    assert '<li class="cancelled">' not in page.text
    async with app.state.ctx.sessions() as db:
        moderators = (
            await db.scalars(select(GroupMember).where(GroupMember.role == "moderator"))
        ).all()
        assert moderators == []
        created = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "group.created"))
        ).all()
        assert len(created) == 1

    # The organiser can do all of it.
    for path in pages:
        assert (await client.get(path)).status_code == 200, path
    for path, data in writes + moderator_writes:
        assert (await post(client, path, data)).status_code == 303, path
