"""The room page's state module on its own, in Chromium: room.js keeps the room's state
in room-state.js, apart from the page, and words system events in room-events.js
(docs/architecture.md, "The room page's modules"). These call their functions directly
on a state of their own, after the room page has loaded them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.realtime.conftest import RTServer

pytestmark = pytest.mark.browser

# An async function that returns [what, got, wanted] for each check.
CHECKS = (Path(__file__).parent / "room_state_checks.js").read_text(encoding="utf-8")


def test_the_room_state_module_works_on_its_own(person: Any, room_server: RTServer) -> None:
    page = person("ana")
    page.goto(room_server.base + "/groups/tuesday-talk/room")
    page.get_by_text("Connected.").wait_for()
    results = page.evaluate(CHECKS)
    assert len(results) == CHECKS.count("\n  check(")  # every check ran
    wrong = [(what, got, wanted) for what, got, wanted in results if got != wanted]
    assert not wrong, wrong
