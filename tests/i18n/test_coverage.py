"""Coverage and review of each language, the draft notice, and the catalogues' health."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from sqlalchemy import select

from peerhub import i18n
from peerhub.models import User
from tests.conftest import enrol_2fa, post_form, sign_up


def _write(root: Path, identifier: str, entries: list[tuple[str, str, set[str]]]) -> None:
    folder = root / identifier / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale=identifier, domain="messages")
    for msgid, msgstr, flags in entries:
        catalog.add(msgid, msgstr, flags=flags)
    with (folder / "messages.po").open("wb") as f:
        write_po(f, catalog)


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.reload()
    yield tmp_path
    monkeypatch.undo()
    i18n.reload()


def test_coverage_counts_translated_and_reviewed_entries(catalogues: Path) -> None:
    _write(
        catalogues,
        "cy",
        [
            ("Find a group", "Dod o hyd i grŵp", {"reviewed"}),
            ("Sign in", "Mewngofnodi", set()),
            ("Join", "Ymuno", {"fuzzy"}),  # a guess: neither translated nor reviewed
            ("Help", "", set()),
        ],
    )
    assert dict(i18n.coverage("cy")) == {"total": 4, "translated": 2, "reviewed": 1}
    assert i18n.is_draft("cy")
    with i18n.using("cy"):
        assert i18n.gettext("Sign in") == "Mewngofnodi"
        assert i18n.gettext("Join") == "Join"  # fuzzy entries are not used
        assert i18n.gettext("Help") == "Help"


def test_a_fully_reviewed_language_is_not_a_draft(catalogues: Path) -> None:
    _write(catalogues, "pl", [("Sign in", "Zaloguj się", {"reviewed"})])
    assert not i18n.is_draft("pl")
    assert not i18n.is_draft("en_GB")


async def test_draft_pages_say_so_in_their_language_and_link_to_help(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/?lang=cy")
    assert i18n.is_draft("cy")
    assert 'class="wrap notice draft-language"' in page.text
    assert 'href="/languages"' in page.text
    english = await client.get("/")
    assert "draft-language" not in english.text


async def test_the_languages_page_lists_every_language_with_figures(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/languages")
    assert page.status_code == 200
    for lang in i18n.languages():
        if lang.identifier != i18n.SOURCE:
            assert f'<span lang="{lang.tag}" dir="{lang.direction}">{lang.name}</span>' in page.text
    assert "docs/translating.md" in page.text


async def test_the_admin_page_of_languages_is_for_administrators(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.get("/admin/languages")
    assert anonymous.status_code == 303
    await sign_up(client, "Ola")
    refused = await client.get("/admin/languages")
    assert refused.status_code == 403
    await post_form(client, "/logout", {})


async def test_an_administrator_sees_each_languages_figures(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Admin Lang")
    async with app.state.ctx.sessions() as db, db.begin():
        admin = await db.scalar(select(User).where(User.pseudonym == "Admin Lang"))
        assert admin is not None
        admin.is_admin = True
    await enrol_2fa(app, admin.id)
    page = await client.get("/admin/languages")
    assert page.status_code == 200, page.text[:300]
    for lang in i18n.languages():
        if lang.identifier != i18n.SOURCE:
            assert f'lang="{lang.tag}"' in page.text
