"""In Chromium: an organiser gives their group's description in Urdu on the organiser's
page, and a reader of PeerHub in Urdu sees it, while the group's English name carries
lang="en" dir="ltr" inside the right-to-left page; an English reader sees the English
text. axe-clean, and nothing wider than the screen at 360 px."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import Group, GroupTag, Organisation, OrganisationOrganiser, User
from tests.conftest import LiveServer, run_sync
from tests.groups.test_groups_browser import check, make_admin, sign_up

pytestmark = pytest.mark.browser
URDU = "بات کرنے کی پرسکون جگہ، ہر منگل کی شام۔"


def _group_of(db_url: str, pseudonym: str) -> str:
    async def make() -> str:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
                assert user is not None
                now = datetime.now(UTC)
                org = Organisation(
                    slug="calder", name="Calder Peer Network", verified_at=now, description=""
                )
                db.add(org)
                await db.flush()
                db.add(OrganisationOrganiser(organisation_id=org.id, user_id=user.id))
                group = Group(
                    organisation_id=org.id,
                    slug="tuesday-talk",
                    name="Tuesday Talk",
                    description="A calm space to talk, every Tuesday evening.",
                    format="online",
                    dtstart_local="2026-09-01T18:00:00",
                    rrule="FREQ=WEEKLY;BYDAY=TU",
                    ground_rules="Be kind.",
                )
                group.tags = [
                    GroupTag(kind="language", value="en", position=0),
                    GroupTag(kind="language", value="ur", position=1),
                    GroupTag(kind="stage", value="recovery", position=0),
                ]
                db.add(group)
                await db.flush()
                return group.id
        finally:
            await engine.dispose()

    group_id: str = run_sync(make)
    return group_id


def test_an_urdu_description_given_and_read(
    live_server: LiveServer, browser: Any, db_url: str
) -> None:
    base = live_server.url
    context = browser.new_context(viewport={"width": 1024, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_up(page, base, "Olu")
        make_admin(db_url, "Olu", admin=False)  # two-step sign-in, for organisers
        group_id = _group_of(db_url, "Olu")
        page.goto(f"{base}/organise/groups/{group_id}")
        section = page.get_by_role("region", name="In other languages")
        assert "No versions in other languages yet." in section.inner_text()
        section.get_by_label("Language", exact=True).fill("اردو")
        section.get_by_label("Description", exact=True).fill(URDU)
        section.get_by_role("button", name="Add the version").click()
        page.wait_for_url(lambda url: "done=text_added" in url)
        version = page.locator(f'dd[lang="ur"][dir="rtl"]:has-text("{URDU}")')
        assert version.count() == 1
        check(page, "organiser's group page with an Urdu version")

        page.goto(f"{base}/groups/tuesday-talk?lang=ur")
        assert page.locator("html").get_attribute("dir") == "rtl"
        heading = page.get_by_role("heading", level=1)
        assert heading.get_attribute("lang") == "en" and heading.get_attribute("dir") == "ltr"
        about = page.locator("p.user-text", has_text=URDU)
        assert about.count() == 1 and about.get_attribute("lang") is None
        check(page, "a group's page in Urdu with its Urdu description")

        page.goto(f"{base}/groups/tuesday-talk?lang=en-GB")
        assert "A calm space to talk" in page.get_by_role("main").inner_text()
        assert page.locator("p.user-text", has_text=URDU).count() == 0
    finally:
        context.close()
