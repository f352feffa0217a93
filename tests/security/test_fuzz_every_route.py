"""Every route, fuzzed: whatever is sent, never a 5xx, and the connection stays usable.

A property-based test (Hypothesis) against a real uvicorn server on each database.
The routes are enumerated from the app itself (``tests/security/support.py``'s
``endpoints``, the same walk the authorisation matrix uses), so a route added later
is fuzzed without anyone listing it. For each route, as an anonymous visitor and as
a signed-in member, it sends:

- path parameters: the real slug or id, or arbitrary text (NUL and other control
  characters, unpaired and surrogate-escaped bytes, very long strings, dots and
  slashes, numbers such as NaN and 1e400), percent-encoded;
- a query string of names PeerHub reads (collected from the templates and the code)
  or arbitrary ones, with the same kinds of values;
- for POST: a form of PeerHub's field names or arbitrary ones, JSON (NaN and
  Infinity literals, 1e400, deep nesting, ``\\u0000``, lone surrogates, the match
  API's fields), or raw bytes under any content type (multipart included),
  with a valid CSRF token and a same-origin Origin, so requests reach the routes.

After every request, on the **same keep-alive connection**, a normal request must
succeed: ``/api/me`` for the member (the session is looked up in the database) and
``/readyz`` for the visitor (the database answers). A server that closed the
connection after an error (as uvicorn does when an app raises) fails it, since the
follow-up comes from another client port. HSDS answers must carry CORS headers.

Bounded and deterministic for CI: derandomised (the same cases on every run, no
example database), ``EXAMPLES`` generated cases plus fixed nasty ones per route and
role, no shrinking (a failure is reported as it was found), and no per-example
deadline: timing a real server on a shared CI machine would make it flaky. The
bound is the number of requests, about 20 s per database on an idle 2-CPU machine
for PostgreSQL and 40 s for SQLite; ``BUDGET_S`` only catches a runaway.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from peerhub.openapi import MATCH_REQUEST
from peerhub.security.ratelimit import TokenBuckets
from tests.conftest import REPO, LiveServer, free_port, make_settings, run_sync
from tests.finding.conftest import add_group
from tests.security.support import PARAM_RE, Endpoint, endpoints

EXAMPLES = 6
# A runaway guard, not a benchmark: the run takes 20 to 45 s per database on an idle
# 2-CPU machine (and over 100 s when it is shared by several test runs).
BUDGET_S = 300
PASSWORD = "a long fuzzing password"
ROLES = ("anonymous", "member")

# --- the vocabulary: names PeerHub reads, values nobody should send ----------------------


def _names() -> list[str]:
    """Form and query names from the templates and the code, so fuzzing goes deep."""
    found: set[str] = set()
    for template in (REPO / "peerhub" / "templates").rglob("*.html"):
        found |= set(re.findall(r'name="([a-z][a-z_]{0,30})"', template.read_text("utf-8")))
    code = r'(?:form_text\(\w+, |field\(\w+, |\.get\(|\.getlist\(|p\.(?:one|all|raw)\()"([a-z_]+)"'
    for module in (REPO / "peerhub").rglob("*.py"):
        found |= set(re.findall(code, module.read_text("utf-8")))
    return sorted(found - {"csrf_token"})


NAMES = _names()
MATCH_FIELDS = sorted(MATCH_REQUEST["properties"])
NASTY_TEXT = [
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\n\r\t",
    "..",
    ".",
    "a/b",
    "/",
    "x" * 5000,
    "\udcff\udcfe",  # surrogate-escaped bytes (invalid UTF-8 once encoded)
    "\ud800",  # an unpaired surrogate
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e400",
    "-0",
    "99999999999999999999999999",
    str(2**64),
    "²",
    "٣",
    "",
    " ",
    "💥",
    "%00",
    "%",
    "'; DROP TABLE users; --",
    "<script>",
    "2026-02-30",
    "24:61",
    "00000000-0000-0000-0000-000000000000",
]
NASTY_JSON = [
    '{"age": NaN}',
    '{"limit": Infinity}',
    '{"age": -Infinity}',
    '{"max_distance_km": 1e400}',
    '{"limit": "inf"}',
    '{"age": "nan"}',
    '{"limit": 99999999999999999999999999}',
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    '{"postcode": "LS6\\u0000"}',
    '{"stage": "\\ud800"}',
    '{"\\u0000": 1}',
    "NaN",
    "",
    "{",
    '"\\udcff"',
]

numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "1_000", "0x10", "+1", "1.5e-400"]),
).map(str)
texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=30),
    st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")),
    numbers,
)
names = st.one_of(st.sampled_from(NAMES), st.text(max_size=12))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def raw_bytes(text: str) -> bytes:
    """``text`` as bytes: surrogate escapes become the bytes they stand for."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote_plus(raw_bytes(k))}={quote_plus(raw_bytes(v))}" for k, v in pairs)


@dataclass(frozen=True)
class Fuzz:
    params: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None
    raw_slashes: bool = False

    def __repr__(self) -> str:
        body = None if self.body is None else self.body[:200]
        return (
            f"Fuzz(params={ {k: v[:80] for k, v in self.params.items()} }, "
            f"query={[(k[:40], v[:80]) for k, v in self.query]}, "
            f"content_type={self.content_type!r}, body={body!r}, raw_slashes={self.raw_slashes})"
        )


def bodies() -> st.SearchStrategy[tuple[bytes | None, str | None]]:
    form = st.lists(st.tuples(names, texts), max_size=8).map(
        lambda pairs: (encode(pairs).encode("ascii"), "application/x-www-form-urlencoded")
    )
    match = st.fixed_dictionaries({}, optional=dict.fromkeys(MATCH_FIELDS, json_values))
    as_json = st.one_of(match, json_values).map(
        lambda v: (
            json.dumps(v, allow_nan=True).encode("utf-8", "surrogatepass"),
            "application/json",
        )
    )
    nasty = st.sampled_from(NASTY_JSON).map(lambda t: (t.encode(), "application/json"))
    raw = st.tuples(
        st.binary(max_size=300),
        st.sampled_from(
            [
                None,
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "text/plain",
                "application/octet-stream",
            ]
        ),
    )
    return st.one_of(form, as_json, nasty, raw, st.just((None, None)))


def fuzz_for(endpoint: Endpoint, real: dict[str, str]) -> st.SearchStrategy[Fuzz]:
    wanted = PARAM_RE.findall(endpoint.path)
    params = st.fixed_dictionaries(
        {name: st.one_of(st.just(real[name]), texts) if name in real else texts for name in wanted}
    )
    body = bodies() if endpoint.method == "POST" else st.just((None, None))
    return st.builds(
        lambda p, q, b, slashes: Fuzz(p, q, b[0], b[1], slashes),
        params,
        st.lists(st.tuples(names, texts), max_size=5),
        body,
        st.booleans(),
    )


def fixed_cases(endpoint: Endpoint, real: dict[str, str]) -> Iterator[Fuzz]:
    """Fixed cases every route gets, whatever the generator draws: one ordinary request
    (real values, an empty JSON object for a POST), then nasty ones."""
    wanted = PARAM_RE.findall(endpoint.path)
    ordinary = {name: real.get(name, "x") for name in wanted}
    if endpoint.method == "POST":
        yield Fuzz(ordinary, [], b"{}", "application/json")
    else:
        yield Fuzz(ordinary)
    values = ("\x00", "\udcff", "x" * 5000, "..", "a/b", "1e400") if wanted else ("\x00",)
    for value in values:
        yield Fuzz(dict.fromkeys(wanted, value), [("q", value)])
    if endpoint.method == "POST":
        for text in NASTY_JSON[:3]:
            yield Fuzz(dict.fromkeys(wanted, "x"), [], text.encode(), "application/json")
        yield Fuzz(
            dict.fromkeys(wanted, "x"),
            [],
            b"pseudonym=a%00b&password=x%00y&email=%00",
            "application/x-www-form-urlencoded",
        )


# --- the people and the server -----------------------------------------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@dataclass
class Person:
    role: str
    client: httpx.Client
    token: str = ""
    pseudonym: str = ""

    def refresh_token(self) -> None:
        page = self.client.get("/")
        found = CSRF_META.search(page.text)
        assert found, "no CSRF token on /"
        self.token = found.group(1)


def sign_in(person: Person, base: str, *, new: bool) -> None:
    person.refresh_token()
    form = {"pseudonym": person.pseudonym, "password": PASSWORD, "csrf_token": person.token}
    r = person.client.post("/signup" if new else "/login", data=form, headers={"Origin": base})
    assert r.status_code == 303, (r.status_code, r.text[:300])
    person.refresh_token()


def client_port(response: httpx.Response) -> Any:
    stream = response.extensions.get("network_stream")
    return stream.get_extra_info("client_addr") if stream is not None else None


def url_for(endpoint: Endpoint, case: Fuzz) -> str:
    """The request target. Either slashes and dots are sent as they are (the client then
    resolves "." and ".." segments itself), or every one is percent-encoded, so that
    the server is sent "%2F" and "%2E%2E" and must make sense of them."""

    def fill(match: re.Match[str]) -> str:
        value = raw_bytes(case.params[match.group(1)])
        if case.raw_slashes:
            return quote(value, safe="/")
        return quote(value, safe="").replace(".", "%2E")

    path = PARAM_RE.sub(fill, endpoint.path)
    query = encode(case.query)
    return path + (f"?{query}" if query else "")


# (endpoint, role, status) -> how many times it was answered so
ANSWERED: Counter[tuple[str, str, int]] = Counter()
# Routes whose real values must have been answered 200 at least once by each role, so
# the run is known to reach data, not only refusals.
REACHED = (
    "GET /groups/{slug}",
    "GET /groups/{slug}.ics",
    "GET /organisations/{slug}",
    "GET /hsds/services/{id}",
    "GET /find",
    "POST /api/match",
)


def check_one(server: LiveServer, person: Person, endpoint: Endpoint, case: Fuzz) -> None:
    headers = {"Origin": server.url, "X-CSRF-Token": person.token}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    try:
        response = person.client.request(
            endpoint.method, url_for(endpoint, case), content=case.body, headers=headers
        )
    except httpx.InvalidURL:
        return  # the client refuses to send it (a URL past its own limits): nothing to test
    assert response.status_code < 500, (
        f"{endpoint} as {person.role}: {response.status_code} for {case!r}\n{response.text[:300]}"
    )
    if response.request.url.path.startswith("/hsds/"):
        assert response.headers.get("access-control-allow-origin") == "*", (
            f"{endpoint}: an HSDS answer without CORS ({response.status_code}) for {case!r}"
        )
    ANSWERED[(str(endpoint), person.role, response.status_code)] += 1
    port = client_port(response)
    # The follow-up: a normal request on the same keep-alive connection, using the database.
    follow = person.client.get("/api/me" if person.role == "member" else "/readyz")
    assert client_port(follow) == port, (
        f"{endpoint} as {person.role}: the server closed the connection after {case!r}"
    )
    if person.role == "member" and follow.status_code != 200:
        # The fuzz signed the member out (POST /logout, /account/sessions): sign in again.
        assert follow.status_code in (401, 403), follow.text[:300]
        sign_in(person, server.url, new=False)
    else:
        assert follow.status_code == 200, (
            f"{endpoint} as {person.role}: the follow-up failed ({follow.status_code}) "
            f"after {case!r}\n{follow.text[:300]}"
        )
    if person.role == "anonymous":
        # A random sign-up may have signed the visitor in: stay a visitor.
        person.client.cookies.delete(server.app.state.settings.sign_in_cookie_name)


def fuzzer(server: LiveServer, person: Person, endpoint: Endpoint, real: dict[str, str]) -> Any:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=fuzz_for(endpoint, real))
    def run(case: Fuzz) -> None:
        check_one(server, person, endpoint, case)

    for case in fixed_cases(endpoint, real):
        run = example(case=case)(run)
    return run


async def seed(db: str, member_id: str) -> dict[str, str]:
    from peerhub.db import make_engine, make_sessionmaker

    engine = make_engine(db)
    try:
        sessions = make_sessionmaker(engine)
        group = await add_group(sessions, "Fuzz Circle", members=(member_id,))
        other = await add_group(
            sessions, "Fuzz Other Circle", format="in_person", postcode="LS6 3HN"
        )
        async with sessions() as session:
            from peerhub.models import Organisation

            org = await session.get(Organisation, group.organisation_id)
            assert org is not None
            return {
                "slug": group.slug,
                "group_id": group.id,
                "org_id": org.id,
                "user_id": member_id,
                "id": other.id,
                "referral_id": str(uuid.uuid4()),
                "code": "ABCD-EFGH",
                "rest": "services",
                "path": "css/site.css",
                "session_id": str(uuid.uuid4()),
                "org_slug": org.slug,
            }
    finally:
        await engine.dispose()


def test_no_route_answers_5xx_or_drops_the_connection_whatever_it_is_sent(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    # A WebSocket listener too, so the room page and /api/realtime answer as in production.
    extra = {"ws_port": 0, "ws_host": "127.0.0.1"}
    settings = make_settings(db_url, tmp_path, base_url=f"http://127.0.0.1:{port}", extra=extra)
    server = LiveServer(settings, port)
    # Each person's connection idles while the other's examples run: keep it open, so
    # that only a closed connection after an error can change the client's port.
    server.server.config.timeout_keep_alive = 600
    # One client sending thousands of searches and codes: lift the per-address limits
    # (their 429s are fine, but a run of 429s would test nothing behind them).
    server.app.state.match_limits = TokenBuckets(rate=1e6, burst=1_000_000, clock=time.monotonic)
    server.app.state.code_limits = TokenBuckets(rate=1e6, burst=1_000_000, clock=time.monotonic)
    routes = endpoints(server.app)
    assert len(routes) >= 60, routes
    failures: list[str] = []
    ANSWERED.clear()
    started = time.monotonic()
    with server:
        # One connection per person, kept alive: the follow-up must reuse it.
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        people = {
            role: Person(
                role,
                httpx.Client(base_url=server.url, limits=limits, timeout=30),
                pseudonym=f"fuzz {role}",
            )
            for role in ROLES
        }
        try:
            people["anonymous"].refresh_token()
            sign_in(people["member"], server.url, new=True)
            member_id = people["member"].client.get("/api/me").json()["id"]
            real = run_sync(seed, db_url, member_id)
            for endpoint in routes:
                values = dict(real)
                if endpoint.path.startswith("/organisations/"):
                    values["slug"] = real["org_slug"]
                for role in ROLES:
                    try:
                        fuzzer(server, people[role], endpoint, values)()
                    except Exception as exc:
                        failures.append(f"{endpoint} as {role}:\n{exc}")
        finally:
            for person in people.values():
                person.client.close()
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    reached = {(e, role) for (e, role, status) in ANSWERED if status == 200}
    missing = [(e, role) for e in REACHED for role in ROLES if (e, role) not in reached]
    assert not missing, f"never answered 200 (the fuzzing did not reach data): {missing}"
    assert elapsed < BUDGET_S, f"the fuzzing took {elapsed:.0f} s; keep it under {BUDGET_S} s"


@pytest.mark.parametrize("value", ["\x00", "\udcff", "x" * 5000, "..", "a/b", "1e400"])
def test_the_fixed_cases_are_well_formed(value: str) -> None:
    """The nasty path values survive encoding into a URL (so they are really sent)."""
    case = Fuzz({"slug": value}, [("q", value)])
    url = url_for(Endpoint("GET", "/groups/{slug}"), case)
    assert url.startswith("/groups/") and "?q=" in url
    assert httpx.URL("http://x" + url).path.startswith("/groups/")
