"""The directory in Chromium, on the demo data: axe-clean at desktop width and at 360 px,
usable without JavaScript, and no console errors (a CSP violation would show there)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from peerhub.db import make_engine, make_sessionmaker
from peerhub.demo import load_demo
from peerhub.security.passwords import Passwords
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import CHEAP_ARGON2, LiveServer, run_sync

pytestmark = pytest.mark.browser


async def _load_demo(url: str) -> None:
    engine = make_engine(url)
    try:
        await load_demo(make_sessionmaker(engine), Passwords(CHEAP_ARGON2), datetime.now(UTC))
    finally:
        await engine.dispose()


def _watch_console(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _check(page: Any, label: str) -> None:
    assert_accessible(page, label)
    assert_fits_narrow_screen(page)
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page, f"{label} at 360 px")
    page.set_viewport_size({"width": 1024, "height": 800})


def test_find_a_group_and_read_its_page(live_server: LiveServer, page: Any, db_url: str) -> None:
    run_sync(_load_demo, db_url)
    problems = _watch_console(page)
    base = live_server.url

    page.goto(base + "/groups")
    assert page.get_by_role("heading", level=1).inner_text() == "All peer support groups"
    _check(page, "directory")

    # Search with the form: a GET, so the result has a shareable address.
    page.locator("select#language").select_option(label="Urdu (اردو)")
    page.get_by_label("Saturday").check()
    page.get_by_label("Saturday").uncheck()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/groups\?.*language=ur"))
    results = page.get_by_role("heading", level=2, name=re.compile(r"\d+ groups?$"))
    assert results.is_visible()
    _check(page, "search results")

    # The access needs open without JavaScript (a details element).
    page.locator("summary", has_text="Anything that helps you take part?").click()
    assert page.get_by_label("Hearing loop").is_visible()

    # A mistake: the summary links to the field, which says what is wrong.
    page.get_by_label("Postcode").fill("XX")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_label("Postcode").get_attribute("aria-invalid") == "true"
    _check(page, "search with errors")

    page.goto(base + "/groups?language=ur")
    first = page.locator(".group-card h3 a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/groups/[a-z0-9-]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("link", name="Refer someone").is_visible()
    assert page.locator('script[type="application/ld+json"]').count() == 1
    _check(page, "group page")

    page.locator(".byline a").first.click()
    page.wait_for_url(re.compile(r"/organisations/[a-z0-9-]+$"))
    _check(page, "organisation page")

    page.goto(base + "/groups/no-such-group")
    _check(page, "unknown group")
    # HTTP errors on purpose (the 422 and 404 pages, the missing favicon) are logged as
    # "Failed to load resource"; anything else (a CSP refusal, a script error) is a bug.
    assert not [p for p in problems if not p.startswith("Failed to load resource")], problems


def test_the_directory_works_without_javascript(
    live_server: LiveServer, browser: Any, db_url: str
) -> None:
    run_sync(_load_demo, db_url)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 800})
    try:
        pg = context.new_page()
        pg.goto(live_server.url + "/groups")
        pg.get_by_label("Culture or community").select_option(label="Deaf")
        pg.get_by_role("button", name="Search").click()
        pg.wait_for_url(re.compile(r"community=deaf"))
        cards = pg.locator(".group-card")
        assert cards.count() > 0
        cards.first.get_by_role("link").click()
        pg.wait_for_url(re.compile(r"/groups/[a-z0-9-]+$"))
        assert "British Sign Language" in pg.get_by_role("main").inner_text()
        assert_fits_narrow_screen(pg)
    finally:
        context.close()
