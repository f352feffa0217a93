"""Small directories built directly in the database for finding tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group, GroupMember, GroupTag, Organisation, User

VERIFIED = datetime(2026, 1, 1, tzinfo=UTC)


async def add_group(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    *,
    languages: tuple[str, ...] = ("en",),
    communities: tuple[str, ...] = (),
    stages: tuple[str, ...] = ("recovery",),
    topics: tuple[str, ...] = (),
    access: tuple[str, ...] = (),
    interpretation: tuple[str, ...] = (),
    members: tuple[str, ...] = (),
    moderators: tuple[str, ...] = (),
    **fields: Any,
) -> Group:
    slug = name.lower().replace(" ", "-")
    values: dict[str, Any] = {
        "format": "online",
        "dtstart_local": "2026-09-01T18:00:00",
        "rrule": "FREQ=WEEKLY;BYDAY=TU",
        "time_zone": "Europe/London",
    }
    values.update(fields)
    async with sessions() as db, db.begin():
        org = Organisation(slug=f"org-{slug}", name=f"Org of {name}", verified_at=VERIFIED)
        db.add(org)
        await db.flush()
        group = Group(id=str(uuid.uuid4()), organisation_id=org.id, slug=slug, name=name, **values)
        tags: list[GroupTag] = []
        for kind, items in (
            ("language", languages),
            ("community", communities),
            ("stage", stages),
            ("topic", topics),
            ("access", access),
            ("interpretation", interpretation),
        ):
            tags += [GroupTag(kind=kind, value=v, position=i) for i, v in enumerate(items)]
        group.tags = tags
        db.add(group)
        await db.flush()
        for user_id in members:
            db.add(GroupMember(group_id=group.id, user_id=user_id, role="member"))
        for user_id in moderators:
            db.add(GroupMember(group_id=group.id, user_id=user_id, role="moderator"))
    return group


async def add_user(sessions: async_sessionmaker[AsyncSession], name: str) -> User:
    async with sessions() as db, db.begin():
        user = User(pseudonym=name, pseudonym_key=name.lower(), password_hash="!unusable")
        db.add(user)
    return user
