"""/find's results name each group in the page's language where its organisers gave a
version, with the own name's lang and dir otherwise (issue 12, part 4)."""

from __future__ import annotations

from typing import Any

import httpx

from peerhub.models import GroupText
from tests.finding.conftest import add_group


async def test_results_use_the_name_in_the_page_language(
    client: httpx.AsyncClient, sessions: Any
) -> None:
    group = await add_group(sessions, "Tuesday Talk", languages=("en", "cy"))
    await add_group(sessions, "Urdu Circle", languages=("ur",), text_language="ur")
    async with sessions() as db, db.begin():
        db.add(GroupText(group_id=group.id, language="cy", name="Sgwrs Dydd Mawrth"))
    welsh = await client.get("/find", params={"search": "1", "format": "online", "lang": "cy"})
    assert welsh.status_code == 200
    assert ">Sgwrs Dydd Mawrth</a>" in welsh.text and "Tuesday Talk</a>" not in welsh.text
    english = await client.get("/find", params={"search": "1", "format": "online"})
    assert ">Tuesday Talk</a>" in english.text
    assert 'lang="ur" dir="rtl">Urdu Circle</a>' in english.text
