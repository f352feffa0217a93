"""Organisations, groups, moderators, meetings and joining: check, write; the caller commits.

Permission answers follow one rule: someone with no place in an organisation or group
gets NotFound (the same as for one that does not exist); someone inside a group
without the rank gets Forbidden. Administrators verify organisations; they do not
manage groups unless they are also organisers.

Functions that answer a person (a join request decided) return what the caller
needs to tell them *after* the commit; nothing here sends anything.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit
from peerhub.accounts.actions import pseudonym_key
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.groups import answers, meetings
from peerhub.groups.validation import GroupInput, OrganisationInput, slugify
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    GroupRole,
    GroupTag,
    Organisation,
    OrganisationOrganiser,
    TagKind,
    User,
    WaitlistEntry,
)
from peerhub.moderation.models import active_ban
from peerhub.realtime import after_commit
from peerhub.realtime.queries import rules_version
from peerhub.referrals import actions as referrals
from peerhub.schedule import ScheduleError
from peerhub.security import buckets
from peerhub.security.permissions import group_rank, require_rank
from peerhub.sharing import rules as sharing

# -- organisations ---------------------------------------------------------------------


async def _unique_slug(db: AsyncSession, model: type[Organisation] | type[Group], base: str) -> str:
    slug, n = base, 1
    while await db.scalar(select(func.count()).select_from(model).where(model.slug == slug)):
        n += 1
        slug = f"{base[:70]}-{n}"
    return slug


async def is_organiser(db: AsyncSession, user: User | None, organisation_id: str) -> bool:
    if user is None:
        return False
    return await db.get(OrganisationOrganiser, (organisation_id, user.id)) is not None


async def organisation_for_organiser(
    db: AsyncSession, user: User, organisation_id: str
) -> Organisation:
    """The organisation, if ``user`` organises it; NotFound otherwise (even for admins)."""
    org = await db.get(Organisation, organisation_id)
    if org is None or not await is_organiser(db, user, organisation_id):
        raise NotFound(organisation_id)
    return org


async def register_organisation(
    db: AsyncSession,
    user: User,
    now: datetime,
    data: OrganisationInput,
    *,
    client_ip: str | None = None,
) -> Organisation:
    # Registrations from one address are limited (peerhub/security/buckets.py): raises
    # buckets.Exhausted, and the caller's transaction rolls back.
    if client_ip is not None:
        await buckets.take(db, buckets.REGISTRATIONS, client_ip, now)
    slug = await _unique_slug(db, Organisation, slugify(data.name, 70))
    org = Organisation(
        slug=slug,
        name=data.name,
        description=data.description,
        website=data.website,
        email=data.email,
        phone=data.phone,
        lived_experience_led=data.lived_experience_led,
        created_at=now,
        updated_at=now,
    )
    db.add(org)
    await db.flush()
    db.add(OrganisationOrganiser(organisation_id=org.id, user_id=user.id, added_at=now))
    audit.record(db, now, "organisation.registered", actor_id=user.id, subject_id=org.id)
    return org


async def update_organisation(
    db: AsyncSession, user: User, organisation_id: str, now: datetime, data: OrganisationInput
) -> Organisation:
    org = await organisation_for_organiser(db, user, organisation_id)
    org.name = data.name
    org.description = data.description
    org.website = data.website
    org.email = data.email
    org.phone = data.phone
    org.lived_experience_led = data.lived_experience_led
    org.updated_at = now
    audit.record(db, now, "organisation.updated", actor_id=user.id, subject_id=org.id)
    return org


async def verify_organisation(
    db: AsyncSession, admin: User, organisation_id: str, now: datetime, *, verified: bool
) -> Organisation:
    if not admin.is_admin:
        raise Forbidden(organisation_id)
    org = await db.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(organisation_id)
    org.verified_at = now if verified else None
    org.updated_at = now
    audit.record(
        db,
        now,
        "organisation.verified" if verified else "organisation.unverified",
        actor_id=admin.id,
        subject_id=org.id,
    )
    return org


async def _user_by_pseudonym(db: AsyncSession, pseudonym: str, field: str) -> User:
    key = pseudonym_key(pseudonym)[:40]
    if not key:
        raise FieldError(field, _("Give their name on PeerHub."))
    user = await db.scalar(
        select(User).where(User.pseudonym_key == key, User.disabled_at.is_(None))
    )
    if user is None:
        raise FieldError(field, _("There is no one with that name on PeerHub. Check the spelling."))
    return user


# -- groups ----------------------------------------------------------------------------


def _tags(data: GroupInput) -> list[GroupTag]:
    rows: list[GroupTag] = []
    for kind, values in (
        (TagKind.LANGUAGE, data.languages),
        (TagKind.INTERPRETATION, data.interpretation),
        (TagKind.COMMUNITY, data.communities),
        (TagKind.STAGE, data.stages),
        (TagKind.TOPIC, data.topics),
        (TagKind.ACCESS, data.access),
    ):
        rows.extend(
            GroupTag(
                kind=kind.value,
                value=v,
                position=i,
                only=kind is TagKind.COMMUNITY and v in data.community_only,
                label=data.language_labels.get(v, "")
                if kind in (TagKind.LANGUAGE, TagKind.INTERPRETATION)
                else "",
            )
            for i, v in enumerate(values)
        )
    return rows


def _apply(group: Group, data: GroupInput) -> None:
    group.name = data.name
    group.description = data.description
    group.format = data.format
    online = data.format == "online"
    group.address = None if online else data.address
    group.postcode = None if online else data.postcode
    group.latitude = None if online else data.latitude
    group.longitude = None if online else data.longitude
    group.age_min = data.age_min
    group.age_max = data.age_max
    group.capacity = data.capacity
    group.join_policy = data.join_policy
    group.status = data.status
    group.ground_rules = data.ground_rules
    group.joining = data.joining
    group.time_zone = data.time_zone
    group.duration_minutes = data.duration_minutes
    if group.dtstart_local != data.dtstart_local or group.rrule != data.rrule:
        # Cancelled meetings belong to the old timetable; keep those the new one has.
        group.exdates = [
            key
            for key in (group.exdates or [])
            if meetings.is_meeting(data.dtstart_local, data.rrule, key)
        ]
    group.dtstart_local = data.dtstart_local
    group.rrule = data.rrule


async def create_group(
    db: AsyncSession, actor: User, organisation_id: str, data: GroupInput, now: datetime
) -> Group:
    await organisation_for_organiser(db, actor, organisation_id)
    slug = await _unique_slug(db, Group, slugify(data.name))
    group = Group(
        organisation_id=organisation_id,
        slug=slug,
        exdates=[],
        created_at=now,
        updated_at=now,
    )
    _apply(group, data)
    group.tags = _tags(data)
    db.add(group)
    await db.flush()
    audit.record(db, now, "group.created", actor_id=actor.id, subject_id=group.id)
    return group


async def load_group(db: AsyncSession, group_id: str, *, for_update: bool = False) -> Group:
    query = (
        select(Group)
        .where(Group.id == group_id)
        .options(
            selectinload(Group.tags),
            selectinload(Group.organisation).selectinload(Organisation.texts),
            selectinload(Group.texts),
        )
    )
    if for_update:
        # PostgreSQL: serialise joins and answers per group so capacity holds.
        # SQLite has a single writer anyway, and SQLAlchemy leaves FOR UPDATE out.
        query = query.with_for_update(of=Group)
    group = await db.scalar(query)
    if group is None:
        raise NotFound(group_id)
    return group


async def group_by_slug(db: AsyncSession, slug: str, *, for_update: bool = False) -> Group:
    group_id = await db.scalar(select(Group.id).where(Group.slug == slug, Group.kind == "group"))
    if group_id is None:
        raise NotFound(slug)
    return await load_group(db, group_id, for_update=for_update)


async def group_for(
    db: AsyncSession, user: User, group_id: str, needed: GroupRole
) -> tuple[Group, GroupRole]:
    """The group and the person's rank in it, or NotFound / Forbidden."""
    rank = await require_rank(db, user, group_id, needed)
    return await load_group(db, group_id), rank


async def update_group(
    db: AsyncSession, actor: User, group_id: str, data: GroupInput, now: datetime
) -> Group:
    group, _rank = await group_for(db, actor, group_id, GroupRole.ORGANISER)
    _apply(group, data)
    group.tags = _tags(data)
    group.updated_at = now
    audit.record(db, now, "group.updated", actor_id=actor.id, subject_id=group.id)
    # Every process re-reads the room once this commits: its stages may have changed.
    after_commit.room_changed(db, group.id)
    return group


async def set_meeting_cancelled(
    db: AsyncSession, actor: User, group_id: str, key: str, now: datetime, *, cancelled: bool
) -> Group:
    """Cancel one upcoming meeting (an RFC 5545 EXDATE), or restore it.

    Moderators and organisers may. Only a real, not yet finished meeting of the
    group's timetable can be cancelled.
    """
    group, _rank = await group_for(db, actor, group_id, GroupRole.MODERATOR)
    key = key.strip()
    try:
        real = meetings.is_meeting(group.dtstart_local, group.rrule, key)
    except ScheduleError:
        real = False
    if not real:
        raise FieldError("session", _("That is not one of this group's sessions."))
    if cancelled:
        if meetings.meeting_end(key, group.time_zone, group.duration_minutes) <= now:
            raise FieldError("session", _("That session has already happened."))
        if key not in group.exdates:
            group.exdates = sorted([*group.exdates, key])
    else:
        group.exdates = [x for x in group.exdates if x != key]
    group.updated_at = now
    audit.record(
        db,
        now,
        "group.session_cancelled" if cancelled else "group.session_restored",
        actor_id=actor.id,
        subject_id=group.id,
        session=key,
    )
    return group


async def remove_moderator(
    db: AsyncSession, actor: User, group_id: str, pseudonym: str, now: datetime
) -> User:
    """Organisers make a moderator a member again (they keep their place, which they
    took themselves, by joining or by accepting the invitation to moderate).

    There is no appointing here: a person becomes a moderator only by accepting an
    organiser's invitation (peerhub/groups/invitations.py).
    """
    await require_rank(db, actor, group_id, GroupRole.ORGANISER)
    target = await _user_by_pseudonym(db, pseudonym, "pseudonym")
    membership = await db.get(GroupMember, (group_id, target.id))
    if membership is None or membership.role != "moderator":
        raise FieldError("pseudonym", _("%(name)s is not a moderator here.", name=target.pseudonym))
    membership.role = "member"
    audit.record(
        db,
        now,
        "group.moderator_removed",
        actor_id=actor.id,
        subject_id=target.id,
        group_id=group_id,
    )
    after_commit.member_changed(db, group_id, target.id)  # every process re-reads the rank
    return target


# -- joining ---------------------------------------------------------------------------


async def member_count(db: AsyncSession, group_id: str) -> int:
    """Members holding a place (moderators and people who asked do not count)."""
    count = await db.scalar(
        select(func.count())
        .select_from(GroupMember)
        .where(
            GroupMember.group_id == group_id,
            GroupMember.status == "active",
            GroupMember.role == "member",
        )
    )
    return int(count or 0)


async def places_left(db: AsyncSession, group: Group) -> int | None:
    """Free places, or None when the group has no limit."""
    if group.capacity is None:
        return None
    return max(0, group.capacity - await member_count(db, group.id))


JoinOutcome = Literal[
    "joined",
    "requested",
    "waiting_list",
    "already_member",
    "already_asked",
    "already_waiting",
    "organiser",
    "not_open",
    "banned",
]


@dataclass(frozen=True, slots=True)
class JoinResult:
    outcome: JoinOutcome
    group: Group


async def is_banned(db: AsyncSession, group_id: str, user_id: str) -> bool:
    return await active_ban(db, group_id, user_id) is not None


def is_checked(group: Group) -> bool:
    """PeerHub has verified the group's organisation (``group.organisation`` loaded).

    Until then the group takes no one, by any path: see
    :func:`peerhub.security.permissions.organisation_checked`.
    """
    return group.organisation.verified_at is not None


NOT_CHECKED = lazy_gettext(
    "PeerHub has not checked this group’s organisation yet, so nobody can join the "
    "group until it has."
)


async def join_group(
    db: AsyncSession,
    user: User,
    slug: str,
    now: datetime,
    *,
    fit: float = 0.0,
    share: AbstractSet[tuple[str, str]] = frozenset(),
) -> JoinResult:
    """Join an open group, ask to join a by-request one, or go on a full one's list.

    Asking twice changes nothing and says so. A paused or closed group takes no one,
    and a group of an organisation PeerHub has not verified does not exist for
    joining (NotFound, like its public page). ``share`` is what the person chose, at
    joining, to let this group's members, moderators and organisers see (nothing by
    default); it is recorded as consent with the place (or the request).
    """
    group = await group_by_slug(db, slug, for_update=True)
    if not is_checked(group):
        raise NotFound(slug)
    if await group_rank(db, user, group.id) == GroupRole.ORGANISER:
        return JoinResult("organiser", group)
    membership = await db.get(GroupMember, (group.id, user.id))
    if membership is not None:
        outcome: JoinOutcome = (
            "already_member" if membership.status == "active" else "already_asked"
        )
        return JoinResult(outcome, group)
    if await db.get(WaitlistEntry, (group.id, user.id)) is not None:
        return JoinResult("already_waiting", group)
    if await is_banned(db, group.id, user.id):
        return JoinResult("banned", group)
    if group.status != "active":
        return JoinResult("not_open", group)
    if await places_left(db, group) == 0:
        db.add(WaitlistEntry(group_id=group.id, user_id=user.id, fit=fit, created_at=now))
        audit.record(db, now, "group.waitlisted", actor_id=user.id, subject_id=group.id)
        return JoinResult("waiting_list", group)
    joined = group.join_policy == "open"
    db.add(
        GroupMember(
            group_id=group.id,
            user_id=user.id,
            role="member",
            status="active" if joined else "requested",
            joined_at=now,
        )
    )
    # Joining (or asking to) is a consent to the group's terms as they stand now:
    # recorded with the version of its ground rules, like the room's acceptance.
    db.add(
        Consent(
            user_id=user.id,
            kind="group.join",
            subject_id=group.id,
            granted=True,
            version=rules_version(group.ground_rules),
            at=now,
        )
    )
    await db.flush()
    await sharing.set_group_choices(db, user, group.id, set(share), now, at_joining=True)
    audit.record(
        db,
        now,
        "group.joined" if joined else "group.join_requested",
        actor_id=user.id,
        subject_id=group.id,
    )
    if joined:
        await referrals.note_joined(db, user.id, group.id, now)
    return JoinResult("joined" if joined else "requested", group)


@dataclass(frozen=True, slots=True)
class Decision:
    """A join request answered: who to tell, about which group, and what was said."""

    person: User
    group: Group
    answer: answers.JoinAnswer


async def decide_join_request(
    db: AsyncSession,
    actor: User,
    group_id: str,
    user_id: str,
    now: datetime,
    *,
    accept: bool,
    message: str,
) -> Decision:
    """A moderator or organiser accepts or declines, with a message the person sees.

    A decline needs a message: nobody should be turned away without a word.
    """
    await require_rank(db, actor, group_id, GroupRole.MODERATOR)
    group = await load_group(db, group_id, for_update=True)
    field = f"message-{user_id}"[:60]
    membership = await db.get(GroupMember, (group_id, user_id))
    person = await db.get(User, user_id)
    if membership is None or membership.status != "requested" or person is None:
        raise NotFound(user_id)
    text = "\n".join(part.rstrip() for part in message.replace("\r\n", "\n").strip().split("\n"))
    if len(text) > answers.MESSAGE_LIMIT:
        raise FieldError(
            field,
            ngettext(
                "Keep the message to %(num)s character.",
                "Keep the message to %(num)s characters.",
                answers.MESSAGE_LIMIT,
            ),
        )
    if not accept and not text:
        raise FieldError(
            field, _("Write a short, kind message saying why, so they are not left wondering.")
        )
    if accept:
        if not is_checked(group):
            raise FieldError(field, str(NOT_CHECKED))
        if await places_left(db, group) == 0:
            raise FieldError(
                field,
                _("The group is full. Raise its capacity first, or decline with a message."),
            )
        membership.status = "active"
        membership.joined_at = now
        await referrals.note_joined(db, user_id, group.id, now)
    else:
        # The request ends, with what the person chose at asking withdrawn on record.
        await end_place(db, user_id, group_id, now)
    answer = answers.save(
        db,
        now,
        actor_id=actor.id,
        user_id=user_id,
        group_id=group_id,
        accepted=accept,
        message=text,
    )
    return Decision(person, group, answer)


async def group_id_of(db: AsyncSession, slug: str) -> str | None:
    found: str | None = await db.scalar(select(Group.id).where(Group.slug == slug))
    return found


async def leave_group(db: AsyncSession, user: User, slug: str, now: datetime) -> bool:
    """Leave whenever you like: membership, request and waiting-list place all go.

    Returns whether there was anything to leave. Organisers organise through their
    organisation and cannot leave that way.
    """
    group_id = await db.scalar(select(Group.id).where(Group.slug == slug))
    if group_id is None:
        raise NotFound(slug)
    left = await end_place(db, user.id, group_id, now)
    if left:
        audit.record(db, now, "group.left", actor_id=user.id, subject_id=group_id)
        # Their sockets in the room close, in every process, once this commits.
        after_commit.revoke_membership(db, group_id, user.id, reason="You left the group.")
    return left


async def end_place(db: AsyncSession, user_id: str, group_id: str, now: datetime) -> bool:
    """The person's place in the group ends, however it ends: they leave, their request
    is declined, a moderator removes or bans them. Membership, request and
    waiting-list place all go, and what they shared with the group and their
    agreement to its terms are withdrawn on record (consent records, as
    docs/sharing.md promises). Returns whether there was anything to end; the caller
    audits who ended it.
    """
    if await db.get(GroupMember, (group_id, user_id)) is not None:
        person = await db.get(User, user_id)
        if person is not None:
            # What they shared with the group is withdrawn with the place, on record.
            await sharing.forget_group_choices(db, person, group_id, now)
    removed = await db.execute(
        delete(GroupMember).where(GroupMember.group_id == group_id, GroupMember.user_id == user_id)
    )
    waiting = await db.execute(
        delete(WaitlistEntry).where(
            WaitlistEntry.group_id == group_id, WaitlistEntry.user_id == user_id
        )
    )
    ended = bool(getattr(removed, "rowcount", 0) or getattr(waiting, "rowcount", 0))
    if ended:
        db.add(
            Consent(
                user_id=user_id,
                kind="group.join",
                subject_id=group_id,
                granted=False,
                version="-",
                at=now,
            )
        )
    return ended
