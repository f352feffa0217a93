"""POST /api/match: the JSON contract, validation, never empty, crisis first, blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Block, DemandRecord, GroupMember
from peerhub.rotas.models import ROSTERED, RotaEntry
from tests.conftest import BASE, sign_up
from tests.finding.conftest import add_group, add_user


async def match(client: httpx.AsyncClient, body: object, **headers: str) -> httpx.Response:
    return await client.post("/api/match", json=body, headers=headers)


async def test_contract_and_reasons(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(
        sessions,
        "Urdu Recovery Circle",
        languages=("ur", "en"),
        communities=("south_asian", "women"),
        stages=("recovery",),
        topics=("anxiety",),
    )
    await add_group(sessions, "Polish Staying Well", languages=("pl",), stages=("staying_well",))
    r = await match(
        client,
        {
            "languages": ["ur"],
            "communities": ["south_asian"],
            "stage": "recovery",
            "topics": ["anxiety"],
            "format": "online",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"results", "relaxed", "next_steps", "crisis_contacts"} <= set(body)
    first = body["results"][0]
    assert {
        "group_id",
        "name",
        "score",
        "reasons",
        "mismatches",
        "action",
        "next_session",
        "url",
    } <= set(first)
    assert first["name"] == "Urdu Recovery Circle"
    assert first["action"] == "join"
    assert first["url"] == f"{BASE}/groups/urdu-recovery-circle"
    assert "Meets in Urdu" in first["reasons"]
    assert any("recovery" in line for line in first["reasons"])
    assert first["next_session"].startswith("2026-11-03T18:00:00")
    codes = [s["code"] for s in body["next_steps"]]
    assert codes == ["waiting_list", "register_interest", "crisis_contacts"]


async def test_no_sign_in_and_no_csrf_token_needed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Any Group")
    r = await match(client, {})
    assert r.status_code == 200
    # ... but a cross-site browser request is still refused.
    refused = await match(client, {}, **{"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "feeling_meh"}, "stage"),
        ({"languages": ["not a tag!"]}, "languages"),
        ({"languages": "en"}, "languages"),
        ({"postcode": "NOT A POSTCODE"}, "postcode"),
        ({"format": "carrier pigeon"}, "format"),
        ({"age": -3}, "age"),
        ({"age": "old"}, "age"),
        ({"max_distance_km": 0}, "max_distance_km"),
        ({"communities": ["martians"]}, "communities"),
        ({"access_needs": [{"code": "step_free", "essential": "very"}]}, "access_needs"),
        ({"availability": [{"day": "funday", "from": "18:00", "to": "20:00"}]}, "availability"),
        ({"availability": [{"day": "monday", "from": "20:00", "to": "18:00"}]}, "availability"),
        ({"limit": 1000}, "limit"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    r = await match(client, body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


async def test_malformed_bodies(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/match", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    r = await client.post("/api/match", content=b"[]", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    r = await client.post(
        "/api/match",
        content=b"stage=recovery",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415
    r = await client.post(
        "/api/match", content=b"[" * 40000, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413


async def test_widens_only_as_far_as_is_safe_and_says_so(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    await add_group(
        sessions,
        "Leeds In Person",
        format="in_person",
        address="1 Example St",
        postcode="LS1 4AP",
        latitude=53.7965,
        longitude=-1.5478,
    )
    asked = {"format": "in_person", "postcode": "CF10 1EP", "max_distance_km": 5}
    # Leeds is about 230 km from Cardiff: never offered, however the search widens.
    body = (await match(client, asked)).json()
    assert body["results"] == []
    await add_group(sessions, "Online Circle")
    app.state.match_index.invalidate()
    body = (await match(client, asked)).json()
    assert [r["name"] for r in body["results"]] == ["Online Circle"]
    assert body["relaxed_codes"] == ["format"]
    assert body["relaxed"], "it must say what it relaxed"
    assert body["results"][0]["widened"] == ["Meets online only, and you asked for in person"]
    codes = [s["code"] for s in body["next_steps"]]
    assert "register_interest" in codes


async def test_empty_directory_still_gives_next_steps(client: httpx.AsyncClient) -> None:
    body = (await match(client, {"stage": "recovery"})).json()
    assert body["results"] == []
    assert {s["code"] for s in body["next_steps"]} >= {"register_interest"}
    assert body["crisis_contacts"]


async def test_approaching_crisis_puts_crisis_contacts_and_soon_moderated_groups_first(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    moderator = await add_user(sessions, "mod")
    # The fake clock is Monday 2 November 2026 09:00 UTC.
    await add_group(
        sessions,
        "Soon But Unmoderated",
        stages=("approaching_crisis",),
        rrule="FREQ=WEEKLY;BYDAY=TU",
    )
    soon = await add_group(
        sessions,
        "Soon And Moderated",
        stages=("approaching_crisis",),
        rrule="FREQ=WEEKLY;BYDAY=TU",
        moderators=(moderator.id,),
    )
    # "A moderator on duty" means someone rostered for that session (peerhub/rotas).
    async with sessions() as db, db.begin():
        db.add(
            RotaEntry(
                group_id=soon.id,
                session_key="2026-11-03T18:00:00",
                starts_at=datetime(2026, 11, 3, 18, 0, tzinfo=UTC),
                user_id=moderator.id,
                status=ROSTERED,
            )
        )
    await add_group(
        sessions,
        "Later And Moderated",
        stages=("approaching_crisis",),
        rrule="FREQ=WEEKLY;BYDAY=SA",
        moderators=(moderator.id,),
    )
    body = (await match(client, {"stage": "approaching_crisis"})).json()
    assert body["crisis_first"] is True
    assert body["next_steps"][0]["code"] == "crisis_contacts"
    assert "116 123" in str(body["next_steps"][0]["contacts"])
    assert body["results"][0]["name"] == "Soon And Moderated"


async def test_full_groups_are_shown_with_waiting_list(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    member = await add_user(sessions, "m1")
    await add_group(sessions, "Full Group", capacity=1, members=(member.id,))
    body = (await match(client, {})).json()
    assert body["results"][0]["action"] == "waiting_list"


async def test_blocked_people_are_never_matched_together(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    await sign_up(client, "Searcher", "correct horse battery staple")
    me = (await client.get("/api/me")).json()["id"]
    other = await add_user(sessions, "Other Person")
    blocker = await add_user(sessions, "Blocker")
    g_other = await add_group(sessions, "Group With Other")
    g_blocker = await add_group(sessions, "Group With Blocker", members=(blocker.id,))
    await add_group(sessions, "Clear Group")
    # Warm the cache before the blocked person joins: the rule must not rely on it.
    names = {r["name"] for r in (await match(client, {})).json()["results"]}
    assert "Group With Other" in names
    async with sessions() as db, db.begin():
        db.add(GroupMember(group_id=g_other.id, user_id=other.id, role="member"))
        db.add(Block(user_id=me, blocked_user_id=other.id))
        db.add(Block(user_id=blocker.id, blocked_user_id=me))
    body = (await match(client, {})).json()
    names = {r["name"] for r in body["results"]}
    assert names == {"Clear Group"}
    text = str(body)
    assert "Group With Other" not in text and "Group With Blocker" not in text
    assert g_blocker.id not in text and "block" not in text.lower()


async def test_searches_without_a_good_fit_are_recorded_anonymously(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "English Group", languages=("en",))
    await sign_up(client, "Anon Check", "correct horse battery staple")
    await match(
        client,
        {
            "languages": ["so"],
            "communities": ["somali"],
            "stage": "recovery",
            "postcode": "LS6 3HN",
        },
    )
    await match(client, {"languages": ["en"]})  # a good fit: not recorded
    async with sessions() as db:
        rows = (await db.scalars(select(DemandRecord))).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.languages == ["so"] and row.communities == ["somali"]
    assert row.stage == "recovery" and row.area == "LS6"
    assert not hasattr(row, "user_id")
    assert "3HN" not in str(row.__dict__)


async def test_rate_limited_per_address(client: httpx.AsyncClient, app: Any) -> None:
    statuses = [(await match(client, {})).status_code for _ in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    r = await match(client, {})
    assert int(r.headers["retry-after"]) >= 1


async def test_openapi_describes_match(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    op = spec["paths"]["/api/match"]["post"]
    assert "requestBody" in op and "422" in op["responses"]


async def test_groups_of_unverified_organisations_are_not_matched(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from peerhub.models import Organisation

    group = await add_group(sessions, "Not Yet Checked")
    async with sessions() as db, db.begin():
        org = await db.get(Organisation, group.organisation_id)
        assert org is not None
        org.verified_at = None
    body = (await match(client, {})).json()
    assert body["results"] == []


async def test_openapi_includes_the_hsds_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/hsds/services", "/hsds/services/{id}", "/hsds/taxonomies"} <= set(paths)
