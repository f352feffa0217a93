"""Widening a search only as far as is safe, through the JSON API and the form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerhub.config import DEFAULT_YOUNG_PEOPLE_SERVICES, ConfigError, load_settings
from tests.conftest import app_client, make_settings
from tests.finding.conftest import add_group

# Postcode districts and their centroids (peerhub/data/postcode_districts.csv).
PLACES: dict[str, tuple[str, float, float]] = {
    "bath": ("BA1 1AA", 51.3930, -2.3612),  # about 17 km from Bristol
    "gloucester": ("GL1 1AA", 51.8594, -2.2438),  # about 50+ km from Bristol
    "glasgow": ("G1 1AA", 55.8589, -4.2488),  # about 500 km from Bristol
}


async def in_person(sessions: Any, name: str, place: str, **fields: Any) -> None:
    postcode, lat, lon = PLACES[place]
    fields.setdefault("format", "in_person")
    await add_group(
        sessions,
        name,
        address="1 Example Street",
        postcode=postcode,
        latitude=lat,
        longitude=lon,
        **fields,
    )


async def api(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post("/api/match", json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def names(body: dict[str, Any]) -> list[str]:
    return [r["name"] for r in body["results"]]


# --- Distance ---------------------------------------------------------------------------


async def test_bristol_never_gets_glasgow(client: httpx.AsyncClient, sessions: Any) -> None:
    await in_person(sessions, "Glasgow Circle", "glasgow")
    await add_group(sessions, "Online Circle")
    for fmt in ("in_person", "either"):
        for asked in ({"max_distance_km": 5}, {}):
            body = await api(client, {"format": fmt, "postcode": "BS1 4DJ", **asked})
            assert names(body) == ["Online Circle"], (fmt, asked)
            assert "Glasgow" not in json.dumps(body)


async def test_distance_widens_to_the_cap_one_step_at_a_time(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await in_person(sessions, "Bath Circle", "bath")
    await add_group(sessions, "Online Circle")
    body = await api(client, {"format": "in_person", "postcode": "BS1 4DJ", "max_distance_km": 5})
    assert names(body) == ["Bath Circle"]
    assert body["relaxed_codes"] == ["distance"]
    assert body["relaxed"] == [
        "Includes in-person groups more than 5 km away, up to 50 km and never further"
    ]
    first = body["results"][0]
    assert first["relaxed"] == ["distance"]
    assert first["widened"][0].startswith("Further than you asked: ")
    assert not any(line in first["other_mismatches"] for line in first["widened"])
    assert body["good_fit"] is False


async def test_online_only_never_gets_in_person_groups(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await in_person(sessions, "Bath Circle", "bath")
    body = await api(client, {"format": "online", "postcode": "BS1 4DJ"})
    assert body["results"] == []
    assert "format" not in body["relaxed_codes"]


# --- Under-18s ---------------------------------------------------------------------------


async def test_a_16_year_old_sees_only_groups_for_their_age_and_services_first(
    client: httpx.AsyncClient, sessions: Any, app: Any
) -> None:
    await add_group(sessions, "Adults Suicidal Feelings", stages=("approaching_crisis",))
    await add_group(sessions, "Young Adults", age_min=18, age_max=25)
    body = await api(client, {"age": 16, "stage": "approaching_crisis"})
    assert body["results"] == []
    assert "age" not in body["relaxed_codes"]
    assert body["next_steps"][0]["code"] == "young_people"
    assert body["next_steps"][1]["code"] == "crisis_contacts"
    services = " ".join(c["name"] for c in body["young_people_services"])
    assert "Childline" in services and "Shout" in services
    assert body["next_steps"][0]["contacts"] == body["young_people_services"]

    await add_group(sessions, "Teen Circle", age_min=13, age_max=17)
    app.state.match_index.invalidate()
    body = await api(client, {"age": 16})
    assert names(body) == ["Teen Circle"]
    assert body["next_steps"][0]["code"] == "young_people"
    # An adult gets no young people's step, and their age is widened only to adults.
    adult = await api(client, {"age": 40})
    assert "Teen Circle" not in names(adult)
    assert adult["young_people_services"] == []
    assert all(s["code"] != "young_people" for s in adult["next_steps"])


async def test_the_page_shows_young_peoples_services_before_any_group(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await add_group(sessions, "Adults Circle")
    await add_group(sessions, "Teen Circle", age_min=13, age_max=17)
    r = await client.get("/find", params={"search": "1", "age": "16"})
    assert r.status_code == 200
    main = r.text.split('id="main"')[1]
    assert "Help for young people" in main
    assert main.index("Childline") < main.index("Teen Circle")
    assert "0800 1111" in main
    assert "Adults Circle" not in main


async def test_a_deployment_configures_its_young_peoples_services(
    db_url: str, tmp_path: Path, sessions: Any
) -> None:
    services = [{"name": "Kooth", "how": "Chat at kooth.com", "href": "https://www.kooth.com"}]
    path = tmp_path / "young.json"
    path.write_text(json.dumps(services), encoding="utf-8")
    loaded = load_settings(
        {"PEERHUB_DATA_DIR": str(tmp_path / "data"), "PEERHUB_YOUNG_PEOPLE_SERVICES": str(path)}
    )
    assert [c.name for c in loaded.young_people_services] == ["Kooth"]
    settings = make_settings(db_url, tmp_path, young_people_services=loaded.young_people_services)
    await add_group(sessions, "Teen Circle", age_min=13, age_max=17)
    async with app_client(settings) as client:
        body = await api(client, {"age": 15})
    assert [c["name"] for c in body["young_people_services"]] == ["Kooth"]


def test_young_peoples_services_default_and_refuse_a_bad_file(tmp_path: Path) -> None:
    base = {"PEERHUB_DATA_DIR": str(tmp_path / "data")}
    assert load_settings(base).young_people_services == DEFAULT_YOUNG_PEOPLE_SERVICES
    bad = tmp_path / "bad.json"
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(ConfigError, match="PEERHUB_YOUNG_PEOPLE_SERVICES"):
        load_settings({**base, "PEERHUB_YOUNG_PEOPLE_SERVICES": str(bad)})


# --- Access needs follow the format ----------------------------------------------------------


async def test_step_free_essential_keeps_online_groups(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await add_group(sessions, "Online Circle")
    await in_person(sessions, "Bath Stairs", "bath")
    body = await api(
        client,
        {"postcode": "BA1 1AA", "access_needs": [{"code": "step_free", "essential": True}]},
    )
    assert names(body) == ["Online Circle"]
    assert body["relaxed"] == []
    assert "Step-free access: not needed, it meets online" in body["results"][0]["reasons"]
    # The form says the same, without anything widened.
    r = await client.get(
        "/find",
        params={"search": "1", "access": "step_free", "access_essential": "yes"},
    )
    assert "Online Circle" in r.text and "we widened your search" not in r.text


async def test_bsl_interpreter_essential_keeps_groups_that_meet_in_bsl(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await add_group(sessions, "Deaf Circle", languages=("bfi",))
    await add_group(sessions, "Spoken Circle", languages=("en",))
    body = await api(
        client,
        {
            "languages": ["bfi", "en"],
            "access_needs": [{"code": "bsl_interpreter", "essential": True}],
        },
    )
    assert names(body) == ["Deaf Circle"]
    assert body["relaxed"] == []
    assert (
        "Meets in British Sign Language, so no BSL interpreter is needed"
        in body["results"][0]["reasons"]
    )


# --- The page says each relaxation plainly -----------------------------------------------------


async def test_the_page_shows_each_relaxation(client: httpx.AsyncClient, sessions: Any) -> None:
    await in_person(sessions, "Bath Circle", "bath", languages=("cy",))
    r = await client.get(
        "/find",
        params={
            "search": "1",
            "format": "in_person",
            "postcode": "BS1 4DJ",
            "max_distance_km": "5",
            "languages": "en",
        },
    )
    assert r.status_code == 200
    page = r.text
    assert "so we widened your search" in page
    assert "Includes in-person groups more than 5 km away, up to 50 km and never further" in page
    assert "Includes groups that do not meet in English or offer interpretation" in page
    assert "Not what you asked for" in page
    assert "Further than you asked: " in page
    assert "Meets in Welsh, not a language you listed" in page
