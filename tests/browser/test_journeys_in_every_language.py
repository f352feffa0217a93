"""Every journey in every shipped language, and in Easy Read, in Chromium.

A person chooses their language with the picker on the home page, then finds groups,
signs up (and is offered recovery words), joins a group, writes in its room, sets what
they share, writes a crisis plan, signs out, and gets back in with their recovery words.
Every page on the way carries the language's ``lang`` and ``dir``; the key pages pass axe
at 360 and 1280 px wide and fit a 360 px screen. Elements are found by their form names
and ids, never by English words, so the same test walks every language.

Set ``PEERHUB_TEST_SHOTS`` to a folder to keep screenshots (360 and 1280 px) of the
pages in Urdu, Arabic and Welsh.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from peerhub import i18n
from tests.browser.conftest import assert_accessible, new_page
from tests.browser.test_find_browser import _demo
from tests.conftest import make_settings, run_sync
from tests.realtime.conftest import RTServer

pytestmark = pytest.mark.browser

# Open to join, and its room open without a moderator present (it does not welcome
# people approaching crisis, whose rooms wait for a moderator).
SLUG = "roshni-punjabi-carers-online"
PASSWORD = "a calm walk by the river"
NEW_PASSWORD = "tea on the harbour wall"
SHOTS_IN = ("ur", "ar", "cy")
LANGS = [lang.tag for lang in i18n.languages() if lang.identifier != i18n.PSEUDO]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RTServer]:
    """One PeerHub (SQLite, demo data, WebSocket server) for every language's walk."""
    folder = tmp_path_factory.mktemp("journeys")
    url = f"sqlite+aiosqlite:///{folder}/journeys.db"
    from peerhub import migrate

    run_sync(migrate.upgrade, url)
    run_sync(_demo, url)
    with RTServer(make_settings(url, folder)) as running:
        yield running


def _check_lang(page: Any, tag: str) -> None:
    expected = i18n.by_tag(tag)
    assert expected is not None
    assert page.evaluate("document.documentElement.lang") == expected.tag, page.url
    assert page.evaluate("document.documentElement.dir") == expected.direction, page.url
    # The crisis route is on every page, in every language.
    assert page.locator("a.crisis-link").first.is_visible(), page.url


def _both_widths(page: Any, tag: str, label: str) -> None:
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"{label} in {tag} at {width} px")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{label} in {tag} is {wide}px wide at {width}px"
        folder = os.environ.get("PEERHUB_TEST_SHOTS")
        if folder and tag in SHOTS_IN:
            Path(folder).mkdir(parents=True, exist_ok=True)
            name = re.sub(r"\W+", "-", label)
            page.screenshot(path=f"{folder}/{tag}-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} [type=submit]").first.click()


def _walk(page: Any, base: str, tag: str, name: str, *, easy: bool = False) -> None:
    page.goto(base + "/")
    page.locator("#lang-choice").select_option(tag)
    _submit(page, "form.lang-picker")
    _check_lang(page, tag)
    if easy:
        _submit(page, "form.easy-switch")
        assert page.evaluate("document.documentElement.classList.contains('easy-read')")
    _both_widths(page, tag, "home")

    # Find groups.
    page.goto(base + "/find")
    _check_lang(page, tag)
    _both_widths(page, tag, "find")
    _submit(page, "form.find-form")
    assert page.locator("ol.results > li").count() >= 1
    _both_widths(page, tag, "find results")

    # Sign up, and see the recovery words.
    page.goto(base + "/signup")
    page.locator("input[name=pseudonym]").fill(name)
    page.locator("input[name=password]").fill(PASSWORD)
    _submit(page, 'main form[action="/signup"]')
    assert "/account/recovery" in page.url
    _check_lang(page, tag)
    _submit(page, 'main form[action="/account/recovery"]')
    words = [t.split()[-1] for t in page.locator("ol.recovery-words li").all_inner_texts()]
    assert len(words) == 6

    # Join a group and talk in its room.
    page.goto(base + f"/groups/{SLUG}")
    _check_lang(page, tag)
    _both_widths(page, tag, "group page")
    page.goto(base + f"/groups/{SLUG}/join")
    _submit(page, f'main form[action="/groups/{SLUG}/join"]')
    assert "done=joined" in page.url
    page.goto(base + f"/groups/{SLUG}/room")
    _check_lang(page, tag)
    page.locator("#rules-accept").click()  # the ground rules, before the first message
    page.locator("#message-input").fill(f"hello from {tag}")
    page.locator("#message-input").press("Enter")
    page.locator("#messages li", has_text=f"hello from {tag}").first.wait_for()

    # What they share, and a crisis plan.
    page.goto(base + "/account/sharing")
    _check_lang(page, tag)
    page.locator("#first_name").fill("Sam")
    _submit(page, 'main form[action="/account/sharing"]')
    assert page.locator("#first_name").input_value() == "Sam"
    page.goto(base + "/account/crisis-plan")
    _check_lang(page, tag)
    page.locator("main textarea").first.fill("Call my sister")
    _submit(page, 'main form[action="/account/crisis-plan"]')
    page.goto(base + "/account/crisis-plan")
    assert page.locator("main textarea").first.input_value() == "Call my sister"
    _both_widths(page, tag, "crisis plan")

    # Sign out, and back in with the recovery words.
    _submit(page, 'form[action="/logout"]')
    page.goto(base + "/recover")
    _check_lang(page, tag)
    page.locator("input[name=pseudonym]").fill(name)
    page.locator("[name=words]").fill(" ".join(words))
    _submit(page, 'main form[action="/recover"]')
    assert page.url.endswith("/recover/password"), page.url
    page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm_password]").fill(NEW_PASSWORD)
    _submit(page, 'main form[action="/recover/password"]')
    _check_lang(page, tag)
    page.goto(base + "/login")
    page.locator("input[name=pseudonym]").fill(name)
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    _submit(page, 'main form[action^="/login"]')
    assert "/login" not in page.url, page.url

    # /crisis, last: the page that must always work.
    page.goto(base + "/crisis")
    _check_lang(page, tag)
    _both_widths(page, tag, "crisis")


@pytest.mark.parametrize("tag", LANGS)
def test_every_journey_in_each_language(browser: Any, server: RTServer, tag: str) -> None:
    with new_page(browser) as page:
        _walk(page, server.base, tag, f"walker{tag.replace('-', '')}")


@pytest.mark.parametrize("tag", ["en-GB", "cy"])
def test_every_journey_in_easy_read(browser: Any, server: RTServer, tag: str) -> None:
    with new_page(browser) as page:
        _walk(page, server.base, tag, f"easy{tag.replace('-', '')}", easy=True)
