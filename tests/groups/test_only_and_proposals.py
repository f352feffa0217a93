"""Groups for some people only, set by organisers; new communities proposed by
organisers and added by administrators; both end to end, on both databases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import select

from peerhub.groups.models import AddedCommunity, CommunityProposal
from peerhub.models import AuditEvent, GroupTag, User
from tests.conftest import enrol_2fa
from tests.groups.helpers import (
    anonymous,
    create_group,
    person,
    post,
    register_org,
    user_row,
    verify_org,
)


@contextlib.asynccontextmanager
async def administrator(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with person(app, "Ada Admin") as ada:
        admin = await user_row(app.state.ctx.sessions, "Ada Admin")
        async with app.state.ctx.sessions() as db, db.begin():
            row = await db.get(User, admin.id)
            assert row is not None
            row.is_admin = True
        await enrol_2fa(app, admin.id)
        yield ada


async def _only_tags(app: Any, group_id: str) -> dict[str, bool]:
    async with app.state.ctx.sessions() as db:
        rows = (
            await db.scalars(
                select(GroupTag).where(GroupTag.group_id == group_id, GroupTag.kind == "community")
            )
        ).all()
    return {t.value: t.only for t in rows}


async def _match(app: Any, body: dict[str, Any]) -> dict[str, Any]:
    app.state.match_index.invalidate()
    async with anonymous(app) as c:
        r = await c.post("/api/match", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_an_organiser_says_a_group_is_for_women_only_and_a_man_is_never_offered_it(
    app: Any,
) -> None:
    async with person(app, "Oona Organiser") as oona:
        org_id = await register_org(oona)
        women = await create_group(
            oona,
            org_id,
            name="Sisters Circle",
            communities=["south_asian"],
            community_only=["women"],
        )
        assert await _only_tags(app, women) == {"south_asian": False, "women": True}
        edit = await oona.get(f"/organise/groups/{women}/edit")
        assert 'id="community_only-women" name="community_only" value="women" checked' in edit.text
        await create_group(oona, org_id, name="Open Circle", communities=["south_asian"])
        await verify_org(oona, org_id)

    man = await _match(app, {"gender": "man", "communities": ["south_asian"]})
    assert [r["name"] for r in man["results"]] == ["Open Circle"]

    # Names and other names of communities are understood ("Pakistani" is South Asian).
    woman = await _match(app, {"gender": "woman", "communities": ["Pakistani", "women"]})
    first = woman["results"][0]
    assert first["name"] == "Sisters Circle"
    assert first["who"] == "meets"
    assert first["reasons"][0].startswith("For women only, focusing on South Asian people")

    unsaid = await _match(app, {"communities": ["south_asian"]})
    names = [r["name"] for r in unsaid["results"]]
    assert names == ["Open Circle", "Sisters Circle"]
    assert unsaid["results"][1]["who"] == "unknown"


async def test_bad_only_and_gender_values_are_a_422_naming_the_field(app: Any) -> None:
    async with person(app, "Omar Organiser") as omar:
        org_id = await register_org(omar)
        r = await post(
            omar,
            f"/organise/organisations/{org_id}/groups/new",
            {
                "name": "Bad",
                "languages": "en",
                "stages": ["recovery"],
                "community_only": ["martians"],
                "first_date": "2026-10-20",
                "start_time": "18:00",
                "format": "online",
                "repeat": "weekly",
            },
            json=True,
        )
        assert r.status_code == 422
        assert "community_only" in r.json()["errors"]
    async with anonymous(app) as c:
        for body, name in (
            ({"gender": "male"}, "gender"),
            ({"gender": 3}, "gender"),
            ({"other": "x" * 201}, "other"),
            ({"other": ["list"]}, "other"),
            ({"communities": ["martians"]}, "communities"),
        ):
            r = await c.post("/api/match", json=body)
            assert r.status_code == 422, body
            assert r.json()["field"] == name
        page = await c.get("/find", params={"search": "1", "gender": "robot"})
        assert page.status_code == 422
        assert 'href="#gender"' in page.text
        long = await c.get("/find", params={"search": "1", "community_other": "y" * 250})
        assert long.status_code == 422
        assert 'href="#other"' in long.text


async def test_something_else_finds_a_group_by_its_own_words_and_is_counted(app: Any) -> None:
    async with person(app, "Orla Organiser") as orla:
        org_id = await register_org(orla)
        await create_group(
            orla,
            org_id,
            name="Allotment Friends",
            description="We garden together at the allotment.",
        )
        await create_group(orla, org_id, name="Tea and Talk", description="A calm space.")
        await verify_org(orla, org_id)
    result = await _match(app, {"other": "allotment gardeners"})
    first = result["results"][0]
    assert first["name"] == "Allotment Friends"
    assert any("allotment" in line for line in first["reasons"])

    # Searches with no good fit record the words, never the text, and the report names
    # a word only once five searches used it.
    for _ in range(5):
        await _match(app, {"other": "Pétanque players 07700 900123", "stage": "approaching_crisis"})
    await _match(app, {"other": "unicyclists", "stage": "approaching_crisis"})
    async with app.state.ctx.sessions() as db:
        from peerhub.models import DemandRecord

        stored = {r.other for r in (await db.scalars(select(DemandRecord))).all()}
    assert "petanque player" in stored  # folded: case and accents, plurals, no digits
    assert not any(ch.isdigit() for text in stored for ch in text)
    async with administrator(app) as ada:
        report = await ada.get("/organise/demand")
    assert report.status_code == 200
    assert "<td>petanque</td><td>5</td>" in report.text
    assert "unicyclist" not in report.text


async def test_organisers_propose_a_community_and_an_administrator_adds_it(app: Any) -> None:
    async with person(app, "Pia Organiser") as pia:
        org_id = await register_org(pia)
        page = await pia.get(f"/organise/organisations/{org_id}/communities/new")
        assert page.status_code == 200 and "Propose a community" in page.text
        bad = await post(
            pia,
            f"/organise/organisations/{org_id}/communities/new",
            {"name": "south asian", "aliases": "x" * 50},
            json=True,
        )
        assert bad.status_code == 422
        assert set(bad.json()["errors"]) == {"name", "aliases"}  # already known; too long
        made = await post(
            pia,
            f"/organise/organisations/{org_id}/communities/new",
            {"name": "Kurdish", "aliases": "Kurd, Kurdî", "reason": "Our Kurdish women's group."},
        )
        assert made.status_code == 303

        async with person(app, "Stranger") as stranger:
            other = await stranger.get(f"/organise/organisations/{org_id}/communities/new")
            assert other.status_code == 404
            refused = await stranger.get("/admin/communities")
            assert refused.status_code == 403

        async with administrator(app) as ada:
            listing = await ada.get("/admin/communities")
            assert "Kurdish" in listing.text
            async with app.state.ctx.sessions() as db:
                proposal = await db.scalar(select(CommunityProposal))
            assert proposal is not None and proposal.status == "pending"
            wrong = await post(ada, f"/admin/communities/{proposal.id}", {"decision": "maybe"})
            assert wrong.status_code == 422
            added = await post(ada, f"/admin/communities/{proposal.id}", {"decision": "add"})
            assert added.status_code == 303
            again = await post(ada, f"/admin/communities/{proposal.id}", {"decision": "decline"})
            assert again.status_code == 422

        async with app.state.ctx.sessions() as db:
            row = await db.scalar(select(AddedCommunity))
            actions = set((await db.scalars(select(AuditEvent.action))).all())
        assert row is not None and row.code == "added_kurdish" and row.aliases == ["Kurd", "Kurdî"]
        assert {"community.proposed", "community.added"} <= actions

        form = await pia.get(f"/organise/organisations/{org_id}/groups/new")
        assert 'value="added_kurdish"' in form.text
        group_id = await create_group(
            pia, org_id, name="Kurdish Circle", communities=[], community_only=["added_kurdish"]
        )
        assert await _only_tags(app, group_id) == {"added_kurdish": True}
        await verify_org(pia, org_id)

    # People can now say it in their own words, and the result names it.
    result = await _match(app, {"other": "I am a Kurd"})
    first = result["results"][0]
    assert first["name"] == "Kurdish Circle" and first["who"] == "meets"
    assert first["reasons"][0].startswith("For people of the Kurdish community only")
    async with anonymous(app) as c:
        find = await c.get("/find")
    assert 'value="added_kurdish"' in find.text


async def test_declining_tells_the_organiser_why(app: Any) -> None:
    async with person(app, "Pat Organiser") as pat:
        org_id = await register_org(pat)
        await post(
            pat, f"/organise/organisations/{org_id}/communities/new", {"name": "Chess players"}
        )
        async with administrator(app) as ada:
            async with app.state.ctx.sessions() as db:
                proposal = await db.scalar(select(CommunityProposal))
            assert proposal is not None
            r = await post(
                ada,
                f"/admin/communities/{proposal.id}",
                {
                    "decision": "decline",
                    "note": "A hobby, not a community: say it in the description.",
                },
            )
            assert r.status_code == 303
        page = await pat.get(f"/organise/organisations/{org_id}/communities/new")
        assert "not added" in page.text and "A hobby, not a community" in page.text
