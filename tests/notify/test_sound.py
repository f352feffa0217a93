"""The sound for urgent notices is the person's choice, kept on the server (never in the
browser): stored in ``notice_settings.sound``, given to the page as ``data-sound`` on
the banner (in the banner's one query) and in each poll's answer, changed by
``POST /api/notices/sound`` (JSON with the CSRF header) or by the settings form's
checkbox (without JavaScript)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from peerhub.notify.models import NoticeSettings
from tests.conftest import BASE, csrf_token, post_form
from tests.notify.helpers import person, tell

HTML = {"Accept": "text/html"}


def _data_sound(html: str) -> str:
    found = re.search(r'<section[^>]*id="duty-notices"[^>]*data-sound="(on|off)"', html, re.S)
    assert found is not None, "no data-sound on the banner"
    return found.group(1)


async def _headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Origin": BASE, "X-CSRF-Token": await csrf_token(client)}


async def _sound(client: httpx.AsyncClient, on: bool) -> httpx.Response:
    """POST /api/notices/sound as notices.js does (JSON, the CSRF header)."""
    return await client.post("/api/notices/sound", json={"on": on}, headers=await _headers(client))


async def _stored(app: Any, user_id: str) -> bool | None:
    async with app.state.ctx.sessions() as db:
        row = await db.get(NoticeSettings, user_id)
    return None if row is None else row.sound


async def test_the_sound_is_on_until_turned_off_and_the_page_and_poll_say_so(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    page = await client.get("/", headers=HTML)
    assert _data_sound(page.text) == "on"
    assert (await client.get("/api/notices/unread")).json()["sound"] is True

    off = await _sound(client, False)
    assert off.status_code == 200 and off.json() == {"sound": False}
    assert await _stored(app, sam) is False
    await tell(app, sam)
    page = await client.get("/find", headers=HTML)
    assert _data_sound(page.text) == "off"
    assert 'aria-pressed="false"' in page.text
    polled = (await client.get("/api/notices/unread")).json()
    assert polled["sound"] is False and len(polled["notices"]) == 1

    on = await _sound(client, True)
    assert on.status_code == 200 and on.json() == {"sound": True}
    assert await _stored(app, sam) is True
    assert _data_sound((await client.get("/", headers=HTML)).text) == "on"


async def test_turning_the_sound_off_keeps_the_other_choices(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    saved = await post_form(client, "/account/notifications", {"channel": "email", "sound": "on"})
    assert saved.status_code == 303
    off = await _sound(client, False)
    assert off.status_code == 200
    async with app.state.ctx.sessions() as db:
        row = await db.get(NoticeSettings, sam)
    assert row is not None
    assert (row.email, row.push, row.sms, row.sound) == (True, False, False, False)


async def test_the_banner_reads_the_sound_in_its_one_query(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    await tell(app, sam)
    off = await _sound(client, False)
    assert off.status_code == 200
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.state.ctx.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = await client.get("/account", headers=HTML)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert _data_sound(page.text) == "off"
    assert "A crisis alert needs a moderator on PeerHub." in page.text
    about = [s for s in statements if "notices" in s or "notice_settings" in s]
    assert len(about) == 1, about


async def test_the_settings_form_checkbox_turns_the_sound_off_and_on_without_javascript(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    page = await client.get("/account/notifications")
    assert re.search(
        r'<input type="checkbox" id="notice-sound" name="sound"[^>]* checked', page.text
    )
    assert '<label for="notice-sound">' in page.text
    # An unticked checkbox sends nothing: the sound is off.
    done = await post_form(client, "/account/notifications", {"channel": "email"})
    assert done.status_code == 303
    assert await _stored(app, sam) is False
    page = await client.get("/account/notifications")
    assert not re.search(r'id="notice-sound"[^>]* checked', page.text)
    assert _data_sound(page.text) == "off"
    done = await post_form(client, "/account/notifications", {"channel": "email", "sound": "on"})
    assert done.status_code == 303
    assert await _stored(app, sam) is True
    # A refused form keeps what was ticked.
    bad = await post_form(client, "/account/notifications", {"channel": "sms", "phone": "0"})
    assert bad.status_code == 422
    assert not re.search(r'id="notice-sound"[^>]* checked', bad.text)


async def test_the_sound_route_refuses_bad_input_visitors_and_missing_csrf(
    app: Any, client: httpx.AsyncClient
) -> None:
    # Signed out: no choice to change.
    token = await csrf_token(client)
    visitor = await client.post(
        "/api/notices/sound", json={"on": False}, headers={"Origin": BASE, "X-CSRF-Token": token}
    )
    assert visitor.status_code in (401, 403)

    sam = await person(app, client, "Sam")
    headers = await _headers(client)
    for bad in ({}, {"on": "false"}, {"on": 0}, {"on": None}, [False], "off", {"sound": False}):
        answer = await client.post("/api/notices/sound", json=bad, headers=headers)
        assert answer.status_code == 422, bad
    form = await client.post("/api/notices/sound", data={"on": "false"}, headers=headers)
    assert form.status_code == 415
    not_json = await client.post(
        "/api/notices/sound",
        content=b"{on: false",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert not_json.status_code in (400, 422)
    # Without the CSRF header (or with a wrong one), nothing changes.
    refused = await client.post("/api/notices/sound", json={"on": False}, headers={"Origin": BASE})
    assert refused.status_code == 403
    wrong = await client.post(
        "/api/notices/sound", json={"on": False}, headers={"Origin": BASE, "X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    assert await _stored(app, sam) is None  # never written: the default, on
    assert (await client.get("/api/notices/unread")).json()["sound"] is True


def test_the_script_keeps_nothing_in_the_browser_and_plays_nothing_on_load() -> None:
    text = (Path(__file__).parents[2] / "peerhub/static/js/notices.js").read_text("utf-8")
    assert "localStorage" not in text and "sessionStorage" not in text
    assert "/api/notices/sound" in text and "X-CSRF-Token" in text
    assert "dataset.sound" in text
