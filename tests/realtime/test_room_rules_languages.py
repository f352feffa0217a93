"""The room's ground rules in the person's language where the group gave a version, else
the group's own text with its language and a note; accepting is always of the own text
(issue 12, part 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import GroupText
from tests.realtime.conftest import RULES, RTServer, World
from tests.realtime.test_socket_language import open_with


async def test_rules_in_the_sockets_language(
    server: RTServer, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as db, db.begin():
        db.add(
            GroupText(group_id=world.group_id, language="cy", ground_rules="Byddwch yn garedig.")
        )
    welsh = await open_with(server, world.tokens["ana"], "?lang=cy")
    urdu = await open_with(server, world.tokens["ben"], "?lang=ur")
    try:
        sub: Any = await welsh.subscribe(world.group_id)
        assert sub["rules"]["text"] == RULES  # what is accepted: the own text
        assert sub["rules"]["shown"] == {
            "text": "Byddwch yn garedig.",
            "lang": None,
            "dir": None,
            "note": None,
        }
        other: Any = await urdu.subscribe(world.group_id)
        shown = other["rules"]["shown"]
        assert shown["text"] == RULES and shown["lang"] == "en" and shown["dir"] == "ltr"
        assert shown["note"] and "انگریزی" in shown["note"]  # English, named in Urdu
        assert other["rules"]["version"] == sub["rules"]["version"]
    finally:
        welsh.abort()
        urdu.abort()
