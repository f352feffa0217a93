"""Languages on the find form and the match API: by name, in any script, questions, 422s."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import DemandRecord
from tests.finding.conftest import add_group


async def match(client: httpx.AsyncClient, body: object) -> httpx.Response:
    return await client.post("/api/match", json=body)


@pytest.mark.parametrize("asked", ["urdu", "Urdu", "URDU", "Urdu (Pakistan)", "اردو", "urd", "ur"])
async def test_urdu_by_any_name_finds_the_urdu_group_described_as_urdu(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], asked: str
) -> None:
    await add_group(sessions, "Urdu Circle", languages=("ur",))
    await add_group(sessions, "English Circle", languages=("en",))
    r = await match(client, {"languages": [asked]})
    assert r.status_code == 200, r.text
    first = r.json()["results"][0]
    assert first["name"] == "Urdu Circle"
    assert "Meets in Urdu" in first["reasons"]
    assert not any("not a language you listed" in m for m in first["mismatches"])

    page = await client.get("/find", params={"search": "1", "other_languages": asked})
    assert page.status_code == 200
    assert "Urdu Circle" in page.text and "English Circle" not in page.text
    assert "Meets in Urdu" in page.text


@pytest.mark.parametrize("asked", ["BSL", "bsl", "British Sign Language", "sgn-GB", "bfi"])
async def test_bsl_finds_the_british_sign_language_group(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], asked: str
) -> None:
    await add_group(sessions, "Deaf Peer Space", languages=("bfi",))
    await add_group(sessions, "Spoken Circle", languages=("en",))
    r = await match(client, {"languages": [asked]})
    assert r.status_code == 200, r.text
    first = r.json()["results"][0]
    assert first["name"] == "Deaf Peer Space"
    assert "Meets in British Sign Language" in first["reasons"]


async def test_old_and_three_letter_codes_are_the_same_language(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Arabic Circle", languages=("ar",))
    await add_group(sessions, "Cantonese Circle", languages=("yue",))
    for asked, name in (("ara", "Arabic Circle"), ("zh-yue", "Cantonese Circle")):
        r = await match(client, {"languages": [asked]})
        assert r.json()["results"][0]["name"] == name


async def test_a_family_that_said_chinese_by_code_is_offered_cantonese_honestly(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Cantonese Circle", languages=("yue",))
    r = await match(client, {"languages": ["zh"]})
    body = r.json()
    assert body["relaxed"] == []
    first = body["results"][0]
    assert first["name"] == "Cantonese Circle"
    assert (
        "Meets in Cantonese, one of the Chinese languages; you asked for Chinese"
        in (first["reasons"])
    )


async def test_punjabi_scripts_are_related_and_said(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Gurmukhi Circle", languages=("pa",))
    r = await match(client, {"languages": ["Punjabi (Shahmukhi)"]})
    first = r.json()["results"][0]
    assert first["name"] == "Gurmukhi Circle"
    assert (
        "Meets in Punjabi, written in Gurmukhi; you asked for Punjabi in Shahmukhi"
        in (first["reasons"])
    )
    r = await match(client, {"languages": ["pnb"]})
    assert r.json()["relaxed"] == []


async def test_two_languages_asked_one_offered_is_no_mismatch(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Urdu Circle", languages=("ur",))
    r = await match(client, {"languages": ["English", "Urdu"]})
    first = r.json()["results"][0]
    assert not any("languages asked for" in m for m in first["mismatches"])


async def test_sign_language_is_a_question_on_the_api(client: httpx.AsyncClient) -> None:
    r = await match(client, {"languages": ["sign language"]})
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "languages"
    tags = [c["tag"] for c in body["question"]["choices"]]
    assert tags[:2] == ["bfi", "isg"]
    assert body["question"]["choices"][0]["name"] == "British Sign Language"


async def test_chinese_is_a_question_with_an_any_choice(client: httpx.AsyncClient) -> None:
    r = await match(client, {"languages": ["Chinese"]})
    assert r.status_code == 422
    question = r.json()["question"]
    assert {"cmn", "yue"} <= {c["tag"] for c in question["choices"]}
    assert question["any"] == "zh"


async def test_sign_language_is_a_question_page_that_keeps_the_other_answers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Deaf Peer Space", languages=("bfi",))
    r = await client.get(
        "/find",
        params={"search": "1", "other_languages": "sign language", "stage": "recovery"},
    )
    assert r.status_code == 200
    assert "Which sign language do you use?" in r.text
    assert 'id="languages-q-bfi" name="languages" value="bfi"' in r.text
    assert 'id="languages-q-isg" name="languages" value="isg"' in r.text
    assert 'id="stage-recovery" name="stage" value="recovery" checked' in r.text
    # The words asked about leave the box; nothing was searched yet.
    assert 'value="sign language"' not in r.text
    assert "Groups for you" not in r.text
    # Answering the question searches.
    answered = await client.get("/find", params={"search": "1", "languages": "bfi"})
    assert "Deaf Peer Space" in answered.text
    assert "Meets in British Sign Language" in answered.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"other_languages": "Xyzzyish"}, "other_languages"),
        ({"other_languages": "qaa"}, "other_languages"),
        ({"languages": "not-a-language"}, "languages"),
    ],
)
async def test_unknown_languages_are_422_naming_the_field_on_the_form(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    r = await client.get("/find", params={"search": "1", **params})
    assert r.status_code == 422
    assert f'href="#{field}"' in r.text
    assert "not a well-formed" not in r.text


@pytest.mark.parametrize("bad", ["Urud", "xyz", "", "x-private", "a" * 70])
async def test_unknown_languages_are_422_naming_the_field_on_the_api(
    client: httpx.AsyncClient, bad: str
) -> None:
    r = await match(client, {"languages": ["en", bad] if bad else [bad, "%%%"]})
    assert r.status_code == 422
    assert r.json()["field"] == "languages"


async def test_a_misspelling_gets_a_suggestion(client: httpx.AsyncClient) -> None:
    r = await match(client, {"languages": ["Urud"]})
    assert "Did you mean Urdu?" in r.json()["error"]


async def test_the_form_suggests_names_not_codes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "German Circle", languages=("de",))
    r = await client.get("/find")
    assert "type a language code" not in r.text.lower()
    assert 'list="language-names"' in r.text
    datalist = r.text.split('<datalist id="language-names">')[1].split("</datalist>")[0]
    values = set(re.findall(r'<option value="([^"]+)"', datalist))
    assert {"Welsh", "Cymraeg", "Urdu", "اردو", "British Sign Language", "German"} <= values
    assert "de" not in values and "ur" not in values


async def test_demand_is_recorded_with_canonical_tags(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for asked in ("urdu", "Urdu", "اردو"):
        r = await match(client, {"languages": [asked], "communities": ["veterans"]})
        assert r.status_code == 200
    async with sessions() as db:
        rows = (await db.scalars(select(DemandRecord))).all()
    assert [row.languages for row in rows] == [["ur"], ["ur"], ["ur"]]


async def test_the_directory_filter_lists_every_language_in_use_by_name(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "German Circle", languages=("de",))
    await add_group(sessions, "Tigrinya Circle", languages=("ti",), interpretation=("bfi",))
    r = await client.get("/groups")
    assert '<option value="de">German (Deutsch)</option>' in r.text
    assert '<option value="ti">Tigrinya (ትግርኛ)</option>' in r.text
    assert '<option value="bfi">British Sign Language</option>' in r.text
    # A name works in the address too, and an unknown one is a 422 naming the field.
    found = await client.get("/groups", params={"language": "Deutsch"})
    assert "German Circle" in found.text and "Tigrinya Circle" not in found.text
    bad = await client.get("/groups", params={"language": "Xyzzyish"})
    assert bad.status_code == 422
    assert 'href="#language"' in bad.text
