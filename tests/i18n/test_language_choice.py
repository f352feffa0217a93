"""Choosing the language of the interface: the browser's wish, a picker, a link, the account."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from peerhub import i18n
from peerhub.models import User
from tests.conftest import post_form, sign_up

HTML_TAG = re.compile(r"<html lang=\"([^\"]+)\" dir=\"(ltr|rtl)\"")


def html_lang(page: httpx.Response) -> tuple[str, str]:
    m = HTML_TAG.search(page.text)
    assert m, page.text[:200]
    return m.group(1), m.group(2)


@pytest.mark.parametrize(
    ("header", "tag"),
    [
        ("cy-GB,cy;q=0.9,en;q=0.5", "cy"),
        ("ur-PK", "ur"),
        ("ar-EG,ar;q=0.8", "ar"),
        ("pl", "pl"),
        ("so-SO", "so"),
        ("pa-Guru-IN", "pa"),
        ("bn-BD", "bn"),
        ("zh-HK", "zh-Hant"),
        ("yue", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("fr-FR, en-US;q=0.3", "en-GB"),  # no French: the next wish, English
        ("de", None),
        ("", None),
        ("en;q=0.1, cy;q=0.9", "cy"),  # the higher q wins, whatever the order
        ("xx-invalid-@@, cy", "cy"),  # a malformed item is skipped
        ("cy;q=0", None),  # q=0 means "not this one"
    ],
)
def test_negotiation_follows_cldr_matching(header: str, tag: str | None) -> None:
    found = i18n.negotiate(header)
    assert (found.tag if found else None) == tag


def test_choice_order_link_then_account_then_cookie_then_browser() -> None:
    def pick(**kw: str | None) -> str:
        base: dict[str, str | None] = {
            "query": None,
            "account": None,
            "cookie": None,
            "accept_language": None,
        }
        base.update(kw)
        return i18n.choose(**base).tag

    assert pick() == "en-GB"
    assert pick(accept_language="pl") == "pl"
    assert pick(cookie="ur", accept_language="pl") == "ur"
    assert pick(account="cy", cookie="ur", accept_language="pl") == "cy"
    assert pick(query="ar", account="cy", cookie="ur") == "ar"
    assert pick(query="nonsense", cookie="ur") == "ur"  # a bad link is ignored


def test_languages_are_named_in_themselves() -> None:
    names = {lang.tag: lang.name for lang in i18n.languages()}
    assert names == {
        "en-GB": "English",
        "cy": "Cymraeg",
        "ur": "اردو",
        "ar": "العربية",
        "pl": "Polski",
        "so": "Soomaali",
        "pa": "ਪੰਜਾਬੀ",
        "bn": "বাংলা",
        "zh-Hant": "繁體中文",
    }
    directions = {lang.tag for lang in i18n.languages() if lang.direction == "rtl"}
    assert directions == {"ur", "ar"}


async def test_pages_answer_in_the_browsers_language(client: httpx.AsyncClient) -> None:
    for header, expected in (
        ("cy", ("cy", "ltr")),
        ("ur", ("ur", "rtl")),
        ("ar", ("ar", "rtl")),
        ("pl", ("pl", "ltr")),
        ("de", ("en-GB", "ltr")),
    ):
        for path in ("/", "/crisis", "/groups", "/login", "/no-such-page"):
            page = await client.get(path, headers={"Accept-Language": header})
            assert html_lang(page) == expected, (header, path)


async def test_a_shared_link_shows_its_language_without_remembering_it(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/?lang=ur")
    assert html_lang(page) == ("ur", "rtl")
    assert i18n.LANG_COOKIE not in page.cookies
    assert html_lang(await client.get("/")) == ("en-GB", "ltr")


async def test_the_picker_remembers_a_choice_in_a_cookie(client: httpx.AsyncClient) -> None:
    page = await client.get("/groups")
    # The picker is on the page, each language named in itself and marked as such.
    assert 'action="/language"' in page.text
    assert '<option value="ur" lang="ur" dir="rtl">اردو</option>' in page.text
    answer = await post_form(client, "/language", {"lang": "cy", "next": "/groups?page=2"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/groups?page=2"
    assert client.cookies.get(i18n.LANG_COOKIE) == "cy"
    assert html_lang(await client.get("/", headers={"Accept-Language": "pl"})) == ("cy", "ltr")


async def test_the_picker_refuses_unknown_languages_and_foreign_redirects(
    client: httpx.AsyncClient,
) -> None:
    bad = await post_form(client, "/language", {"lang": "xx", "next": "/"})
    assert bad.status_code == 422
    assert "languages" in bad.text
    away = await post_form(client, "/language", {"lang": "pl", "next": "https://evil.example/"})
    assert away.status_code == 303
    assert away.headers["location"] == "/"


async def test_a_signed_in_choice_is_kept_on_the_account(
    client: httpx.AsyncClient, app: object
) -> None:
    await sign_up(client, "Nadia")
    await post_form(client, "/language", {"lang": "ur", "next": "/account"})
    sessions = app.state.ctx.sessions  # type: ignore[attr-defined]
    async with sessions() as db:
        user = (await db.execute(select(User).where(User.pseudonym == "Nadia"))).scalar_one()
    assert user.language == "ur"
    # The account's choice wins over a cookie left by someone else on this browser.
    client.cookies.set(i18n.LANG_COOKIE, "pl")
    assert html_lang(await client.get("/account")) == ("ur", "rtl")


async def test_easy_read_switch_is_remembered(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert 'action="/easy-read"' in page.text
    assert 'class="easy-read"' not in page.text
    answer = await post_form(client, "/easy-read", {"on": "1", "next": "/crisis"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/crisis"
    assert 'class="easy-read"' in (await client.get("/")).text
    await post_form(client, "/easy-read", {"on": "0", "next": "/"})
    assert 'class="easy-read"' not in (await client.get("/")).text


async def test_text_in_another_language_carries_its_own_lang_and_dir() -> None:
    with i18n.using("en-GB"):
        assert i18n.lang_attrs("ur") == ' lang="ur" dir="rtl"'
        assert i18n.lang_attrs("cy") == ' lang="cy"'
        assert i18n.lang_attrs("en-GB") == ""
        assert i18n.lang_attrs("not a tag!") == ""
        assert i18n.lang_attrs(None) == ""
    with i18n.using("ar"):
        assert i18n.lang_attrs("en") == ' lang="en" dir="ltr"'
        assert i18n.lang_attrs("ur") == ' lang="ur"'


def test_dates_numbers_and_lists_follow_the_language() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 3, 3, 18, 30, tzinfo=UTC)
    with i18n.using("en-GB"):
        assert i18n.format_time(moment) == "18:30"  # 24-hour in British English
        assert i18n.format_list(["a", "b", "c"]) == "a, b and c"
        assert i18n.format_number(12345) == "12,345"
    with i18n.using("pl"):
        assert i18n.format_number(12345) == "12\u00a0345"
        assert "marca" in i18n.format_date(moment, "long")
    with i18n.using("cy"):
        assert "Mawrth" in i18n.format_date(moment, "long")
    with i18n.using("ar"):
        assert "مارس" in i18n.format_date(moment, "long")
