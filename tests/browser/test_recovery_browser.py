"""Forgetting a password and getting back in with the recovery words, in Chromium.

Sign up, keep the words (as a file too), sign out, "Forgotten your password?", the
name and the words typed loosely, a new password, new words, and signing in with the
new password. Every page passes axe and fits a 360 px screen.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import LiveServer

PASSWORD = "a calm walk by the river"
NEW_PASSWORD = "tea on the harbour wall"
NAME = "Nadia Rowan"


def check(page: Any, label: str) -> None:
    assert_accessible(page, label)
    assert_fits_narrow_screen(page)
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page, f"{label} (360 px)")
    page.set_viewport_size({"width": 1024, "height": 800})


def words_on(page: Any) -> list[str]:
    items = page.get_by_role("list", name="Your recovery words").get_by_role("listitem")
    # Each item reads "Word 3: apple" to a screen reader; the word is the last part.
    return [text.split()[-1] for text in items.all_inner_texts()]


def test_forget_the_password_and_recover_with_the_words(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    page.goto(base + "/signup")
    page.get_by_label("Your name on PeerHub").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join PeerHub").click()

    # Straight after signing up: the offer of recovery words.
    page.wait_for_url(base + "/account/recovery?welcome=1")
    assert "One more step" in page.get_by_role("heading", level=1).inner_text()
    check(page, "recovery words offer")
    page.get_by_role("button", name="Show my recovery words").click()
    page.wait_for_url(base + "/account/recovery")
    words = words_on(page)
    assert len(words) == 6 and all(re.fullmatch(r"[a-z]{3,5}", w) for w in words)
    assert "only this once" in page.get_by_role("main").inner_text()
    # With JavaScript the print button appears; the file works without it.
    assert page.get_by_role("button", name="Print this page").is_visible()
    check(page, "recovery words")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Save as a text file").click()
    download = download_info.value
    assert download.suggested_filename == "peerhub-recovery-words.txt"
    saved = Path(download.path()).read_text(encoding="utf-8")
    assert " ".join(words) in saved and NAME in saved
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(base + "/account")
    assert "you have a set" in page.get_by_role("main").inner_text()

    page.get_by_role("navigation").get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/?signed_out=1")

    # Some time later, the password is forgotten.
    page.goto(base + "/login")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.wait_for_url(base + "/recover")
    check(page, "forgotten password")
    page.get_by_label("Your name on PeerHub").fill(NAME.lower())
    # Written down in capitals on two lines, with commas.
    loose = ", ".join(w.upper() for w in words[:3]) + "\n" + " ".join(words[3:])
    page.get_by_label("Your recovery words").fill(loose)
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(base + "/recover/password")
    check(page, "choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save my new password").click()

    page.get_by_role("heading", name="Your new password is saved").wait_for()
    new_words = words_on(page)
    assert len(new_words) == 6 and new_words != words
    assert "old recovery words have been used" in page.get_by_role("main").inner_text()
    check(page, "new password saved, new words")
    page.get_by_role("link", name="I have saved them – sign in").click()

    page.wait_for_url(base + "/login?reset=1")
    assert "Sign in with it now" in page.get_by_role("status").inner_text()
    check(page, "sign in after a reset")
    page.get_by_label("Your name on PeerHub").fill(NAME)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/account/groups")  # a member lands on their groups
    page.goto(base + "/account")
    assert NAME in page.get_by_role("main").inner_text()


def test_change_the_password_from_the_account_page(live_server: LiveServer, page: Any) -> None:
    base = live_server.url
    page.goto(base + "/signup")
    page.get_by_label("Your name on PeerHub").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join PeerHub").click()
    page.get_by_role("link", name="Not now, carry on").click()
    page.wait_for_url(base + "/account")
    page.get_by_role("link", name="Change your password").click()
    page.wait_for_url(base + "/account/password")
    check(page, "change password")
    page.get_by_label("Your current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_role("alert").wait_for()
    assert "not your current password" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Your current password").get_attribute("aria-invalid") == "true"
    check(page, "change password with an error")
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(base + "/account/password?done=1")
    assert "Your password is changed" in page.get_by_role("status").inner_text()
