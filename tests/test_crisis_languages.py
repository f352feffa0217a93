"""Crisis routes for everyone (issue 12, part 5): every route on the crisis panel and on
/crisis, in every language, the person's nation first; each number's source and the
date it was checked; descriptions per language; /crisis with the database down."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from peerhub import crisis, i18n
from peerhub.config import (
    DEFAULT_CRISIS_CONTACTS,
    DEFAULT_FITTED_CONTACTS,
    DEFAULT_YOUNG_PEOPLE_SERVICES,
    REPO_ROOT,
    ConfigError,
    CrisisContact,
    description_in,
    load_crisis_contacts,
)
from tests.conftest import app_client, free_port, make_settings

ROUTES = DEFAULT_CRISIS_CONTACTS + DEFAULT_FITTED_CONTACTS
DEFAULTS = ROUTES + DEFAULT_YOUNG_PEOPLE_SERVICES


def names(contacts: tuple[CrisisContact, ...]) -> list[str]:
    return [c.name for c in contacts]


def footer(html: str) -> str:
    return html.split('id="need-help-now"')[1].split("</section>")[0]


def dead_database() -> str:
    # Nothing listens on this port: every database call fails fast.
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"


@pytest.fixture
async def down(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """PeerHub with its default contacts and its database unreachable."""
    async with app_client(make_settings(dead_database(), tmp_path)) as client:
        yield client


# -- the panel: every route, the person's nation first ------------------------------------


def test_without_a_nation_every_route_is_listed_once() -> None:
    panel = crisis.panel(ROUTES)
    listed = [
        *panel.first,
        *panel.sign,
        *(c for _, lines in panel.nations for c in lines),
        *panel.languages,
    ]
    assert sorted(names(tuple(listed))) == sorted(names(ROUTES))
    assert names(panel.first) == names(DEFAULT_CRISIS_CONTACTS)
    assert {"999 BSL", "emergencySMS", "NHS 111 by textphone"} <= set(names(panel.sign))
    assert [n for n, _ in panel.nations] == ["Scotland", "Northern Ireland"]
    assert names(panel.languages) == ["Samaritans in Welsh"]


@pytest.mark.parametrize(
    ("nation", "first", "absent"),
    [
        ("Scotland", ["NHS 24, 111", "Breathing Space"], ["NHS 111, option 2", "Lifeline"]),
        ("Northern Ireland", ["Lifeline"], ["NHS 111, option 2", "Breathing Space"]),
        ("Wales", ["NHS 111, option 2"], ["Lifeline", "Breathing Space"]),
        ("England", ["NHS 111, option 2"], ["NHS 24, 111", "Lifeline"]),
    ],
)
def test_the_nations_own_lines_come_first(nation: str, first: list[str], absent: list[str]) -> None:
    panel = crisis.panel(ROUTES, nation)
    got = names(panel.first)
    assert got[: len(first)] == first
    assert {"Samaritans", "Shout", "Emergency"} <= set(got)
    shown = set(got) | set(names(panel.sign)) | set(names(panel.languages))
    assert not shown & set(absent)
    assert panel.nations == ()
    assert all(crisis.serves(c, nation) for c in panel.sign)
    assert "999 BSL" in names(panel.sign) and "emergencySMS" in names(panel.sign)


@pytest.mark.parametrize(
    ("raw", "nation"),
    [
        ("scotland", "Scotland"),
        ("Northern Ireland", "Northern Ireland"),
        ("northern-ireland", "Northern Ireland"),
        ("WLS", "Wales"),
        ("eng", "England"),
        ("Narnia", None),
        ("", None),
        (None, None),
    ],
)
def test_a_nation_is_read_only_when_it_is_one_of_the_four(
    raw: str | None, nation: str | None
) -> None:
    assert crisis.parse_nation(raw) == nation


async def test_every_page_puts_the_persons_nation_first(down: httpx.AsyncClient) -> None:
    plain = footer((await down.get("/")).text)
    for name in ("999 BSL", "emergencySMS", "Breathing Space", "Lifeline", "NHS 24, 111"):
        assert name in plain, name
    assert "Samaritans in Welsh" in plain
    scots = footer((await down.get("/", params={"nation": "scotland"})).text)
    assert scots.index("NHS 24, 111") < scots.index("Samaritans")
    assert "NHS 111, option 2" not in scots and "Lifeline" not in scots
    assert 'href="/crisis?nation="' in scots  # the way back to every nation


async def test_crisis_remembers_the_nation_for_every_page(down: httpx.AsyncClient) -> None:
    chosen = await down.get("/crisis", params={"nation": "Northern Ireland"})
    assert chosen.status_code == 200
    assert f"{crisis.NATION_COOKIE}=Northern-Ireland" in chosen.headers["set-cookie"]
    mine = chosen.text.split('id="for-you-title"')[1].split("</section>")[0]
    assert mine.index("Lifeline") < mine.index("Samaritans")
    assert "Breathing Space" not in mine
    home = footer((await down.get("/")).text)
    assert home.index("Lifeline") < home.index("Samaritans")
    assert "NHS 111, option 2" not in home
    forgotten = await down.get("/crisis", params={"nation": ""})
    assert "Max-Age=0" in forgotten.headers["set-cookie"]
    down.cookies.delete(crisis.NATION_COOKIE)
    assert "Breathing Space" in footer((await down.get("/")).text)


async def test_a_nation_that_is_not_one_of_the_four_is_422_with_every_contact(
    down: httpx.AsyncClient,
) -> None:
    page = await down.get("/crisis", params={"nation": "Atlantis"})
    assert page.status_code == 422
    assert 'id="nation-error"' in page.text and "116 123" in page.text
    assert "set-cookie" not in page.headers or crisis.NATION_COOKIE not in str(
        page.headers.get_list("set-cookie")
    )


async def test_a_place_says_the_nation(down: httpx.AsyncClient) -> None:
    page = await down.get("/crisis", params={"place": "Glasgow"})
    mine = page.text.split('id="for-you-title"')[1].split("</section>")[0]
    assert mine.index("NHS 24, 111") < mine.index("Samaritans")


# -- sources and dates ----------------------------------------------------------------------


@pytest.mark.parametrize("contact", DEFAULTS, ids=lambda c: c.name)
def test_every_default_names_its_source_and_when_it_was_checked(contact: CrisisContact) -> None:
    assert contact.checked is not None and contact.checked <= datetime.now(UTC).date()
    links = crisis.source_links(contact.source)
    assert links, contact.source
    doc = (REPO_ROOT / "docs" / "safety" / "crisis-contacts.md").read_text("utf-8")
    assert any(link in doc for link in links), (contact.name, links)
    if contact.interpreter:
        assert crisis.source_links(contact.interpreter_source or contact.source)
        assert crisis.source_links(contact.interpreter_source)[0] in doc


async def test_crisis_shows_each_source_as_a_link_and_the_date(down: httpx.AsyncClient) -> None:
    page = (await down.get("/crisis")).text
    assert page.count("Number and hours checked on 5 December 2026.") >= len(ROUTES)
    for contact in ROUTES:
        assert f'href="{crisis.source_links(contact.source)[0]}"' in page, contact.name


def test_interpreters_are_mentioned_only_where_the_source_says_so() -> None:
    by_name = {c.name: c for c in ROUTES}
    assert "England" in crisis.interpreter_text(by_name["NHS 111, option 2"])
    assert "Wales" in crisis.interpreter_text(by_name["Emergency"])
    for name in ("Samaritans", "Shout", "Breathing Space", "Lifeline", "NHS 24, 111"):
        assert crisis.interpreter_text(by_name[name]) == "", name
    assert crisis.interpreter_advice("Scotland") == str(crisis.INTERPRETER_ADVICE_GENERAL)
    assert crisis.interpreter_advice("England") == str(crisis.INTERPRETER_ADVICE)


# -- words in the page's language ----------------------------------------------------------


def contacts_file(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "contacts.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "Local Line",
                    "how": "Call 0800 000 0000",
                    "description": "Any time, to talk.",
                    "descriptions": {"cy": "Unrhyw bryd, i siarad.", "ur": "کسی بھی وقت"},
                    "href": "tel:08000000000",
                    "source": "https://example.org/local-line",
                    "checked": "2026-11-30",
                    "interpreter": True,
                    "interpreter_nations": ["Wales"],
                    **extra,
                }
            ]
        ),
        encoding="utf-8",
    )
    return path


def test_the_file_carries_sources_dates_and_descriptions(tmp_path: Path) -> None:
    (line,) = load_crisis_contacts(contacts_file(tmp_path))
    assert line.source == "https://example.org/local-line"
    assert line.checked == date(2026, 11, 30)
    assert line.interpreter and line.interpreter_nations == ("Wales",)
    assert description_in(line, "cy") == "Unrhyw bryd, i siarad."
    assert description_in(line, "cy-GB") == "Unrhyw bryd, i siarad."
    assert description_in(line, "ur") == "کسی بھی وقت"
    assert description_in(line, "pl") == "Any time, to talk."  # the default's words


@pytest.mark.parametrize(
    "extra",
    [
        {"checked": "last week"},
        {"descriptions": ["cy", "Helo"]},
        {"descriptions": {"not a tag!": "x"}},
        {"descriptions": {"cy": ""}},
        {"interpreter": "yes"},
        {"interpreter_nations": ["Narnia"]},
    ],
)
def test_bad_source_keys_stop_start_up(tmp_path: Path, extra: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="PEERHUB_CRISIS_CONTACTS: entry 0"):
        load_crisis_contacts(contacts_file(tmp_path, **extra))


async def test_a_description_is_shown_in_the_pages_language(tmp_path: Path) -> None:
    settings = make_settings(
        dead_database(), tmp_path, crisis_contacts=load_crisis_contacts(contacts_file(tmp_path))
    )
    async with app_client(settings) as client:
        welsh = await client.get("/crisis", params={"lang": "cy"})
        assert "Unrhyw bryd, i siarad." in welsh.text and "Any time, to talk." not in welsh.text
        polish = await client.get("/crisis", params={"lang": "pl"})
        assert "Any time, to talk." in polish.text
        api = await client.get("/api/crisis-contacts", params={"lang": "ur"})
        assert api.json()["crisis_contacts"][0]["description"] == "کسی بھی وقت"


def test_the_defaults_words_go_through_the_catalogue(tmp_path: Path) -> None:
    i18n.enable_pseudo(True)
    try:
        with i18n.using(i18n.by_tag("en-XA")):
            samaritans = DEFAULT_CRISIS_CONTACTS[0]
            assert samaritans.how_text.startswith(i18n.PSEUDO_OPEN)
            assert samaritans.description_text.startswith(i18n.PSEUDO_OPEN)
            assert crisis.nation_name("Wales").startswith(i18n.PSEUDO_OPEN)
            # A deployment's own words are shown as written.
            (own,) = load_crisis_contacts(contacts_file(tmp_path))
            assert own.how_text == "Call 0800 000 0000"
    finally:
        i18n.enable_pseudo(False)


# -- with the database down, in every language ---------------------------------------------


@pytest.mark.parametrize(
    ("tag", "direction"), [("cy", "ltr"), ("ar", "rtl"), ("ur", "rtl"), ("pl", "ltr")]
)
async def test_crisis_answers_in_every_language_with_the_database_down(
    down: httpx.AsyncClient, tag: str, direction: str
) -> None:
    page = await down.get("/crisis", params={"lang": tag})
    assert page.status_code == 200
    html_tag = re.search(r"<html[^>]*>", page.text)
    assert html_tag is not None
    assert f'lang="{tag}"' in html_tag.group() and f'dir="{direction}"' in html_tag.group()
    for number in ("116 123", "85258", "999", "0800 83 85 87", "0808 808 8000"):
        assert number in page.text, number
    for name in ("999 BSL", "emergencySMS", "Breathing Space", "Lifeline", "Samaritans in Welsh"):
        assert name in page.text, name
    api = await down.get("/api/crisis-contacts", params={"lang": tag, "nation": "Scotland"})
    assert api.status_code == 200 and api.json()["crisis_contacts"][0]["name"] == "NHS 24, 111"
