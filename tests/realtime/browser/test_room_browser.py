"""Point 16 in Chromium: two members talk; own messages show sending, sent and not sent
with a retry; the page reconnects and resumes; presence; keyboard only; 360 px; axe."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from peerhub.db import make_engine, make_sessionmaker
from peerhub.realtime.models import RoomMessage
from tests.browser.conftest import assert_accessible, assert_fits_narrow_screen
from tests.conftest import run_sync
from tests.realtime.conftest import RTServer, World

pytestmark = pytest.mark.browser
ROOM = "/groups/tuesday-talk/room"


def enter_room(page: Any, base: str, *, accept_rules: bool = True) -> None:
    page.goto(base + ROOM)
    page.get_by_text("Connected.").wait_for()
    if accept_rules:
        page.get_by_role("button", name="I accept the ground rules").click()
        page.get_by_role("button", name="I accept the ground rules").wait_for(state="hidden")


def say(page: Any, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def in_server(server: RTServer, fn: Any) -> Any:
    loop = server.rt.loop
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(fn(), loop).result(10)


def test_two_members_talk_and_text_stays_text(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, ben = person("ana"), person("ben")
    enter_room(ana, base)
    enter_room(ben, base)
    assert not ben.get_by_role("button", name="Show earlier messages").is_visible()
    present = ben.locator("#present")
    present.get_by_text("Ana").wait_for()
    present.get_by_text("Ben").wait_for()

    hostile = '<img src=x onerror="alert(1)"> & <b>bold</b>'
    say(ana, hostile)
    mine = ana.locator("li.message-own").last
    mine.locator(".message-state", has_text="Sent").wait_for()
    theirs = ben.locator("#messages li.message").last
    theirs.locator(".message-body").wait_for()
    assert theirs.locator(".message-body").inner_text() == hostile
    assert theirs.locator(".message-sender").inner_text() == "Ana"
    assert ben.locator("#messages img").count() == 0 and ben.locator("#messages b").count() == 0
    assert not ana.dialogs and not ben.dialogs

    # Shift+Enter is a new line; Enter sends.
    box = ben.get_by_label("Your message")
    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    box.press("Enter")
    ana.locator("#messages li.message .message-body", has_text="second line").wait_for()
    got = ana.locator("#messages li.message").last.locator(".message-body").inner_text()
    assert got == "first line\nsecond line"
    # Typing notices.
    ana.get_by_label("Your message").type("hm")
    ben.get_by_text("Ana is typing…").wait_for()
    # Nothing in browser storage.
    for page in (ana, ben):
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_a_failed_message_is_retried_with_the_same_client_id(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    base = room_server.base
    mo = person("mo")
    enter_room(mo, base, accept_rules=False)
    mo.get_by_label("Open only during sessions, while a moderator is here").check()
    mo.locator("#messages li.message-system").first.wait_for()
    ana = person("ana")
    enter_room(ana, base)
    ana.locator("#room-state", has_text="open during sessions").wait_for()
    # Outside a session the composer is off; a message typed before it closed fails.
    assert ana.get_by_label("Your message").is_disabled()
    mo.get_by_role("button", name="Open the session").click()
    ana.locator("#room-state", has_text="A session is open").wait_for()
    mo.get_by_role("button", name="Close the session").wait_for()
    # Close again, then make Ana's send race it: the server refuses it.
    mo.get_by_role("button", name="Close the session").click()
    ana.locator("#room-state", has_text="open during sessions").wait_for()
    ana.evaluate(
        """() => {
            document.getElementById('message-input').disabled = false;
            document.getElementById('send-button').disabled = false;
        }"""
    )
    say(ana, "Is anyone here?")
    failed = ana.locator("li.message-failed")
    failed.get_by_text("Not sent.").wait_for()
    client_id = failed.get_attribute("data-client-id")
    mo.get_by_role("button", name="Open the session").click()
    ana.locator("#room-state", has_text="A session is open").wait_for()
    failed.get_by_role("button", name="Try again").click()
    ana.locator(f'li[data-client-id="{client_id}"] .message-state', has_text="Sent").wait_for()
    mo.locator("#messages .message-body", has_text="Is anyone here?").wait_for()

    async def stored() -> list[str]:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db:
                rows = await db.scalars(
                    select(RoomMessage.client_id).where(RoomMessage.body == "Is anyone here?")
                )
                return list(rows)
        finally:
            await engine.dispose()

    assert run_sync(stored) == [client_id]


def test_the_page_reconnects_and_resumes(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana, ben = person("ana"), person("ben")
    enter_room(ana, base)
    enter_room(ben, base)
    say(ana, "before the drop")
    ben.locator(".message-body", has_text="before the drop").wait_for()

    async def drop_ben() -> None:
        for peer in room_server.rt.hub.peers_of(room_world.users["ben"]):
            peer.close(1013, "Too far behind; reconnect and resume.")

    in_server(room_server, drop_ben)
    say(ana, "while you were away")
    ben.locator(".message-body", has_text="while you were away").wait_for()
    ben.get_by_text("Connected.").wait_for()
    assert ben.locator(".message-body", has_text="before the drop").count() == 1
    # And Ben can still write.
    say(ben, "back again")
    ana.locator(".message-body", has_text="back again").wait_for()


def test_the_room_is_accessible_and_fits_a_narrow_screen(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    base = room_server.base
    ana = person("ana")
    ana.goto(base + ROOM)
    ana.get_by_text("Connected.").wait_for()
    ana.get_by_role("button", name="I accept the ground rules").wait_for()
    assert_accessible(ana, "room with ground rules")
    # Keyboard only: Tab to the rules button, accept, then write.
    ana.get_by_role("button", name="I accept the ground rules").focus()
    ana.keyboard.press("Enter")
    ana.get_by_label("Your message").wait_for(state="visible")
    ana.locator("#message-input:not([disabled])").wait_for()
    ana.get_by_label("Your message").focus()
    ana.keyboard.type("Typed without a mouse")
    ana.keyboard.press("Enter")
    ana.locator("li.message-own .message-state", has_text="Sent").wait_for()
    assert_accessible(ana, "room with a message")
    ana.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(ana, "room at 360 px")
    assert_fits_narrow_screen(ana)
    mo = person("mo", width=360)
    mo.goto(base + ROOM)
    mo.get_by_text("Connected.").wait_for()
    assert_accessible(mo, "moderator's room at 360 px")
    assert_fits_narrow_screen(mo)


def test_signed_out_people_get_a_clear_page(
    person: Any, room_server: RTServer, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(room_server.base + ROOM)
        page.locator("#main").get_by_role("link", name="Sign in").wait_for()
        assert page.locator("#messages").count() == 0
        assert_accessible(page, "signed-out room page")
    finally:
        context.close()


def test_earlier_messages_page_in_on_request(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    from datetime import UTC, datetime

    from peerhub.realtime.models import Room

    async def seed() -> None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                db.add(Room(id=room_world.group_id, next_seq=71))
                await db.flush()
                now = datetime.now(UTC)
                for seq in range(1, 71):
                    db.add(
                        RoomMessage(
                            room_id=room_world.group_id,
                            seq=seq,
                            sender_id=room_world.users["ben"],
                            client_id=f"seeded-{seq:06d}",
                            body=f"m{seq}",
                            created_at=now,
                        )
                    )
        finally:
            await engine.dispose()

    run_sync(seed)
    ana = person("ana")
    enter_room(ana, room_server.base)
    bodies = ana.locator("#messages li.message .message-body")
    bodies.filter(has_text="m70").wait_for()
    assert bodies.count() == 50 and bodies.first.inner_text() == "m21"
    older = ana.get_by_role("button", name="Show earlier messages")
    older.click()
    bodies.filter(has_text="m1").first.wait_for()
    older.wait_for(state="hidden")
    assert bodies.count() == 70
    assert bodies.all_inner_texts() == [f"m{i}" for i in range(1, 71)]
