"""The room in another language, in Chromium: the page's words and the scripts' words
come from the catalogues (the pseudo-language shows any left in English), the scripts
still work in English when their catalogue cannot be fetched, and the room mirrors
for a right-to-left language."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from peerhub import i18n
from peerhub.config import Settings
from peerhub.privacy.erasure import REDACTION_REASON
from peerhub.realtime.models import RoomMessage
from tests.conftest import make_settings
from tests.realtime.conftest import RTServer, World
from tests.realtime.js_strings import scripts_catalog

pytestmark = pytest.mark.browser
ROOM = "/groups/tuesday-talk/room"
P = i18n.pseudo


@pytest.fixture
def room_settings(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    # The scripts' strings as `make messages` extracts them (js.pot may lag behind).
    monkeypatch.setattr(i18n, "_js_source_catalog", scripts_catalog)
    yield make_settings(db_url, tmp_path, pseudo_locale=True)
    i18n.enable_pseudo(False)


def say(page: Any, label: str, text: str) -> None:
    box = page.get_by_label(label)
    box.fill(text)
    box.press("Enter")


def test_the_composer_speaks_the_pages_language(person: Any, room_server: RTServer) -> None:
    ana = person("ana")
    ana.goto(f"{room_server.base}{ROOM}?lang=en-XA")
    assert ana.locator("html").get_attribute("lang") == "en-XA"
    # Set by room.js from the JSON catalogue, not by the template.
    ana.get_by_text(P("Connected.")).wait_for()
    ana.get_by_role("button", name=P("I accept the ground rules")).click()
    send = ana.get_by_role("button", name=P("Send"))
    expect(send).to_be_enabled()
    assert ana.locator("#composer-help").inner_text() == P(
        "Enter sends. Shift and Enter starts a new line."
    )
    say(ana, P("Your message"), "Hello in any language")
    mine = ana.locator("li.message-own").last
    mine.locator(".message-state", has_text=P("Sent")).wait_for()
    assert mine.locator(".message-sender").inner_text() == P("You")
    # A plural from the catalogue: the characters-left count.
    ana.get_by_label(P("Your message")).fill("x" * 3900)
    count = ana.locator("#composer-count")
    expect(count).to_have_text(P("%(num)s characters left").replace("%(num)s", "100"))
    # The message menu's words come from the catalogue too.
    mine.locator(".message-menu summary").click()
    mine.get_by_role("button", name=P("Copy the text")).wait_for()


def test_the_scripts_work_in_english_when_their_catalogue_cannot_be_fetched(
    person: Any, room_server: RTServer
) -> None:
    ben = person("ben")
    ben.route("**/i18n/*.json", lambda route: route.abort())
    ben.goto(f"{room_server.base}{ROOM}?lang=en-XA")
    ben.get_by_text("Connected.").wait_for()  # the script's own English
    ben.get_by_role("button", name=P("I accept the ground rules")).click()
    say(ben, P("Your message"), "Still here")
    ben.locator("li.message-own .message-state", has_text="Sent").wait_for()


def test_the_room_mirrors_right_to_left(person: Any, room_server: RTServer) -> None:
    cat = person("cat")
    cat.goto(f"{room_server.base}{ROOM}?lang=ur")
    assert cat.locator("html").get_attribute("dir") == "rtl"
    cat.locator("#rules-accept").click()
    cat.locator("#message-input").fill("سلام")
    cat.locator("#message-input").press("Enter")
    mine = cat.locator("li.message-own").last
    mine.locator(".message-state").wait_for()
    item = mine.bounding_box()
    menu = mine.locator(".message-menu").bounding_box()
    assert item is not None and menu is not None
    # The menu sits at the inline end of the message: its left side in Urdu.
    assert menu["x"] - item["x"] < (item["x"] + item["width"]) - (menu["x"] + menu["width"])


def test_the_moderator_console_speaks_the_pages_language(
    person: Any, room_server: RTServer
) -> None:
    mo = person("mo")
    mo.goto(f"{room_server.base}{ROOM}?lang=en-XA")
    mo.get_by_text(P("Connected.")).wait_for()
    none = {
        "reports": P("%(num)s reports") % {"num": "0"},
        "held": P("%(num)s held messages") % {"num": "0"},
        "alerts": P("%(num)s crisis alerts") % {"num": "0"},
    }
    summary = P("Waiting: %(reports)s, %(held)s, %(alerts)s.") % none
    expect(mo.locator("#queue-summary")).to_have_text(summary)
    expect(mo.locator("#lock-button")).to_have_text(P("Lock the room"))
    expect(mo.locator("#lock-state")).to_have_text(P("The room is open for members to write."))


def test_room_events_are_worded_in_the_pages_language(
    person: Any, room_server: RTServer, room_world: World
) -> None:
    """System events carry data, not English sentences: the page words them from the
    catalogue, plurals by CLDR (an old row's English ``text`` is not shown either);
    a message whose writer deleted their account says so, under "Someone", in the
    page's language; and the banner keeps its space before the first contact."""
    room = room_world.group_id

    def in_server(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        loop = room_server.rt.loop
        assert loop is not None
        return asyncio.run_coroutine_threadsafe(make(), loop).result(15)

    ben = person("ben")
    ben.goto(f"{room_server.base}{ROOM}")
    ben.get_by_text("Connected.").wait_for()
    ben.get_by_role("button", name="I accept the ground rules").click()
    say(ben, "Your message", "Words that will go with my account")
    ben.locator("li.message-own .message-state", has_text="Sent").wait_for()
    ben.close()

    async def erase_bens_words() -> None:
        # What peerhub/privacy/erasure.py does to the messages of an account it deletes.
        async with room_server.rt.ctx.sessions() as db, db.begin():
            await db.execute(
                update(RoomMessage)
                .where(RoomMessage.room_id == room, RoomMessage.kind == "text")
                .values(
                    status="redacted", body="", redaction_reason=REDACTION_REASON, sender_id=None
                )
            )

    in_server(erase_bens_words)
    for data in (
        {"event": "member.erased"},
        {"event": "member.erased", "text": "A member deleted their account."},  # an old row
        {"event": "room.retention", "days": 1},
        {"event": "room.retention", "days": 30},
    ):
        in_server(functools.partial(room_server.rt.append_event, room, data))

    ana = person("ana")
    ana.goto(f"{room_server.base}{ROOM}?lang=en-XA")
    ana.get_by_text(P("Connected.")).wait_for()
    notices = ana.locator("li.message-system .message-body")
    expect(notices).to_have_text(
        [
            P("A member deleted their account."),
            P("A member deleted their account."),
            P("Messages older than %(num)s day are deleted, as this group chose.").replace(
                "%(num)s", "1"
            ),
            P("Messages older than %(num)s days are deleted, as this group chose.").replace(
                "%(num)s", "30"
            ),
        ]
    )
    gone = ana.locator("li.message-redacted")
    expect(gone.locator(".message-sender")).to_have_text(P("Someone"))
    expect(gone.locator(".message-body")).to_have_text(
        P("Deleted: its writer deleted their account.")
    )
    # No moderator is here: the banner says who to contact, with a space after its label.
    banner = ana.locator("#no-moderator-help")
    expect(banner).to_be_visible()
    assert banner.inner_text().startswith(P("To talk to someone now:") + " ")
