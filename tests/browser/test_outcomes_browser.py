"""The outcomes report in Chromium: an organiser opens it from their page; it reads at
360 px and 1280 px, is axe-clean, and hides small numbers."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from peerhub.db import make_engine, make_sessionmaker
from peerhub.demo import DEMO_PASSWORD
from peerhub.outcomes.models import MatchOutcome
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.browser.test_find_browser import _demo
from tests.browser.test_referral_browser import _sign_in
from tests.conftest import LiveServer, run_sync

SHOTS = os.environ.get("PEERHUB_SCREENSHOTS")  # a folder for screenshots, if wanted


async def _outcomes(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db, db.begin():
            for i in range(64):
                db.add(
                    MatchOutcome(
                        shown_week=datetime(2026, 9, 7, tzinfo=UTC).date(),
                        fit="good" if i % 3 else "partial",
                        language="first" if i < 40 else ("other" if i < 60 else "interpreted"),
                        community="all" if i % 2 else "not_asked",
                        stage="met",
                        relaxed="none" if i < 55 else "distance",
                        rank="1" if i < 30 else ("2-3" if i < 50 else "4-10"),
                        format="online" if i % 4 else "in_person",
                        attendance_seen=bool(i % 4),
                        joined=i % 2 == 0,
                        came=i % 4 == 2,
                        still_coming=i % 8 == 2,
                        settled=True,
                    )
                )
    finally:
        await engine.dispose()


def test_an_organiser_reads_the_outcomes_report(
    live_server: LiveServer, db_url: str, page: Any
) -> None:
    run_sync(_demo, db_url)
    run_sync(_outcomes, db_url)
    base = live_server.url
    _sign_in(page, base, "demo-organiser", DEMO_PASSWORD)
    page.goto(base + "/organise")
    page.get_by_role("link", name="What happens after a match (outcomes)").click()
    page.get_by_role("heading", name="What happens after a match", exact=True).wait_for()
    text = page.locator("main").inner_text()
    assert "fewer than 10" in text
    assert page.get_by_role("heading", name="By language").is_visible()
    assert_accessible(page, "outcomes report")
    assert_fits_narrow_screen(page)
    if SHOTS:
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=os.path.join(SHOTS, f"outcomes-{width}.png"), full_page=True)
            page.locator("section").nth(2).screenshot(
                path=os.path.join(SHOTS, f"outcomes-language-{width}.png")
            )
