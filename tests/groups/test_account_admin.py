"""The account page lists a person's groups; administrators verify organisations."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from peerhub.models import User
from tests.conftest import enrol_2fa, sign_up
from tests.groups.helpers import (
    create_group,
    make_moderator,
    org_row,
    person,
    post,
    register_org,
    verify_org,
)


async def _make_admin(app: Any, pseudonym: str) -> None:
    async with app.state.ctx.sessions() as db, db.begin():
        user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
        user.is_admin = True
    await enrol_2fa(app, user.id)


async def test_the_account_page_shows_every_group_with_role_and_status(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id)
    await create_group(client, org_id, name="By Request", join_policy="request")
    await create_group(client, org_id, name="Tiny Group", capacity="0")
    account = await client.get("/account")
    assert f'href="/organise/organisations/{org_id}">Calder Peer Network</a>' in account.text
    assert account.text.count(">Organiser</span>") == 3
    assert "Leave group" not in account.text

    async with person(app, "Sky") as sky:
        empty = await sky.get("/account")
        assert "You have not joined a group yet." in empty.text
        assert 'href="/organise">Register your organisation</a>' in empty.text
        await post(sky, "/groups/tuesday-talk/join", {})
        await post(sky, "/groups/by-request/join", {})
        await post(sky, "/groups/tiny-group/join", {})
        await make_moderator(client, sky, group_id, "Sky")
        account = await sky.get("/account")
        text = account.text
        # Ordered: places held, then requests, then waiting lists; each linked.
        order = [
            text.index(x)
            for x in (
                'href="/groups/tuesday-talk"',
                'href="/groups/by-request"',
                'href="/groups/tiny-group"',
            )
        ]
        assert order == sorted(order)
        assert (
            ">Moderator</span>" in text and f'href="/organise/groups/{group_id}">Moderate' in text
        )
        assert ">Asked to join</span>" in text and ">On the waiting list</span>" in text
        assert "Withdraw request" in text and "Leave waiting list" in text and "Leave group" in text


async def test_admins_verify_and_unverify_organisations(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Olu")
    org_id = await register_org(client, "Calder <Peers>")
    async with person(app, "Ann") as ann:
        await _make_admin(app, "Ann")
        admin = await ann.get("/admin")
        assert "Organisations waiting to be verified" in admin.text
        assert "Calder &lt;Peers&gt;" in admin.text and "Calder <Peers>" not in admin.text
        assert f'name="organisation_id" value="{org_id}"' in admin.text

        # Not an admin: refused, and nothing changes.
        refused = await post(client, "/admin", {"organisation_id": org_id, "action": "verify_org"})
        assert refused.status_code == 403
        assert (await org_row(app.state.ctx.sessions, org_id)).verified_at is None

        done = await post(ann, "/admin", {"organisation_id": org_id, "action": "verify_org"})
        assert done.status_code == 303
        assert (await org_row(app.state.ctx.sessions, org_id)).verified_at is not None
        admin = await ann.get("/admin")
        assert "No organisation is waiting." in admin.text
        assert "Remove verification" in admin.text
        page = await client.get(f"/organise/organisations/{org_id}")
        assert ">Verified</span>" in page.text

        undone = await post(ann, "/admin", {"organisation_id": org_id, "action": "unverify_org"})
        assert undone.status_code == 303
        assert (await org_row(app.state.ctx.sessions, org_id)).verified_at is None

        missing = await post(ann, "/admin", {"organisation_id": "nope", "action": "verify_org"})
        assert missing.status_code == 404
        # An admin is not an organiser: the organiser's pages stay closed to them.
        assert (await ann.get(f"/organise/organisations/{org_id}")).status_code == 404
