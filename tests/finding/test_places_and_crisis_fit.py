"""Find a group with a town or a postcode (typos corrected out loud), town names on
results, online groups first when the place is unknown, and crisis contacts that fit."""

from __future__ import annotations

from typing import TypedDict

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.finding.conftest import add_group, add_user


class Place(TypedDict):
    """The columns that put an in-person group somewhere (add_group's extra fields)."""

    format: str
    postcode: str
    latitude: float
    longitude: float


MANCHESTER: Place = {
    "format": "in_person",
    "postcode": "M1 1AE",
    "latitude": 53.4794,
    "longitude": -2.2353,
}
GLASGOW: Place = {
    "format": "in_person",
    "postcode": "G1 1AA",
    "latitude": 55.8609,
    "longitude": -4.2514,
}


async def match(client: httpx.AsyncClient, body: object) -> httpx.Response:
    return await client.post("/api/match", json=body)


async def test_a_town_name_places_the_search_and_results_name_towns(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Manchester Circle", **MANCHESTER)
    r = await match(client, {"place": "Manchester", "format": "in_person"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["place"]["kind"] == "town" and body["place"]["town"] == "Manchester"
    assert body["place"]["corrected"] is False and body["place"]["did_you_mean"] == []
    first = body["results"][0]
    assert "In person, Manchester" in first["reasons"]
    assert not any("M1" in line for line in first["reasons"] + first["mismatches"])
    assert first["distance_km"] is not None and first["distance_km"] < 2


async def test_a_postcode_typo_gets_did_you_mean_with_results(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Manchester Circle", **MANCHESTER)
    body = (await match(client, {"place": "MI IAE", "format": "in_person"})).json()
    assert body["place"]["corrected"] is True
    assert body["place"]["district"] == "M1"
    assert "M1, Manchester" in body["place"]["note"]
    assert "IAE" not in body["place"]["note"]
    assert body["results"][0]["name"] == "Manchester Circle"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"place": "xyzzy"}, "place"),
        ({"place": 12}, "place"),
        ({"place": "Q" * 200}, "place"),
        ({"postcode": "xyzzy"}, "postcode"),  # the older name of the field
        ({"place": "Leeds", "postcode": "LS6"}, "place"),
        ({"place": "JE2 3AB"}, "place"),
    ],
)
async def test_bad_places_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    r = await match(client, body)
    assert r.status_code == 422
    assert r.json()["field"] == field


async def test_the_form_offers_did_you_mean_links_with_results(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(
        sessions,
        "Leeds Circle",
        format="in_person",
        postcode="LS1 1AA",
        latitude=53.7965,
        longitude=-1.5478,
    )
    r = await client.get("/find", params={"search": "1", "place": "LS0", "format": "in_person"})
    assert r.status_code == 200
    assert 'id="place-note"' in r.text and "Did you mean" in r.text
    assert "place=LS2" in r.text  # a link to the same search with another guess
    assert "Leeds Circle" in r.text


async def test_the_form_names_a_bad_place_beside_the_field(client: httpx.AsyncClient) -> None:
    r = await client.get("/find", params={"search": "1", "place": "xyzzy"})
    assert r.status_code == 422
    assert 'id="place-error"' in r.text and 'aria-invalid="true"' in r.text


async def test_old_links_with_postcode_still_work(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Manchester Circle", **MANCHESTER)
    r = await client.get("/find", params={"search": "1", "postcode": "M1 1AE"})
    assert r.status_code == 200 and "Searching near M1 1AE, Manchester" in r.text


async def test_place_unknown_puts_groups_you_can_join_online_before_far_in_person_ones(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    moderator = await add_user(sessions, "mod")
    # A crisis-ready in-person group in Glasgow (session within 48 hours, moderated)…
    await add_group(
        sessions,
        "Glasgow Crisis Group",
        stages=("approaching_crisis",),
        moderators=(moderator.id,),
        **GLASGOW,
    )
    # … and an online group that fits less well (no moderator, meets later).
    await add_group(
        sessions, "Online Circle", stages=("approaching_crisis",), rrule="FREQ=WEEKLY;BYDAY=SA"
    )
    body = (await match(client, {"stage": "approaching_crisis"})).json()
    assert [r["name"] for r in body["results"]] == ["Online Circle", "Glasgow Crisis Group"]
    assert body["place_prompt"] and "town" in body["place_prompt"]
    far = body["results"][1]
    assert any("do not know how far" in line for line in far["mismatches"])
    # With a place in Glasgow, the group there comes first again.
    near = (await match(client, {"stage": "approaching_crisis", "place": "Glasgow"})).json()
    assert near["results"][0]["name"] == "Glasgow Crisis Group"
    assert near["place_prompt"] is None


async def test_the_page_asks_for_a_town_when_the_place_is_unknown(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Online Circle")
    r = await client.get("/find", params={"search": "1"})
    assert 'id="place-prompt"' in r.text and 'href="#place"' in r.text
    online = await client.get("/find", params={"search": "1", "format": "online"})
    assert 'id="place-prompt"' not in online.text


async def test_a_deaf_bsl_user_near_crisis_is_led_to_bsl_and_text_routes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Online Circle", stages=("approaching_crisis",))
    body = (
        await match(
            client, {"stage": "approaching_crisis", "languages": ["bfi"], "place": "Glasgow"}
        )
    ).json()
    contacts = body["crisis_contacts"]
    assert contacts[0]["name"] == "999 BSL"
    first_voice = next(i for i, c in enumerate(contacts) if "voice" in c["modes"])
    assert first_voice >= 3
    assert "Breathing Space by textphone" in [c["name"] for c in contacts]
    assert "NHS 111, option 2" not in [c["name"] for c in contacts]
    assert body["next_steps"][0]["contacts"] == contacts
    page = await client.get(
        "/find",
        params={
            "search": "1",
            "stage": "approaching_crisis",
            "languages": "bfi",
            "place": "Glasgow",
        },
    )
    crisis_section = page.text.split('id="crisis-first-title"')[1].split("</section>")[0]
    assert crisis_section.index("999 BSL") < crisis_section.index("Samaritans")


async def test_someone_who_did_not_pick_english_is_told_about_interpreters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Arabic Circle", languages=("ar",), stages=("approaching_crisis",))
    body = (await match(client, {"stage": "approaching_crisis", "languages": ["ar"]})).json()
    assert body["interpreter"] and "say the name of your language" in body["interpreter"]
    page = await client.get(
        "/find", params={"search": "1", "stage": "approaching_crisis", "languages": "ar"}
    )
    assert "interpreter-advice" in page.text
    english = (await match(client, {"languages": ["en"]})).json()
    assert english["interpreter"] is None


async def test_the_crisis_page_fits_contacts_to_a_place_and_a_language(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/crisis", params={"place": "Cardiff", "language": "cy"})
    assert r.status_code == 200
    mine = r.text.split('id="for-you-title"')[1].split("</section>")[0]
    assert "Samaritans in Welsh" in mine and "0808 164 0123" in mine
    assert "Lifeline" not in mine
    belfast = await client.get("/api/crisis-contacts", params={"place": "Belfast"})
    assert belfast.json()["nation"] == "Northern Ireland"
    assert belfast.json()["crisis_contacts"][0]["name"] == "Lifeline"
    plain = await client.get("/crisis")
    assert plain.status_code == 200
    for heading in ("If you are Deaf or use sign language", "In Scotland", "In Northern Ireland"):
        assert heading in plain.text


@pytest.mark.parametrize(
    ("params", "field"), [({"place": "xyzzy"}, "place"), ({"language": "not a tag!"}, "language")]
)
async def test_bad_values_on_the_crisis_routes_are_422_but_still_show_contacts(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    page = await client.get("/crisis", params=params)
    assert page.status_code == 422
    assert f'id="{field}-error"' in page.text and "116 123" in page.text
    api = await client.get("/api/crisis-contacts", params=params)
    assert api.status_code == 422 and api.json()["field"] == field
    assert api.json()["crisis_contacts"]


@pytest.mark.parametrize("language", ["BSL", "British Sign Language", "sgn-GB", "sign language"])
async def test_the_crisis_routes_take_a_sign_language_by_name(
    client: httpx.AsyncClient, language: str
) -> None:
    """Names, old tags and "sign language" without saying which: text and BSL routes first."""
    r = await client.get("/api/crisis-contacts", params={"language": language})
    assert r.status_code == 200, r.text
    assert r.json()["crisis_contacts"][0]["name"] != "Samaritans"
    first = r.json()["crisis_contacts"][0]
    assert "BSL" in first["name"] or "999" in first["name"] or "text" in first["how"].lower()


@pytest.mark.parametrize("language", ["urdu", "اردو", "Urdu (Pakistan)", "ara"])
async def test_the_crisis_routes_take_a_spoken_language_by_name_and_say_how_to_get_an_interpreter(
    client: httpx.AsyncClient, language: str
) -> None:
    r = await client.get("/api/crisis-contacts", params={"language": language})
    assert r.status_code == 200, r.text
    assert "interpreter" in (r.json().get("interpreter") or "")
