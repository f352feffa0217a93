"""Issue 9, points 11 and 12: a group of an organisation PeerHub has not checked.

Its organisers are told the truth (not visible, not joinable, what happens next), and
nobody can get into it by any path: the join page and its button, a request answered,
a waiting-list offer, or (tests/referrals) a referral. Withdrawing verification later
keeps the members' places but lets nobody in and closes the room (tests/realtime).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import func, select

from peerhub.finding.actions import allocate_places
from peerhub.models import GroupMember, User, WaitlistEntry
from tests.conftest import enrol_2fa, sign_up
from tests.groups.helpers import (
    anonymous,
    create_group,
    group_form,
    person,
    post,
    register_org,
    user_row,
)

SLUG = "tuesday-talk"


@contextlib.asynccontextmanager
async def administrator(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with person(app, "Ann Admin") as ann:
        admin = await user_row(app.state.ctx.sessions, "Ann Admin")
        async with app.state.ctx.sessions() as db, db.begin():
            row = await db.get(User, admin.id)
            assert row is not None
            row.is_admin = True
        await enrol_2fa(app, admin.id)
        yield ann


async def _set_checked(admin: httpx.AsyncClient, org_id: str, checked: bool) -> None:
    """The administrator verifies the organisation, or withdraws its verification."""
    action = "verify_org" if checked else "unverify_org"
    done = await post(admin, "/admin", {"organisation_id": org_id, "action": action})
    assert done.status_code == 303, done.text[:300]


async def _members(app: Any) -> int:
    async with app.state.ctx.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(GroupMember)) or 0)


async def test_organisers_are_told_the_truth_and_nobody_can_join(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    created = await post(client, f"/organise/organisations/{org_id}/groups/new", group_form())
    assert created.status_code == 303
    group_page = await client.get(created.headers["location"])
    text = group_page.text
    # Point 11: what is true, on every organiser page that describes the group.
    assert "People can find it" not in text and "join it now" not in text
    assert "waiting for PeerHub to check Calder Peer Network" in text
    assert "Not visible or joinable yet" in text and "What happens next" in text
    assert f'href="/groups/{SLUG}"' not in text and f'href="/groups/{SLUG}/room"' not in text
    for path in ("/organise", f"/organise/organisations/{org_id}"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "not visible or joinable" in page.text, path
    assert (
        "People can find and join them once PeerHub has checked"
        in (await client.get(f"/organise/organisations/{org_id}?done=registered")).text
    )
    account = (await client.get("/account")).text  # no link that would answer 404
    assert "Tuesday Talk" in account and f'href="/groups/{SLUG}"' not in account
    assert "Not visible or joinable yet" in account

    # Point 12: no PeerHub page vouches for it, and nobody gets in, by any door.
    async with anonymous(app) as anon:
        for path in (f"/groups/{SLUG}", f"/groups/{SLUG}/join", f"/groups/{SLUG}/room"):
            assert (await anon.get(path)).status_code == 404, path
    async with person(app, "Mia") as mia:
        assert (await mia.get(f"/groups/{SLUG}/join")).status_code == 404
        assert (await post(mia, f"/groups/{SLUG}/join", {})).status_code == 404
        as_json = await post(mia, f"/groups/{SLUG}/join", {}, json=True)
        assert as_json.status_code == 404 and as_json.json()["error"]
    assert (await client.get(f"/groups/{SLUG}/join")).status_code == 404  # its organiser too
    assert await _members(app) == 0

    # Checked: the same link works, and the organiser is told so.
    async with administrator(app) as ann:
        await _set_checked(ann, org_id, True)
    async with person(app, "Mia2") as mia:
        joined = await post(mia, f"/groups/{SLUG}/join", {})
        assert joined.status_code == 303 and "done=joined" in joined.headers["location"]
    second = await create_group(client, org_id, name="Second Circle")
    text = (await client.get(f"/organise/groups/{second}?done=created")).text
    assert "People can find it in the directory and join it now." in text
    assert "Not visible or joinable yet" not in text
    assert 'href="/groups/second-circle/room"' in text


async def test_withdrawn_verification_keeps_places_but_lets_nobody_in(
    client: httpx.AsyncClient, app: Any, clock: Any
) -> None:
    """The rule for members when PeerHub withdraws verification: they keep their
    place (and can leave), but nobody joins, no request is accepted, no offer is
    taken, the room is closed, and the organisers see only names."""
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    async with administrator(app) as ann:
        await _set_checked(ann, org_id, True)
        group_id = await create_group(client, org_id, join_policy="request")
        full_id = await create_group(client, org_id, name="Full Circle", capacity="1")
        async with (
            person(app, "Mia") as mia,
            person(app, "Sky") as sky,
            person(app, "Wren") as wren,
            person(app, "Tal") as tal,
        ):
            assert (await post(mia, f"/groups/{SLUG}/join", {})).status_code == 303
            mia_id = (await mia.get("/api/me")).json()["id"]
            r = await post(
                client,
                f"/organise/groups/{group_id}/requests",
                {"user_id": mia_id, "decision": "accept"},
            )
            assert r.status_code == 303
            assert (await post(sky, f"/groups/{SLUG}/join", {})).status_code == 303  # asks
            assert (await post(tal, "/groups/full-circle/join", {})).status_code == 303  # joins
            assert (await post(wren, "/groups/full-circle/join", {})).status_code == 303  # waits
            wren_id = (await wren.get("/api/me")).json()["id"]
            sky_id = (await sky.get("/api/me")).json()["id"]

            await _set_checked(ann, org_id, False)
            before = await _members(app)
            # Nobody new: the join page and button are gone.
            async with person(app, "Newcomer") as new:
                assert (await new.get(f"/groups/{SLUG}/join")).status_code == 404
                assert (await post(new, f"/groups/{SLUG}/join", {})).status_code == 404
            # A request made before cannot be accepted now; it is not lost either.
            r = await post(
                client,
                f"/organise/groups/{group_id}/requests",
                {"user_id": sky_id, "decision": "accept"},
            )
            assert r.status_code == 422 and "has not checked" in r.text
            # A place freed on the full group is offered to no one...
            assert (await post(tal, "/groups/full-circle/leave", {})).status_code == 303
            async with app.state.ctx.sessions() as db, db.begin():
                assert await allocate_places(db, clock()) == []
                # ...and an offer made before cannot be taken.
                entry = await db.get(WaitlistEntry, (full_id, wren_id))
                assert entry is not None
                entry.status, entry.offered_at = "offered", clock()
            waiting = await wren.get("/waiting-lists")
            assert "cannot take anyone at the moment" in waiting.text
            assert 'href="/groups/full-circle"' not in waiting.text
            assert "Take the place" not in waiting.text
            taken = await post(wren, f"/waiting-lists/{full_id}", {"answer": "accept"})
            assert taken.status_code == 409 and "has not" in taken.text
            assert await _members(app) == before - 1  # only Tal's leaving changed anything
            # The member keeps the place and can leave whenever they like; their
            # account page says why the group is not there to visit.
            account = await mia.get("/account")
            assert "Tuesday Talk" in account.text and "Leave group" in account.text
            assert 'href="/groups/tuesday-talk"' not in account.text
            assert "Not visible or joinable yet" in account.text
            assert (await post(mia, f"/groups/{SLUG}/leave", {})).status_code == 303

            # Checked again: the request can be answered.
            await _set_checked(ann, org_id, True)
            r = await post(
                client,
                f"/organise/groups/{group_id}/requests",
                {"user_id": sky_id, "decision": "accept"},
            )
            assert r.status_code == 303
            async with app.state.ctx.sessions() as db:
                place = await db.get(GroupMember, (group_id, sky_id))
                assert place is not None and place.status == "active"
