"""Who runs the next session, by pseudonym, for the group's members only; "Your rota";
and the moderator's calendar feed (issue 14, part 1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerhub.config import Settings
from tests.conftest import make_settings
from tests.directory.test_ical import parse
from tests.groups.helpers import anonymous, person, post
from tests.rotas.helpers import LATER, NEXT, SLUG, world


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # A WebSocket server on a free port, so that the room page is the member's room.
    return make_settings(db_url, tmp_path, extra={"ws_port": 0, "ws_host": "127.0.0.1"})


RUNS = "Moderating the next session: Moss."
NOBODY = "No moderator is rostered for the next session yet."


async def test_members_see_who_runs_the_next_session_and_visitors_do_not(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        page = await w.mia.get(f"/groups/{SLUG}")
        assert NOBODY in page.text
        await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        for path in (f"/groups/{SLUG}", "/account/groups"):
            page = await w.mia.get(path)
            assert page.status_code == 200 and RUNS in page.text, path
        room = await w.mia.get(f"/groups/{SLUG}/room")
        assert "Moderating the next session: Moss" in room.text
        async with anonymous(app) as anon:
            public = await anon.get(f"/groups/{SLUG}")
            assert public.status_code == 200 and "Moss" not in public.text
        async with person(app, "Stranger") as stranger:
            other = await stranger.get(f"/groups/{SLUG}")
            assert "Moss" not in other.text and NOBODY not in other.text


async def test_your_rota_lists_your_sessions_and_lets_you_offer_and_step_back(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        page = await w.moss.get("/account/rota")
        assert page.status_code == 200
        mine = page.text.split('id="covering-title"')[1].split('id="open-title"')[0]
        assert "Tuesday Talk" in mine and "3 November 2026" in mine
        r = await post(
            w.moss, "/account/rota", {"action": "offer", "group_id": w.group_id, "session": LATER}
        )
        assert r.status_code == 303 and "done=offered" in r.headers["location"]
        page = await w.moss.get(r.headers["location"])
        assert "You offered: waiting for an organiser" in page.text
        r = await post(
            w.moss,
            "/account/rota",
            {"action": "step_back", "group_id": w.group_id, "session": NEXT},
        )
        assert "done=gap" in r.headers["location"]
        # A member has no rota to offer from: the same refusals as the group's page.
        refused = await post(
            w.mia, "/account/rota", {"action": "offer", "group_id": w.group_id, "session": LATER}
        )
        assert refused.status_code == 403
        assert (await w.mia.get("/account/rota")).status_code == 200  # their own, empty
        odd = await post(w.moss, "/account/rota", {"action": "juggle"})
        assert odd.status_code == 422


async def test_the_calendar_feed_lists_only_that_moderators_rostered_sessions(
    app: Any, client: httpx.AsyncClient
) -> None:
    async with world(app, client) as w:
        await w.act(w.organiser, action="assign", session=NEXT, user_id=w.ids["Moss"])
        await w.act(w.organiser, action="assign", session=LATER, user_id=w.ids["Pat"])
        await w.act(w.moss, action="offer", session=LATER)  # an offer is not in the feed
        made = await post(w.moss, "/account/rota", {"action": "feed_new"})
        assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
        url = re.search(r'<code class="break-anywhere" id="feed-url">([^<]+)</code>', made.text)
        assert url is not None
        path = url.group(1).removeprefix("http://testserver")
        assert path.startswith("/rota/feed/") and path.endswith(".ics")

        async with anonymous(app) as calendar_app:
            feed = await calendar_app.get(path)
            assert feed.status_code == 200
            assert feed.headers["content-type"].startswith("text/calendar")
            cal = parse(feed.content)
            events = [c for c in cal.children if c.name == "VEVENT"]
            assert len(events) == 1
            (event,) = events
            assert event.text("SUMMARY") == "Tuesday Talk: moderating"
            assert event.one("DTSTART") == "20261103T180000Z"
            uid = event.text("UID")
            again = parse((await calendar_app.get(path)).content)
            assert [c.text("UID") for c in again.children if c.name == "VEVENT"] == [uid]

            # A bad token, and the old one once a new address is made, are plain 404s.
            assert (await calendar_app.get("/rota/feed/" + "x" * 43 + ".ics")).status_code == 404
            assert (await calendar_app.get("/rota/feed/short.ics")).status_code == 404
            await post(w.moss, "/account/rota", {"action": "feed_new"})
            assert (await calendar_app.get(path)).status_code == 404
            await post(w.moss, "/account/rota", {"action": "feed_revoke"})
            page = await w.moss.get("/account/rota")
            assert "Make a calendar address" in page.text
