"""Setting sharing and writing a crisis plan in Welsh and in Urdu, in Chromium.

Issue 12's journeys "set sharing" and "write a crisis plan" in a language chosen by
its cookie (and by a shared ``?lang=`` link): ``<html lang dir>`` says the language
and its direction on every page of the journey, the forms save and read back, and in
Urdu (right to left) axe finds nothing and nothing is wider than a 360 px screen. The
same journey in Easy Read (its cookie), whose pages keep the same forms.

Until the catalogues are translated the words are English, so this asserts on
structure (ids, names, roles, ``lang`` and ``dir``), never on Welsh or Urdu words.
"""

from __future__ import annotations

from typing import Any

import pytest

from peerhub import i18n
from peerhub.demo import DEMO_PASSWORD
from peerhub.web.language import EASY_COOKIE
from tests.browser.conftest import assert_accessible
from tests.browser.test_find_browser import _demo
from tests.browser.test_referral_browser import _sign_in
from tests.conftest import LiveServer, run_sync

GROUP = "roshni-leeds-talking-space"


def _html_lang_dir(page: Any) -> tuple[str, str]:
    found = page.evaluate(
        "() => [document.documentElement.lang, document.documentElement.dir || 'ltr']"
    )
    return found[0], found[1]


def _fits(page: Any, width: int = 360) -> None:
    """Nothing forces sideways scrolling at 360 px, in either direction of text."""
    page.set_viewport_size({"width": width, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide}px wide at {width}px"
    page.set_viewport_size({"width": 1024, "height": 800})


def _submit(page: Any, action: str) -> None:
    page.locator(f'form[action="{action}"] button[type="submit"]').click()


@pytest.mark.parametrize(
    ("tag", "direction", "easy"),
    [("cy", "ltr", False), ("ur", "rtl", False), ("cy", "ltr", True), ("ur", "rtl", True)],
    ids=["cy", "ur", "cy-easy-read", "ur-easy-read"],
)
def test_sharing_and_a_crisis_plan_in_another_language(
    live_server: LiveServer, db_url: str, page: Any, tag: str, direction: str, easy: bool
) -> None:
    run_sync(_demo, db_url)
    base = live_server.url
    _sign_in(page, base, "demo-member", DEMO_PASSWORD)
    page.context.add_cookies([{"name": i18n.LANG_COOKIE, "value": tag, "url": base}])
    if easy:  # Easy Read's versions of these pages, the same forms
        page.context.add_cookies([{"name": EASY_COOKIE, "value": "1", "url": base}])
    rtl = direction == "rtl"

    # The crisis plan: written, shared with one group's moderators, read back.
    page.goto(base + "/account/crisis-plan")
    assert _html_lang_dir(page) == (tag, direction)
    if easy:
        assert page.locator("form.easy-form").count() == 1
    if rtl:
        assert_accessible(page, f"crisis plan ({tag})")
        _fits(page)
    plan = "Rwy'n mynd yn dawel." if tag == "cy" else "میں خاموش ہو جاتا ہوں۔"
    page.locator("#early_signs").fill(plan)
    moderators = page.locator('input[name="plan_group"][value$=":moderators"]').first
    moderators.check()
    _submit(page, "/account/crisis-plan")
    page.wait_for_url(base + "/account/crisis-plan?saved=1")
    assert _html_lang_dir(page) == (tag, direction)
    assert page.locator(".notice-ok[role=status]").is_visible()
    assert page.locator("#early_signs").input_value() == plan
    assert page.locator('input[name="plan_group"][value$=":moderators"]').first.is_checked()
    if rtl:
        assert_accessible(page, f"crisis plan saved ({tag})")

    # What the person shares, and with a professional who referred them.
    page.goto(base + "/account/sharing")
    assert _html_lang_dir(page) == (tag, direction)
    if rtl:
        assert_accessible(page, f"sharing ({tag})")
        _fits(page)
    page.locator("#first_name").fill("Dilys")
    page.locator("#pronouns").fill("she/her")
    page.locator("#share-referrer-first_name").check()
    _submit(page, "/account/sharing")
    page.wait_for_url(base + "/account/sharing?saved=1")
    assert _html_lang_dir(page) == (tag, direction)
    assert page.locator(".notice-ok[role=status]").is_visible()
    assert page.locator("#first_name").input_value() == "Dilys"
    assert page.locator("#share-referrer-first_name").is_checked()
    # A link to each group's own choices.
    page.locator(f'a[href="/account/sharing/groups/{GROUP}"]').click()
    page.wait_for_url(f"{base}/account/sharing/groups/{GROUP}")

    # One group's choices: its members may see the first name and pronouns.
    assert _html_lang_dir(page) == (tag, direction)
    if rtl:
        assert_accessible(page, f"a group's sharing ({tag})")
        _fits(page)
    page.locator("#share-members-first_name").check()
    page.locator("#share-members-pronouns").check()
    _submit(page, f"/account/sharing/groups/{GROUP}")
    page.wait_for_url(f"{base}/account/sharing/groups/{GROUP}?saved=1")
    assert _html_lang_dir(page) == (tag, direction)
    assert page.locator(".notice-ok[role=status]").is_visible()
    assert page.locator("#share-members-first_name").is_checked()
    assert not page.locator("#share-organisers-first_name").is_checked()
    # Each audience is a named group of boxes (a fieldset with its legend).
    assert page.get_by_role("group").count() >= 3

    # The person's card as the group's members see it: the two choices, not the plan.
    me = page.evaluate("() => fetch('/api/me').then(r => r.json())")
    page.goto(f"{base}/groups/{GROUP}/people/{me['id']}")
    assert _html_lang_dir(page) == (tag, direction)
    main = page.get_by_role("main").inner_text()
    assert "Dilys" in main and "she/her" in main and plan not in main
    if rtl:
        assert_accessible(page, f"person card ({tag})")
        _fits(page)

    # A shared ?lang= link wins over the cookie, for that page.
    other, other_direction = ("ur", "rtl") if tag == "cy" else ("cy", "ltr")
    page.goto(f"{base}/account/crisis-plan?lang={other}")
    assert _html_lang_dir(page) == (other, other_direction)
