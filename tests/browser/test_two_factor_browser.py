"""Two-step sign-in in Chromium: an administrator without it is sent to set it up, does so,
and signs in again with a code. Every page is axe-clean, at desktop width and 360 px."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import User
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import LiveServer, run_sync, totp_code

PASSWORD = "a calm walk by the river"


def check(page: Any, label: str) -> None:
    assert_accessible(page, f"{label} (desktop)")
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page, f"{label} (360 px)")
    assert_fits_narrow_screen(page)


def _make_admin(db_url: str, pseudonym: str) -> None:
    async def promote() -> None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
                assert user is not None
                user.is_admin = True
        finally:
            await engine.dispose()

    run_sync(promote)


def test_an_admin_sets_up_two_step_sign_in_and_signs_in_with_a_code(
    live_server: LiveServer, page: Any, db_url: str
) -> None:
    base = live_server.url
    page.goto(base + "/signup")
    page.get_by_label("Your name on PeerHub").fill("Ada Admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join PeerHub").click()
    # First the offer of recovery words (tests/browser/test_recovery_browser.py).
    page.get_by_role("link", name="Not now, carry on").click()
    page.wait_for_url(base + "/account")
    _make_admin(db_url, "Ada Admin")

    # The admin page sends them to set up two-step sign-in first.
    page.goto(base + "/admin")
    page.wait_for_url(base + "/account/2fa?next=%2Fadmin")
    main = page.get_by_role("main")
    assert "You need to set this up to carry on" in main.inner_text()
    assert "an administrator" in main.inner_text()
    check(page, "set up two-step sign-in")
    code_box = page.get_by_label("6-digit code from your app")
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    assert code_box.get_attribute("inputmode") == "numeric"
    link = page.get_by_role("link", name="open PeerHub’s key in your authenticator app")
    assert (link.get_attribute("href") or "").startswith("otpauth://totp/PeerHub:Ada%20Admin?")
    secret = "".join(page.locator("#secret-key").inner_text().replace("Your key:", "").split())
    assert len(secret) == 32

    # A wrong code first: announced, linked to the field, and described by it.
    code_box.fill("000000")
    page.get_by_label("Your PeerHub password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("alert").wait_for()
    assert "did not work" in page.get_by_role("alert").inner_text()
    code_box = page.get_by_label("6-digit code from your app")
    assert code_box.get_attribute("aria-invalid") == "true"
    assert "code-error" in (code_box.get_attribute("aria-describedby") or "")
    check(page, "set up, wrong code")

    code_box.fill(totp_code(datetime.now(UTC), secret))
    page.get_by_label("Your PeerHub password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    check(page, "recovery codes")
    page.get_by_role("link", name="I have saved my codes").click()
    page.wait_for_url(base + "/admin")
    assert page.get_by_role("heading", level=1).inner_text() == "Admin"

    # Signing in again takes the password, then a code.
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(base + "/?signed_out=1")
    page.goto(base + "/login")
    page.get_by_label("Your name on PeerHub").fill("ada admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/login/2fa")
    check(page, "second step")
    code_box = page.get_by_label("6-digit code")
    assert code_box.get_attribute("autocomplete") == "one-time-code"
    assert code_box.get_attribute("inputmode") == "numeric"
    code_box.fill("000000")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_label("6-digit code").get_attribute("aria-invalid") == "true"
    check(page, "second step, wrong code")
    page.get_by_text("I cannot use my app").click()
    assert page.get_by_label("Recovery code").is_visible()
    check(page, "second step, recovery code open")

    # The next step's code: the one used to set it up cannot be used again.
    page.get_by_label("6-digit code").fill(
        totp_code(datetime.now(UTC) + timedelta(seconds=30), secret)
    )
    page.get_by_role("button", name="Sign in", exact=True).click()
    # An administrator lands on what waits for checking.
    page.wait_for_url(base + "/admin")
    page.goto(base + "/account")
    main = page.get_by_role("main").inner_text()
    assert "Ada Admin" in main and "Manage two-step sign-in" in main
    page.goto(base + "/account/2fa")
    assert "10 of 10" in page.get_by_role("main").inner_text()
    check(page, "manage two-step sign-in")
