"""Helpers shared by the group tests: people, organisations, groups and a mail catcher."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group, Organisation, User
from tests.conftest import BASE, csrf_token, enrol_me, post_form, sign_up


@dataclass
class Sent:
    to: str
    subject: str
    body: str


@dataclass
class RecordingSender:
    """A sender that keeps what it was asked to send."""

    sent: list[Sent] = field(default_factory=list)
    fail: bool = False

    async def send(self, to: str, subject: str, body: str) -> None:
        if self.fail:
            raise ConnectionRefusedError("no mail server")
        self.sent.append(Sent(to, subject, body))


def group_form(**overrides: str | list[str]) -> dict[str, Any]:
    """A valid online group form; override any field."""
    data: dict[str, Any] = {
        "name": "Tuesday Talk",
        "description": "A calm space to talk.\nTea and biscuits.",
        "languages": "en, bfi",
        "interpretation": "pl",
        "stages": ["recovery", "staying_well"],
        "communities": ["lgbtq"],
        "topics": ["anxiety", "depression"],
        "access": ["captions", "camera_optional"],
        "format": "online",
        "age_min": "18",
        "age_max": "",
        "capacity": "",
        "join_policy": "open",
        "status": "active",
        "ground_rules": "Be kind.\nWhat is said here stays here.",
        "first_date": "2026-10-20",
        "start_time": "18:00",
        "duration_minutes": "90",
        "repeat": "weekly",
        "rrule": "",
        "time_zone": "Europe/London",
    }
    data.update(overrides)
    return data


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, json: bool = False
) -> httpx.Response:
    """Post a form (lists become repeated fields) with this client's CSRF token."""
    pairs: list[tuple[str, str]] = [("csrf_token", await csrf_token(client))]
    for key, value in data.items():
        if isinstance(value, list):
            pairs.extend((key, v) for v in value)
        else:
            pairs.append((key, value))
    headers = {"Origin": BASE}
    if json:
        headers["Accept"] = "application/json"
    body = urlencode(pairs)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return await client.post(path, content=body, headers=headers)


@contextlib.asynccontextmanager
async def person(app: Any, pseudonym: str, **signup: str) -> AsyncIterator[httpx.AsyncClient]:
    """A separate browser-like client for one person, signed up and signed in."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50001))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        if signup:
            data = {"pseudonym": pseudonym, "password": "a long test password", **signup}
            response = await post_form(c, "/signup", data)
            assert response.status_code == 303, response.text
        else:
            await sign_up(c, pseudonym)
        yield c


@contextlib.asynccontextmanager
async def anonymous(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50002))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def register_org(client: httpx.AsyncClient, name: str = "Calder Peer Network") -> str:
    response = await post(
        client,
        "/organise/organisations/new",
        {"name": name, "description": "Peer groups.", "lived_experience_led": "yes"},
    )
    assert response.status_code == 303, response.text
    # Organisers need two-step sign-in before they can use anything else.
    await enrol_me(client)
    return response.headers["location"].split("/")[3].split("?")[0]


async def verify_org(client: httpx.AsyncClient, org_id: str) -> None:
    """Mark the organisation as checked by PeerHub, as an administrator would: until
    then nobody can join its groups (docs/groups.md, "Verification")."""
    from datetime import UTC, datetime

    app = client._transport.app  # type: ignore[attr-defined]
    async with app.state.ctx.sessions() as db, db.begin():
        org = await db.get(Organisation, org_id)
        assert org is not None
        org.verified_at = datetime(2026, 10, 1, tzinfo=UTC)


async def make_moderator(
    organiser: httpx.AsyncClient, invited: httpx.AsyncClient, group_id: str, pseudonym: str
) -> None:
    """The organiser invites a person to moderate the group and they say yes (nobody
    becomes a moderator any other way), then set up two-step sign-in, which
    moderators need."""
    r = await post(
        organiser,
        f"/organise/groups/{group_id}/moderators",
        {"pseudonym": pseudonym, "action": "invite"},
    )
    assert r.status_code == 303 and "done=moderator_invite" in r.headers["location"], r.text
    r = await post(
        invited,
        "/account/invitations",
        {"kind": "moderator", "place_id": group_id, "answer": "accept"},
    )
    assert r.status_code == 303, r.text[:500]
    await enrol_me(invited)


async def create_group(client: httpx.AsyncClient, org_id: str, **overrides: Any) -> str:
    response = await post(
        client, f"/organise/organisations/{org_id}/groups/new", group_form(**overrides)
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/")[3].split("?")[0]


async def group_row(sessions: async_sessionmaker[AsyncSession], group_id: str) -> Group:
    async with sessions() as db:
        group = await db.get(Group, group_id)
    assert group is not None
    return group


async def org_row(sessions: async_sessionmaker[AsyncSession], org_id: str) -> Organisation:
    async with sessions() as db:
        org = await db.get(Organisation, org_id)
    assert org is not None
    return org


async def user_row(sessions: async_sessionmaker[AsyncSession], pseudonym: str) -> User:
    async with sessions() as db:
        user = await db.scalar(select(User).where(User.pseudonym == pseudonym))
    assert user is not None
    return user
