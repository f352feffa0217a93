"""Find a group in Chromium: form, results with reasons, next steps; axe-clean."""

from __future__ import annotations

from typing import Any

from peerhub.db import make_engine, make_sessionmaker
from peerhub.demo import load_demo
from peerhub.security.passwords import Passwords
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import CHEAP_ARGON2, FakeClock, LiveServer, run_sync


async def _demo(url: str) -> None:
    engine = make_engine(url)
    try:
        await load_demo(make_sessionmaker(engine), Passwords(CHEAP_ARGON2), FakeClock()())
    finally:
        await engine.dispose()


def test_find_a_group_by_language_and_stage(
    live_server: LiveServer, db_url: str, page: Any
) -> None:
    run_sync(_demo, db_url)
    page.goto(live_server.url + "/find")
    assert_accessible(page, "find form")
    assert_fits_narrow_screen(page)
    page.get_by_label("Urdu").check()
    page.get_by_label("Recovery: Getting better after a hard time.").check()
    page.get_by_label("South Asian").check()
    page.get_by_role("button", name="Find groups").click()
    page.get_by_role("heading", name="Groups for you").wait_for()
    first = page.locator("ol.results > li").first
    assert "Meets in Urdu" in first.inner_text()
    # Every result says first who the group is for: communities, languages, place.
    assert first.locator(".who-for").inner_text().startswith("Who it is for:")
    assert page.get_by_role("heading", name="What you can do next").is_visible()
    assert_accessible(page, "find results")
    assert_fits_narrow_screen(page)
    first.get_by_role("link").first.click()
    page.wait_for_url(lambda url: "/groups/" in url)


def test_crisis_stage_leads_with_contacts(live_server: LiveServer, db_url: str, page: Any) -> None:
    run_sync(_demo, db_url)
    page.goto(live_server.url + "/find")
    page.get_by_label("Approaching crisis", exact=False).check()
    page.get_by_role("button", name="Find groups").click()
    heading = page.get_by_role("heading", name="If things feel very hard right now")
    heading.wait_for()
    assert "116 123" in page.locator(".crisis-first").inner_text()
    assert_accessible(page, "crisis results")


def test_a_language_by_name_and_the_sign_language_question(
    live_server: LiveServer, db_url: str, page: Any
) -> None:
    run_sync(_demo, db_url)
    page.goto(live_server.url + "/find")
    page.get_by_label("Another language").fill("sign language")
    page.get_by_role("button", name="Find groups").click()
    page.get_by_role("group", name="Which sign language do you use?").wait_for()
    assert_accessible(page, "language question")
    assert_fits_narrow_screen(page)
    page.locator("#languages-q-bfi").check()
    page.get_by_role("button", name="Find groups").click()
    page.get_by_role("heading", name="Groups for you").wait_for()
    assert "Meets in British Sign Language" in page.locator("ol.results").inner_text()
    # Typed in the language's own script, any case: the same language.
    page.goto(live_server.url + "/find")
    page.get_by_label("Another language").fill("اردو")
    page.get_by_role("button", name="Find groups").click()
    page.get_by_role("heading", name="Groups for you").wait_for()
    assert "Meets in Urdu" in page.locator("ol.results > li").first.inner_text()
