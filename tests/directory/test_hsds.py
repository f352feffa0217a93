"""The HSDS 3.0 API: every endpoint validates against the official schemas (made
strict), on the demo data and on edge cases, on SQLite and PostgreSQL; filters,
paging, errors, CORS and stable ids behave; nothing about people is published."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import taxonomy
from peerhub.demo import load_demo
from peerhub.demo_data import GROUPS, ORGANISATIONS
from peerhub.directory import hsds_map
from peerhub.directory.hsds import OPENAPI_PATHS, ROUTES
from peerhub.security.passwords import Passwords
from tests.conftest import FakeClock
from tests.directory import builders as b
from tests.directory.hsds_schema import assert_page, assert_valid, errors

TERM = {(t.taxonomy, t.code): t.id for tax in taxonomy.ALL_TAXONOMIES for t in tax.terms}
# A well-formed id nothing has. Fixed, not uuid4(): it is part of test ids, and every
# pytest-xdist worker must collect the same ones.
NO_SUCH_ID = "7c1e0f3a-5b2d-4e8f-9a6c-0d4b3e2f1a90"


async def get(client: httpx.AsyncClient, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    assert response.headers["access-control-allow-origin"] == "*", path
    assert response.headers["content-type"].startswith("application/json"), path
    return response.json()


async def all_pages(client: httpx.AsyncClient, path: str, item_schema: str) -> list[Any]:
    items: list[Any] = []
    number = 1
    while True:
        sep = "&" if "?" in path else "?"
        page = await get(client, f"{path}{sep}per_page=100&page={number}")
        assert_page(page, item_schema)
        assert page["page_number"] == number
        assert page["first_page"] == (number == 1)
        items += page["contents"]
        if page["last_page"]:
            assert page["total_items"] == len(items)
            return items
        number += 1


async def crawl(client: httpx.AsyncClient) -> dict[str, list[Any]]:
    """Every endpoint, every page, every object: each one schema-checked."""
    root = await get(client, "/hsds/")
    assert root["version"] == "3.0"
    assert root["openapi_url"] == "http://testserver/openapi.json"
    assert root["profile"].startswith("https://")

    services = await all_pages(client, "/hsds/services", "compiled-service_list.json")
    full = []
    for item in services:
        detail = await get(client, f"/hsds/services/{item['id']}")
        assert_valid(detail, "compiled-service.json")
        assert detail["id"] == item["id"]
        full.append(detail)

    orgs = await all_pages(client, "/hsds/organizations", "compiled-organization_list.json")
    for item in orgs:
        detail = await get(client, f"/hsds/organizations/{item['id']}")
        assert_valid(detail, "compiled-organization.json")

    sals = await all_pages(
        client, "/hsds/service_at_locations", "compiled-service_at_location_list.json"
    )
    for item in sals:
        detail = await get(client, f"/hsds/service_at_locations/{item['id']}")
        assert_valid(detail, "compiled-service_at_location.json")
        assert detail["service_id"] == item["service_id"]
    # The nested service_at_locations of each service are exactly the listed ones.
    nested = {s["id"] for d in full for s in d["service_at_locations"]}
    assert nested == {s["id"] for s in sals}

    taxes = await all_pages(client, "/hsds/taxonomies", "taxonomy.json")
    for item in taxes:
        assert_valid(await get(client, f"/hsds/taxonomies/{item['id']}"), "taxonomy.json")
    terms = await all_pages(client, "/hsds/taxonomy_terms", "taxonomy_term.json")
    for item in terms:
        assert_valid(await get(client, f"/hsds/taxonomy_terms/{item['id']}"), "taxonomy_term.json")
    # Every attribute points at a term the taxonomy endpoints publish.
    term_ids = {t["id"] for t in terms}
    for d in full:
        assert {a["taxonomy_term_id"] for a in d.get("attributes", [])} <= term_ids
    return {"services": full, "organizations": orgs, "sals": sals, "terms": terms}


async def test_every_endpoint_validates_on_the_demo_data(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    clock: FakeClock,
) -> None:
    await load_demo(sessions, passwords, clock.now)
    found = await crawl(client)
    assert len(found["services"]) == len(GROUPS)
    assert len(found["organizations"]) == len(ORGANISATIONS)
    hybrid = sum(g.format == "hybrid" for g in GROUPS)
    assert len(found["sals"]) == len(GROUPS) + hybrid
    assert len(found["terms"]) == sum(len(t.terms) for t in taxonomy.ALL_TAXONOMIES)
    by_slug = {s["url"].rsplit("/", 1)[1]: s for s in found["services"]}
    for demo in GROUPS:
        service = by_slug[demo.slug]
        assert [lang["code"] for lang in service["languages"]] == [
            t.split("-")[0] for t in demo.languages
        ]
        kinds = {loc["location"]["location_type"] for loc in service["service_at_locations"]}
        assert (
            kinds
            == {
                "online": {"virtual"},
                "in_person": {"physical"},
                "hybrid": {"physical", "virtual"},
            }[demo.format]
        )
        assert (
            service["status"] == {"active": "active", "paused": "temporarily closed"}[demo.status]
        )


def _edge_rows() -> list[Any]:
    quiet = b.org("quiet-org", led=False, email=None, website="not a web address", phone=None)
    odd = b.org("odd-org", name='Ŵyddfa <Peer> & "Co"', description="")
    hidden = b.org("hidden-org", verified=False)
    weird_text = '</script><script>alert(1)</script> & "quotes" \u2028 line'
    return [
        quiet,
        odd,
        hidden,
        b.group(quiet, "bare", languages=(), rrule="FREQ=DAILY", description=""),
        b.group(
            odd,
            "everything",
            name=weird_text,
            description=weird_text + "\n\nSecond paragraph, with; commas\\and",
            fmt="hybrid",
            languages=("pa-Guru", "bfi", "zz-Latn"),
            interpretation=("ur",),
            communities=("south_asian", "no_such_community"),
            stages=("recovery",),
            topics=("anxiety",),
            access=("step_free", "captions"),
            rrule="FREQ=MONTHLY;BYDAY=-1TH;UNTIL=20271231T235959",
            capacity=0,
            age_min=18,
            age_max=25,
            exdates=["2026-11-26T18:00:00"],
            ground_rules="Be kind.",
            join_policy="request",
            place={
                "address": "No commas here",
                "postcode": "SY23 2AZ",
                "latitude": 52.414,
                "longitude": -4.083,
            },
        ),
        b.group(odd, "yearly", rrule="FREQ=YEARLY;COUNT=3", time_zone="Asia/Kolkata"),
        b.group(odd, "monthday", rrule="FREQ=MONTHLY;BYMONTHDAY=15;WKST=SU"),
        b.group(odd, "broken-rule", rrule="FREQ=SECONDLY"),
        b.group(
            odd,
            "no-coordinates",
            fmt="in_person",
            place={"address": None, "postcode": "BT1 1AA", "latitude": None, "longitude": None},
        ),
        b.group(odd, "paused", status="paused", fmt="in_person"),
        b.group(odd, "closed", status="closed"),
        b.group(odd, "new-york", time_zone="America/New_York", dtstart="2026-06-01T09:00:00"),
        b.group(hidden, "unlisted"),
    ]


async def test_every_endpoint_validates_on_edge_cases(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = _edge_rows()
    await b.save(sessions, *rows)
    found = await crawl(client)
    names = {s["url"].rsplit("/", 1)[1] for s in found["services"]}
    assert "unlisted" not in names  # its organisation is not verified
    assert len(names) == 9
    assert {o["name"] for o in found["organizations"]} == {"Quiet Org", 'Ŵyddfa <Peer> & "Co"'}


def _service(found: list[Any], slug: str) -> Any:
    return next(s for s in found if s["url"].endswith(f"/groups/{slug}"))


async def test_edge_case_mapping(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await b.save(sessions, *_edge_rows())
    listed = await get(client, "/hsds/services?per_page=100")
    by_slug = {
        s["url"].rsplit("/", 1)[1]: await get(client, f"/hsds/services/{s['id']}")
        for s in listed["contents"]
    }
    every = by_slug["everything"]
    assert [(lang["code"], lang.get("note")) for lang in every["languages"]] == [
        ("pa", "BCP 47 language tag: pa-Guru."),
        ("bfi", None),
        ("zz", "BCP 47 language tag: zz-Latn."),
    ]
    assert every["interpretation_services"] == "Interpretation on request: Urdu."
    terms = {a["taxonomy_term"]["code"] for a in every["attributes"]}
    assert terms == {"south_asian", "recovery", "anxiety", "step_free", "captions", "peer_led"}
    schedule = every["schedules"][0]
    assert (schedule["freq"], schedule["byday"], schedule["until"]) == (
        "MONTHLY",
        "-1TH",
        "2027-12-31",
    )
    assert "No session on Thursday 26 November 2026" in schedule["notes"]
    physical = next(
        s for s in every["service_at_locations"] if s["location"]["location_type"] == "physical"
    )
    address = physical["location"]["addresses"][0]
    assert (address["address_1"], address["city"], address["state_province"]) == (
        "No commas here",
        "",
        "Wales",
    )
    assert [a["description"] for a in physical["location"]["accessibility"]] == ["Step-free access"]
    assert (every["minimum_age"], every["maximum_age"]) == (18, 25)
    assert "Ask to join" in every["application_process"]
    # The organisation's bad website is left out rather than published broken.
    quiet = by_slug["bare"]
    assert "website" not in quiet["organization"] and "email" not in quiet
    assert quiet["languages"] == []
    assert not any(a["taxonomy_term"]["code"] == "peer_led" for a in quiet.get("attributes", []))
    daily = quiet["schedules"][0]
    assert (daily["freq"], daily["byday"]) == ("WEEKLY", "MO,TU,WE,TH,FR,SA,SU")
    yearly = by_slug["yearly"]["schedules"][0]
    assert "freq" not in yearly and yearly["count"] == 3
    assert yearly["timezone"] == 5.5
    assert yearly["opens_at"] == "18:00+05:30"
    monthday = by_slug["monthday"]["schedules"][0]
    assert (monthday["bymonthday"], monthday["wkst"]) == ("15", "SU")
    broken = by_slug["broken-rule"]["schedules"][0]
    assert "freq" not in broken and "opens_at" not in broken
    ny = by_slug["new-york"]["schedules"][0]
    assert (ny["opens_at"], ny["timezone"]) == ("09:00-05:00", -5)
    assert by_slug["paused"]["status"] == "temporarily closed"
    assert by_slug["closed"]["status"] == "inactive"
    no_coords = by_slug["no-coordinates"]["service_at_locations"][0]["location"]
    assert "latitude" not in no_coords
    assert no_coords["addresses"][0]["state_province"] == "Northern Ireland"


async def test_the_validator_rejects_broken_documents(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Guard: the schema check must be able to fail, or the crawl above proves nothing."""
    await b.save(sessions, o := b.org(), b.group(o, "g", fmt="hybrid"))
    listed = await get(client, "/hsds/services")
    good = await get(client, f"/hsds/services/{listed['contents'][0]['id']}")
    assert errors(good, "compiled-service.json") == []
    breakages: dict[str, Callable[[dict[str, Any]], object]] = {
        "missing name": lambda d: d.pop("name"),
        "bad status": lambda d: d.update(status="open"),
        "invented field": lambda d: d.update(colour="green"),
        "bad uuid": lambda d: d.update(id="group-1"),
        "date, not date-time": lambda d: d.update(last_modified="2026-11-01"),
        "relative url": lambda d: d.update(url="/groups/g"),
        "nested bad location type": lambda d: d["service_at_locations"][0]["location"].update(
            location_type="online"
        ),
        "nested invented field": lambda d: d["schedules"][0].update(frequency="weekly"),
        "freq not in the enum": lambda d: d["schedules"][0].update(freq="DAILY"),
    }
    for what, breakage in breakages.items():
        broken = copy.deepcopy(good)
        breakage(broken)
        assert errors(broken, "compiled-service.json"), f"not caught: {what}"
    page = await get(client, "/hsds/services")
    page.pop("total_pages")
    with pytest.raises(AssertionError):
        assert_page(page, "compiled-service_list.json")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/hsds/services?page=0", "page"),
        ("/hsds/services?page=abc", "page"),
        ("/hsds/services?per_page=1000", "per_page"),
        ("/hsds/services?per_page=0", "per_page"),
        ("/hsds/services?modified_after=yesterday", "modified_after"),
        ("/hsds/services?modified_after=2026-13-01", "modified_after"),
        ("/hsds/services?taxonomy_term_id=nope", "taxonomy_term_id"),
        (f"/hsds/services?taxonomy_term_id={NO_SUCH_ID}", "taxonomy_term_id"),
        (f"/hsds/services?taxonomy_id={NO_SUCH_ID}", "taxonomy_id"),
        ("/hsds/services?organization_id=acme", "organization_id"),
        (f"/hsds/services?organization_id={NO_SUCH_ID}", "organization_id"),
        ("/hsds/services?format=ndjson", "format"),
        ("/hsds/service_at_locations?postcode=NOT+A+POSTCODE", "postcode"),
        ("/hsds/service_at_locations?postcode=QQ1", "postcode"),
        ("/hsds/service_at_locations?postcode=JE2+3AB", "postcode"),
        ("/hsds/service_at_locations?postcode=LS6&proximity=far", "proximity"),
        ("/hsds/service_at_locations?postcode=LS6&proximity=0", "proximity"),
        ("/hsds/service_at_locations?postcode=LS6&proximity=900km", "proximity"),
        ("/hsds/service_at_locations?proximity=5000", "postcode"),
        ("/hsds/organizations?per_page=101", "per_page"),
        ("/hsds/taxonomies?page=-1", "page"),
        ("/hsds/taxonomy_terms?taxonomy_id=x", "taxonomy_id"),
        ("/hsds/taxonomy_terms?parent_id=x", "parent_id"),
        ("/hsds/taxonomy_terms?top_only=maybe", "top_only"),
        ("/hsds/services?search=" + "x" * 201, "search"),
    ],
)
async def test_bad_parameters_are_a_422_naming_the_field(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    body = await get(client, query, 422)
    assert body["field"] == field
    assert body["error"] and body["errors"][field] == body["error"]


@pytest.mark.parametrize(
    "path",
    [
        f"/hsds/services/{NO_SUCH_ID}",
        "/hsds/services/not-a-uuid",
        f"/hsds/organizations/{NO_SUCH_ID}",
        "/hsds/organizations/1",
        f"/hsds/service_at_locations/{NO_SUCH_ID}",
        "/hsds/service_at_locations/x",
        f"/hsds/taxonomies/{NO_SUCH_ID}",
        f"/hsds/taxonomy_terms/{NO_SUCH_ID}",
        "/hsds/no_such_endpoint",
        "/hsds/services/a/b",
    ],
)
async def test_unknown_ids_and_paths_are_a_json_404(client: httpx.AsyncClient, path: str) -> None:
    body = await get(client, path, 404)
    assert body["error"]


async def test_cors_and_json_on_every_kind_of_answer(client: httpx.AsyncClient, app: Any) -> None:
    preflight = await client.options(
        "/hsds/services",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    refused = await client.post("/hsds/services", headers={"Origin": "http://testserver"})
    assert refused.status_code in (403, 405)
    wrong = await client.request("TRACE", "/hsds/services")
    assert wrong.status_code == 405
    assert wrong.headers["access-control-allow-origin"] == "*"
    assert wrong.json()["error"]
    # No cookie is needed, and the API sets no session.
    fresh = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with fresh:
        answer = await fresh.get("/hsds/taxonomies")
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"


async def _filtered_rows(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    a = b.org("alpha", led=True)
    z = b.org("zeta", led=False, updated_at=datetime(2026, 10, 20, tzinfo=UTC))
    groups = {
        "urdu-women": b.group(
            a,
            "urdu-women",
            languages=("ur", "en"),
            communities=("women", "south_asian"),
            stages=("recovery",),
            description="Chai and a chat, 50% off nothing",
        ),
        "leeds-voices": b.group(
            a,
            "leeds-voices",
            fmt="in_person",
            topics=("hearing_voices",),
            stages=("approaching_crisis",),
            updated_at=datetime(2026, 10, 25, tzinfo=UTC),
        ),
        "cardiff-hybrid": b.group(
            z,
            "cardiff-hybrid",
            fmt="hybrid",
            communities=("welsh_speaking",),
            languages=("cy",),
            place={
                "address": "Room 1, Cardiff",
                "postcode": "CF10 3ND",
                "latitude": 51.4861,
                "longitude": -3.1788,
            },
        ),
    }
    await b.save(sessions, a, z, *groups.values())
    return {"alpha": a, "zeta": z, **groups}


def _slugs(page: dict[str, Any]) -> list[str]:
    return sorted(s["url"].rsplit("/", 1)[1] for s in page["contents"])


async def test_service_filters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rows = await _filtered_rows(sessions)
    women = TERM[("community", "women")]
    south_asian = TERM[("community", "south_asian")]
    recovery = TERM[("stage", "recovery")]
    crisis = TERM[("stage", "approaching_crisis")]
    cases = {
        "": ["cardiff-hybrid", "leeds-voices", "urdu-women"],
        "search=chai": ["urdu-women"],
        "search=CHAI%20chat": ["urdu-women"],
        "search=50%25": ["urdu-women"],
        "search=5_%25": ["urdu-women"],  # "5" begins "50%"
        "search=%25": [],
        "search=hat": [],  # inside "chat", not at a word's start
        f"taxonomy_term_id={women}": ["urdu-women"],
        f"taxonomy_term_id={women},{south_asian}": ["urdu-women"],
        f"taxonomy_term_id={recovery}&taxonomy_term_id={crisis}": ["leeds-voices", "urdu-women"],
        f"taxonomy_term_id={women}&taxonomy_term_id={crisis}": [],
        f"taxonomy_term_id={TERM[('peer_led', 'peer_led')]}": ["leeds-voices", "urdu-women"],
        f"taxonomy_id={taxonomy.COMMUNITIES.id}": ["cardiff-hybrid", "urdu-women"],
        f"taxonomy_id={taxonomy.TOPICS.id}": ["leeds-voices"],
        f"organization_id={rows['zeta'].id}": ["cardiff-hybrid"],
        f"organization_id={rows['alpha'].id.upper()}": ["leeds-voices", "urdu-women"],
        "modified_after=2026-10-24": ["leeds-voices"],
        "modified_after=2026-10-20T00:00:00Z": ["cardiff-hybrid", "leeds-voices"],
        "modified_after=2026-10-19T23:00:00-01:00": ["cardiff-hybrid", "leeds-voices"],
        "modified_after=2027-01-01": [],
    }
    for query, expected in cases.items():
        page = await get(client, f"/hsds/services?{query}")
        assert _slugs(page) == expected, query
        assert page["total_items"] == len(expected), query


async def test_service_at_locations_near_a_postcode(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _filtered_rows(sessions)
    everything = await get(client, "/hsds/service_at_locations")
    kinds = sorted(
        (s["service"]["url"].rsplit("/", 1)[1], s["location"]["location_type"])
        for s in everything["contents"]
    )
    assert kinds == [
        ("cardiff-hybrid", "physical"),
        ("cardiff-hybrid", "virtual"),
        ("leeds-voices", "physical"),
        ("urdu-women", "virtual"),
    ]
    # LS6 is about 2.5 km from the Leeds venue; proximity is in metres, as HSDS says.
    near = await get(client, "/hsds/service_at_locations?postcode=ls6&proximity=5000")
    assert [s["service"]["name"] for s in near["contents"]] == ["Leeds Voices"]
    assert near["contents"][0]["location"]["location_type"] == "physical"
    assert (await get(client, "/hsds/service_at_locations?postcode=LS6&proximity=1000"))[
        "total_items"
    ] == 0
    assert (await get(client, "/hsds/service_at_locations?postcode=LS6&proximity=5km"))[
        "total_items"
    ] == 1
    # About 250 km from Leeds to Cardiff: inside 200 km of neither.
    wide = await get(client, "/hsds/service_at_locations?postcode=CF10%203ND&proximity=200000")
    assert [s["service"]["name"] for s in wide["contents"]] == ["Cardiff Hybrid"]
    default = await get(client, "/hsds/service_at_locations?postcode=LS1")
    assert [s["service"]["name"] for s in default["contents"]] == ["Leeds Voices"]
    searched = await get(client, "/hsds/service_at_locations?search=cardiff&per_page=1&page=2")
    assert searched["total_items"] == 2 and searched["total_pages"] == 2
    assert searched["contents"][0]["location"]["location_type"] == "virtual"


async def test_paging_is_stable_and_complete(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    await b.save(sessions, o, *(b.group(o, f"g{i:02d}", fmt="hybrid") for i in range(23)))
    seen: list[str] = []
    for number in (1, 2, 3):
        page = await get(client, f"/hsds/services?per_page=10&page={number}")
        assert (page["total_items"], page["total_pages"], page["page_number"]) == (23, 3, number)
        assert page["last_page"] == (number == 3)
        seen += [s["id"] for s in page["contents"]]
    assert len(seen) == len(set(seen)) == 23
    assert seen == sorted(seen)
    beyond = await get(client, "/hsds/services?per_page=10&page=4")
    assert beyond["empty"] and beyond["contents"] == [] and beyond["last_page"]
    sal_ids: list[str] = []
    for number in range(1, 6):
        page = await get(client, f"/hsds/service_at_locations?per_page=10&page={number}")
        assert page["total_items"] == 46
        sal_ids += [s["id"] for s in page["contents"]]
    assert len(set(sal_ids)) == 46


async def test_ids_are_stable_and_derived(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    g = b.group(o, "g", fmt="hybrid", communities=("women",))
    await b.save(sessions, o, g)
    first = await get(client, f"/hsds/services/{g.id}")
    again = await get(client, f"/hsds/services/{g.id}")
    assert first == again
    assert (first["id"], first["organization_id"]) == (g.id, o.id)
    physical, virtual = first["service_at_locations"]
    assert physical["id"] == hsds_map.sal_id(g.id, "physical")
    assert virtual["id"] == hsds_map.sal_id(g.id, "virtual")
    for sal in (physical, virtual):
        assert uuid.UUID(sal["id"]).version == uuid.UUID(g.id).version
        detail = await get(client, f"/hsds/service_at_locations/{sal['id']}")
        assert detail["location"]["id"] == sal["location"]["id"]
    assert first["schedules"][0]["id"] == str(
        uuid.uuid5(hsds_map.NAMESPACE, f"schedule:{g.id}:service")
    )
    # An online group has no physical site: that id is unknown, not a wrong answer.
    online = b.group(o, "online-only")
    await b.save(sessions, online)
    await get(client, f"/hsds/service_at_locations/{hsds_map.sal_id(online.id, 'physical')}", 404)
    assert (await get(client, f"/hsds/taxonomy_terms/{TERM[('community', 'women')]}"))[
        "code"
    ] == "women"


async def test_nothing_about_people_is_published(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    g = b.group(o, "g", fmt="hybrid", capacity=10)
    people = [b.user("SecretSam"), b.user("ModMorgan"), b.user("AskingAsha")]
    await b.save(
        sessions,
        o,
        g,
        *people,
        b.member(g, people[0]),
        b.member(g, people[1], role="moderator"),
        b.member(g, people[2], status="requested"),
    )
    found = await crawl(client)
    text = json.dumps(found).lower()
    for person in people:
        assert person.pseudonym.lower() not in text
        assert person.id not in text
    assert "members" not in text and 'moderator"' not in text
    assert "capacity" not in text


async def test_a_group_changes_status_and_the_api_says_so(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    o = b.org()
    g = b.group(o, "g")
    await b.save(sessions, o, g)
    changed = clock.now + timedelta(days=1)
    async with sessions() as db, db.begin():
        row = await db.get(type(g), g.id)
        assert row is not None
        row.status, row.updated_at = "closed", changed
    query = urlencode({"modified_after": changed.isoformat()})
    since = (await get(client, f"/hsds/services?{query}"))["contents"]
    # A "+" left unencoded arrives as a space: still understood as the offset.
    loose = await get(client, f"/hsds/services?modified_after={changed.isoformat()}")
    assert loose["contents"] == since
    assert [(s["id"], s["status"]) for s in since] == [(g.id, "inactive")]
    assert since[0]["last_modified"] == hsds_map.timestamp(changed)


def test_openapi_paths_describe_every_endpoint() -> None:
    served = {"/hsds" + r.path for r in ROUTES if "{rest" not in r.path}
    served = {p if p != "/hsds/" else "/hsds/" for p in served}
    assert set(OPENAPI_PATHS) == served
    for path, item in OPENAPI_PATHS.items():
        responses = item["get"]["responses"]
        assert "200" in responses, path
        if "{id}" in path:
            assert "404" in responses and item["parameters"][0]["name"] == "id"
        ref = json.dumps(responses["200"])
        assert "openreferral/specification/3.0/schema" in ref or path == "/hsds/", path
    json.dumps(OPENAPI_PATHS)  # serialisable as it stands


async def test_every_documented_parameter_is_accepted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    o = b.org()
    await b.save(sessions, o, b.group(o, "g", fmt="hybrid"))
    examples = {
        "search": "g",
        "page": "1",
        "per_page": "5",
        "format": "json",
        "taxonomy_term_id": TERM[("stage", "recovery")],
        "taxonomy_id": taxonomy.STAGES.id,
        "organization_id": o.id,
        "modified_after": "2026-01-01",
        "postcode": "LS1",
        "proximity": "5000&postcode=LS1",
        "parent_id": str(uuid.uuid4()),
        "top_only": "true",
    }
    for path, item in OPENAPI_PATHS.items():
        if "{id}" in path:
            continue
        for param in item["get"].get("parameters", []):
            name = param["name"]
            await get(client, f"{path}?{name}={examples[name]}")


def test_the_sal_id_mask_keeps_uuids_well_formed() -> None:
    for _ in range(200):
        gid = str(uuid.uuid4())
        for kind in ("physical", "virtual"):
            sid = hsds_map.sal_id(gid, kind)
            assert uuid.UUID(sid).version == 4 and uuid.UUID(sid).variant == uuid.RFC_4122
            assert hsds_map.sal_candidates(sid)[gid] == kind
            assert sid != gid


def test_nation_of_border_postcodes() -> None:
    cases = {
        "LS1 3AD": "England",
        "CF10 3ND": "Wales",
        "SY23 2AZ": "Wales",
        "SY1 1AA": "England",
        "CH5 1AA": "Wales",
        "CH1 1AA": "England",
        "G1 1XQ": "Scotland",
        "EH1 1YJ": "Scotland",
        "TD15 1AA": "England",
        "TD1 1AA": "Scotland",
        "BT1 1AA": "Northern Ireland",
        "W1A 1AA": "England",
        "JE2 3AB": "",
        None: "",
    }
    for postcode, nation in cases.items():
        assert hsds_map.nation_of(postcode) == nation, postcode


async def test_the_data_stays_in_english_whatever_the_language_asked_for(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    clock: FakeClock,
) -> None:
    # HSDS values are data for other services: the same in every language. Only the
    # error messages a person may read are translated.
    await load_demo(sessions, passwords, clock.now)
    first = (await get(client, "/hsds/services"))["contents"][0]["id"]
    english = await get(client, f"/hsds/services/{first}")
    client.cookies.set("peerhub_lang", "cy")
    try:
        welsh = await get(client, f"/hsds/services/{first}")
        assert welsh == english
        response = await client.get("/hsds/services/not-an-id")
        assert response.status_code == 404 and response.json()["error"]
    finally:
        client.cookies.delete("peerhub_lang")
