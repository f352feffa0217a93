"""What the group pages show: read-only queries, no permission decisions.

The callers check permission first (see :mod:`peerhub.groups.actions`); these
functions only gather rows, eagerly, so nothing lazy-loads in a template.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub.groups import answers
from peerhub.models import (
    Group,
    GroupMember,
    Organisation,
    OrganisationOrganiser,
    SafeguardingLead,
    User,
    WaitlistEntry,
)

# -- the person's own account page ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class MyGroup:
    """One line of "Your groups": a place, a request, a waiting-list place, or an answer."""

    group_id: str
    slug: str
    name: str
    role: str  # organiser | moderator | member | none (only an answer remains)
    status: str  # member | requested | waiting | declined | organiser
    answer: answers.JoinAnswer | None = None
    # PeerHub has verified the group's organisation: otherwise the group has no public
    # page to link to, and nobody can join it (docs/groups.md, "Verification").
    checked: bool = True

    @property
    def can_leave(self) -> bool:
        return self.status in ("member", "requested", "waiting")


async def my_groups(db: AsyncSession, user_id: str) -> list[MyGroup]:
    """Every group the person is in, has asked to join or waits for, with answers."""
    memberships = (
        await db.execute(
            select(GroupMember, Group.slug, Group.name)
            .join(Group, Group.id == GroupMember.group_id)
            # A private check-in is listed on its own page (/check-ins), never here.
            .where(GroupMember.user_id == user_id, Group.kind == "group")
        )
    ).all()
    waiting = (
        await db.execute(
            select(WaitlistEntry, Group.slug, Group.name)
            .join(Group, Group.id == WaitlistEntry.group_id)
            .where(WaitlistEntry.user_id == user_id, WaitlistEntry.status == "waiting")
        )
    ).all()
    organised = (
        await db.execute(
            select(Group.id, Group.slug, Group.name)
            .join(
                OrganisationOrganiser,
                OrganisationOrganiser.organisation_id == Group.organisation_id,
            )
            .where(OrganisationOrganiser.user_id == user_id, Group.kind == "group")
        )
    ).all()
    latest = await answers.latest(db, user_id)
    out: dict[str, MyGroup] = {}
    for gid, slug, name in organised:
        out[gid] = MyGroup(gid, slug, name, "organiser", "organiser")
    for member, slug, name in memberships:
        if member.group_id in out:
            continue
        answer = latest.get(member.group_id)
        # An answer belongs to this place only if it came after the request was made.
        if answer is not None and (not answer.accepted or answer.at < member.joined_at):
            answer = None
        out[member.group_id] = MyGroup(
            member.group_id,
            slug,
            name,
            "moderator" if member.role == "moderator" else "member",
            "member" if member.status == "active" else "requested",
            answer,
        )
    for entry, slug, name in waiting:
        out.setdefault(entry.group_id, MyGroup(entry.group_id, slug, name, "member", "waiting"))
    declined = [a for gid, a in latest.items() if gid not in out and not a.accepted]
    if declined:
        names = (
            await db.execute(
                select(Group.id, Group.slug, Group.name).where(
                    Group.id.in_([a.group_id for a in declined])
                )
            )
        ).all()
        by_id = {gid: (slug, name) for gid, slug, name in names}
        for a in declined:
            if a.group_id in by_id:
                slug, name = by_id[a.group_id]
                out[a.group_id] = MyGroup(a.group_id, slug, name, "none", "declined", a)
    if out:
        unchecked = set(
            await db.scalars(
                select(Group.id)
                .join(Organisation, Organisation.id == Group.organisation_id)
                .where(Group.id.in_(list(out)), Organisation.verified_at.is_(None))
            )
        )
        for gid in unchecked:
            out[gid] = dataclasses.replace(out[gid], checked=False)
    order = {"organiser": 0, "member": 1, "requested": 2, "waiting": 3, "declined": 4}
    return sorted(out.values(), key=lambda g: (order[g.status], g.name.casefold()))


async def my_organisations(db: AsyncSession, user_id: str) -> list[Organisation]:
    return list(
        (
            await db.scalars(
                select(Organisation)
                .join(
                    OrganisationOrganiser,
                    OrganisationOrganiser.organisation_id == Organisation.id,
                )
                .where(OrganisationOrganiser.user_id == user_id)
                .options(selectinload(Organisation.groups))
                .order_by(Organisation.name)
            )
        ).all()
    )


async def moderated_groups(db: AsyncSession, user_id: str) -> list[Group]:
    return list(
        (
            await db.scalars(
                select(Group)
                .join(GroupMember, GroupMember.group_id == Group.id)
                .where(
                    GroupMember.user_id == user_id,
                    GroupMember.role == "moderator",
                    GroupMember.status == "active",
                    Group.kind == "group",
                )
                .order_by(Group.name)
            )
        ).all()
    )


async def leads_of(db: AsyncSession, organisation_id: str) -> list[User]:
    """The organisation's safeguarding leads (peerhub/duty/)."""
    return list(
        (
            await db.scalars(
                select(User)
                .join(SafeguardingLead, SafeguardingLead.user_id == User.id)
                .where(SafeguardingLead.organisation_id == organisation_id)
                .order_by(User.pseudonym_key)
            )
        ).all()
    )


async def organisers_of(db: AsyncSession, organisation_id: str) -> list[User]:
    return list(
        (
            await db.scalars(
                select(User)
                .join(OrganisationOrganiser, OrganisationOrganiser.user_id == User.id)
                .where(OrganisationOrganiser.organisation_id == organisation_id)
                .order_by(User.pseudonym_key)
            )
        ).all()
    )


async def groups_of(db: AsyncSession, organisation_id: str) -> list[Group]:
    return list(
        (
            await db.scalars(
                select(Group)
                .where(Group.organisation_id == organisation_id, Group.kind == "group")
                .order_by(Group.name)
            )
        ).all()
    )


# -- the organiser's group page ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    pseudonym: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Roster:
    moderators: list[Person]
    members: list[Person]
    requests: list[Person]
    waiting: list[Person]


async def roster(db: AsyncSession, group_id: str) -> Roster:
    rows = (
        await db.execute(
            select(GroupMember, User.pseudonym)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == group_id)
            .order_by(GroupMember.joined_at, User.pseudonym_key)
        )
    ).all()
    moderators, members, requests = [], [], []
    for m, pseudonym in rows:
        person = Person(m.user_id, pseudonym, m.joined_at)
        if m.status == "requested":
            requests.append(person)
        elif m.role == "moderator":
            moderators.append(person)
        else:
            members.append(person)
    waiting = [
        Person(w.user_id, pseudonym, w.created_at)
        for w, pseudonym in (
            await db.execute(
                select(WaitlistEntry, User.pseudonym)
                .join(User, User.id == WaitlistEntry.user_id)
                .where(WaitlistEntry.group_id == group_id, WaitlistEntry.status == "waiting")
                .order_by(WaitlistEntry.created_at)
            )
        ).all()
    ]
    return Roster(moderators, members, requests, waiting)


async def unverified_organisations(db: AsyncSession, limit: int = 100) -> list[Organisation]:
    return list(
        (
            await db.scalars(
                select(Organisation)
                .where(Organisation.verified_at.is_(None))
                .order_by(Organisation.created_at)
                .limit(limit)
            )
        ).all()
    )


async def verified_organisations(db: AsyncSession, limit: int = 100) -> list[Organisation]:
    return list(
        (
            await db.scalars(
                select(Organisation)
                .where(Organisation.verified_at.is_not(None))
                .order_by(Organisation.name)
                .limit(limit)
            )
        ).all()
    )


async def people_in_rooms(db: AsyncSession, organisation_id: str) -> list[tuple[str, str]]:
    """(group id, user id) for everyone who could be in a room of the organisation's
    groups: active members and moderators, and the organisers. Used to close their
    live sockets when PeerHub withdraws the organisation's verification."""
    groups = select(Group.id).where(Group.organisation_id == organisation_id)
    members = (
        await db.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                GroupMember.group_id.in_(groups), GroupMember.status == "active"
            )
        )
    ).all()
    organisers = (
        await db.execute(
            select(Group.id, OrganisationOrganiser.user_id)
            .join(
                OrganisationOrganiser,
                OrganisationOrganiser.organisation_id == Group.organisation_id,
            )
            .where(Group.organisation_id == organisation_id)
        )
    ).all()
    return sorted({(g, u) for g, u in [*members, *organisers]})
