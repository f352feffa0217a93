"""Sharing levels and the crisis plan in Chromium: keyboard-usable, axe-clean, 360 px."""

from __future__ import annotations

from typing import Any

from peerhub.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.browser.test_find_browser import _demo
from tests.browser.test_referral_browser import _sign_in
from tests.conftest import LiveServer, run_sync


def test_choosing_what_to_share_and_writing_a_crisis_plan(
    live_server: LiveServer, db_url: str, page: Any
) -> None:
    run_sync(_demo, db_url)
    base = live_server.url
    _sign_in(page, base, "demo-member", DEMO_PASSWORD)

    page.goto(base + "/account/sharing")
    assert_accessible(page, "sharing")
    assert_fits_narrow_screen(page)
    page.get_by_label("First name", exact=True).fill("Dilys")
    page.get_by_label("Pronouns", exact=True).fill("she/her")
    members = page.get_by_role("group", name="Members of your groups may see")
    members.get_by_label("Your first name").check()
    members.get_by_label("Your pronouns").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url(base + "/account/sharing?saved=1")
    assert "saved" in page.get_by_role("status").inner_text()
    assert members.get_by_label("Your first name").is_checked()
    assert_accessible(page, "sharing saved")

    page.goto(base + "/account/crisis-plan")
    assert_accessible(page, "crisis plan")
    assert_fits_narrow_screen(page)
    page.get_by_label("Early signs that I am struggling").fill("I go quiet in the group.")
    page.get_by_role("group", name="Who may read it").get_by_label(
        "Your groups’ moderators"
    ).check()
    page.get_by_role("button", name="Save my plan").click()
    page.wait_for_url(base + "/account/crisis-plan?saved=1")
    assert page.get_by_label("Early signs that I am struggling").input_value() == (
        "I go quiet in the group."
    )

    # What the group's other members see on my card: the pseudonym and the two choices.
    page.goto(base + "/groups/roshni-leeds-talking-space")
    me = page.evaluate("() => fetch('/api/me').then(r => r.json())")
    page.goto(f"{base}/groups/roshni-leeds-talking-space/people/{me['id']}")
    main = page.get_by_role("main").inner_text()
    assert "Dilys" in main and "she/her" in main and "I go quiet" not in main
    assert_accessible(page, "person card")
    assert_fits_narrow_screen(page)
