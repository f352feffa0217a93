"""Load the demo data set (:mod:`peerhub.demo_data`) into a database.

:func:`load_demo` writes everything in one transaction and is idempotent: a second
run finds every row and adds nothing. It only ever *adds* what is missing and never
overwrites or deletes, so changes made to demo groups through the site survive a
re-run (``peerhub demo`` may run on every start of a demo instance).

Rows are matched by stable keys: organisations and groups by a UUIDv5 of their slug,
accounts by pseudonym, tags, organisers and memberships by their primary keys.

The loader never raises the rights of an account it did not create. An existing
account keeps its admin and professional flags as they are, and is given a missing
demo role (organiser, moderator, member) only if it still logs in with the demo
password. Otherwise someone else chose that pseudonym (for example, signed up as
``demo-admin`` before the operator ran ``peerhub demo``); the summary says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import audit
from peerhub.accounts import actions
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.db import transaction
from peerhub.demo_data import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    GROUPS,
    ORGANISATIONS,
    ROTA_GAPS,
    ROTA_SESSIONS,
    DemoAccount,
    DemoGroup,
)
from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    GroupTag,
    GroupText,
    Organisation,
    OrganisationOrganiser,
    SafeguardingLead,
    TagKind,
    User,
)
from peerhub.realtime.queries import rules_version
from peerhub.rotas import queries as rota_queries
from peerhub.rotas.models import ROSTERED, RotaEntry
from peerhub.security.passwords import Passwords

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_TOTP_SECRET",
    "DemoSummary",
    "Tally",
    "group_id",
    "group_tags",
    "load_demo",
    "organisation_id",
]

# Fixed for ever: demo ids must be the same on every run and every deployment.
NAMESPACE: Final = uuid.UUID("a2740c63-4c71-4ba4-93f1-e77b57644a0f")


def organisation_id(slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"organisation:{slug}"))


def group_id(slug: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"group:{slug}"))


def _has_demo_flags(user: User, account: DemoAccount) -> bool:
    if user.is_admin != account.is_admin:
        return False
    return account.professional_role is None or user.is_professional


def group_tags(group: DemoGroup) -> list[tuple[TagKind, str, int]]:
    """``(kind, value, position)`` for every tag of a group, in the data's order."""
    kinds = (
        (TagKind.LANGUAGE, group.languages),
        (TagKind.INTERPRETATION, group.interpretation),
        (TagKind.COMMUNITY, group.communities),
        (TagKind.STAGE, group.stages),
        (TagKind.TOPIC, group.topics),
        (TagKind.ACCESS, group.access),
    )
    return [(kind, value, pos) for kind, values in kinds for pos, value in enumerate(values)]


@dataclass(frozen=True, slots=True)
class Tally:
    created: int = 0
    present: int = 0  # already in the database


@dataclass(frozen=True, slots=True)
class DemoSummary:
    accounts: Tally
    organisations: Tally
    organisers: Tally
    groups: Tally
    tags: Tally
    memberships: Tally
    two_factor: Tally = Tally()
    # Why something was left out, in words for the operator.
    skipped: tuple[str, ...] = ()

    def tallies(self) -> dict[str, Tally]:
        return {
            "accounts": self.accounts,
            "organisations": self.organisations,
            "organisers": self.organisers,
            "groups": self.groups,
            "group tags": self.tags,
            "group memberships": self.memberships,
            "two-step sign-in set up": self.two_factor,
        }

    @property
    def created(self) -> int:
        return sum(t.created for t in self.tallies().values())

    def __str__(self) -> str:
        lines = ["Demo data loaded." if self.created else "Demo data was already loaded."]
        for name, tally in self.tallies().items():
            lines.append(f"  {name}: {tally.created} added, {tally.present} already there")
        lines.extend(f"  skipped: {reason}" for reason in self.skipped)
        return "\n".join(lines)


@dataclass(slots=True)
class _Count:
    created: int = 0
    present: int = 0

    def freeze(self) -> Tally:
        return Tally(self.created, self.present)


@dataclass(slots=True)
class _Loader:
    passwords: Passwords
    now: datetime
    accounts: _Count = field(default_factory=_Count)
    organisations: _Count = field(default_factory=_Count)
    organisers: _Count = field(default_factory=_Count)
    groups: _Count = field(default_factory=_Count)
    tags: _Count = field(default_factory=_Count)
    memberships: _Count = field(default_factory=_Count)
    two_factor: _Count = field(default_factory=_Count)
    skipped: list[str] = field(default_factory=list)
    # Every demo account, found or made, by pseudonym; and whether this run may give
    # each one a role (see _grantee).
    users: dict[str, User] = field(default_factory=dict)
    _ours: dict[str, bool] = field(default_factory=dict)

    def summary(self) -> DemoSummary:
        return DemoSummary(
            accounts=self.accounts.freeze(),
            organisations=self.organisations.freeze(),
            organisers=self.organisers.freeze(),
            groups=self.groups.freeze(),
            tags=self.tags.freeze(),
            memberships=self.memberships.freeze(),
            two_factor=self.two_factor.freeze(),
            skipped=tuple(self.skipped),
        )

    async def run(self, db: AsyncSession) -> None:
        await self._accounts(db)
        orgs = await self._organisations(db)
        await self._organisers(db, orgs)
        groups = await self._groups(db, orgs)
        await self._tags(db, groups)
        await self._texts(db, groups)
        await self._memberships(db, groups)
        await self._rotas(db, groups)
        await self._two_factor(db)
        summary = self.summary()
        if summary.created:
            audit.record(
                db,
                self.now,
                "demo.loaded",
                created={name: t.created for name, t in summary.tallies().items()},
            )

    async def _accounts(self, db: AsyncSession) -> None:
        """Create the missing demo accounts; note the existing ones in ``self.users``."""
        keys = {a.pseudonym: actions.pseudonym_key(a.pseudonym) for a in DEMO_ACCOUNTS}
        rows = await db.scalars(select(User).where(User.pseudonym_key.in_(keys.values())))
        existing = {u.pseudonym_key: u for u in rows}
        for account in DEMO_ACCOUNTS:
            user = existing.get(keys[account.pseudonym])
            if user is not None:
                self.accounts.present += 1
                self.users[account.pseudonym] = user
                if not _has_demo_flags(user, account):
                    self.skipped.append(
                        f"account {account.pseudonym!r} already exists without its demo "
                        "role (someone may have chosen that name); it was left alone"
                    )
                continue
            user = await actions.signup(
                db,
                self.passwords,
                self.now,
                pseudonym=account.pseudonym,
                password=DEMO_PASSWORD,
                is_admin=account.is_admin,
            )
            self.accounts.created += 1
            self.users[account.pseudonym] = user
            self._ours[account.pseudonym] = True
            if account.professional_role and account.professional_organisation:
                await actions.request_professional(
                    db,
                    user,
                    self.now,
                    role=account.professional_role,
                    organisation=account.professional_organisation,
                )
                admin = await self._demo_admin()
                if admin is None:
                    self.skipped.append(
                        f"professional {account.pseudonym!r} left pending: no demo admin "
                        "to verify it"
                    )
                else:
                    await actions.decide_professional(db, admin, user.id, self.now, verify=True)

    async def _demo_admin(self) -> User | None:
        for account in DEMO_ACCOUNTS:
            user = self.users.get(account.pseudonym)
            if account.is_admin and user is not None and user.is_admin:
                return await self._grantee(account.pseudonym)
        return None

    async def _grantee(self, pseudonym: str) -> User | None:
        """The demo account to give a role to, or None if it is not ours to give.

        An account this run did not create is ours only if it still logs in with the
        demo password. The check costs an argon2 verification, so it is made only when
        there is something to grant, and once per account.
        """
        user = self.users.get(pseudonym)
        if user is None:
            return None
        if pseudonym not in self._ours:
            ours = await self.passwords.verify(user.password_hash, DEMO_PASSWORD)
            self._ours[pseudonym] = ours
            if not ours:
                self.skipped.append(
                    f"account {pseudonym!r} belongs to someone else (it does not use the "
                    "demo password), so it was given no demo role"
                )
        return user if self._ours[pseudonym] else None

    async def _organisations(self, db: AsyncSession) -> dict[str, str]:
        """Ids of the demo organisations present after this step, by slug."""
        ids = {o.slug: organisation_id(o.slug) for o in ORGANISATIONS}
        present = set(
            await db.scalars(select(Organisation.id).where(Organisation.id.in_(ids.values())))
        )
        taken = set(
            await db.scalars(
                select(Organisation.slug).where(
                    Organisation.slug.in_(ids.keys()), Organisation.id.not_in(ids.values())
                )
            )
        )
        usable: dict[str, str] = {}
        for org in ORGANISATIONS:
            oid = ids[org.slug]
            if oid in present:
                self.organisations.present += 1
            elif org.slug in taken:
                self.skipped.append(
                    f"organisation {org.slug!r} and its groups: another organisation "
                    "already has that address"
                )
                continue
            else:
                db.add(
                    Organisation(
                        id=oid,
                        slug=org.slug,
                        name=org.name,
                        description=org.description,
                        website=org.website,
                        email=org.email,
                        phone=org.phone,
                        lived_experience_led=org.lived_experience_led,
                        verified_at=self.now,
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
                self.organisations.created += 1
            usable[org.slug] = oid
        # Flush stage by stage: later rows refer to these by foreign key, and the unit
        # of work only orders inserts along relationships, which these tables lack.
        await db.flush()
        return usable

    async def _organisers(self, db: AsyncSession, orgs: dict[str, str]) -> None:
        rows = await db.execute(
            select(OrganisationOrganiser.organisation_id, OrganisationOrganiser.user_id).where(
                OrganisationOrganiser.organisation_id.in_(orgs.values())
            )
        )
        pairs = {(oid, uid) for oid, uid in rows}
        for org in ORGANISATIONS:
            oid = orgs.get(org.slug)
            if oid is None:
                continue
            for pseudonym in org.organisers:
                found = self.users[pseudonym]
                if (oid, found.id) in pairs:
                    self.organisers.present += 1
                    continue
                user = await self._grantee(pseudonym)
                if user is None:
                    continue  # noted in the summary by _grantee
                db.add(
                    OrganisationOrganiser(organisation_id=oid, user_id=user.id, added_at=self.now)
                )
                self.organisers.created += 1
            for pseudonym in org.leads:
                lead = self.users[pseudonym]
                if await db.get(SafeguardingLead, (oid, lead.id)) is None:
                    db.add(
                        SafeguardingLead(organisation_id=oid, user_id=lead.id, added_at=self.now)
                    )
        await db.flush()

    async def _groups(self, db: AsyncSession, orgs: dict[str, str]) -> dict[str, str]:
        """Ids of the demo groups present after this step, by slug."""
        ids = {g.slug: group_id(g.slug) for g in GROUPS if g.organisation in orgs}
        present = set(await db.scalars(select(Group.id).where(Group.id.in_(ids.values()))))
        taken = set(
            await db.scalars(
                select(Group.slug).where(Group.slug.in_(ids.keys()), Group.id.not_in(ids.values()))
            )
        )
        usable: dict[str, str] = {}
        for group in GROUPS:
            gid = ids.get(group.slug)
            if gid is None:
                continue  # its organisation was skipped
            if gid in present:
                self.groups.present += 1
            elif group.slug in taken:
                self.skipped.append(f"group {group.slug!r}: another group already has that address")
                continue
            else:
                db.add(self._new_group(group, gid, orgs[group.organisation]))
                self.groups.created += 1
            usable[group.slug] = gid
        await db.flush()
        return usable

    def _new_group(self, group: DemoGroup, gid: str, oid: str) -> Group:
        place = group.place
        return Group(
            id=gid,
            organisation_id=oid,
            slug=group.slug,
            name=group.name,
            description=group.description,
            format=group.format,
            address=place.address if place else None,
            postcode=place.postcode if place else None,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            age_min=group.age_min,
            age_max=group.age_max,
            capacity=group.capacity,
            join_policy=group.join_policy,
            status=group.status,
            ground_rules=group.ground_rules,
            time_zone=group.time_zone,
            dtstart_local=group.dtstart_local,
            rrule=group.rrule,
            exdates=list(group.exdates),
            duration_minutes=group.duration_minutes,
            created_at=self.now,
            updated_at=self.now,
        )

    async def _tags(self, db: AsyncSession, groups: dict[str, str]) -> None:
        rows = await db.execute(
            select(GroupTag.group_id, GroupTag.kind, GroupTag.value).where(
                GroupTag.group_id.in_(groups.values())
            )
        )
        existing = {(gid, kind, value) for gid, kind, value in rows}
        for group in GROUPS:
            gid = groups.get(group.slug)
            if gid is None:
                continue
            for kind, value, position in group_tags(group):
                if (gid, kind.value, value) in existing:
                    self.tags.present += 1
                    continue
                only = kind is TagKind.COMMUNITY and value in group.only
                db.add(
                    GroupTag(
                        group_id=gid, kind=kind.value, value=value, position=position, only=only
                    )
                )
                self.tags.created += 1
        await db.flush()

    async def _texts(self, db: AsyncSession, groups: dict[str, str]) -> None:
        """Versions of groups' text in other languages, where none is there yet."""
        rows = await db.execute(
            select(GroupText.group_id, GroupText.language).where(
                GroupText.group_id.in_(groups.values())
            )
        )
        existing = {(gid, language) for gid, language in rows}
        for group in GROUPS:
            gid = groups.get(group.slug)
            for text in group.texts if gid is not None else ():
                if (gid, text.language) in existing:
                    continue
                db.add(
                    GroupText(
                        group_id=gid,
                        language=text.language,
                        name=text.name,
                        description=text.description,
                        ground_rules=text.ground_rules,
                        joining=text.joining,
                        updated_at=self.now,
                    )
                )
        await db.flush()

    async def _two_factor(self, db: AsyncSession) -> None:
        """Set up two-step sign-in, with the published demo key, for every demo account
        whose role needs it, so that the demo works for everyone who runs it (a key one
        visitor chose would lock the others out). An account that already has two-step
        sign-in, or is not ours (see _grantee), is left alone."""
        wanted = [a.pseudonym for a in DEMO_ACCOUNTS if a.role != "member"]
        ids = {p: self.users[p].id for p in wanted if p in self.users}
        have = set(
            await db.scalars(select(TwoFactor.user_id).where(TwoFactor.user_id.in_(ids.values())))
        )
        for pseudonym in wanted:
            if pseudonym not in ids:
                continue
            if ids[pseudonym] in have:
                self.two_factor.present += 1
                continue
            user = await self._grantee(pseudonym)
            if user is None:
                continue  # noted in the summary by _grantee
            db.add(
                TwoFactor(
                    user_id=user.id,
                    secret=DEMO_TOTP_SECRET,
                    confirmed_at=self.now,
                    updated_at=self.now,
                )
            )
            self.two_factor.created += 1
        await db.flush()

    async def _memberships(self, db: AsyncSession, groups: dict[str, str]) -> None:
        rows = await db.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                GroupMember.group_id.in_(groups.values())
            )
        )
        existing = {(gid, uid) for gid, uid in rows}
        for group in GROUPS:
            gid = groups.get(group.slug)
            if gid is None:
                continue
            wanted = (
                *((p, "moderator", "active") for p in group.moderators),
                *((p, "member", "active") for p in group.members),
                *((p, "member", "requested") for p in group.requests),
            )
            for pseudonym, role, status in wanted:
                found = self.users[pseudonym]
                if (gid, found.id) in existing:
                    self.memberships.present += 1
                    continue
                user = await self._grantee(pseudonym)
                if user is None:
                    continue  # noted in the summary by _grantee
                db.add(
                    GroupMember(
                        group_id=gid, user_id=user.id, role=role, status=status, joined_at=self.now
                    )
                )
                # The demo's people took their places themselves (joining, or saying
                # yes to moderating), and the records say so, as they would for
                # anyone: an organiser's reset code needs a member's own join
                # (peerhub/accounts/recovery.py).
                db.add(
                    Consent(
                        user_id=user.id,
                        kind="group.join",
                        subject_id=gid,
                        granted=True,
                        version=rules_version(group.ground_rules),
                        at=self.now,
                    )
                )
                if role == "moderator":
                    db.add(
                        Consent(
                            user_id=user.id,
                            kind="group.moderator",
                            subject_id=gid,
                            granted=True,
                            version="1",
                            at=self.now,
                        )
                    )
                self.memberships.created += 1
        await db.flush()

    async def _rotas(self, db: AsyncSession, groups: dict[str, str]) -> None:
        """Who moderates the demo groups' next sessions (peerhub/rotas), from ``now``:
        the group's moderators in turn, with a gap in the ROTA_GAPS groups. A group
        that has any rota already is left as it is (loading again adds nothing)."""
        started = set(
            await db.scalars(
                select(RotaEntry.group_id).where(RotaEntry.group_id.in_(groups.values()))
            )
        )
        rows = await db.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                GroupMember.group_id.in_(groups.values()),
                GroupMember.role == "moderator",
                GroupMember.status == "active",
            )
        )
        moderating = {(gid, uid) for gid, uid in rows}
        found = {
            g.id: g for g in await db.scalars(select(Group).where(Group.id.in_(groups.values())))
        }
        for demo in GROUPS:
            gid = groups.get(demo.slug)
            group = found.get(gid) if gid else None
            if group is None or gid in started or group.status != "active":
                continue
            people = [
                self.users[p].id
                for p in demo.moderators
                if p in self.users and (gid, self.users[p].id) in moderating
            ]
            if not people:
                continue
            for i, meeting in enumerate(rota_queries.sessions_of(group, self.now, ROTA_SESSIONS)):
                if i == 0 and demo.slug in ROTA_GAPS:
                    continue
                who = people[i % len(people)]
                db.add(
                    RotaEntry(
                        group_id=group.id,
                        session_key=meeting.key,
                        starts_at=meeting.start_utc,
                        user_id=who,
                        status=ROSTERED,
                        assigned_by=who,
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
        await db.flush()


async def load_demo(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, now: datetime
) -> DemoSummary:
    """Add whatever part of the demo data set is missing, in one transaction."""
    if now.tzinfo is None:
        raise ValueError("load_demo needs a timezone-aware 'now'")
    loader = _Loader(passwords, now)
    async with transaction(sessions) as db:
        await loader.run(db)
    return loader.summary()
