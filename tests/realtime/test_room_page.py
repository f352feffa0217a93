"""The room page and its front end: a clear page for everyone, and safe code."""

from __future__ import annotations

import re

import httpx

from peerhub.config import Settings
from tests.conftest import REPO, FakeClock, app_client
from tests.realtime.conftest import RTServer, World

JS = sorted((REPO / "peerhub" / "static" / "js").glob("*.js"))


async def page(server: RTServer, path: str, token: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.base) as http:
        if token is not None:
            http.cookies.set(server.settings.sign_in_cookie_name, token)
        return await http.get(path)


async def test_members_get_the_room(server: RTServer, world: World) -> None:
    response = await page(server, "/groups/tuesday-talk/room", world.tokens["ana"])
    assert response.status_code == 200
    assert f'data-room="{world.group_id}"' in response.text
    assert '<script type="module" src="/static/js/room.js">' in response.text
    assert 'role="log"' in response.text and "Need help now?" in response.text
    csp = response.headers["content-security-policy"]
    assert f"ws://127.0.0.1:{server.ws_port}" in csp
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    assert "session-toggle" not in response.text  # members see no moderator tools
    moderator = await page(server, "/groups/tuesday-talk/room", world.tokens["mo"])
    assert "session-toggle" in moderator.text


async def test_people_outside_the_group_get_a_clear_page(server: RTServer, world: World) -> None:
    signed_out = await page(server, "/groups/tuesday-talk/room")
    assert signed_out.status_code == 200
    assert "/login?next=%2Fgroups%2Ftuesday-talk%2Froom" in signed_out.text
    assert "room.js" not in signed_out.text
    outsider = await page(server, "/groups/tuesday-talk/room", world.tokens["out"])
    assert outsider.status_code == 403
    assert "/groups/tuesday-talk/join" in outsider.text and "room.js" not in outsider.text
    missing = await page(server, "/groups/no-such-group/room", world.tokens["ana"])
    assert missing.status_code == 404


async def test_without_a_websocket_server_the_page_says_so(
    rt_settings: Settings, world: World, rt_clock: FakeClock
) -> None:
    async with app_client(rt_settings, clock=rt_clock) as client:
        client.cookies.set(rt_settings.sign_in_cookie_name, world.tokens["ana"])
        response = await client.get("/groups/tuesday-talk/room")
    assert response.status_code == 503 and "not available right now" in response.text


# A static import's specifier: `import { a } from "./x.js";` (over lines or not), or
# `import "./x.js";`.
IMPORT = re.compile(r'^import\s+(?:[^;"]*?\bfrom\s+)?"([^"]+)";', re.M)


def imported_by(name: str) -> list[str]:
    """The modules a script in peerhub/static/js imports: each relative to it, in that folder."""
    text = (REPO / "peerhub" / "static" / "js" / name).read_text(encoding="utf-8")
    found = []
    for specifier in IMPORT.findall(text):
        assert specifier.startswith("./") and "/" not in specifier[2:], (name, specifier)
        found.append(specifier[2:])
    return found


def test_import_lines_are_found() -> None:
    state_users = [path.name for path in JS if "room-state.js" in imported_by(path.name)]
    assert "room.js" in state_users and "room-messages.js" in state_users
    assert imported_by("dom.js") == ["i18n.js"]


async def test_every_module_of_the_room_page_resolves_and_is_served(server: RTServer) -> None:
    """room.js is the entry the template loads (docs/architecture.md, "The room page's
    modules"): every module it reaches by its imports is a file, and each is served as
    JavaScript from /static under the page's CSP (script-src 'self')."""
    reached: set[str] = set()
    todo = ["room.js"]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        assert (REPO / "peerhub" / "static" / "js" / name).is_file(), name
        reached.add(name)
        todo.extend(imported_by(name))
    expected = {path.name for path in JS if path.name.startswith("room")}
    assert expected <= reached, expected - reached
    assert {"realtime.js", "moderator.js", "personal.js", "i18n.js"} <= reached
    async with httpx.AsyncClient(base_url=server.base) as http:
        for name in sorted(reached):
            response = await http.get(f"/static/js/{name}")
            assert response.status_code == 200, name
            assert response.headers["content-type"].startswith("text/javascript"), name
            assert response.text == (REPO / "peerhub" / "static" / "js" / name).read_text(
                encoding="utf-8"
            )


def test_the_front_end_never_writes_html() -> None:
    assert JS, "the chat client exists"
    banned = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    for path in JS:
        assert not banned.search(path.read_text(encoding="utf-8")), path.name


def test_the_front_end_keeps_nothing_in_browser_storage() -> None:
    for path in JS:
        text = path.read_text(encoding="utf-8")
        assert "localStorage" not in text and "sessionStorage" not in text, path.name


def test_templates_have_no_inline_script() -> None:
    for path in (REPO / "peerhub" / "templates" / "rooms").glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
        assert not re.search(r"\son[a-z]+=", text), path.name


async def test_the_no_moderator_banner_keeps_a_space_before_the_contacts(
    server: RTServer, world: World
) -> None:
    """The template engine trims the line break after a block tag, which had glued the
    label to the first contact ("now:Samaritans")."""
    response = await page(server, "/groups/tuesday-talk/room", world.tokens["ana"])
    found = re.search(r'<p id="no-moderator-help"[^>]*>(.*?)</p>', response.text, re.S)
    assert found is not None
    text = re.sub(r"<[^>]+>", "", found.group(1))
    first = server.settings.crisis_contacts[0].name
    assert re.search(r"To talk to someone now:\s+" + re.escape(first), text), text
