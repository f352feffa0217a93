"""A person signs up, signs out and signs in again in Chromium; every page passes axe."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import LiveServer


def test_sign_up_sign_out_sign_in(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    page.goto(base + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Find people who understand"
    assert_accessible(page, "home")
    assert_fits_narrow_screen(page)

    page.get_by_role("navigation").get_by_role("link", name="Join PeerHub").click()
    page.wait_for_url(base + "/signup")
    assert_accessible(page, "signup")
    assert_fits_narrow_screen(page)

    # A mistake first: the error is announced and linked to its field.
    page.get_by_label("Your name on PeerHub").fill("Nadia")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Join PeerHub").click()
    page.get_by_role("alert").wait_for()
    assert "at least 8 characters" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "signup with errors")

    page.get_by_label("Password").fill("a calm walk by the river")
    page.get_by_role("button", name="Join PeerHub").click()
    # First the offer of recovery words (tests/browser/test_recovery_browser.py).
    page.wait_for_url(base + "/account/recovery?welcome=1")
    page.get_by_role("link", name="Not now, carry on").click()
    page.wait_for_url(base + "/account")
    assert "Nadia" in page.get_by_role("main").inner_text()
    assert_accessible(page, "account")
    assert_fits_narrow_screen(page)
    page.get_by_role("link", name="Where you are signed in").click()
    page.wait_for_url(base + "/account/sessions")
    assert "(this device)" in page.get_by_role("main").inner_text()
    assert_accessible(page, "sessions")
    assert_fits_narrow_screen(page)
    page.goto(base + "/account")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(base + "/?signed_out=1")
    assert "signed out" in page.get_by_role("status").inner_text()
    page.goto(base + "/account")
    page.wait_for_url(lambda url: "/login" in url)

    assert_accessible(page, "login")
    page.get_by_label("Your name on PeerHub").fill("nadia")
    page.get_by_label("Password").fill("a calm walk by the river")
    page.get_by_role("button", name="Sign in").click()
    # Sent to sign in from /account (next=/account): a safe next wins over the landing page.
    page.wait_for_url(base + "/account")
    assert "Nadia" in page.get_by_role("main").inner_text()


def test_crisis_page_is_accessible_and_reachable_from_every_page(
    live_server: LiveServer, page: Any
) -> None:
    base = live_server.url
    for path in ("/", "/signup", "/login", "/no-such-page"):
        page.goto(base + path)
        link = page.get_by_role("link", name="Need help now?")
        assert link.first.is_visible()
        assert "116 123" in page.locator("#need-help-now").inner_text()
    page.get_by_role("link", name="Need help now?").first.click()
    page.wait_for_url(base + "/crisis")
    assert_accessible(page, "crisis")
    assert_fits_narrow_screen(page)
    page.goto(base + "/no-such-page")
    assert_accessible(page, "404")


def test_the_accessibility_check_catches_violations(page: Any) -> None:
    """Guard: the axe check must be able to fail, or every other check means nothing."""
    import pytest

    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page, "broken on purpose")
