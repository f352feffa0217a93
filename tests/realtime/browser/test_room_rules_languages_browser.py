"""The room's ground rules in Chromium: a Welsh reader sees the group's Welsh version; an
Urdu reader sees the group's own English rules marked lang="en" dir="ltr" inside the
right-to-left page, with a line saying they are in English; both accept the rules."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import GroupText
from tests.conftest import run_sync
from tests.realtime.conftest import RULES, RTServer, World

pytestmark = pytest.mark.browser
ROOM = "/groups/tuesday-talk/room"
WELSH = "Byddwch yn garedig."


def _welsh_rules(db_url: str, world: World) -> None:
    async def add() -> None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as db, db.begin():
                db.add(GroupText(group_id=world.group_id, language="cy", ground_rules=WELSH))
        finally:
            await engine.dispose()

    run_sync(add)


def test_rules_in_the_readers_language_or_marked_as_another(
    person: Any, room_server: RTServer, room_world: World, db_url: str
) -> None:
    _welsh_rules(db_url, room_world)
    ana = person("ana")
    ana.goto(f"{room_server.base}{ROOM}?lang=cy")
    rules = ana.locator("#rules-text")
    expect(rules).to_have_text(WELSH)
    assert rules.get_attribute("lang") is None
    expect(ana.locator("#rules-language")).to_be_hidden()

    ben = person("ben", width=360)
    ben.goto(f"{room_server.base}{ROOM}?lang=ur")
    assert ben.locator("html").get_attribute("dir") == "rtl"
    rules = ben.locator("#rules-text")
    expect(rules).to_have_text(RULES)
    assert rules.get_attribute("lang") == "en" and rules.get_attribute("dir") == "ltr"
    note = ben.locator("#rules-language")
    expect(note).to_be_visible()
    expect(note).to_contain_text("انگریزی")
    ben.locator("#rules-accept").click()
    expect(ben.locator("#rules")).to_be_hidden()
