"""Pages show a group's and an organisation's text in the visitor's language where it is
given, else the own text with a line saying its language, each with its own lang and
dir (issue 12, part 4); the HSDS API keeps the own text. Both databases."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import GroupText, OrganisationText
from tests.directory import builders as b
from tests.directory.test_pages import page

URDU = "بات کرنے کی پرسکون جگہ۔"


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    org = b.org("calder", name="Calder Peer Network", description="Peer groups in Calder.")
    org.texts = [
        OrganisationText(
            language="cy",
            language_label="Cymraeg",
            name="Rhwydwaith Cymheiriaid Calder",
            description="Grwpiau cymheiriaid yn Calder.",
        )
    ]
    talk = b.group(
        org,
        "tuesday-talk",
        name="Tuesday Talk",
        description="A calm space to talk.",
        ground_rules="Be kind.",
        joining="Come ten minutes early.",
        languages=("en", "cy"),
    )
    talk.texts = [
        GroupText(
            language="cy",
            language_label="Cymraeg",
            name="Sgwrs Dydd Mawrth",
            description="Lle tawel i siarad.",
            joining="Dewch ddeg munud yn gynnar.",
        ),
    ]
    urdu = b.group(
        org,
        "urdu-circle",
        name="Urdu Circle",
        description=URDU,
        text_language="ur",
        languages=("ur",),
    )
    await b.save(sessions, org, talk, urdu)
    return {"org": org, "talk": talk, "urdu": urdu}


async def test_the_group_page_in_welsh_shows_the_welsh_version(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await _seed(sessions)
    html = await page(client, "/groups/tuesday-talk?lang=cy")
    assert "<h1>Sgwrs Dydd Mawrth</h1>" in html
    assert '<p class="user-text">Lle tawel i siarad.</p>' in html
    assert '<p class="user-text">Dewch ddeg munud yn gynnar.</p>' in html
    # The ground rules were not given in Welsh: the own text, saying it is in English
    # (named in Welsh, from CLDR), marked as English.
    # (Welsh catalogue: "This text is in %(language)s." → "Iaith y testun hwn: %(language)s.")
    assert "Iaith y testun hwn: Saesneg." in html
    assert '<p class="user-text" lang="en">Be kind.</p>' in html
    # The organisation's Welsh name too.
    assert "Rhwydwaith Cymheiriaid Calder" in html

    english = await page(client, "/groups/tuesday-talk?lang=en-GB")
    assert "<h1>Tuesday Talk</h1>" in english and "This text is in" not in english
    assert "Come ten minutes early." in english and "Sgwrs" not in english


async def test_an_urdu_description_on_an_english_page_carries_lang_and_dir(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    await _seed(sessions)
    html = await page(client, "/groups/urdu-circle")
    assert re.search(r'<html lang="en-GB" dir="ltr"', html)
    assert f'<p class="user-text" lang="ur" dir="rtl">{URDU}</p>' in html
    assert "This text is in Urdu." in html
    assert '<h1 lang="ur" dir="rtl">Urdu Circle</h1>' in html
    # On an Urdu page the same text is the page's own language: no note, no attributes.
    in_urdu = await page(client, "/groups/urdu-circle?lang=ur")
    assert f'<p class="user-text">{URDU}</p>' in in_urdu
    assert "This text is in" not in in_urdu


async def test_cards_and_the_organisation_page(client: httpx.AsyncClient, sessions: Any) -> None:
    await _seed(sessions)
    listing = await page(client, "/groups?lang=cy")
    assert '<a href="/groups/tuesday-talk">Sgwrs Dydd Mawrth</a>' in listing
    assert '<a href="/groups/urdu-circle" lang="ur" dir="ltr">' not in listing
    assert re.search(r'<a href="/groups/urdu-circle" lang="ur" dir="rtl">Urdu Circle</a>', listing)
    org = await page(client, "/organisations/calder?lang=cy")
    assert "<h1>Rhwydwaith Cymheiriaid Calder</h1>" in org
    assert "Grwpiau cymheiriaid yn Calder." in org
    org_en = await page(client, "/organisations/calder")
    assert "<h1>Calder Peer Network</h1>" in org_en and "Peer groups in Calder." in org_en


async def test_the_join_page_in_welsh(client: httpx.AsyncClient, sessions: Any) -> None:
    await _seed(sessions)
    response = await client.get("/groups/tuesday-talk/join?lang=cy")
    assert response.status_code == 200
    html = response.text
    assert "Sgwrs Dydd Mawrth" in html and "Dewch ddeg munud yn gynnar." in html
    assert '<div class="ground-rules pre-line" lang="en">Be kind.</div>' in html


async def test_the_hsds_api_keeps_the_own_text(client: httpx.AsyncClient, sessions: Any) -> None:
    rows = await _seed(sessions)
    response = await client.get(
        f"/hsds/services/{rows['talk'].id}?lang=cy", headers={"Accept-Language": "cy"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Tuesday Talk" and "Sgwrs" not in response.text
