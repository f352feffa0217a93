"""Joining, asking, answering, waiting and leaving over HTTP, with notifications."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import httpx

from tests.conftest import BASE, post_form, sign_up
from tests.groups.helpers import (
    RecordingSender,
    anonymous,
    create_group,
    group_row,
    make_moderator,
    person,
    post,
    register_org,
    user_row,
    verify_org,
)

SLUG = "tuesday-talk"


async def _organiser_with_group(client: httpx.AsyncClient, **overrides: Any) -> str:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    return await create_group(client, org_id, **overrides)


async def test_signed_out_people_see_the_rules_and_come_back_after_signing_up(
    client: httpx.AsyncClient, app: Any
) -> None:
    await _organiser_with_group(client)
    async with anonymous(app) as anon:
        page = await anon.get(f"/groups/{SLUG}/join")
        assert page.status_code == 200
        assert "What is said here stays here." in page.text
        assert "/login?next=/groups/tuesday-talk/join" in unquote(page.text)
        assert "/signup?next=/groups/tuesday-talk/join" in unquote(page.text)
        assert f'action="/groups/{SLUG}/join"' not in page.text

        attempt = await post(anon, f"/groups/{SLUG}/join", {})
        assert attempt.status_code == 303
        assert unquote(attempt.headers["location"]) == f"/login?next=/groups/{SLUG}/join"

        joined = await post_form(
            anon,
            "/signup",
            {
                "pseudonym": "River",
                "password": "a long test password",
                "next": f"/groups/{SLUG}/join",
            },
        )
        # The offer of recovery words comes first, then back to the group.
        assert unquote(joined.headers["location"]) == (
            f"/account/recovery?welcome=1&next=/groups/{SLUG}/join"
        )
        page = await anon.get(f"/groups/{SLUG}/join")
        assert "This group is open: you can join straight away." in page.text
        assert ">Join this group</button>" in page.text
        done = await post(anon, f"/groups/{SLUG}/join", {})
        assert done.status_code == 303
        assert done.headers["location"] == f"/groups/{SLUG}/join?done=joined"
        page = await anon.get(done.headers["location"])
        assert "Welcome. You are now a member of this group." in page.text
        assert "You are a member of this group." in page.text
        account = await anon.get("/account")
        assert f'<a href="/groups/{SLUG}">Tuesday Talk</a>' in account.text
        assert ">Member</span>" in account.text


async def test_unknown_groups_are_404(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "River")
    unknown = await client.get("/no-such-page")
    for response in (
        await client.get("/groups/no-such-group/join"),
        await post(client, "/groups/no-such-group/join", {}),
        await post(client, "/groups/no-such-group/leave", {}),
    ):
        assert response.status_code == 404
        assert response.text.split("<main")[1] == unknown.text.split("<main")[1]
    as_json = await post(client, "/groups/no-such-group/join", {}, json=True)
    assert as_json.status_code == 404 and as_json.json()["error"]


async def test_asking_to_join_and_being_accepted_with_a_message(
    client: httpx.AsyncClient, app: Any
) -> None:
    sender = RecordingSender()
    app.state.sender = sender
    group_id = await _organiser_with_group(client, join_policy="request")
    async with person(app, "River", email="river@example.org") as river:
        page = await river.get(f"/groups/{SLUG}/join")
        assert ">Ask to join</button>" in page.text
        asked = await post(river, f"/groups/{SLUG}/join", {}, json=True)
        assert asked.json() == {"outcome": "requested", "group": SLUG}
        again = await post(river, f"/groups/{SLUG}/join", {}, json=True)
        assert again.json()["outcome"] == "already_asked"
        account = await river.get("/account")
        assert "Asked to join" in account.text and "Withdraw request" in account.text
        # Asking gives no access to the organiser's pages.
        assert (await river.get(f"/organise/groups/{group_id}")).status_code == 404

        manage = await client.get(f"/organise/groups/{group_id}")
        assert "<h3>River</h3>" in manage.text
        river_id = (await user_row(app.state.ctx.sessions, "River")).id
        assert f'id="message-{river_id}"' in manage.text

        answer = await post(
            client,
            f"/organise/groups/{group_id}/requests",
            {"user_id": river_id, "decision": "accept", "message": "Welcome, <River>!"},
        )
        assert answer.status_code == 303 and "done=accepted" in answer.headers["location"]
        account = await river.get("/account")
        assert ">Member</span>" in account.text
        assert "The group said yes to your request" in account.text
        assert "Welcome, &lt;River&gt;!" in account.text and "<River>" not in account.text

        assert len(sender.sent) == 1
        mail = sender.sent[0]
        assert mail.to == "river@example.org"
        assert mail.subject == "PeerHub: a group has answered your request"
        assert "Tuesday Talk has said yes" in mail.body and "Welcome, <River>!" in mail.body
        assert f"{BASE}/account" in mail.body

        # Answering again finds nothing to answer: no second e-mail.
        twice = await post(
            client,
            f"/organise/groups/{group_id}/requests",
            {"user_id": river_id, "decision": "accept", "message": ""},
        )
        assert twice.status_code == 303 and "done=gone" in twice.headers["location"]
        assert len(sender.sent) == 1


async def test_declining_needs_a_kind_message_and_sends_nothing_without_email(
    client: httpx.AsyncClient, app: Any
) -> None:
    sender = RecordingSender()
    app.state.sender = sender
    group_id = await _organiser_with_group(client, join_policy="request")
    async with person(app, "Sky") as sky, person(app, "Moss") as moss:
        await make_moderator(client, moss, group_id, "Moss")
        await post(sky, f"/groups/{SLUG}/join", {})
        sky_id = (await user_row(app.state.ctx.sessions, "Sky")).id
        path = f"/organise/groups/{group_id}/requests"

        silent = await post(moss, path, {"user_id": sky_id, "decision": "decline", "message": ""})
        assert silent.status_code == 422
        assert re.findall(r'<li><a href="#([^"]+)">', silent.text) == [f"message-{sky_id}"]
        assert f'id="message-{sky_id}-error"' in silent.text
        as_json = await post(
            moss, path, {"user_id": sky_id, "decision": "decline", "message": ""}, json=True
        )
        assert as_json.status_code == 422 and as_json.json()["field"] == f"message-{sky_id}"
        odd = await post(moss, path, {"user_id": sky_id, "decision": "maybe", "message": "hm"})
        assert odd.status_code == 422

        declined = await post(
            moss,
            path,
            {
                "user_id": sky_id,
                "decision": "decline",
                "message": "This group is for carers.\nThe Monday group may suit you.",
            },
        )
        assert declined.status_code == 303
        account = await sky.get("/account")
        assert "Not offered a place" in account.text
        assert "This group is for carers.\nThe Monday group may suit you." in account.text
        assert "This is not a judgement of you" in account.text
        page = await sky.get(f"/groups/{SLUG}/join")
        assert "The last time you asked, the group answered" in page.text
        assert sender.sent == []  # Sky gave no e-mail address

        # A member cannot answer requests; an outsider cannot even see there are any.
        async with person(app, "Mia") as mia, person(app, "Out") as out:
            await post(sky, f"/groups/{SLUG}/join", {})
            await post(
                client,
                f"/organise/groups/{group_id}/requests",
                {"user_id": sky_id, "decision": "accept", "message": ""},
            )
            await post(mia, f"/groups/{SLUG}/join", {})
            mia_id = (await user_row(app.state.ctx.sessions, "Mia")).id
            refused = await post(
                out, path, {"user_id": mia_id, "decision": "accept", "message": ""}
            )
            assert refused.status_code == 404
            refused = await post(
                sky, path, {"user_id": mia_id, "decision": "accept", "message": ""}
            )
            assert refused.status_code == 403
        assert sender.sent == []


async def test_a_failing_mail_server_does_not_undo_the_answer(
    client: httpx.AsyncClient, app: Any
) -> None:
    app.state.sender = RecordingSender(fail=True)
    group_id = await _organiser_with_group(client, join_policy="request")
    async with person(app, "River", email="river@example.org") as river:
        await post(river, f"/groups/{SLUG}/join", {})
        river_id = (await user_row(app.state.ctx.sessions, "River")).id
        answer = await post(
            client,
            f"/organise/groups/{group_id}/requests",
            {"user_id": river_id, "decision": "accept", "message": "Hello"},
        )
        assert answer.status_code == 303
        assert ">Member</span>" in (await river.get("/account")).text


async def test_a_full_group_offers_its_waiting_list_and_people_leave_when_they_like(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id = await _organiser_with_group(client, capacity="1")
    async with person(app, "Mia") as mia, person(app, "Sky") as sky:
        assert (await post(mia, f"/groups/{SLUG}/join", {}, json=True)).json()[
            "outcome"
        ] == "joined"
        page = await sky.get(f"/groups/{SLUG}/join")
        assert ">Join the waiting list</button>" in page.text
        waited = await post(sky, f"/groups/{SLUG}/join", {})
        assert waited.headers["location"].endswith("done=waiting_list")
        account = await sky.get("/account")
        assert "On the waiting list" in account.text and "Leave waiting list" in account.text
        manage = await client.get(f"/organise/groups/{group_id}")
        assert "1 of 1 taken (full)" in manage.text
        assert re.search(r'<h2 id="waiting-title">Waiting list</h2>\s*<ol><li>Sky', manage.text)

        left = await post(sky, f"/groups/{SLUG}/leave", {})
        assert left.status_code == 303 and left.headers["location"] == "/account?done=left"
        account = await sky.get(left.headers["location"])
        assert "You have left." in account.text and "Tuesday Talk" not in account.text

        back = await post(mia, f"/groups/{SLUG}/leave", {"next": f"/groups/{SLUG}/join"})
        assert back.headers["location"] == f"/groups/{SLUG}/join?done=left"
        page = await mia.get(back.headers["location"])
        assert "You have left. You are welcome back at any time." in page.text
        nothing = await post(mia, f"/groups/{SLUG}/leave", {}, json=True)
        assert nothing.json() == {"left": False}
        # ?next= never leads off the site.
        evil = await post(mia, f"/groups/{SLUG}/leave", {"next": "https://evil.example/"})
        assert evil.headers["location"].startswith("/account")


async def test_paused_groups_and_organisers(client: httpx.AsyncClient, app: Any) -> None:
    group_id = await _organiser_with_group(client, status="paused")
    own = await client.get(f"/groups/{SLUG}/join")
    assert "You organise this group" in own.text
    assert (await post(client, f"/groups/{SLUG}/join", {}, json=True)).json()[
        "outcome"
    ] == "organiser"
    async with person(app, "Sky") as sky, anonymous(app) as anon:
        page = await sky.get(f"/groups/{SLUG}/join")
        assert "This group is paused" in page.text and ">Join this group<" not in page.text
        refused = await post(sky, f"/groups/{SLUG}/join", {}, json=True)
        assert refused.json()["outcome"] == "not_open"
        assert "This group is paused" in (await anon.get(f"/groups/{SLUG}/join")).text
    group = await group_row(app.state.ctx.sessions, group_id)
    assert group.status == "paused"
