"""The security headers are on every page, for people signed in and not.

Every GET route of the app (the same enumeration as the authorisation matrix) is
requested as an anonymous visitor and as a signed-in member, once with PeerHub on
plain http and once behind https (``PEERHUB_BASE_URL=https://...``), and each
answer is checked against docs/security.md, "Security headers".
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from peerhub.security.middleware import is_static
from tests.security.conftest import world_on
from tests.security.support import PASSWORD, Endpoint, World, endpoints

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROLES = ("anonymous", "member")
HSTS_MIN_SECONDS = 365 * 24 * 3600


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def tls_world(
    module_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The same people on an app whose public address is https."""
    base = "https://testserver"
    async with world_on(module_db, tmp_path_factory.mktemp("tls"), base, "Tls") as built:
        yield built


def gets(world: World) -> list[Endpoint]:
    found = [e for e in endpoints(world.app) if e.method == "GET"]
    assert len(found) > 30, found
    return found


def policy(response: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("content-security-policy", "")
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def problems(response: httpx.Response, *, signed_in: bool, https: bool) -> list[str]:
    found: list[str] = []
    headers = response.headers
    path = response.request.url.path
    static = is_static(path)
    html = headers.get("content-type", "").startswith("text/html")
    csp = policy(response)
    if not csp:
        found.append("no Content-Security-Policy")
    elif html or not static:
        if csp.get("frame-ancestors") != ["'none'"]:
            found.append(f"frame-ancestors is {csp.get('frame-ancestors')}")
        script = csp.get("script-src", csp.get("default-src"))
        if script is None:
            found.append("no script-src (nor default-src)")
        elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(script):
            found.append(f"script-src allows {script}")
        if csp.get("object-src") != ["'none'"]:
            found.append(f"object-src is {csp.get('object-src')}")
    if headers.get("x-content-type-options") != "nosniff":
        found.append(f"X-Content-Type-Options is {headers.get('x-content-type-options')!r}")
    if headers.get("x-frame-options") != "DENY":
        found.append(f"X-Frame-Options is {headers.get('x-frame-options')!r}")
    if not headers.get("referrer-policy"):
        found.append("no Referrer-Policy")
    cache = headers.get("cache-control", "")
    if static:
        # Shared caches may keep a static file only if it carries nothing personal.
        if "set-cookie" in headers:
            found.append("a static file sets a cookie")
    elif signed_in and "no-store" not in cache:
        found.append(f"a private page has Cache-Control {cache!r}")
    hsts = headers.get("strict-transport-security")
    if https:
        if hsts is None:
            found.append("no Strict-Transport-Security behind https")
        else:
            age = int(hsts.split("max-age=")[1].split(";")[0])
            if age < HSTS_MIN_SECONDS:
                found.append(f"HSTS max-age {age} is under a year")
    elif hsts is not None:
        found.append(f"HSTS on plain http: {hsts!r}")
    return found


async def walk(world: World, *, https: bool) -> list[str]:
    wrong: list[str] = []
    seen_html = 0
    for role in ROLES:
        for endpoint in gets(world):
            response = await world.clients[role].get(world.url(endpoint, role))
            if response.headers.get("content-type", "").startswith("text/html"):
                seen_html += 1
            for problem in problems(response, signed_in=role != "anonymous", https=https):
                wrong.append(f"GET {endpoint.path} as {role} ({response.status_code}): {problem}")
    assert seen_html > 30, "the walk saw too few HTML pages to mean anything"
    return wrong


async def test_every_page_carries_the_headers_on_plain_http(world: World) -> None:
    wrong = await walk(world, https=False)
    assert not wrong, "\n".join(wrong)


async def test_every_page_carries_the_headers_and_hsts_behind_https(tls_world: World) -> None:
    wrong = await walk(tls_world, https=True)
    assert not wrong, "\n".join(wrong)


async def test_behind_https_the_sign_in_cookie_is_host_only_and_secure(tls_world: World) -> None:
    transport = httpx.ASGITransport(app=tls_world.app, client=("203.0.113.250", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=tls_world.base) as browser:
        fresh = World(tls_world.app, tls_world.base, {"member": browser})
        response = await fresh.post(
            "member", "/login", {"pseudonym": "Tls member", "password": PASSWORD}
        )
    assert response.status_code == 303, response.text[:300]
    cookies = response.headers.get_list("set-cookie")
    session = [c for c in cookies if c.startswith("__Host-peerhub_session=")]
    assert len(session) == 1, cookies
    attributes = {a.strip().split("=")[0].lower() for a in session[0].split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes, session
    assert "domain" not in attributes, session
    assert "samesite=lax" in session[0].lower().replace(" ", "")
    # The known-device cookie too (docs/security.md, "Sign-in throttling").
    device = [c for c in cookies if c.startswith("__Host-peerhub_device=")]
    assert len(device) == 1, cookies
    attributes = {a.strip().split("=")[0].lower() for a in device[0].split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite", "max-age"} <= attributes, device
    assert "domain" not in attributes, device
