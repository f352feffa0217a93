"""Issue 9, points 17, 18, 19 (and what point 6 shows) in Chromium.

17: the room opens at the newest message, or at the first unread one with a "New
    messages" line; what was read is kept on the server (a reload, another device).
18: the room fills the screen: the document does not scroll, the list does; the composer
    and the crisis link stay in view at 360x640 and 1280x800; axe finds nothing; times
    follow the page's language (24-hour for en-GB) even in a US-English browser.
19: with no moderator here the top of the room says so, with the next session and the
    crisis contacts, and it changes live as a moderator comes and goes.

Screenshots go to $PEERHUB_SHOTS_DIR when it is set (never into the repository).
No sleeps: Playwright's waits and expect, and polling the database with a deadline.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import GroupTag
from peerhub.realtime.models import Room, RoomMessage, RoomReadPosition
from tests.browser.conftest import assert_accessible
from tests.conftest import run_sync
from tests.realtime.conftest import RTServer, World

pytestmark = pytest.mark.browser
ROOM = "/groups/tuesday-talk/room"
SIZES = {"phone": (360, 640), "desktop": (1280, 800)}
# 18:40 in London on a November evening (GMT): a US-English browser would say 6:40 PM.
AT = datetime(2026, 11, 3, 18, 40, tzinfo=UTC)


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("PEERHUB_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def db_run(db_url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                return await fn(db)
        finally:
            await engine.dispose()

    return run_sync(go)


def seed_messages(db_url: str, world: World, count: int, *, read_by_ana: int | None) -> None:
    """``count`` messages from Ben (m1..mN), one a minute up to AT; Ana's read position."""

    async def seed(db: Any) -> None:
        db.add(Room(id=world.group_id, next_seq=count + 1))
        await db.flush()
        for seq in range(1, count + 1):
            db.add(
                RoomMessage(
                    room_id=world.group_id,
                    seq=seq,
                    sender_id=world.users["ben"],
                    client_id=f"seeded-{seq:06d}",
                    body=f"m{seq}" + (" and a longer line of talk" if seq % 3 else ""),
                    created_at=AT - timedelta(minutes=count - seq),
                )
            )
        if read_by_ana is not None:
            db.add(
                RoomReadPosition(
                    room_id=world.group_id,
                    user_id=world.users["ana"],
                    last_read_seq=read_by_ana,
                    updated_at=AT,
                )
            )

    db_run(db_url, seed)


def read_position(db_url: str, world: World) -> int:
    async def read(db: Any) -> int:
        value = await db.scalar(
            select(RoomReadPosition.last_read_seq).where(
                RoomReadPosition.room_id == world.group_id,
                RoomReadPosition.user_id == world.users["ana"],
            )
        )
        return int(value or 0)

    return int(db_run(db_url, read))


def wait_for_read_position(db_url: str, world: World, seq: int) -> None:
    deadline = time.monotonic() + 10
    while read_position(db_url, world) != seq:
        assert time.monotonic() < deadline, f"read position is {read_position(db_url, world)}"
        time.sleep(0.05)  # polling the database with a deadline, not synchronising


def enter(page: Any, base: str, *, accept_rules: bool = True) -> None:
    page.goto(base + ROOM)
    page.get_by_text("Connected.").wait_for()
    if accept_rules:
        page.get_by_role("button", name="I accept the ground rules").click()
        page.get_by_role("button", name="I accept the ground rules").wait_for(state="hidden")


IN_VIEW = """(sel) => {
    const node = document.querySelector(sel);
    const list = document.getElementById('message-log');
    if (!node) return false;
    const r = node.getBoundingClientRect(), l = list.getBoundingClientRect();
    return r.top >= l.top - 1 && r.bottom <= l.bottom + 1
        && r.top >= 0 && r.bottom <= window.innerHeight;
}"""


def in_view(page: Any, selector: str) -> bool:
    """The element is inside the window and inside the message list's visible part now."""
    return bool(page.evaluate(IN_VIEW, selector))


def comes_into_view(page: Any, selector: str) -> None:
    """Wait (with Playwright's deadline) until the element is in view."""
    page.wait_for_function(IN_VIEW, arg=selector, timeout=5_000)


def scroll_state(page: Any) -> dict[str, float]:
    return dict(
        page.evaluate(
            """() => {
                const doc = document.scrollingElement;
                const list = document.getElementById('message-log');
                return {docScroll: doc.scrollHeight - doc.clientHeight, winY: window.scrollY,
                        listScroll: list.scrollHeight - list.clientHeight, listTop: list.scrollTop};
            }"""
        )
    )


def fully_visible(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def seq_of(page: Any, body: str) -> str:
    return str(
        page.locator(
            "#messages li.message",
            has=page.locator(".message-body", has_text=re.compile(f"^{body}( |$)")),
        ).first.get_attribute("data-seq")
    )


# --- 18: one scrolling area, the composer docked ---------------------------------------------


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_room_fills_the_screen_with_one_scroll_area(
    size: str, person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    width, height = SIZES[size]
    seed_messages(db_url, room_world, 70, read_by_ana=None)
    ana = person("ana", width=width)
    ana.set_viewport_size({"width": width, "height": height})
    enter(ana, room_server.base)
    ana.locator("#messages .message-body", has_text="m70").wait_for()

    state = scroll_state(ana)
    assert state["docScroll"] <= 0 and state["winY"] == 0, state
    assert state["listScroll"] > 200, state  # the list has far more than fits
    # A first visit opens at the newest message.
    comes_into_view(ana, f'#messages li[data-seq="{seq_of(ana, "m70")}"]')
    composer, crisis = ana.get_by_label("Your message"), ana.locator(".crisis-link")
    assert fully_visible(ana, composer) and fully_visible(ana, crisis)
    assert fully_visible(ana, ana.get_by_role("button", name="Send"))

    # Scrolling moves the list, never the page: the composer stays where it was.
    before = composer.bounding_box()
    ana.locator("#message-log").hover()
    ana.mouse.wheel(0, -1500)
    expect(ana.locator("#message-log")).not_to_have_js_property("scrollTop", state["listTop"])
    after = scroll_state(ana)
    assert after["listTop"] < state["listTop"] and after["winY"] == 0
    assert composer.bounding_box() == before and fully_visible(ana, crisis)
    # The way back down.
    ana.get_by_role("button", name="Go to the newest messages").click()
    expect(ana.get_by_role("button", name="Go to the newest messages")).to_be_hidden()

    # Keyboard: the list takes focus and scrolls; Enter in the box sends.
    ana.locator("#message-log").focus()
    ana.keyboard.press("Home")
    expect(ana.locator("#message-log")).to_have_js_property("scrollTop", 0)
    composer.focus()
    ana.keyboard.type("Hello from the docked composer")
    ana.keyboard.press("Enter")
    ana.locator("li.message-own .message-state", has_text="Sent").wait_for()
    comes_into_view(ana, "li.message-own")
    assert scroll_state(ana)["winY"] == 0
    assert_accessible(ana, f"room at {width}x{height}")
    shot(ana, f"member-{width}")

    # The footer's crisis panel opens over the room from the header's link, and closes.
    ana.locator(".crisis-link").click()
    panel = ana.locator("#need-help-now")
    expect(panel).to_be_visible()
    assert "116 123" in panel.inner_text()
    assert_accessible(ana, f"crisis panel over the room at {width}")
    shot(ana, f"crisis-panel-{width}")
    ana.get_by_role("link", name="Back to the room").click()
    expect(panel).to_be_hidden()
    assert fully_visible(ana, composer)


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_moderator_reaches_every_control_and_the_console(
    size: str, person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    width, height = SIZES[size]
    seed_messages(db_url, room_world, 30, read_by_ana=None)
    mo = person("mo", width=width)
    mo.set_viewport_size({"width": width, "height": height})
    enter(mo, room_server.base, accept_rules=False)
    mo.locator("#messages .message-body", has_text="m30").wait_for()
    composer = mo.get_by_label("Your message")
    assert fully_visible(mo, composer)
    toggle = mo.get_by_role("button", name="Moderating")
    if size == "phone":
        # On a phone the panel takes the messages' place, behind one button.
        expect(mo.locator("#room-side")).to_be_hidden()
        toggle.click()
        expect(mo.get_by_role("button", name="Back to the messages")).to_have_attribute(
            "aria-expanded", "true"
        )
    else:
        expect(toggle).to_be_hidden()
    mo.get_by_role("button", name="Open the session").wait_for()
    expect(mo.locator("#queue-summary")).to_have_text(re.compile("^Waiting: "))
    mo.get_by_role("link", name="Go to the moderator console").click()
    expect(mo.get_by_role("heading", name="Moderator console")).to_be_in_viewport()
    assert scroll_state(mo)["winY"] == 0
    assert_accessible(mo, f"moderator's room at {width}")
    shot(mo, f"moderator-console-{width}")
    if size == "phone":
        mo.get_by_role("button", name="Back to the messages").click()
        expect(mo.locator("#message-log")).to_be_visible()
    # The message menu still works.
    item = mo.locator("#messages li.message").last
    item.locator("summary").click()
    expect(item.get_by_role("button", name="Redact this message")).to_be_visible()
    shot(mo, f"moderator-{width}")


def test_times_follow_the_pages_language_not_the_browsers(
    browser: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    seed_messages(db_url, room_world, 3, read_by_ana=None)
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="Europe/London"
    )
    try:
        context.add_cookies(
            [
                {
                    "name": room_server.settings.sign_in_cookie_name,
                    "value": room_world.tokens["ana"],
                    "url": room_server.base,
                }
            ]
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        enter(page, room_server.base)
        # This browser's own default is the US 12-hour clock...
        assert "PM" in page.evaluate("new Date('2026-11-03T18:40:00Z').toLocaleTimeString()")
        # ...but the page is en-GB, and so are its times.
        assert page.evaluate("document.documentElement.lang") == "en-GB"
        last = page.locator("#messages li.message").last
        expect(last.locator("time")).to_have_text("18:40")
        times = page.locator("#messages time").all_inner_texts()
        assert times == ["18:38", "18:39", "18:40"], times
    finally:
        context.close()


# --- 17: open at the newest, or at the first unread -------------------------------------------


def test_reopening_opens_at_the_first_unread_with_a_marker_kept_on_the_server(
    person: Any, browser: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    seed_messages(db_url, room_world, 70, read_by_ana=30)
    ana = person("ana", width=1280)
    enter(ana, room_server.base)
    marker = ana.locator("#messages li.unread-marker")
    expect(marker).to_have_text("New messages")
    # The line sits just before the first unread message, and that is what is on screen.
    after = marker.locator("xpath=following-sibling::li[1]")
    expect(after.locator(".message-body")).to_have_text(re.compile("^m31 "))
    comes_into_view(ana, "#messages li.unread-marker")
    assert not in_view(ana, f'#messages li[data-seq="{seq_of(ana, "m70")}"]')
    shot(ana, "unread-marker-1280")
    # Nothing below was on screen, so nothing below is marked read.
    assert read_position(db_url, room_world) < 70

    # Reading to the end stores it: a reload opens at the newest, with no marker.
    ana.get_by_role("button", name="Go to the newest messages").click()
    wait_for_read_position(db_url, room_world, 70)
    ana.reload()
    ana.get_by_text("Connected.").wait_for()
    ana.locator("#messages .message-body", has_text="m70").wait_for()
    expect(ana.locator("#messages li.unread-marker")).to_have_count(0)
    comes_into_view(ana, f'#messages li[data-seq="{seq_of(ana, "m70")}"]')

    # Ben writes while Ana is away (her page closed first, so it reads nothing); on
    # another device (a fresh browser, no shared storage) her room opens at his message.
    ana.close()
    ben = person("ben")
    enter(ben, room_server.base)
    for text in ("are you there?", "I wanted to say thanks"):
        box = ben.get_by_label("Your message")
        box.fill(text)
        box.press("Enter")
        ben.locator("li.message-own .message-state", has_text="Sent").last.wait_for()
    phone = person("ana", width=360)
    phone.set_viewport_size({"width": 360, "height": 640})
    phone.goto(room_server.base + ROOM)
    phone.get_by_text("Connected.").wait_for()
    marker = phone.locator("#messages li.unread-marker")
    expect(marker.locator("xpath=following-sibling::li[1]")).to_contain_text("are you there?")
    comes_into_view(phone, "#messages li.unread-marker")


def test_the_first_unread_message_older_than_the_latest_page_is_found(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    seed_messages(db_url, room_world, 70, read_by_ana=10)
    ana = person("ana", width=1280)
    enter(ana, room_server.base)
    marker = ana.locator("#messages li.unread-marker")
    expect(marker.locator("xpath=following-sibling::li[1]")).to_contain_text("m11 ")
    comes_into_view(ana, "#messages li.unread-marker")
    assert ana.locator("#messages li.message").count() == 70


# --- 19: no moderator here ---------------------------------------------------------------------


def test_the_room_says_when_no_moderator_is_here_and_changes_live(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    ana = person("ana", width=360)
    ana.set_viewport_size({"width": 360, "height": 640})
    enter(ana, room_server.base)
    banner = ana.locator("#no-moderator")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("heading")).to_have_text("No moderator is here right now.")
    expect(banner).to_contain_text("The next session is ")
    expect(banner).to_contain_text("You can still talk with the others here.")
    for contact in ("116 123", "85258"):
        expect(banner).to_contain_text(contact)
    assert fully_visible(ana, ana.get_by_label("Your message"))
    assert_accessible(ana, "no-moderator banner at 360")
    shot(ana, "no-moderator-360")
    ana.set_viewport_size({"width": 1280, "height": 800})
    shot(ana, "no-moderator-1280")

    # The person may fold it down to its first line.
    banner.get_by_role("button", name=re.compile("^Hide")).click()
    expect(banner.locator("#no-moderator-help")).to_be_hidden()
    expect(banner.get_by_role("button", name=re.compile("^Show more"))).to_have_attribute(
        "aria-expanded", "false"
    )

    # A moderator arrives: the banner goes, live; they leave: it comes back, in full.
    mo = person("mo")
    enter(mo, room_server.base, accept_rules=False)
    expect(banner).to_be_hidden()
    expect(mo.locator("#no-moderator")).to_be_hidden()
    mo.close()
    expect(banner).to_be_visible()
    expect(banner.locator("#no-moderator-help")).to_contain_text("116 123")


def test_a_crisis_stage_room_says_members_can_write_when_a_moderator_is_here(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    async def tag(db: Any) -> None:
        db.add(GroupTag(group_id=room_world.group_id, kind="stage", value="approaching_crisis"))

    db_run(db_url, tag)
    ana = person("ana", width=1280)
    enter(ana, room_server.base)
    banner = ana.locator("#no-moderator")
    expect(banner).to_contain_text("You can read now, and write when a moderator is here.")
    expect(ana.get_by_label("Your message")).to_be_disabled()
    # Point 6, as the new member sees it: told before writing, and after.
    mo = person("mo")
    enter(mo, room_server.base, accept_rules=False)
    mo.get_by_role("button", name="Open the session").click()
    expect(banner).to_be_hidden()
    notice = ana.locator("#newcomer-notice")
    expect(notice).to_contain_text("Because you are new here, a moderator reads your first 3")
    box = ana.get_by_label("Your message")
    expect(box).to_be_enabled()
    box.fill("Hello, I am new")
    box.press("Enter")
    mine = ana.locator("li.message-own .message-state")
    expect(mine).to_have_text(re.compile("^Thanks for writing. Because you are new here"))
    shot(ana, "newcomer-1280")
    held = mo.locator("#mod-held li")
    expect(held).to_contain_text("Hello, I am new")
    held.get_by_role("button", name=re.compile("^Approve")).click()
    ben = person("ben")
    enter(ben, room_server.base)
    expect(ben.locator("#messages .message-body", has_text="Hello, I am new")).to_be_visible()
