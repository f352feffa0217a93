"""Every HTTP route × every role answers as docs/security.md's matrix says.

docs/security.md is the single source of truth: its "Authorisation matrix" table is
read here. A route of the app without a row, or a row for a route that no longer
exists, fails; so does any cell the app does not honour. Requests carry valid CSRF
tokens and a same-origin ``Origin``, so what is checked is authorisation, not CSRF.

The WebSocket frames' table (docs/security.md, "Frames and the rank they need") is
checked against the protocol's and the extensions' frame types.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from peerhub.app import create_app
from peerhub.models import GroupRole
from peerhub.realtime.protocol import CLIENT_FRAMES
from tests.conftest import csrf_token, make_settings
from tests.security.support import (
    FRAMES_HEADING,
    ROLES,
    Endpoint,
    World,
    agrees,
    endpoints,
    markdown_table,
    matrix,
    ordered_for_walk,
    outcome,
)

# The async tests share the module's app and people (tests/security/conftest.py).
on_module_loop = pytest.mark.asyncio(loop_scope="module")

# Rows that change who the people are run last, in this order.
LAST = ("/groups/{slug}/join", "/groups/{slug}/leave", "/logout")

# What a POST sends besides its CSRF token, where an empty form would say nothing
# about authorisation (docs/security.md, "How the matrix is checked").
Probe = Callable[[World, str], dict[str, Any]]
PROBES: dict[Endpoint, Probe] = {
    Endpoint("POST", "/login"): lambda w, role: {
        "pseudonym": f"nobody {role}",
        "password": "not the password",
    },
    Endpoint("POST", "/account/sessions"): lambda w, role: {
        "session_id": w.values["spare_sign_in"]
    },
    Endpoint("POST", "/referrals/{referral_id}"): lambda w, role: {"action": "share"},
    Endpoint("POST", "/waiting-lists/{group_id}"): lambda w, role: {"answer": "decline"},
}
JSON_BODIES: dict[Endpoint, Callable[[World], Any]] = {
    Endpoint("POST", "/api/match"): lambda w: {},
    Endpoint("POST", "/api/moderation/{frame_type}"): lambda w: {"room": w.values["group_id"]},
}


def bare_app() -> Starlette:
    """The app as create_app builds it: routes and extensions, no database needed."""
    return create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("/nonexistent")))


def test_every_route_has_exactly_one_row_and_every_row_a_route() -> None:
    routes = set(endpoints(bare_app()))
    rows = set(matrix())
    missing = sorted(routes - rows)
    stale = sorted(rows - routes)
    assert not missing and not stale, (
        "docs/security.md's authorisation matrix is out of date.\n"
        + "".join(f"  no row for {e}\n" for e in missing)
        + "".join(f"  row for a route that does not exist: {e}\n" for e in stale)
    )


async def request(world: World, endpoint: Endpoint, role: str) -> httpx.Response:
    client = world.clients[role]
    url = world.url(endpoint, role)
    if endpoint.method in ("GET", "OPTIONS"):
        return await client.request(endpoint.method, url)
    if endpoint in JSON_BODIES:
        return await client.request(
            endpoint.method,
            url,
            content=json.dumps(JSON_BODIES[endpoint](world)),
            headers={
                "Origin": world.base,
                "Content-Type": "application/json",
                "X-CSRF-Token": await csrf_token(client),
            },
        )
    assert endpoint.method == "POST", f"teach the matrix test to send {endpoint}"
    probe = PROBES.get(endpoint)
    return await world.post(role, url, probe(world, role) if probe else None)


@on_module_loop
async def test_every_route_answers_every_role_as_the_matrix_says(world: World) -> None:
    expected = matrix()
    wrong: list[str] = []
    observed: list[str] = []
    routes = [e for e in endpoints(world.app) if e in expected]
    for endpoint in ordered_for_walk(routes, LAST):
        got: list[str] = []
        for role in ROLES:  # in order: the admin, last, owns the spare session
            response = await request(world, endpoint, role)
            cell = expected[endpoint][role]
            if not agrees(cell, response):
                wrong.append(
                    f"  {endpoint} as {role}: expected {cell}, got {response.status_code}"
                    f" ({outcome(response)}) {response.headers.get('location', '')}"
                )
            got.append(cell if agrees(cell, response) else outcome(response))
        observed.append(f"| {endpoint.method} | `{endpoint.path}` | " + " | ".join(got) + " |")
    assert not wrong, (
        "answers that differ from docs/security.md:\n"
        + "\n".join(wrong)
        + "\nthe rows as observed:\n"
        + "\n".join(observed)
    )


@on_module_loop
async def test_no_route_answers_a_method_it_does_not_declare(world: World) -> None:
    """PUT, PATCH and DELETE (with a valid CSRF token) reach no handler anywhere."""
    client = world.clients["anonymous"]
    paths = sorted({e.path for e in endpoints(world.app) if not e.path.startswith("/static/")})
    headers = {"Origin": world.base, "X-CSRF-Token": await csrf_token(client)}
    wrong = []
    for path in paths:
        for method in ("PUT", "PATCH", "DELETE"):
            response = await client.request(
                method, world.url(Endpoint(method, path)), headers=headers
            )
            if response.status_code != 405:
                wrong.append(f"{method} {path}: {response.status_code}")
    assert not wrong, wrong


@on_module_loop
async def test_a_wrong_request_for_a_static_file_is_not_a_server_error(world: World) -> None:
    transport = httpx.ASGITransport(app=world.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=world.base) as client:
        headers = {"Origin": world.base, "X-CSRF-Token": await csrf_token(client)}
        missing = await client.get("/static/css/no-such-file.css")
        wrong_method = await client.put("/static/css/site.css", headers=headers)
    assert missing.status_code == 404 and "Need help now?" in missing.text
    # A write to a static path is refused (CSRF: static paths carry no session), never a 500.
    assert wrong_method.status_code in (403, 405)


# --- WebSocket frames --------------------------------------------------------------------


RANKS = {"any": GroupRole.NONE, "member": GroupRole.MEMBER, "moderator": GroupRole.MODERATOR}


def test_every_frame_type_has_a_row() -> None:
    registry = bare_app().state.realtime_registry
    known = set(CLIENT_FRAMES) | set(registry.handlers)
    rows = {row["Frame"]: row for row in markdown_table(FRAMES_HEADING)}
    missing = sorted(known - set(rows))
    stale = sorted(set(rows) - known)
    assert not missing and not stale, (
        "docs/security.md's frame table is out of date.\n"
        + "".join(f"  no row for the frame type {t!r}\n" for t in missing)
        + "".join(f"  row for a frame type nobody handles: {t!r}\n" for t in stale)
    )
    # Extensions declare their minimum rank: the table must say the same.
    for frame_type, entry in registry.handlers.items():
        cell = rows[frame_type]["Minimum rank"].split()[0]
        assert RANKS.get(cell) == (entry.min_rank if entry.room else GroupRole.NONE), (
            f"{frame_type}: docs/security.md says {cell!r}, the handler needs {entry.min_rank!r}"
        )
