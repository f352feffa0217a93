"""The pages every visitor can meet outside the crawl's links speak the page's language:
error pages (404, 405, a NUL in the address), the JSON errors the browser shows, and
the home page and /crisis with the database down, in the pseudo-language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from peerhub import i18n
from tests.conftest import app_client, free_port, make_settings
from tests.i18n.untranslated import untranslated


@pytest.fixture
async def pseudo(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    settings = make_settings(dead, tmp_path, pseudo_locale=True)
    try:
        async with app_client(settings) as client:
            client.cookies.set(i18n.LANG_COOKIE, "en-XA")
            yield client
    finally:
        i18n.enable_pseudo(False)


def names() -> set[str]:
    from peerhub.config import DEFAULT_CRISIS_CONTACTS, DEFAULT_FITTED_CONTACTS

    return {c.name for c in (*DEFAULT_CRISIS_CONTACTS, *DEFAULT_FITTED_CONTACTS)}


@pytest.mark.parametrize(
    "path", ["/", "/crisis", "/crisis?nation=scotland", "/no-such-page", "/%00x", "/?nation=nir"]
)
async def test_no_english_is_left(pseudo: httpx.AsyncClient, path: str) -> None:
    page = await pseudo.get(path)
    assert 'lang="en-XA"' in page.text
    assert untranslated(page.text, names()) == [], path


async def test_a_write_without_its_token_is_refused_in_the_pages_language(
    pseudo: httpx.AsyncClient,
) -> None:
    page = await pseudo.request("DELETE", "/crisis")
    assert page.status_code == 403
    assert page.text.startswith(i18n.PSEUDO_OPEN)


async def test_json_errors_are_in_the_pages_language(pseudo: httpx.AsyncClient) -> None:
    sent = await pseudo.post(
        "/api/match", content=b"{", headers={"content-type": "application/json"}
    )
    assert sent.json()["error"].startswith(i18n.PSEUDO_OPEN)
    api = await pseudo.get("/api/crisis-contacts", params={"nation": "Atlantis"})
    assert api.status_code == 422 and i18n.PSEUDO_OPEN in api.json()["error"]
    assert api.json()["crisis_contacts"]  # the contacts are still given
