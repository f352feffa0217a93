"""In Chromium: strangers guessing a moderator's password from many addresses hold back
sign-ins from new devices, but not the moderator's usual one (a known device); and the
page for too many sign-ups says when to try again. Every page is axe-clean, at desktop
width and at 360 px; screenshots go to /work/shots/throttle/ when that folder can be made.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import User
from peerhub.security import buckets
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import LiveServer, enrol_2fa, free_port, make_settings, run_sync, totp_code
from tests.finding.conftest import add_group

PASSWORD = "a calm walk by the river"
SHOTS = Path("/work/shots/throttle")


@pytest.fixture
def proxied_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A server behind a (pretend) reverse proxy on 127.0.0.1, so that requests can come
    from many addresses through X-Forwarded-For, as they do in production."""
    port = free_port()
    settings = make_settings(
        db_url, tmp_path, base_url=f"http://127.0.0.1:{port}", trusted_proxies=("127.0.0.1",)
    )
    with LiveServer(settings, port) as server:
        yield server


def check(page: Any, label: str) -> None:
    assert_accessible(page, f"{label} (desktop)")
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page, f"{label} (360 px)")
    assert_fits_narrow_screen(page)


def shoot(page: Any, name: str) -> None:
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 800})


def _make_moderator(db_url: str, pseudonym: str) -> None:
    async def promote() -> None:
        engine = make_engine(db_url)
        try:
            maker = make_sessionmaker(engine)
            async with maker() as db:
                user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
            assert user is not None
            await add_group(maker, "Tuesday Talk", moderators=(user.id,))
            await enrol_2fa(maker, user.id)
        finally:
            await engine.dispose()

    run_sync(promote)


def strangers_guess(base: str, name: str, addresses: int, each: int) -> list[int]:
    statuses: list[int] = []
    for i in range(addresses):
        forwarded = {"X-Forwarded-For": f"198.51.100.{i + 10}"}
        with httpx.Client(base_url=base, headers=forwarded) as stranger:
            page = stranger.get("/login")
            token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            for j in range(each):
                r = stranger.post(
                    "/login",
                    data={"pseudonym": name, "password": f"guess {j}", "csrf_token": token},
                    headers={"Origin": base},
                )
                statuses.append(r.status_code)
    return statuses


def sign_in(page: Any, base: str, name: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Your name on PeerHub").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_moderator_locked_out_by_strangers_still_gets_in_from_their_usual_device(
    proxied_server: LiveServer, browser: Any, db_url: str
) -> None:
    base = proxied_server.url
    usual = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
    try:
        page = usual.new_page()
        page.set_default_timeout(10_000)
        page.goto(base + "/signup")
        page.get_by_label("Your name on PeerHub").fill("Mo Moderator")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Join PeerHub").click()
        page.get_by_role("link", name="Not now, carry on").click()  # recovery words
        page.wait_for_url(base + "/account")
        _make_moderator(db_url, "Mo Moderator")

        # Their usual phone: password, then the code from their app.
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url(base + "/?signed_out=1")
        sign_in(page, base, "Mo Moderator", PASSWORD)
        page.wait_for_url(base + "/login/2fa")
        page.get_by_label("6-digit code").fill(totp_code(datetime.now(UTC)))
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(base + "/moderate")  # a moderator lands on their rooms
        page.goto(base + "/account/sessions")
        main = page.get_by_role("main").inner_text()
        assert "Phones and computers PeerHub remembers" in main and "(this device)" in main
        check(page, "sessions and remembered devices")
        shoot(page, "sessions-remembered-devices")
        page.get_by_role("button", name="Sign out", exact=True).click()
        page.wait_for_url(base + "/?signed_out=1")

        # Strangers who read the name in a room guess from eight addresses.
        statuses = strangers_guess(base, "Mo Moderator", addresses=8, each=6)
        assert 429 in statuses

        # On a borrowed computer the right password is held back, and the page says why
        # and what still works.
        borrowed = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
        try:
            other = borrowed.new_page()
            sign_in(other, base, "Mo Moderator", PASSWORD)
            alert = other.get_by_role("alert")
            alert.wait_for()
            text = alert.inner_text()
            assert "Too many attempts" in text
            assert "The phone or computer you usually sign in on can still sign in now" in text
            check(other, "sign-in held back by strangers")
            shoot(other, "login-held-back")
        finally:
            borrowed.close()

        # On their usual phone they sign in at once, with the password and a code.
        sign_in(page, base, "Mo Moderator", PASSWORD)
        page.wait_for_url(base + "/login/2fa")
        page.get_by_label("6-digit code").fill(totp_code(datetime.now(UTC) + timedelta(seconds=30)))
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(base + "/moderate")
        page.goto(base + "/account")
        assert "Mo Moderator" in page.get_by_role("main").inner_text()
    finally:
        usual.close()


def test_the_page_for_too_many_sign_ups_says_when_to_try_again(
    proxied_server: LiveServer, browser: Any
) -> None:
    base = proxied_server.url
    crowded = {"X-Forwarded-For": "198.51.100.77"}
    with httpx.Client(base_url=base, headers=crowded) as script:
        for i in range(buckets.SIGNUP.burst):
            page = script.get("/signup")
            token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
            r = script.post(
                "/signup",
                data={"pseudonym": f"Puppet {i}", "password": PASSWORD, "csrf_token": token},
                headers={"Origin": base},
            )
            assert r.status_code == 303
            script.cookies.clear()
    context = browser.new_context(
        viewport={"width": 1024, "height": 800}, locale="en-GB", extra_http_headers=crowded
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(base + "/signup")
        page.get_by_label("Your name on PeerHub").fill("Real Person")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Join PeerHub").click()
        page.get_by_role("heading", name="Please wait before trying again").wait_for()
        main = page.get_by_role("main").inner_text()
        assert "You can try again in 5 minutes." in main
        assert "nothing you typed was wrong" in main
        assert page.get_by_role("link", name="Need help now?").first.is_visible()
        check(page, "too many sign-ups")
        shoot(page, "signup-too-many")
    finally:
        context.close()
