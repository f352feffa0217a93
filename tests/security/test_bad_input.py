"""Bad input gets a clear 4xx naming the problem, never a 500 (docs/security.md, "Bad input").

Each case here was a 500 (or a plain-text refusal without CORS) before: non-finite
numbers and deep nesting sent to /api/match and /find, a NUL in a path, query or form
(PostgreSQL cannot store one; the next request on the connection was then reset),
writes to the read-only HSDS API, odd digits in a query string or cookie, and time
zones that are directories. The property-based test of every route is
test_fuzz_every_route.py.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peerhub.accounts import twofactor
from peerhub.errors import BadInput
from peerhub.models import DemandRecord, User
from peerhub.moderation.models import ModerationEvent
from peerhub.schedule import ScheduleError, zone
from tests.conftest import (
    BASE,
    LiveServer,
    enrol_me,
    free_port,
    make_settings,
    post_form,
    sign_up,
)
from tests.finding.conftest import add_group

Sessions = async_sessionmaker[AsyncSession]
JSON_HEADERS = {"Content-Type": "application/json", "Origin": BASE}


async def match(client: httpx.AsyncClient, body: str | bytes, **headers: str) -> httpx.Response:
    return await client.post("/api/match", content=body, headers={**JSON_HEADERS, **headers})


# --- /api/match and /find: numbers and JSON ----------------------------------------------


NON_FINITE = [
    ("NaN", "NaN, which is not a number JSON allows"),
    ("Infinity", "Infinity, which is not a number JSON allows"),
    ("-Infinity", "-Infinity, which is not a number JSON allows"),
    ("1e400", "a number too large to use"),
    ('"nan"', "must be a number, like 30"),
    ('"inf"', "must be a number, like 30"),
    ('"-Infinity"', "must be a number, like 30"),
    ("99999999999999999999999", "a whole number too large to use"),
]


async def test_match_refuses_numbers_that_are_not_finite(client: httpx.AsyncClient) -> None:
    for field in ("age", "limit", "max_distance_km"):
        for value, says in NON_FINITE:
            response = await match(client, f'{{"{field}": {value}}}')
            assert response.status_code == 422, (field, value, response.text)
            body = response.json()
            assert says in body["error"], (field, value, body)
            # A number inside a string is the field's fault; a JSON literal is the body's.
            assert body["field"] == (field if value.startswith('"') else "body")


DEEP = [
    "[" * 3000 + "]" * 3000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"languages": ' + "[" * 25 + "]" * 25 + "}",
]
UNSTORABLE = [
    ('{"postcode": "LS6\\u0000"}', "a NUL character"),
    ('{"\\u0000": 1}', "a NUL character"),
    ('{"stage": "\\ud800"}', "an unpaired surrogate character"),
    ('{"languages": ["en", "\\udfff"]}', "an unpaired surrogate character"),
]


async def test_match_refuses_deep_nesting_and_text_no_database_can_store(
    client: httpx.AsyncClient,
) -> None:
    for body in DEEP:
        response = await match(client, body)
        assert response.status_code == 422
        assert response.json() == {
            "error": "The body is nested more than 20 levels deep.",
            "field": "body",
        }
    for body, says in UNSTORABLE:
        response = await match(client, body)
        assert response.status_code == 422
        assert response.json()["error"] == f"The body contains {says}, which PeerHub cannot store."


async def test_match_refuses_large_bodies_and_other_types_as_json(
    client: httpx.AsyncClient,
) -> None:
    big = await match(client, json.dumps({"languages": ["x" * 40_000]}))
    assert big.status_code == 413 and big.json()["field"] == "body"
    assert "larger than 32 KiB" in big.json()["error"]
    wrong = await match(client, "{}", **{"Content-Type": "text/plain"})
    assert wrong.status_code == 415 and "application/json" in wrong.json()["error"]
    assert (await match(client, "{")).json()["error"] == "The body is not valid JSON."
    assert (await match(client, b"\xff\xfe")).json()["error"] == "The body is not UTF-8 text."
    fine = await match(client, '{"age": 30, "limit": 5.0, "max_distance_km": 12.5}')
    assert fine.status_code == 200, fine.text


async def test_the_find_page_says_the_age_must_be_a_number(client: httpx.AsyncClient) -> None:
    for value in ("nan", "inf", "-inf", "Infinity", "1e400", "NaN"):
        page = await client.get("/find", params={"search": "1", "age": value})
        assert page.status_code == 422, value
        assert "must be a number, like 30" in page.text
        assert "Need help now?" in page.text  # the crisis route, on the page that says it


# --- NUL and control characters: path, query, form ---------------------------------------


CONTROL_PATHS = [
    "/groups/%00",
    "/groups/%00.ics",
    "/organisations/%00",
    "/groups/a%0Ab",
    "/r/%00",
    "/groups/x/people/%00",
    "/organise/groups/%1F",
    "/static/css/%00.css",
]


async def test_a_control_character_in_a_path_is_a_404_page_saying_why(
    client: httpx.AsyncClient,
) -> None:
    for path in CONTROL_PATHS:
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "control character (such as a NUL byte)" in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "Need help now?" in page.text
        assert page.headers["x-frame-options"] == "DENY"  # the security headers, as ever


async def test_a_nul_in_a_query_is_a_400_naming_the_parameter(client: httpx.AsyncClient) -> None:
    for path in ("/groups?q=a%00b", "/find?search=1&postcode=LS6%00", "/groups.ics?language=%00"):
        page = await client.get(path)
        assert page.status_code == 400, path
        assert "NUL character in" in page.text and "cannot store" in page.text
    named = await client.get("/groups?q=a%00b")
    assert "“q”" in named.text
    api = await client.get("/api/crisis-contacts?x=%00")
    assert api.status_code == 400 and api.json()["field"] == "x"


async def test_a_nul_in_a_form_is_a_400_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    response = await post_form(
        client, "/signup", {"pseudonym": "Sam\x00", "password": "a long test password"}
    )
    assert response.status_code == 400
    assert "NUL character in “pseudonym”" in response.text
    async with sessions() as db:
        assert (await db.scalars(select(User))).all() == []
    # The same form without the NUL works: the refusal was about the NUL only.
    await sign_up(client, "Sam")


async def test_file_uploads_and_oversized_forms_are_refused(client: httpx.AsyncClient) -> None:
    files = await client.post(
        "/signup", files={"pseudonym": ("a.txt", b"x")}, headers={"Origin": BASE}
    )
    assert files.status_code == 415 and "does not take file uploads" in files.text
    big = await client.post(
        "/signup",
        content=b"pseudonym=" + b"x" * (65 * 1024),
        headers={"Origin": BASE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413 and "larger than 64 KiB" in big.text


# --- the HSDS API: JSON and CORS on every answer ----------------------------------------

CORS_ORIGIN = "access-control-allow-origin"


async def test_the_hsds_api_refuses_writes_with_a_405_in_json_with_cors(
    client: httpx.AsyncClient,
) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/hsds/", "/hsds/services", "/hsds/services/x", "/hsds/nowhere"):
            for headers in (
                {},
                {"Origin": "https://other.example"},
                {"Sec-Fetch-Site": "cross-site"},
            ):
                response = await client.request(method, path, content=b"{}", headers=headers)
                assert response.status_code == 405, (method, path, headers, response.text)
                assert response.headers[CORS_ORIGIN] == "*"
                assert response.headers["allow"] == "GET, HEAD, OPTIONS"
                assert response.json() == {
                    "error": f"The HSDS API is read-only: {method} is not offered. "
                    "Use GET (allowed: GET, HEAD, OPTIONS)."
                }


async def test_an_hsds_preflight_offers_only_reading(client: httpx.AsyncClient) -> None:
    for path in ("/hsds/services", "/hsds/nowhere"):
        response = await client.options(
            path,
            headers={
                "Origin": "https://other.example",
                "Access-Control-Request-Method": "DELETE",
            },
        )
        assert response.status_code == 204
        assert response.headers[CORS_ORIGIN] == "*"
        assert response.headers["access-control-allow-methods"] == "GET, HEAD, OPTIONS"
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"


async def test_a_nul_sent_to_the_hsds_api_is_refused_in_json_with_cors(
    client: httpx.AsyncClient,
) -> None:
    query = await client.get("/hsds/services?search=a%00")
    assert query.status_code == 422 and query.headers[CORS_ORIGIN] == "*"
    assert query.json()["field"] == "search" and "search" in query.json()["errors"]
    for when in ("0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-23:00"):
        dated = await client.get(f"/hsds/services?modified_after={when}")
        assert dated.status_code == 422 and dated.headers[CORS_ORIGIN] == "*"
        assert dated.json()["field"] == "modified_after"
    path = await client.get("/hsds/services/%00")
    assert path.status_code == 404 and path.headers[CORS_ORIGIN] == "*"
    assert "control character" in path.json()["error"]


# --- the database refuses what got past the door -----------------------------------------


@pytest.mark.parametrize(
    "value", ["a\x00b", "\ud800", "ok \udfff"], ids=["nul", "high-surrogate", "low-surrogate"]
)
async def test_the_database_refuses_unstorable_text_on_both_backends(
    sessions: Sessions, value: str
) -> None:
    async with sessions() as db:
        with pytest.raises(BadInput, match="cannot store"):
            await db.scalar(select(User).where(User.pseudonym == value))
    async with sessions() as db, db.begin():
        db.add(DemandRecord(kind="interest", languages=[value]))
        with pytest.raises(BadInput, match="cannot store"):
            await db.flush()
    async with sessions() as db:  # and the connection is as good as before
        assert (await db.scalars(select(User))).all() == []


async def test_the_database_refuses_numbers_it_would_store_wrongly(sessions: Sessions) -> None:
    async with sessions() as db:
        # An INTEGER column is 32 bits on PostgreSQL; SQLite is held to the same range.
        for too_large in (2**31, -(2**31) - 1, 2**62, 2**70):
            with pytest.raises(BadInput, match="too large"):
                await db.scalar(select(ModerationEvent).where(ModerationEvent.id < too_large))
        with pytest.raises(BadInput, match="not finite"):
            await db.scalar(select(User).where(User.id == float("nan")))
        assert (
            await db.scalar(select(ModerationEvent).where(ModerationEvent.id < 2**31 - 1)) is None
        )


# --- odd digits, odd zones ---------------------------------------------------------------


async def test_odd_digits_in_the_two_step_cookie_are_not_a_server_error(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Dee")
    user_id = (await client.get("/api/me")).json()["id"]
    await post_form(client, "/logout", {})
    name = twofactor.pending_cookie_name(app.state.settings)
    # Headers arrive as Latin-1: "²", "³" and "¹" are digits to str.isdigit, not to int.
    for expires in ("²", "¹²³⁴", "9" * 40, "1" * 13):
        cookie = f"{name}={user_id}.{expires}.nonce.mac".encode("latin-1", "replace")
        page = await client.get("/login/2fa", headers={b"Cookie": cookie})
        assert page.status_code in (200, 303), (expires, page.status_code)
        assert "/login" in page.headers.get("location", "/login")


async def test_odd_digits_in_the_moderation_log_s_before_are_ignored(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await sign_up(client, "Mod")
    mod_id = await enrol_me(client)
    group = await add_group(sessions, "Odd Digits Circle", moderators=(mod_id,))
    for before in ("²", "٣", "9" * 40, "2147483648", "9" * 18, "-1", "1e3", "12"):
        page = await client.get(
            f"/organise/groups/{group.id}/moderation", params={"before": before}
        )
        assert page.status_code == 200, (before, page.status_code)


@pytest.mark.parametrize(
    "name", ["Europe", "a" * 300, "Europe/" + "a" * 300, "zone1970.tab", "a\x00"]
)
def test_a_time_zone_that_is_not_a_zone_is_refused_by_name(name: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        zone(name)
    assert caught.value.field == "time_zone"


# --- the connection after an error, on a real server -------------------------------------


def exchange(sock: socket.socket, path: str) -> int:
    """One HTTP/1.1 request on an open keep-alive connection; its status (0: closed)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return 0
        body += chunk
    return int(head.split(b" ", 2)[1])


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Any:
    port = free_port()
    live = LiveServer(make_settings(db_url, tmp_path, base_url=f"http://127.0.0.1:{port}"), port)

    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug, with a secret in its message")

    # A route with a bug in it, as any route might have.
    live.app.router.routes.insert(0, Route("/test-boom/{code}", boom, methods=["GET"]))
    with live:
        yield live


def test_after_a_nul_in_the_path_the_next_request_on_the_connection_is_answered(
    server: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for path in ("/groups/%00", "/groups/%00.ics", "/organisations/%00"):
            assert exchange(sock, path) == 404
            assert exchange(sock, "/groups") == 200


def test_after_a_server_error_the_next_request_on_the_connection_is_answered(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        assert exchange(sock, "/test-boom/REFERRAL-CODE") == 500
        assert exchange(sock, "/groups") == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    # The route's template, not the code its path carried (as /r/{code} carries one).
    assert "unhandled RuntimeError on GET /test-boom/{code}" in logged
    assert "REFERRAL-CODE" not in logged
    # Logged by type only: no traceback with the exception's text reached the server's log.
    assert "secret" not in logged and "Exception in ASGI application" not in logged
