"""CSRF, Origin checks and response headers on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import (
    BASE,
    FakeClock,
    app_client,
    csrf_token,
    make_settings,
    post_form,
    sign_up,
)

PUBLIC_PAGES = ["/", "/crisis", "/signup", "/login"]


async def test_cross_site_fetch_metadata_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    data = {"pseudonym": "Someone", "password": "a long test password", "csrf_token": token}
    r = await client.post("/signup", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = await client.post("/signup", data=data, headers={"Sec-Fetch-Site": "same-site"})
    assert r.status_code == 403, "a sibling subdomain is same-site but not same-origin"
    r = await client.post("/signup", data=data, headers={"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303


async def test_foreign_origin_or_referer_is_refused(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    data = {"pseudonym": "Someone", "password": "a long test password", "csrf_token": token}
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://testserver.evil.example"},
    ):
        r = await client.post("/signup", data=data, headers=headers)
        assert r.status_code == 403, headers
    assert (await client.get("/api/me")).status_code == 401


async def test_token_is_required_and_bound_to_the_sign_in(client: httpx.AsyncClient) -> None:
    missing = await client.post(
        "/signup",
        headers={"Origin": BASE},
        data={"pseudonym": "NoToken", "password": "a long test password"},
    )
    assert missing.status_code == 403
    wrong = await post_form(
        client,
        "/signup",
        {"pseudonym": "NoToken", "password": "a long test password"},
        token="0" * 64,
    )
    assert wrong.status_code == 403

    await sign_up(client, "Alice", "correct horse battery staple")
    alice_token = (await client.get("/api/me")).json()["csrf_token"]
    other = httpx.AsyncClient(transport=client._transport, base_url=BASE)
    async with other:
        await sign_up(other, "Bob", "another long password")
        # Alice's token in Bob's session is refused.
        r = await other.post(
            "/account",
            headers={"Origin": BASE},
            data={"action": "email", "email": "", "csrf_token": alice_token},
        )
        assert r.status_code == 403
        bob_token = (await other.get("/api/me")).json()["csrf_token"]
        assert bob_token != alice_token


async def test_token_in_header_works_for_scripts(client: httpx.AsyncClient) -> None:
    await sign_up(client, "Scripted", "correct horse battery staple")
    token = (await client.get("/api/me")).json()["csrf_token"]
    r = await client.post(
        "/account",
        data={
            "action": "email",
            "email": "s@example.org",
            "email_password": "correct horse battery staple",
        },
        headers={"X-CSRF-Token": token, "Origin": BASE},
    )
    assert r.status_code == 303


async def test_anonymous_token_changes_after_login(client: httpx.AsyncClient) -> None:
    before = await csrf_token(client)
    await sign_up(client, "Rotated", "correct horse battery staple")
    after = await csrf_token(client)
    assert before != after
    # The pre-login token no longer authorises anything.
    r = await client.post(
        "/account",
        headers={"Origin": BASE},
        data={"action": "email", "email": "", "csrf_token": before},
    )
    assert r.status_code == 403


async def test_oversized_form_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/signup", headers={"Origin": BASE}, data={"pseudonym": "x" * 70000})
    assert r.status_code == 413


async def test_state_changing_routes_reject_get(app: Any, client: httpx.AsyncClient) -> None:
    from starlette.routing import Route

    posts = {r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}
    gets = {r.path for r in app.routes if isinstance(r, Route) and "GET" in (r.methods or ())}
    assert "/logout" in posts and "/logout" not in gets
    assert (await client.get("/logout")).status_code == 405


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_security_headers_and_crisis_route_on_every_page(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["cache-control"] == "no-store"
    assert "server" not in r.headers
    assert "Need help now?" in r.text
    assert "116 123" in r.text and "85258" in r.text and "999" in r.text
    assert "<script>" not in r.text, "no inline script"


async def test_private_pages_are_no_store_and_static_is_cacheable(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "Cache Check", "correct horse battery staple")
    assert (await client.get("/account")).headers["cache-control"] == "no-store"
    css = await client.get("/static/css/site.css")
    assert css.status_code == 200 and "max-age" in css.headers["cache-control"]


async def test_hsts_only_behind_https(db_url: str, tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(db_url, tmp_path, base_url="https://peerhub.example")
    async with app_client(settings, clock, base_url="https://peerhub.example") as c:
        r = await c.get("/")
        assert "max-age=63072000" in r.headers["strict-transport-security"]
        token = await csrf_token(c)
        r = await c.post(
            "/signup",
            headers={"Origin": "https://peerhub.example"},
            data={
                "pseudonym": "Secure One",
                "password": "a long test password",
                "csrf_token": token,
            },
        )
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-peerhub_session=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie and "SameSite=Lax" in cookie


async def test_user_text_is_escaped(client: httpx.AsyncClient) -> None:
    r = await post_form(
        client,
        "/signup",
        {"pseudonym": "<script>alert(1)</script>", "password": "a long test password"},
    )
    assert r.status_code == 422
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;" in r.text


async def test_unknown_page_is_a_404_page_with_crisis_route(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/page")
    assert r.status_code == 404
    assert "Page not found" in r.text and "Need help now?" in r.text
    api = await client.get("/api/nothing", headers={"Accept": "application/json"})
    assert api.status_code == 404 and "error" in api.json()


async def test_every_page_names_an_icon_that_is_served(client: httpx.AsyncClient) -> None:
    import re

    page = (await client.get("/")).text
    icons = re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page)
    assert "/favicon.ico" in icons and len(icons) >= 2
    for href in icons:
        answer = await client.get(href)
        assert answer.status_code == 200, href
        assert answer.headers["content-type"].startswith("image/"), href
        assert "max-age" in answer.headers["cache-control"], href
    ico = await client.get("/favicon.ico")
    assert ico.content[:4] == b"\x00\x00\x01\x00", "a real ICO file"
