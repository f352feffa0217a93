"""Test data for the directory: organisations and groups written straight to the models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group, GroupMember, GroupTag, Organisation, TagKind, User, new_id

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def org(
    slug: str = "open-door",
    *,
    name: str | None = None,
    verified: bool = True,
    led: bool = True,
    updated_at: datetime = T0,
    **extra: Any,
) -> Organisation:
    values: dict[str, Any] = {
        "id": new_id(),
        "slug": slug,
        "name": name or slug.replace("-", " ").title(),
        "description": f"About {slug}.",
        "website": f"https://{slug}.example.org",
        "email": f"hello@{slug}.example.org",
        "phone": "0113 496 0000",
        "lived_experience_led": led,
        "verified_at": T0 if verified else None,
        "created_at": T0,
        "updated_at": updated_at,
    }
    values.update(extra)
    return Organisation(**values)


LEEDS: dict[str, Any] = {
    "address": "Hollybank Centre, 12 Example Street, Leeds",
    "postcode": "LS1 3AD",
    "latitude": 53.7997,
    "longitude": -1.5492,
}


def group(
    organisation: Organisation,
    slug: str,
    *,
    name: str | None = None,
    fmt: str = "online",
    languages: Sequence[str] = ("en",),
    interpretation: Sequence[str] = (),
    communities: Sequence[str] = (),
    stages: Sequence[str] = (),
    topics: Sequence[str] = (),
    access: Sequence[str] = (),
    rrule: str = "FREQ=WEEKLY;BYDAY=TU",
    dtstart: str = "2026-09-01T18:00:00",
    updated_at: datetime = T0,
    place: dict[str, Any] | None = None,
    **extra: Any,
) -> Group:
    values: dict[str, Any] = {
        "id": new_id(),
        "organisation_id": organisation.id,
        "slug": slug,
        "name": name or slug.replace("-", " ").title(),
        "description": f"The {slug} group.",
        "format": fmt,
        "dtstart_local": dtstart,
        "rrule": rrule,
        "exdates": [],
        "created_at": T0,
        "updated_at": updated_at,
    }
    if fmt != "online":
        values.update(place if place is not None else LEEDS)
    values.update(extra)
    g = Group(**values)
    kinds = (
        (TagKind.LANGUAGE, languages),
        (TagKind.INTERPRETATION, interpretation),
        (TagKind.COMMUNITY, communities),
        (TagKind.STAGE, stages),
        (TagKind.TOPIC, topics),
        (TagKind.ACCESS, access),
    )
    g.tags = [
        GroupTag(kind=kind.value, value=value, position=i)
        for kind, values_ in kinds
        for i, value in enumerate(values_)
    ]
    return g


async def save(sessions: async_sessionmaker[AsyncSession], *rows: Any) -> None:
    """Organisations, people, groups, then the rest: the unit of work only orders
    inserts along relationships, which these tables mostly lack."""
    async with sessions() as db, db.begin():
        for kind in (Organisation, User, Group):
            db.add_all([r for r in rows if isinstance(r, kind)])
            await db.flush()
        db.add_all([r for r in rows if not isinstance(r, (Organisation, User, Group))])


def user(pseudonym: str) -> User:
    return User(
        id=new_id(), pseudonym=pseudonym, pseudonym_key=pseudonym.lower(), password_hash="x"
    )


def member(g: Group, u: User, role: str = "member", status: str = "active") -> GroupMember:
    return GroupMember(group_id=g.id, user_id=u.id, role=role, status=status, joined_at=T0)
