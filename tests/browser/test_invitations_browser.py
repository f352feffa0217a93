"""Roles by invitation, and being told about reset codes, in Chromium.

An organiser invites a person to moderate a group; nothing changes for the person
until they say yes on their own page, which then leads to setting up two-step
sign-in. A reset code made in a person's name stops when they sign in, and their
account page says who made it. Every page passes axe and fits a 360 px screen;
screenshots at 360 and 1280 px go to /work/shots/fix-sec.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from peerhub.accounts.models_recovery import PasswordReset
from peerhub.db import make_engine, make_sessionmaker
from peerhub.groups.models import ModeratorInvitation
from peerhub.models import OrganisationOrganiser, User
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import TEST_TOTP_SECRET, LiveServer, enrol_2fa, run_sync, totp_code
from tests.finding.conftest import add_group

PASSWORD = "a calm walk by the river"
SHOTS = Path("/work/shots/fix-sec")


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


def sign_up(page: Any, base: str, name: str) -> None:
    page.goto(base + "/signup")
    page.get_by_label("Your name on PeerHub").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Join PeerHub").click()
    page.get_by_role("link", name="Not now, carry on").click()
    page.wait_for_url(base + "/account")


def in_db(db_url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = make_engine(db_url)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return run_sync(run)


def _user_id(maker: Any, name: str) -> Any:
    async def find() -> str:
        async with maker() as db:
            user: User | None = await db.scalar(select(User).where(User.pseudonym == name))
        assert user is not None
        return user.id

    return find()


def test_a_person_says_yes_to_moderating_on_their_own_page(
    live_server: LiveServer, page: Any, db_url: str
) -> None:
    base = live_server.url
    sign_up(page, base, "Quiet Member")

    async def invite(maker: Any) -> str:
        person = await _user_id(maker, "Quiet Member")
        group = await add_group(maker, "Tuesday Talk", ground_rules="Be kind.\nListen.")
        async with maker() as db, db.begin():
            olga = User(pseudonym="Olga", pseudonym_key="olga", password_hash="!")
            db.add(olga)
            await db.flush()
            db.add(OrganisationOrganiser(organisation_id=group.organisation_id, user_id=olga.id))
            db.add(ModeratorInvitation(group_id=group.id, user_id=person, invited_by=olga.id))
        return group.id

    in_db(db_url, invite)
    # Invited, not appointed: the person's pages work as before, with the invitation.
    page.goto(base + "/account/groups")
    main = page.get_by_role("main")
    assert "Invitations for you" in main.inner_text()
    assert "Olga, an organiser of Org of Tuesday Talk" in main.inner_text()
    page.get_by_text("The group’s ground rules").click()
    assert "Listen." in main.inner_text()
    check(page, "an invitation on Your groups")
    shoot(page, "invitation-your-groups")
    page.get_by_role("button", name="Yes, moderate Tuesday Talk").click()
    # Moderators need two-step sign-in: saying yes leads straight to setting it up.
    page.wait_for_url(lambda url: url.startswith(base + "/account/2fa?next="))
    check(page, "two-step set-up after saying yes")


def test_an_organiser_invites_and_sees_who_has_not_answered(
    live_server: LiveServer, page: Any, db_url: str
) -> None:
    base = live_server.url
    sign_up(page, base, "Sky Bright")
    page.get_by_role("navigation").get_by_role("button", name="Sign out").click()
    sign_up(page, base, "Olga Organiser")

    async def organise(maker: Any) -> str:
        olga = await _user_id(maker, "Olga Organiser")
        group = await add_group(maker, "Tuesday Talk")
        async with maker() as db, db.begin():
            db.add(OrganisationOrganiser(organisation_id=group.organisation_id, user_id=olga))
        await enrol_2fa(maker, olga)
        return group.id

    group_id = in_db(db_url, organise)
    page.get_by_role("navigation").get_by_role("button", name="Sign out").click()
    page.goto(base + "/login")
    page.get_by_label("Your name on PeerHub").fill("Olga Organiser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/2fa" in url)
    from datetime import UTC, datetime

    page.get_by_label("6-digit code").fill(totp_code(datetime.now(UTC), TEST_TOTP_SECRET))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{base}/organise/groups/{group_id}")
    page.get_by_label("Invite a moderator").fill("sky bright")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url(lambda url: "done=moderator_invite" in url)
    main = page.get_by_role("main")
    assert "They become a moderator if they say yes" in main.inner_text()
    assert "Invited, waiting for their answer" in main.inner_text()
    assert "Sky Bright" in main.inner_text()
    check(page, "the organiser's page with an invitation waiting")
    shoot(page, "organiser-invited")


def test_signing_in_stops_a_reset_code_and_the_account_page_says_who_made_it(
    live_server: LiveServer, page: Any, db_url: str
) -> None:
    base = live_server.url
    sign_up(page, base, "River Stone")

    async def code_for(maker: Any) -> None:
        person = await _user_id(maker, "River Stone")
        async with maker() as db, db.begin():
            olga = User(pseudonym="Olga", pseudonym_key="olga", password_hash="!")
            db.add(olga)
            await db.flush()
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            db.add(
                PasswordReset(
                    user_id=person,
                    kind="organiser",
                    secret_hash="not-a-real-code-hash",
                    created_at=now - timedelta(minutes=5),
                    expires_at=now + timedelta(hours=23),
                    issued_by=olga.id,
                )
            )

    in_db(db_url, code_for)
    page.get_by_role("navigation").get_by_role("button", name="Sign out").click()
    page.goto(base + "/login")
    page.get_by_label("Your name on PeerHub").fill("River Stone")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/account?ways_back=1#ways-back")
    notice = page.locator("#ways-back")
    text = notice.inner_text()
    assert "Olga, an organiser of one of your groups" in text
    assert "stopped working when you signed in" in text
    # The sentences keep their spaces (the template engine trims line breaks after tags).
    assert re.search(r"\d: Olga, an organiser", text), text
    assert "password. It stopped working" in text, text
    check(page, "the account page telling of a reset code")
    shoot(page, "account-ways-back")
