"""The duty desk in Chromium: a crisis message in a room with no moderator present, its
alert climbing to the organiser when its time runs out (a clock the test moves), the
organiser opening it from their duty desk, a private check-in with the person (asked,
accepted, a message in its room), closing the alert with what was done, and the
record. axe (WCAG 2.2 AA) and the 360 px check on the desk and the alert's page."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from peerhub.config import Settings
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.realtime.browser.test_moderation_browser import enter_room, say, sees
from tests.realtime.conftest import RTServer, World

pytestmark = pytest.mark.browser


class Clock:
    """Real time plus whatever the test adds (read from the server's thread)."""

    def __init__(self) -> None:
        self.extra = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.extra


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def room_server(room_settings: Settings, room_world: World, clock: Clock) -> Iterator[RTServer]:
    with RTServer(room_settings, clock=clock) as server:
        yield server


def run_due_steps(server: RTServer) -> None:
    """Have the server's outbox run what is due now, and wait until it has."""
    dispatcher = server.app.state.outbox

    async def settle() -> None:
        dispatcher.wake()
        await dispatcher.idle()

    asyncio.run_coroutine_threadsafe(settle(), dispatcher._loop).result(10)


def test_an_unopened_alert_reaches_the_organiser_who_checks_in_privately_and_records_it(
    person: Any, room_server: RTServer, room_world: World, clock: Clock
) -> None:
    base = room_server.base
    ana = person("ana")
    enter_room(ana, base)
    say(ana, "Honestly I can’t go on like this")
    sees(ana, "can’t go on like this")
    expect(ana.locator("#messages")).to_contain_text("can’t go on")

    # Nobody on duty opens it: after the group's 5 minutes the organiser is told.
    olga = person("olga")
    olga.goto(base + "/duty")
    alert_link = olga.get_by_role("link", name="In Tuesday Talk")
    expect(alert_link).to_be_visible()
    expect(olga.locator("main")).to_contain_text("Nobody has opened it yet.")
    clock.extra = timedelta(minutes=5, seconds=1)
    run_due_steps(room_server)
    olga.reload()
    expect(olga.locator("main")).to_contain_text("Told so far: the group’s organisers.")
    assert_accessible(olga, "duty desk")
    assert_fits_narrow_screen(olga)
    olga.set_viewport_size({"width": 1280, "height": 900})

    olga.get_by_role("link", name="In Tuesday Talk").click()
    expect(olga.get_by_role("heading", level=1)).to_have_text("Crisis alert in Tuesday Talk")
    expect(olga.locator("main")).to_contain_text("can’t go on like this")
    record = olga.locator("section", has=olga.get_by_role("heading", name="The record"))
    expect(record).to_contain_text("the group’s organisers were told")
    olga.get_by_role("button", name="I’m on it").click()
    expect(olga.get_by_role("status")).to_contain_text("You are on it")
    expect(record).to_contain_text("Olga opened it.")
    assert_accessible(olga, "alert page")
    assert_fits_narrow_screen(olga)
    olga.set_viewport_size({"width": 1280, "height": 900})

    # The next step does not come: it was opened.
    clock.extra = timedelta(minutes=30)
    run_due_steps(room_server)

    # A private check-in with Ana, from the alert: she is told who asks, and says yes.
    alert_url = olga.url.split("?")[0]
    olga.get_by_role("button", name="Start a private check-in with Ana").click()
    expect(olga.get_by_role("heading", level=1)).to_have_text("A private check-in")
    check_in_url = olga.url.split("?")[0]
    ana.goto(check_in_url)
    expect(ana.locator("main")).to_contain_text("Olga, a moderator, would like to check in")
    assert_accessible(ana, "check-in invitation")
    ana.get_by_role("button", name="Yes, talk privately").click()  # to the room
    ana.get_by_text("Connected.").wait_for()
    say(ana, "Thank you for asking, I feel a bit safer")
    olga.goto(check_in_url)
    olga.get_by_role("link", name="Go to the conversation").click()
    sees(olga, "I feel a bit safer")
    olga.goto(alert_url)

    # Closing asks what was done, and says so plainly when nothing is chosen.
    olga.get_by_role("button", name="Close the alert").click()
    expect(olga.locator("#outcome-error")).to_contain_text("Choose what was done.")
    olga.get_by_label("A private check-in with the person").check()
    olga.get_by_label("Anything to record (optional)").fill("Talked privately; she felt safer.")
    olga.get_by_role("button", name="Close the alert").click()
    expect(olga.get_by_role("status")).to_contain_text("What was done is recorded.")
    expect(record).to_contain_text("Olga closed it.")
    expect(record).not_to_contain_text("the safeguarding leads were told")
    olga.goto(base + "/duty")
    expect(olga.locator("main")).to_contain_text("No crisis alert is waiting.")
