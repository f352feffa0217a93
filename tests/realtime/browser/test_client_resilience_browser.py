"""Issue 10 in Chromium: the browser client (realtime.js) against the protocol's answers.

- A lone surrogate (half an emoji, from a paste) would be refused as text no database
  can store: the client mends it before sending, so the person's message is saved.
- A page whose last seq is one the room never reached (here: the room's log restored
  to an earlier state) is answered ``limited`` and starts again from the room's log,
  instead of dropping the room's new messages as ones it has already seen.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from peerhub.db import make_engine, make_sessionmaker
from peerhub.realtime.models import Room, RoomMessage
from tests.conftest import run_sync
from tests.realtime.browser.test_room_browser import enter_room, say
from tests.realtime.conftest import Client, RTServer, World

pytestmark = pytest.mark.browser


def in_server(server: RTServer, fn: Any) -> Any:
    loop = server.rt.loop
    assert loop is not None
    return asyncio.run_coroutine_threadsafe(fn(), loop).result(10)


def on_db(db_url: str, fn: Any) -> Any:
    async def run() -> Any:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                return await fn(db)
        finally:
            await engine.dispose()

    return run_sync(run)


def test_a_broken_character_is_mended_and_the_message_is_saved(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    base = room_server.base
    ana, ben = person("ana"), person("ben")
    enter_room(ana, base)
    enter_room(ben, base)
    box = ana.get_by_label("Your message")
    # What a paste of half an emoji leaves: a lone high surrogate.
    box.evaluate(
        """(el) => {
            el.value = 'half an emoji ' + String.fromCharCode(0xD83D) + ' here';
            el.dispatchEvent(new Event('input', { bubbles: true }));
        }"""
    )
    box.press("Enter")
    ana.locator("li.message-own .message-state", has_text="Sent").wait_for()
    ben.locator(".message-body", has_text="half an emoji").wait_for()

    async def stored(db: Any) -> list[str]:
        return list(await db.scalars(select(RoomMessage.body).where(RoomMessage.kind == "text")))

    assert on_db(db_url, stored) == ["half an emoji \ufffd here"]


def test_a_page_that_resumes_past_the_rooms_log_starts_again_from_it(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    base, room = room_server.base, room_world.group_id
    ana = person("ana")
    enter_room(ana, base)
    for i in range(3):
        say(ana, f"before the restore {i}")
        ana.locator(".message-state", has_text="Sent").nth(i).wait_for()

    # The database goes back to an earlier state (a restore from a backup): the
    # room's log is empty again, while Ana's page remembers seq 3.
    async def restore(db: Any) -> None:
        await db.execute(delete(RoomMessage).where(RoomMessage.room_id == room))
        await db.execute(update(Room).where(Room.id == room).values(next_seq=1))

    on_db(db_url, restore)

    async def restart() -> None:
        for peer in room_server.rt.hub.peers_of(room_world.users["ana"]):
            peer.close(1012, "Restarting.")

    in_server(room_server, restart)
    # Her page resumes from seq 3, is told `limited`, and shows the room's log from
    # the start: the earlier lines are gone from the page.
    ana.locator(".message-body", has_text="before the restore").first.wait_for(state="detached")
    ana.get_by_text("Connected.").wait_for()

    async def ben_says() -> None:
        ben = await Client.open(room_server, room_world.tokens["ben"])
        try:
            await ben.join(room)
            ack = await ben.say(room, "after the restore", "restored-0001")
            assert ack["seq"] == 1
        finally:
            ben.abort()

    run_sync(ben_says)
    ana.locator(".message-body", has_text="after the restore").wait_for()
