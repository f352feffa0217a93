"""Sharing levels, per group, and the crisis plan in Chromium: keyboard-usable,
axe-clean, 360 px; the choice offered at joining."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from peerhub.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.browser.test_find_browser import _demo
from tests.browser.test_referral_browser import _sign_in
from tests.conftest import LiveServer, run_sync

TALKING_SPACE = "Leeds Talking Space (Urdu and English)"
CARERS = "Punjabi Carers' Chai and Chat (online)"


def shot(page: Any, name: str) -> None:
    """Full-page screenshots at 360 and 1280 px into $PEERHUB_SHOTS, when it is set
    (for people reviewing the pages; never into the repository)."""
    folder = os.environ.get("PEERHUB_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 800})


def test_choosing_what_each_group_sees_and_writing_a_crisis_plan(
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
    page.get_by_role("button", name="Save my details and choices").click()
    page.wait_for_url(base + "/account/sharing?saved=1")
    assert "saved" in page.get_by_role("status").inner_text()
    # Each of the member's groups (three, and one asked to join), each of their three
    # audiences seeing only the name so far.
    groups = page.get_by_role("region", name="Your groups")
    assert groups.get_by_text("Only your name on PeerHub").count() == 12
    page.get_by_role("link", name=f"Choose what {TALKING_SPACE} can see").click()
    page.wait_for_url(base + "/account/sharing/groups/roshni-leeds-talking-space")
    members = page.get_by_role("group", name="Its members may see")
    members.get_by_label("Your first name").check()
    members.get_by_label("Your pronouns").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url(base + "/account/sharing/groups/roshni-leeds-talking-space?saved=1")
    assert "saved" in page.get_by_role("status").inner_text()
    assert members.get_by_label("Your first name").is_checked()
    assert (
        not page.get_by_role("group", name="Its organisers may see")
        .get_by_label("Your first name")
        .is_checked()
    )
    assert_accessible(page, "a group's sharing page")
    assert_fits_narrow_screen(page)
    shot(page, "sharing-per-group")

    page.goto(base + "/account/crisis-plan")
    assert_accessible(page, "crisis plan")
    assert_fits_narrow_screen(page)
    page.get_by_label("Early signs that I am struggling").fill("I go quiet in the group.")
    page.get_by_role("group", name=f"In {TALKING_SPACE}").get_by_label("Its moderators").check()
    page.get_by_role("button", name="Save my plan").click()
    page.wait_for_url(base + "/account/crisis-plan?saved=1")
    assert page.get_by_label("Early signs that I am struggling").input_value() == (
        "I go quiet in the group."
    )

    # What the group's other members see on my card: the pseudonym and the two choices.
    me = page.evaluate("() => fetch('/api/me').then(r => r.json())")
    page.goto(f"{base}/groups/roshni-leeds-talking-space/people/{me['id']}")
    main = page.get_by_role("main").inner_text()
    assert "Dilys" in main and "she/her" in main and "I go quiet" not in main
    assert_accessible(page, "person card")
    assert_fits_narrow_screen(page)

    # Joining a new group: the choice is offered, nothing is ticked, and what the
    # member shares with the Talking Space does not come along.
    page.goto(base + "/groups/roshni-punjabi-carers-online/join")
    assert page.get_by_role("heading", name=f"What {CARERS} can see about you").is_visible()
    page.get_by_text("Choose to share more with this group (optional)").click()
    organisers = page.get_by_role("group", name="Its organisers may see")
    assert organisers.get_by_label("Your first name").is_visible()
    assert page.locator("input[name=share]:checked").count() == 0
    assert_accessible(page, "the choice at joining")
    assert_fits_narrow_screen(page)
    shot(page, "join-sharing-choice")
    organisers.get_by_label("Your first name").check()
    page.get_by_role("button", name="Join this group").click()
    page.wait_for_url(base + "/groups/roshni-punjabi-carers-online/join?done=joined")
    page.goto(f"{base}/groups/roshni-punjabi-carers-online/people/{me['id']}")
    main = page.get_by_role("main").inner_text()
    # Seen as its members see it: only the name (the first name went to its organisers).
    assert "Dilys" not in main and "she/her" not in main
    page.goto(base + "/account/sharing/groups/roshni-punjabi-carers-online")
    assert (
        page.get_by_role("group", name="Its organisers may see")
        .get_by_label("Your first name")
        .is_checked()
    )
    assert (
        not page.get_by_role("group", name="Its members may see")
        .get_by_label("Your first name")
        .is_checked()
    )
