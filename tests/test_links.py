"""No link leads to a refusal: every page reachable by links, as every role.

From the home page, as anonymous, member, moderator, organiser, verified
professional and administrator (the demo accounts of :mod:`peerhub.demo`, signed in
through ``/login`` and, where their role needs it, ``/login/2fa``), the crawl follows
every ``<a href>``, every ``<link href>`` and every ``<form method="get">`` (its
action with its hidden fields) it finds, in-process through httpx, and fails on any
that answers 4xx or 5xx, naming the page that carried it. A signed-in person sent
to the sign-in page counts as a refusal too.

The crawl is bounded so that it finishes in seconds:

- a URL's *key* is its path and the names of its query parameters (values dropped:
  ``/groups?language=cy`` and ``/groups?language=ur`` are one page for the crawl);
- a route's *shape* (``/groups/{slug}``, with the query's names) is visited at most
  :data:`PER_SHAPE` times, the first ones found (breadth first, so a person's own
  groups, linked from their landing page, come before the directory's);
- at most :data:`MAX_PAGES` pages per role;
- ``/static``, ``/logout``, other sites, ``tel:``/``mailto:`` links and links the
  page marks as leaving (``rel="external"``) are not followed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from peerhub.app import create_app
from peerhub.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
from peerhub.security.passwords import Passwords
from tests.conftest import (
    BASE,
    CHEAP_ARGON2,
    FakeClock,
    csrf_token,
    make_settings,
    totp_code,
)

MAX_PAGES = 160
PER_SHAPE = 6
HOST = urlsplit(BASE).netloc
SKIP_PATHS = ("/logout",)
# Who signs in as what: the demo's accounts, one per role.
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "member": "demo-member",
    "moderator": "demo-moderator",
    "organiser": "demo-organiser",
    "professional": "demo-gp",
    "admin": "demo-admin",
}


class Links(HTMLParser):
    """The URLs a page links to: a[href], link[href], and GET forms with hidden fields."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        leaving = "external" in a.get("rel", "").split()
        if tag in ("a", "link") and "href" in a and not leaving:
            self.found.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "get":
            self._form = (a.get("action", ""), [])
        elif (
            tag == "input"
            and self._form is not None
            and a.get("type") == "hidden"
            and a.get("name")
        ):
            self._form[1].append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            action, hidden = self._form
            self.found.append(action + (("?" + urlencode(hidden)) if hidden else ""))
            self._form = None


def links_of(page_url: str, html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return [urljoin(page_url, href) for href in parser.found]


def route_shapes(app: Starlette) -> list[tuple[Any, str]]:
    """(compiled path pattern, template) for every route, mounts as their prefix."""
    out: list[tuple[Any, str]] = []
    for route in app.routes:
        if isinstance(route, Route):
            out.append((route.path_regex, route.path))
        elif isinstance(route, Mount):
            out.append((route.path_regex, route.path + "/…"))
    return out


@dataclass
class Crawl:
    role: str
    client: httpx.AsyncClient
    shapes: list[tuple[Any, str]]
    signed_in: bool
    seen: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    per_shape: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)
    visited: list[str] = field(default_factory=list)
    # url -> (status or problem, pages that link to it)
    failures: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    carriers: dict[str, list[str]] = field(default_factory=dict)

    def shape(self, path: str) -> str:
        for pattern, template in self.shapes:
            if pattern.match(path):
                return str(template)
        return path

    def wanted(self, url: str) -> str | None:
        """The URL to fetch (same site, no fragment), or None if the crawl skips it."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != HOST:
            return None
        path = parts.path or "/"
        if path.startswith("/static/") or path in SKIP_PATHS:
            return None
        return path + (f"?{parts.query}" if parts.query else "")

    async def fetch(self, target: str) -> tuple[int, str, str]:
        """Follow redirects (at most five); the final status, URL and body."""
        url = target
        for _ in range(6):
            response = await self.client.get(url)
            if response.is_redirect:
                url = self.wanted(urljoin(BASE + url, response.headers["location"])) or ""
                if not url:
                    return response.status_code, target, ""
                continue
            kind = response.headers.get("content-type", "")
            return response.status_code, url, response.text if "text/html" in kind else ""
        return 508, url, ""

    async def run(self, *starts: str) -> None:
        queue: deque[tuple[str, str]] = deque((start, "(start)") for start in starts)
        while queue and len(self.visited) < MAX_PAGES:
            target, carrier = queue.popleft()
            parts = urlsplit(target)
            names = tuple(sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)}))
            key = (parts.path, names)
            if key in self.seen:
                self.carriers.setdefault(target, []).append(carrier)
                continue
            shape = (self.shape(parts.path), names)
            if self.per_shape.get(shape, 0) >= PER_SHAPE:
                continue
            self.seen.add(key)
            self.per_shape[shape] = self.per_shape.get(shape, 0) + 1
            self.visited.append(target)
            self.carriers.setdefault(target, []).append(carrier)
            status, final, html = await self.fetch(target)
            final_path = urlsplit(final).path
            if status >= 400:
                self.failures[target] = (str(status), self.carriers[target])
                continue
            if self.signed_in and final_path in ("/login", "/login/2fa"):
                self.failures[target] = ("sent to sign in again", self.carriers[target])
                continue
            for link in links_of(BASE + final, html):
                wanted = self.wanted(link)
                if wanted is not None:
                    queue.append((wanted, target))

    def report(self) -> str:
        return "\n".join(
            f"  [{self.role}] GET {url} answered {status}; "
            f"linked from {', '.join(sorted(set(on))[:3])}"
            for url, (status, on) in sorted(self.failures.items())
        )


async def sign_in(client: httpx.AsyncClient, pseudonym: str, clock: FakeClock) -> str:
    """The demo account signs in as a person would, with the two-step code if asked;
    the page it lands on."""
    token = await csrf_token(client, "/login")
    response = await client.post(
        "/login",
        data={"pseudonym": pseudonym, "password": DEMO_PASSWORD, "csrf_token": token},
        headers={"Origin": BASE},
    )
    assert response.status_code == 303, response.text[:300]
    if response.headers["location"].startswith("/login/2fa"):
        token = await csrf_token(client, response.headers["location"])
        response = await client.post(
            "/login/2fa",
            data={"code": totp_code(clock(), DEMO_TOTP_SECRET), "csrf_token": token},
            headers={"Origin": BASE},
        )
        assert response.status_code == 303, response.text[:300]
    assert (await client.get("/api/me")).status_code == 200
    return str(response.headers["location"])


@pytest.fixture
async def demo_app(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, FakeClock]]:
    clock = FakeClock()
    settings = make_settings(db_url, tmp_path, extra={"ws_port": 0, "ws_host": "127.0.0.1"})
    await load_demo_into(settings.database_url, clock)
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app, clock


async def load_demo_into(url: str, clock: FakeClock) -> None:
    from peerhub.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        await load_demo(make_sessionmaker(engine), Passwords(CHEAP_ARGON2), clock())
    finally:
        await engine.dispose()


def _clients(app: Starlette) -> Iterable[tuple[int, str, httpx.AsyncClient]]:
    for number, role in enumerate(ROLES):
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{150 + number}", 50000))
        yield number, role, httpx.AsyncClient(transport=transport, base_url=BASE)


async def test_no_link_leads_to_a_refusal(demo_app: tuple[Starlette, FakeClock]) -> None:
    app, clock = demo_app
    began = time.monotonic()
    shapes = route_shapes(app)
    problems: list[str] = []
    counts: dict[str, int] = {}
    visited: dict[str, set[str]] = {}
    landings: dict[str, str] = {}
    for _, role, client in _clients(app):
        async with client:
            pseudonym = ROLES[role]
            # From the page the person lands on after sign-in (their own work comes
            # first in the crawl's order), then from the home page.
            landed = await sign_in(client, pseudonym, clock) if pseudonym else "/"
            crawl = Crawl(role, client, shapes, signed_in=pseudonym is not None)
            await crawl.run(landed, "/")
            counts[role] = len(crawl.visited)
            visited[role] = set(crawl.visited)
            landings[role] = landed
            if crawl.failures:
                problems.append(crawl.report())
    assert not problems, "links that lead to a refusal:\n" + "\n".join(problems)
    # Each role really walked the site (not stuck on the home page).
    assert all(n >= 15 for n in counts.values()), counts
    # Each role landed on its own work, and the ways in the issue found missing exist:
    # the directory from the menu for everyone, and a member's rooms by links alone.
    assert landings == {
        "anonymous": "/",
        "member": "/account/groups",
        "moderator": "/moderate",
        "organiser": "/organise",
        "professional": "/referrals",
        "admin": "/admin",
    }
    for role, pages in visited.items():
        assert "/groups" in pages, role
    for role in ("member", "moderator"):
        rooms = [p for p in visited[role] if p.startswith("/groups/") and p.endswith("/room")]
        assert rooms, f"the {role} reached no room by following links"
    assert time.monotonic() - began < 45, f"the crawl took too long: {counts}"
