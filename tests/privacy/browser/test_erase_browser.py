"""A person downloads their data and deletes their account in Chromium; every page
passes axe (WCAG 2.2 AA), fits a 360 px screen and keeps "Need help now?"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser
PASSWORD = "a calm walk by the river"


def test_download_data_then_delete_the_account(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    page.goto(base + "/signup")
    page.get_by_label("Your name on PeerHub").fill("Wren Ashdown")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join PeerHub").click()
    # First the offer of recovery words (tests/browser/test_recovery_browser.py).
    page.get_by_role("link", name="Not now, carry on").click()
    page.wait_for_url(base + "/account")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("peerhub-export-")
    assert download.suggested_filename.endswith(".json")
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["account"]["pseudonym"] == "Wren Ashdown"

    page.get_by_role("link", name="delete your account").click()
    page.wait_for_url(base + "/account/erase")
    assert page.get_by_role("heading", level=1).inner_text() == "Delete your account"
    assert_accessible(page, "erase confirmation")
    assert_fits_narrow_screen(page)

    # Nothing chosen and no password: both errors are announced and linked.
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_role("alert").wait_for()
    summary = page.get_by_role("alert").inner_text()
    assert "Choose what happens to your messages." in summary
    assert "Enter your password" in summary
    assert page.get_by_label("Your password").get_attribute("aria-invalid") == "true"
    assert_accessible(page, "erase confirmation with errors")
    assert_fits_narrow_screen(page)

    # Keyboard only: the error link takes focus to the first choice.
    page.get_by_role("link", name="Choose what happens to your messages.").press("Enter")
    assert page.evaluate("document.activeElement.id") == "messages"
    page.keyboard.press("Space")
    assert page.get_by_label("Remove my messages").is_checked()
    page.get_by_label("Keep them without my name").check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Your password").press("Enter")
    page.wait_for_url(base + "/account/erased")
    assert "Your account has been deleted" in page.get_by_role("heading", level=1).inner_text()
    assert_accessible(page, "erased")
    assert_fits_narrow_screen(page)

    # Signed out: the account page asks to sign in, and the old name and password
    # no longer open anything.
    page.goto(base + "/account")
    page.wait_for_url(lambda url: "/login" in url)
    page.get_by_label("Your name on PeerHub").fill("Wren Ashdown")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert "do not match an account" in page.get_by_role("main").inner_text()
