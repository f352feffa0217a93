"""Finding a group: search, unmet demand, saved needs and waiting-list offers."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit
from peerhub.errors import FieldError, NotFound
from peerhub.finding.needs import Search
from peerhub.matching import (
    DemandCell,
    GroupIndex,
    MatchResult,
    Offer,
    OtherWords,
    Waiter,
    demand_record,
    demand_report,
    other_report,
)
from peerhub.matching import DemandRecord as Demand
from peerhub.matching import WaitlistEntry as Listing
from peerhub.matching import allocate as allocate_offers
from peerhub.models import (
    Block,
    Consent,
    DemandRecord,
    Group,
    GroupMember,
    Organisation,
    SavedNeeds,
    User,
    WaitlistEntry,
)
from peerhub.realtime.queries import rules_version
from peerhub.referrals import actions as referrals
from peerhub.security.permissions import organisation_checked
from peerhub.sharing import rules as sharing

OFFER_LIFETIME = timedelta(days=7)
DEMAND_WINDOW = timedelta(days=365)


async def blocked_ids(db: AsyncSession, user: User | None) -> frozenset[str]:
    """Everyone this person blocked and everyone who blocked them: never grouped together."""
    if user is None:
        return frozenset()
    rows = (
        await db.execute(
            select(Block.user_id, Block.blocked_user_id).where(
                or_(Block.user_id == user.id, Block.blocked_user_id == user.id)
            )
        )
    ).all()
    return frozenset(b if a == user.id else a for a, b in rows)


async def _overlay_blocked(db: AsyncSession, index: GroupIndex, blocked: frozenset[str]) -> None:
    """Bring the index's member lists up to date for the blocked people, from the database.

    The cached index may predate a blocked person joining a group; the blocked-member
    rule must not depend on that cache, so their current memberships are read here.
    """
    if not blocked:
        return
    rows = (
        await db.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                GroupMember.user_id.in_(blocked)
            )
        )
    ).all()
    missing: dict[str, set[str]] = defaultdict(set)
    for group_id, user_id in rows:
        profile = index.get(group_id)
        if profile is not None and user_id not in profile.member_ids:
            missing[group_id].add(user_id)
    for group_id, users in missing.items():
        profile = index.get(group_id)
        if profile is not None:
            index.replace(dataclasses.replace(profile, member_ids=profile.member_ids | users))


async def find_groups(db: AsyncSession, index: GroupIndex, search: Search) -> MatchResult:
    await _overlay_blocked(db, index, search.needs.blocked_user_ids)
    return index.match(search.needs, limit=search.limit)


def record_demand(db: AsyncSession, search: Search, now: datetime, kind: str = "no_fit") -> None:
    """Store what was asked for, anonymously: no account, district only, and of the
    person's "something else" only its folded words (peerhub/matching/words.py)."""
    record = demand_record(search.needs, search.postcode)
    db.add(
        DemandRecord(
            at=now,
            kind=kind,
            languages=list(record.languages),
            communities=list(record.communities),
            stage=record.stage,
            topics=list(record.topics),
            format=record.format,
            area=record.area,
            other=" ".join(record.other),
        )
    )


async def demand_cells(db: AsyncSession, now: datetime) -> tuple[DemandCell, ...]:
    return demand_report(await _demand_records(db, now))


async def other_words(db: AsyncSession, now: datetime) -> OtherWords:
    """The words people used for communities not on the list, small counts withheld."""
    return other_report(await _demand_records(db, now))


async def _demand_records(db: AsyncSession, now: datetime) -> list[Demand]:
    rows = (
        await db.scalars(select(DemandRecord).where(DemandRecord.at >= now - DEMAND_WINDOW))
    ).all()
    records = []
    for r in rows:
        try:
            records.append(
                Demand(
                    tuple(r.languages),
                    tuple(r.communities),
                    r.stage,  # type: ignore[arg-type]  # stored from a Stage
                    tuple(r.topics),
                    r.format,  # type: ignore[arg-type]
                    r.area,
                    tuple((r.other or "").split()),
                )
            )
        except ValueError:
            continue  # a malformed historic row never breaks the report
    return records


async def save_needs(
    db: AsyncSession, user: User, saved: dict[str, Any], now: datetime, *, notify: bool
) -> None:
    row = await db.get(SavedNeeds, user.id)
    if row is None:
        db.add(SavedNeeds(user_id=user.id, needs=saved, notify_new_groups=notify, updated_at=now))
    else:
        row.needs, row.notify_new_groups, row.updated_at = saved, notify, now


async def saved_needs(db: AsyncSession, user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    row = await db.get(SavedNeeds, user.id)
    return None if row is None else dict(row.needs)


async def forget_needs(db: AsyncSession, user: User) -> None:
    row = await db.get(SavedNeeds, user.id)
    if row is not None:
        await db.delete(row)


# --- Waiting lists -------------------------------------------------------------------


async def expire_offers(db: AsyncSession, now: datetime) -> int:
    stale = (
        await db.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.status == "offered", WaitlistEntry.offered_at < now - OFFER_LIFETIME
            )
        )
    ).all()
    for entry in stale:
        entry.status = "expired"
    return len(stale)


async def free_places(db: AsyncSession) -> dict[str, int]:
    """Places left per active group with a capacity, less offers not yet answered."""
    members = {
        gid: n
        for gid, n in (
            await db.execute(
                select(GroupMember.group_id, func.count())
                .where(GroupMember.status == "active", GroupMember.role == "member")
                .group_by(GroupMember.group_id)
            )
        ).all()
    }
    offered = {
        gid: n
        for gid, n in (
            await db.execute(
                select(WaitlistEntry.group_id, func.count())
                .where(WaitlistEntry.status == "offered")
                .group_by(WaitlistEntry.group_id)
            )
        ).all()
    }
    # Only groups of organisations PeerHub has verified: no one is offered a place in
    # a group that could not take them (and no one waiting there is told of one).
    groups = (
        await db.execute(
            select(Group.id, Group.capacity)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(
                Group.status == "active",
                Group.kind == "group",
                Group.capacity.is_not(None),
                Organisation.verified_at.is_not(None),
            )
        )
    ).all()
    return {
        gid: max(0, int(cap or 0) - members.get(gid, 0) - offered.get(gid, 0))
        for gid, cap in groups
    }


async def allocate_places(
    db: AsyncSession, now: datetime, actor_id: str | None = None
) -> list[Offer]:
    """Offer free places to people waiting, by the optimal assignment; mark the offers."""
    await expire_offers(db, now)
    places = {g: n for g, n in (await free_places(db)).items() if n > 0}
    entries = (
        await db.scalars(
            select(WaitlistEntry).where(
                WaitlistEntry.status == "waiting", WaitlistEntry.group_id.in_(places)
            )
        )
    ).all()
    by_person: dict[str, list[WaitlistEntry]] = defaultdict(list)
    for entry in entries:
        by_person[entry.user_id].append(entry)
    waiters = [
        Waiter(
            person,
            tuple(Listing(e.group_id, max(0.0, e.fit)) for e in rows),
            max(timedelta(0), now - min(e.created_at for e in rows)),
        )
        for person, rows in by_person.items()
    ]
    offers = allocate_offers(waiters, places)
    lookup = {(e.user_id, e.group_id): e for e in entries}
    for offer in offers:
        entry = lookup[(offer.person_id, offer.group_id)]
        entry.status, entry.offered_at = "offered", now
    audit.record(
        db,
        now,
        "waitlist.allocated",
        actor_id=actor_id,
        offers=len(offers),
        groups=len(places),
        waiting=len(waiters),
    )
    return offers


async def answer_offer(
    db: AsyncSession,
    user: User,
    group_id: str,
    now: datetime,
    *,
    accept: bool,
    share: AbstractSet[tuple[str, str]] = frozenset(),
) -> Group:
    """Take or decline an offered place. Taking it is joining: the ground rules are
    agreed to (a ``group.join`` consent) and ``share`` is what the person chose to let
    the group see, as at any joining (nothing by default)."""
    entry = await db.get(WaitlistEntry, (group_id, user.id))
    group = await db.get(Group, group_id)
    if entry is None or group is None or entry.status != "offered":
        raise NotFound(group_id)
    if entry.offered_at is not None and entry.offered_at < now - OFFER_LIFETIME:
        entry.status = "expired"
        raise FieldError("offer", "This offer has expired. You are still welcome to ask again.")
    if accept:
        if not await organisation_checked(db, group_id):
            raise FieldError(
                "offer",
                "This group cannot take anyone at the moment, because PeerHub has not "
                "checked the organisation that runs it. You keep your place on the list.",
            )
        await db.delete(entry)
        membership = await db.get(GroupMember, (group_id, user.id))
        if membership is None:
            db.add(
                GroupMember(
                    group_id=group_id,
                    user_id=user.id,
                    role="member",
                    status="active",
                    joined_at=now,
                )
            )
        else:
            membership.status = "active"
        db.add(
            Consent(
                user_id=user.id,
                kind="group.join",
                subject_id=group_id,
                granted=True,
                version=rules_version(group.ground_rules),
                at=now,
            )
        )
        await db.flush()
        await sharing.set_group_choices(db, user, group_id, set(share), now, at_joining=True)
        await referrals.note_joined(db, user.id, group_id, now)
    else:
        entry.status = "declined"
    audit.record(
        db,
        now,
        "waitlist.offer_accepted" if accept else "waitlist.offer_declined",
        actor_id=user.id,
        subject_id=group_id,
    )
    return group


async def my_waiting_lists(db: AsyncSession, user: User) -> list[tuple[WaitlistEntry, Group]]:
    rows = (
        await db.execute(
            select(WaitlistEntry, Group)
            .join(Group, Group.id == WaitlistEntry.group_id)
            .where(
                WaitlistEntry.user_id == user.id, WaitlistEntry.status.in_(("waiting", "offered"))
            )
            .order_by(WaitlistEntry.created_at)
            # The page says when a group cannot take anyone (its organisation unchecked).
            .options(selectinload(Group.organisation))
        )
    ).all()
    return [(entry, group) for entry, group in rows]
