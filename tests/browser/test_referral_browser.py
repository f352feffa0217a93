"""The closed loop in Chromium: a GP finds a Welsh group and refers; the person signs up
with the code and joins; the GP sees "joined" only once the person allows it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from peerhub.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.browser.test_find_browser import _demo
from tests.conftest import LiveServer, run_sync, totp_code


def _sign_in(page: Any, base: str, name: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Your name on PeerHub").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # Demo accounts whose role needs it have two-step sign-in with the published key;
    # then each lands on its own work (peerhub/web/landing.py), not on /login.
    page.wait_for_url(lambda url: url != base + "/login")
    if page.url == base + "/login/2fa":
        page.get_by_label("6-digit code").fill(totp_code(datetime.now(UTC), DEMO_TOTP_SECRET))
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(lambda url: not url.startswith(base + "/login"))


def test_professional_refers_and_sees_progress_only_with_consent(
    live_server: LiveServer, db_url: str, browser: Any
) -> None:
    run_sync(_demo, db_url)
    base = live_server.url
    gp = browser.new_context(viewport={"width": 1024, "height": 800}).new_page()
    person = browser.new_context(viewport={"width": 1024, "height": 800}).new_page()
    for p in (gp, person):
        p.set_default_timeout(10_000)
    try:
        # The GP finds a Welsh-speaking group in the directory.
        _sign_in(gp, base, "demo-gp", DEMO_PASSWORD)
        gp.goto(base + "/groups")
        # The directory's language filter (not the page's language picker, also a select).
        gp.locator("select#language").select_option("cy")
        gp.get_by_role("button", name="Search", exact=True).click()
        gp.get_by_role("link", name=re.compile("Sgwrs Caerdydd", re.I)).first.click()
        gp.wait_for_url(re.compile(r"/groups/cylch-sgwrs-caerdydd$"))
        assert_accessible(gp, "group page")
        gp.get_by_role("link", name="Refer someone").click()
        assert_accessible(gp, "refer form")
        assert_fits_narrow_screen(gp)
        gp.get_by_label("The person's first name, or their name on PeerHub").fill("Rhys")
        gp.get_by_label("Don't reach out: I will use the code myself").check()
        gp.get_by_label("The person has agreed to be referred").check()
        gp.get_by_role("button", name="Make the referral").click()
        code = gp.locator("strong.code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert_accessible(gp, "referral made")

        # The person opens the link, joins PeerHub and joins the group.
        person.goto(f"{base}/r/{code}")
        assert_accessible(person, "referral landing")
        person.get_by_role("link", name="Join PeerHub and continue").click()
        person.get_by_label("Your name on PeerHub").fill("Rhys W")
        person.get_by_label("Password").fill("bara brith on a sunday")
        person.get_by_role("button", name="Join PeerHub").click()
        # First the offer of recovery words (tests/browser/test_recovery_browser.py).
        person.get_by_role("link", name="Not now, carry on").click()
        person.wait_for_url(f"{base}/r/{code}")
        person.get_by_role("button", name="Continue to the group").click()
        person.wait_for_url(re.compile(r"/groups/cylch-sgwrs-caerdydd/join"))
        assert_accessible(person, "join page")
        person.get_by_role("button", name="Join this group").click()
        person.wait_for_url(re.compile(r"/groups/cylch-sgwrs-caerdydd"))

        # The GP does not see "joined" yet: it reads exactly as an acceptance, with
        # nothing saying that anything is hidden...
        gp.goto(base + "/referrals")
        made = gp.locator("section", has=gp.get_by_role("heading", name="Referrals you made"))
        assert "joined" not in made.inner_text()
        assert "accepted" in made.inner_text()
        assert "has not chosen to share" not in made.inner_text()
        assert_accessible(gp, "referrals (professional)")

        # ...until the person allows it.
        person.goto(base + "/referrals")
        assert_accessible(person, "referrals (person)")
        person.get_by_role("button", name=re.compile("Let them see my progress")).click()
        person.wait_for_url(base + "/referrals?saved=1")
        gp.reload()
        made = gp.locator("section", has=gp.get_by_role("heading", name="Referrals you made"))
        assert "joined" in made.inner_text()
    finally:
        gp.context.close()
        person.context.close()
