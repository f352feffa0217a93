"""Shared by the security tests: every HTTP route of the app, the tables of
docs/security.md, and a small world with one person in each role.

The world is built through the app's own HTTP routes wherever that is cheap (sign-up,
registering an organisation and a group, joining, inviting a moderator who says yes,
referring),
so the people in it are what the matrix says they are; only the site-wide flags
(administrator, professional status) are set in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from peerhub.care import actions as care
from peerhub.care.models import CheckIn, TrainingRecord
from peerhub.groups.models import CommunityProposal
from peerhub.models import (
    Group,
    GroupMember,
    Organisation,
    Referral,
    SignIn,
    User,
    WaitlistEntry,
)
from peerhub.moderation.models import CrisisAlert, Report
from tests.conftest import REPO, csrf_token, enrol_2fa, totp_code
from tests.finding.conftest import add_group
from tests.groups.helpers import group_form

SECURITY_MD = REPO / "docs" / "security.md"
PASSWORD = "a long test password for the matrix"
# Roles that must have two-step sign-in set up before they may act (everyone with
# power over others); set up straight in the database, as tests/conftest.py does.
NEEDS_TWO_STEP = frozenset({"moderator", "organiser", "pro-verified", "admin"})

# The columns of the authorisation matrix, in order (docs/security.md explains each).
ROLES: tuple[str, ...] = (
    "anonymous",
    "member",
    "outsider",
    "moderator",
    "organiser",
    "pro-pending",
    "pro-verified",
    "admin",
)

# --- routes ------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Endpoint:
    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _sub_routes(mount: Mount) -> Sequence[BaseRoute] | None:
    if mount.routes:
        return mount.routes
    # A mounted ASGI app with its own router (the HSDS API wraps one for CORS).
    router = getattr(mount.app, "router", None)
    routes = getattr(router, "routes", None)
    return list(routes) if routes else None


def endpoints(app: Starlette) -> list[Endpoint]:
    """Every (method, path) the app routes, Mount sub-routes included.

    HEAD is left out: Starlette answers it with the GET handler, so it is covered by
    the GET row. A mount of an app without routes (static files) is one ``GET``
    row with a ``{path}`` parameter; any other opaque mount is refused, so that a
    new one must be thought about rather than silently skipped.
    """
    found: set[Endpoint] = set()

    def walk(routes: Sequence[BaseRoute], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                sub = _sub_routes(route)
                if sub is not None:
                    walk(sub, prefix + route.path)
                elif isinstance(route.app, StaticFiles):
                    found.add(Endpoint("GET", f"{prefix}{route.path}/{{path}}"))
                else:
                    raise AssertionError(f"cannot enumerate the mount {prefix}{route.path}")
            elif isinstance(route, Route):
                for method in route.methods or ():
                    if method != "HEAD":
                        found.add(Endpoint(method, prefix + route.path))
            elif isinstance(route, WebSocketRoute):
                found.add(Endpoint("WEBSOCKET", prefix + route.path))
            else:
                raise AssertionError(f"unknown kind of route: {route!r}")

    walk(app.routes, "")
    return sorted(found)


# --- the tables of docs/security.md ------------------------------------------------------

CODE_RE = re.compile(r"`([^`]*)`")


def markdown_table(heading: str, path: Path = SECURITY_MD) -> list[dict[str, str]]:
    """The first Markdown table after ``heading``, as dicts keyed by header text.

    Back-quotes are removed from cells, so `` `GET` `` reads as ``GET``.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise AssertionError(f"{path.name} has no heading {heading!r}") from None
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        text = line.strip()
        if text.startswith("#"):
            break
        if text.startswith("|"):
            rows.append([CODE_RE.sub(r"\1", c).strip() for c in text.strip("|").split("|")])
        elif rows:
            break
    assert len(rows) >= 2, f"no table under {heading!r} in {path.name}"
    header, body = rows[0], rows[2:]  # rows[1] is the |---| line
    out = []
    for cells in body:
        assert len(cells) == len(header), f"ragged row in {path.name}: {cells}"
        out.append(dict(zip(header, cells, strict=True)))
    return out


MATRIX_HEADING = "### The matrix"
FRAMES_HEADING = "### Frames and the rank they need"
WORDS = ("ok", "login", "deny")
# A redirect here means "sign in first" (or finish, or set up, two-step sign-in).
SIGN_IN_PAGES = frozenset({"/login", "/login/2fa", "/account/2fa"})


def matrix() -> dict[Endpoint, dict[str, str]]:
    rows: dict[Endpoint, dict[str, str]] = {}
    for row in markdown_table(MATRIX_HEADING):
        endpoint = Endpoint(row["Method"], row["Path"])
        assert endpoint not in rows, f"{endpoint} has two rows in docs/security.md"
        cells = {role: row[role] for role in ROLES}
        for role, cell in cells.items():
            assert cell in WORDS or re.fullmatch(r"[1-5]\d\d", cell), (
                f"{endpoint} / {role}: {cell!r} is not ok, login, deny or a status code"
            )
        rows[endpoint] = cells
    return rows


def outcome(response: httpx.Response) -> str:
    """The class of an answer, in the matrix's words (see docs/security.md)."""
    status = response.status_code
    if status == 401:
        return "login"
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", "")).path
        return "login" if target in SIGN_IN_PAGES else "ok"
    if status in (403, 404):
        return "deny"
    if 200 <= status < 300 or status in (400, 409, 422):
        return "ok"
    return str(status)


def agrees(expected: str, response: httpx.Response) -> bool:
    if expected.isdigit():
        return response.status_code == int(expected)
    return outcome(response) == expected


# --- filling in path parameters -----------------------------------------------------------

PARAM_RE = re.compile(r"\{(\w+)(?::\w+)?\}")


# --- the world ----------------------------------------------------------------------------


@dataclass
class World:
    """One app, one signed-in client per role, and real ids for every path parameter."""

    app: Starlette
    base: str
    clients: dict[str, httpx.AsyncClient]
    values: dict[str, str] = field(default_factory=dict)
    by_path: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def url(self, endpoint: Endpoint, role: str = "anonymous") -> str:
        values = {**self.values, **self.by_path.get(endpoint.path, {})}
        if role in self.codes:
            values["code"] = self.codes[role]

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise AssertionError(
                    f"{endpoint}: no value for the path parameter {{{name}}}; "
                    "add one in tests/security/support.py (build_world)"
                )
            return values[name]

        return PARAM_RE.sub(fill, endpoint.path)

    async def post(
        self, role: str, path: str, data: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        """A same-origin form post carrying the client's valid CSRF token."""
        client = self.clients[role]
        pairs: list[tuple[str, str]] = [("csrf_token", await csrf_token(client))]
        for key, value in (data or {}).items():
            pairs.extend((key, v) for v in (value if isinstance(value, list) else [value]))
        return await client.post(
            path,
            content=urlencode(pairs),
            headers={
                "Origin": self.base,
                "Content-Type": "application/x-www-form-urlencoded",
                **headers,
            },
        )

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def client_for(app: Starlette, base: str, number: int) -> httpx.AsyncClient:
    # Each role has its own address, so per-address rate limits never mix them up.
    transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{100 + number}", 50000))
    return httpx.AsyncClient(transport=transport, base_url=base)


CODE = re.compile(r'<strong class="code">([A-Z0-9-]+)</strong>')


async def build_world(app: Starlette, base: str, tag: str) -> World:
    """People in every role around group A (and a group B), made through the app."""
    clients = {role: client_for(app, base, i) for i, role in enumerate(ROLES)}
    world = World(app, base, clients)
    sessions = app.state.ctx.sessions
    for role in ROLES[1:]:
        name = f"{tag} {role}"
        r = await world.post(role, "/signup", {"pseudonym": name, "password": PASSWORD})
        assert r.status_code == 303, (role, r.status_code, r.text[:300])
        world.users[role] = (await clients[role].get("/api/me")).json()["id"]
        if role in NEEDS_TWO_STEP:
            await enrol_2fa(app, world.users[role])

    flagged: dict[str, dict[str, object]] = {
        "admin": {"is_admin": True},
        "pro-pending": {"professional_status": "pending", "professional_role": "GP"},
        "pro-verified": {"professional_status": "verified", "professional_role": "GP"},
    }
    async with sessions() as db, db.begin():
        for role, flags in flagged.items():
            user = await db.get(User, world.users[role])
            assert user is not None
            for key, value in flags.items():
                setattr(user, key, value)

    # The organiser registers an organisation and its group A; the admin verifies it.
    r = await world.post(
        "organiser",
        "/organise/organisations/new",
        {
            "name": f"{tag} Peer Network",
            "description": "Peer groups.",
            "lived_experience_led": "yes",
        },
    )
    assert r.status_code == 303, r.text[:500]
    org_id = r.headers["location"].split("/")[3].split("?")[0]
    r = await world.post(
        "organiser",
        f"/organise/organisations/{org_id}/groups/new",
        group_form(name=f"{tag} Circle"),
    )
    assert r.status_code == 303, r.text[:500]
    group_id = r.headers["location"].split("/")[3].split("?")[0]
    r = await world.post(
        "organiser",
        f"/organise/organisations/{org_id}/communities/new",
        {"name": f"{tag} proposed community"},
    )
    assert r.status_code == 303, r.text[:500]
    r = await world.post("admin", "/admin", {"action": "verify_org", "organisation_id": org_id})
    assert r.status_code == 303, r.text[:500]
    async with sessions() as db:
        org = await db.get(Organisation, org_id)
        assert org is not None
        org_slug = org.slug
        group = await db.get(Group, group_id)
        assert group is not None
        slug = group.slug

    # Group B, in its own organisation, with the outsider as its only member.
    other = await add_group(sessions, f"{tag} Other Circle")
    async with sessions() as db, db.begin():
        db.add(GroupMember(group_id=other.id, user_id=world.users["outsider"], role="member"))

    # The member and the moderator join group A; the organiser invites the moderator to
    # moderate it, and they say yes.
    for role in ("member", "moderator"):
        r = await world.post(role, f"/groups/{slug}/join")
        assert r.status_code == 303 and "done=joined" in r.headers["location"], r.text[:300]
    r = await world.post(
        "organiser",
        f"/organise/groups/{group_id}/moderators",
        {"pseudonym": f"{tag} moderator", "action": "invite"},
    )
    assert r.status_code == 303, r.text[:500]
    r = await world.post(
        "moderator",
        "/account/invitations",
        {"kind": "moderator", "place_id": group_id, "answer": "accept"},
    )
    assert r.status_code == 303, r.text[:500]

    # Referral codes made by the verified professional: one the member has taken up
    # (its id fills {referral_id}), and a fresh one per role for /r/{code}.
    async def refer() -> str:
        r = await world.post(
            "pro-verified",
            f"/groups/{slug}/refer",
            {"person_name": "Sam", "contact_method": "code", "consent": "yes"},
        )
        assert r.status_code == 200, r.text[:500]
        found = CODE.search(r.text)
        assert found is not None
        return found.group(1)

    r = await world.post("member", f"/r/{await refer()}")
    assert r.status_code == 303, r.text[:300]
    for role in ROLES:
        world.codes[role] = await refer()
    async with sessions() as db:
        referral_id = await db.scalar(
            select(Referral.id).where(Referral.person_user_id == world.users["member"])
        )
    assert referral_id is not None

    # Care for moderators (peerhub/care): a check-in of the moderator's after an alert,
    # with a debrief asked of group A's organisers, and a training record of theirs.
    async with sessions() as db, db.begin():
        moderator = await db.get(User, world.users["moderator"])
        assert moderator is not None
        now = app.state.ctx.clock()
        alert = CrisisAlert(group_id=group_id, user_id=world.users["member"], message_seq=1)
        db.add(alert)
        await db.flush()
        await care.after_alert(db, moderator.id, alert.id, group_id, now)
        alert_id = alert.id  # also the duty desk's alert (/duty/alerts/{alert_id})
        report = Report(
            group_id=group_id,
            reporter_id=world.users["member"],
            subject_id=moderator.id,
            category="unkind",
            created_at=now,
        )
        db.add(report)
        await db.flush()
        report_id = report.id
        care_check_in = await db.scalar(select(CheckIn.id).where(CheckIn.user_id == moderator.id))
        assert care_check_in is not None
        await care.ask_debrief(db, moderator, care_check_in, now)
        record = TrainingRecord(
            organisation_id=org_id,
            user_id=moderator.id,
            course="Suicide first aid",
            completed_on=now.date(),
        )
        db.add(record)
        await db.flush()
        record_id = record.id

    # A place offered to the unverified professional on group A's waiting list, and a
    # second sign-in of the admin's (so ending a session has a target that exists).
    async with sessions() as db, db.begin():
        db.add(
            WaitlistEntry(
                group_id=group_id,
                user_id=world.users["pro-pending"],
                status="offered",
                offered_at=app.state.ctx.clock(),
            )
        )

    async def admin_sign_ins() -> set[str]:
        async with sessions() as db:
            rows = await db.scalars(select(SignIn.id).where(SignIn.user_id == world.users["admin"]))
            return set(rows)

    before = await admin_sign_ins()
    async with client_for(app, base, len(ROLES)) as spare:
        second = World(app, base, {"admin": spare})
        r = await second.post(
            "admin", "/login", {"pseudonym": f"{tag} admin", "password": PASSWORD}
        )
        assert r.status_code == 303 and r.headers["location"].startswith("/login/2fa"), r.text
        r = await second.post("admin", "/login/2fa", {"code": totp_code(app.state.ctx.clock())})
        assert r.status_code == 303, r.text[:300]
    (spare_sign_in,) = await admin_sign_ins() - before

    # A private check-in group A's moderator asked the member to, from a crisis alert
    # about her (its id fills {check_in_id}; docs/check-ins.md).
    async with sessions() as db, db.begin():
        alert = CrisisAlert(group_id=group_id, user_id=world.users["member"], message_seq=1)
        db.add(alert)
        await db.flush()
        alert_id = alert.id
    r = await world.post("moderator", "/check-ins", {"source": "alert", "source_id": alert_id})
    assert r.status_code == 303, r.text[:300]
    check_in_id = r.headers["location"].split("/")[2].split("?")[0]

    async with sessions() as db:
        proposal_id = await db.scalar(select(CommunityProposal.id).limit(1))
    assert proposal_id is not None
    anonymous = clients["anonymous"]
    sal = (await anonymous.get("/hsds/service_at_locations", params={"per_page": 50})).json()
    sal_id = next(i["id"] for i in sal["contents"] if i["service"]["id"] == group_id)
    taxonomy = (await anonymous.get("/hsds/taxonomies")).json()["contents"][0]["id"]
    term = (await anonymous.get("/hsds/taxonomy_terms")).json()["contents"][0]["id"]

    world.values = {
        "slug": slug,
        "org_id": org_id,
        "group_id": group_id,
        "proposal_id": proposal_id,
        "referral_id": referral_id,
        "check_in_id": check_in_id,
        "alert_id": alert_id,  # the crisis alert the check-in came from
        "report_id": report_id,
        "organisation_id": org_id,
        "record_id": record_id,
        "spare_sign_in": spare_sign_in,
        "user_id": world.users["member"],
        "rest": "no-such-endpoint",
        "path": "css/site.css",
        "tag": "cy",  # a shipped language's script catalogue
    }
    world.by_path = {
        "/organisations/{slug}": {"slug": org_slug},
        "/hsds/services/{id}": {"id": group_id},
        "/hsds/organizations/{id}": {"id": org_id},
        "/hsds/service_at_locations/{id}": {"id": sal_id},
        "/hsds/taxonomies/{id}": {"id": taxonomy},
        "/hsds/taxonomy_terms/{id}": {"id": term},
        "/i18n/{tag}.json": {"tag": "cy"},
        # The console's queue of group A: its moderators and organisers only.
        "/api/moderation/{frame_type}": {"frame_type": "mod.queue"},
        # Nobody's notice (tests/notify covers marking one's own).
        "/notices/{notice_id}/seen": {"notice_id": "00000000-0000-4000-8000-000000000000"},
        # The moderator's care check-in (peerhub/care), not the private check-in.
        "/care/check-ins/{check_in_id}": {"check_in_id": care_check_in},
        "/organise/organisations/{org_id}/care/debriefs/{check_in_id}": {
            "check_in_id": care_check_in
        },
        # Nobody's calendar feed (tests/rotas covers a moderator's own).
        "/rota/feed/{token}.ics": {"token": "no-such-feed"},
    }
    return world


def ordered_for_walk(rows: Sequence[Endpoint], last: Sequence[str]) -> Iterator[Endpoint]:
    """GETs first, then other methods, and the rows in ``last`` at the very end, in
    that order (joining, leaving and signing out change who the people are)."""
    late = {p: i for i, p in enumerate(last)}
    yield from sorted(
        rows,
        key=lambda e: (e.path in late, late.get(e.path, 0), e.method != "GET", e.path, e.method),
    )
