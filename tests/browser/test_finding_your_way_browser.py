"""Finding your way, in Chromium on the demo data: sign up, find a group, join it, and
reach its room from the confirmation and from "Your groups"; every page on the way
axe-clean at 360 and 1280 px, and the menu usable at 360 px without JavaScript.

Set ``PEERHUB_TEST_SHOTS`` to a folder to keep screenshots of the menu, the home page
and "Your groups" at both widths (they are not part of the repository).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, new_page
from tests.browser.test_find_browser import _demo
from tests.conftest import make_settings, run_sync
from tests.realtime.conftest import RTServer

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)
GROUP = "Autistic Peer Chat (text only)"
SLUG = "spectrum-autistic-peer-chat-text"


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[RTServer]:
    """PeerHub with its WebSocket server, on the demo data."""
    run_sync(_demo, db_url)
    with RTServer(make_settings(db_url, tmp_path)) as running:
        yield running


def _shot(page: Any, name: str, width: int) -> None:
    folder = os.environ.get("PEERHUB_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
        page.locator("header.site-header").screenshot(path=f"{folder}/menu-{name}-{width}.png")


def at_both_widths(page: Any, label: str, shot: str | None = None, folded: bool = False) -> None:
    """axe finds nothing at 360 and at 1280 px; at 360 nothing scrolls sideways and
    every menu entry is on screen (the menu wraps: no hidden menu, no script). In a
    room (``folded``) the menu is behind "Menu", a disclosure that needs no script."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert_accessible(page, f"{label} at {width} px")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{label} is {overflow}px wide at {width}px"
        if folded:
            page.locator("summary", has_text="Menu").click()
            assert_accessible(page, f"{label} at {width} px, the menu open")
        menu = page.get_by_role("navigation", name="Main")
        for link in menu.get_by_role("link").all():
            assert link.is_visible(), f"{link.inner_text()} hidden at {width}px on {label}"
            box = link.bounding_box()
            assert box is not None and box["height"] >= 24, f"small target on {label}"
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.get_by_role("link", name="Need help now?").first.is_visible()
        if folded:
            page.locator("summary", has_text="Menu").click()
            assert not menu.get_by_role("link", name="Home").is_visible()
        if shot:
            _shot(page, shot, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def _go(page: Any, action: Any) -> int:
    """Do ``action`` (a click) and return the status of the page it led to."""
    with page.expect_navigation() as navigation:
        action()
    status: int = navigation.value.status
    return status


def test_sign_up_find_join_and_reach_the_room_twice(browser: Any, server: RTServer) -> None:
    base = server.base
    with new_page(browser) as page:
        page.goto(base + "/")
        at_both_widths(page, "home, signed out", shot="home-signed-out")
        # The directory is in the menu and on the home page.
        menu = page.get_by_role("navigation", name="Main")
        assert menu.get_by_role("link", name="All groups").get_attribute("href") == "/groups"
        assert page.get_by_role("main").get_by_role("link", name="See all groups").count() >= 1

        # Sign up from the menu.
        menu.get_by_role("link", name="Join PeerHub").click()
        page.get_by_label("Your name on PeerHub").fill("Wayfinder Kit")
        page.get_by_label("Password").fill("a quiet walk in the park")
        page.get_by_role("button", name="Join PeerHub").click()
        # Recovery words are offered first; this journey saves them another day.
        page.get_by_role("link", name="Not now, carry on").click()
        page.wait_for_url(base + "/account")
        at_both_widths(page, "account, new member")

        # Find a group from the menu: an online group for autistic people.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a group").click()
        page.wait_for_url(base + "/find")
        at_both_widths(page, "find a group")
        page.get_by_label("Autistic", exact=True).check()
        page.get_by_label("Online", exact=True).check()
        page.get_by_role("button", name="Find groups").click()
        page.wait_for_url(re.compile(r"/find\?.*search=1"))
        page.get_by_role("heading", name="Groups for you").wait_for()
        at_both_widths(page, "find results")
        page.get_by_role("link", name=GROUP, exact=True).click()
        page.wait_for_url(base + f"/groups/{SLUG}")
        at_both_widths(page, "group page, before joining")
        assert page.get_by_role("link", name="Go to the group’s room").count() == 0

        # Join, and go to the room straight from the confirmation.
        page.get_by_role("link", name="Join this group").click()
        page.wait_for_url(base + f"/groups/{SLUG}/join")
        page.get_by_role("button", name="Join this group").click()
        page.wait_for_url(re.compile(r"/join\?done=joined"))
        assert "You are now a member" in page.get_by_role("status").inner_text()
        at_both_widths(page, "join confirmation")
        status = _go(page, lambda: page.get_by_role("link", name="Go to the group’s room").click())
        assert status == 200 and page.url == base + f"/groups/{SLUG}/room"
        at_both_widths(page, "the room", folded=True)

        # "Your groups" from the menu: the group, its next session, and the room again.
        page.locator("summary", has_text="Menu").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Your groups").click()
        page.wait_for_url(base + "/account/groups")
        mine = page.get_by_role("main")
        title = page.get_by_role("link", name=GROUP, exact=True)
        card = mine.get_by_role("listitem").filter(has=title)
        assert "Next session:" in card.inner_text()
        assert re.search(r"Open now|Closed now|Read only now", card.inner_text())
        at_both_widths(page, "your groups", shot="your-groups")
        room_link = card.get_by_role("link", name=re.compile("Go to the room"))
        status = _go(page, lambda: room_link.click())
        assert status == 200 and page.url == base + f"/groups/{SLUG}/room"

        # And from the group's own page, now that they are a member.
        page.goto(base + f"/groups/{SLUG}")
        at_both_widths(page, "group page, a member")
        status = _go(page, lambda: page.get_by_role("link", name="Go to the group’s room").click())
        assert status == 200

        # The next sign-in lands on "Your groups".
        page.goto(base + "/")
        at_both_widths(page, "home, signed in", shot="home-member")
        page.get_by_role("button", name="Sign out").first.click()
        page.wait_for_url(base + "/?signed_out=1")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
        page.get_by_label("Your name on PeerHub").fill("Wayfinder Kit")
        page.get_by_label("Password").fill("a quiet walk in the park")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/account/groups")
        assert page.get_by_role("link", name=GROUP, exact=True).is_visible()
