"""Invitations to moderate a group or organise an organisation: check, write; the
caller commits.

Nobody is given a role by someone else alone (peerhub/groups/models.py says why). An
organiser invites a person by their name on PeerHub; the person sees the invitation on
their own pages ("Your groups", "Your account") and accepts or declines it. Only
accepting makes them a moderator or organiser, and it is recorded as their consent:
``group.moderator`` or ``organisation.organiser``, and for a moderator with no place in
the group yet, ``group.join`` (the group's terms, as at joining) and ``share.group``
(sharing nothing with the group until they choose to).

Rules:

- Only an organiser of the group (or organisation) may invite, and only once PeerHub
  has checked the organisation: an organisation nobody has checked reaches no one, not
  even with an invitation (its name is text anyone can write).
- Not someone who already holds the role, an organiser of the group, someone banned
  from the group, or a disabled account; not again while an invitation waits, nor for
  :data:`QUIET_AFTER_NO` after the person said no.
- At most :data:`WAITING_PER_PLACE` invitations wait for an answer per group or
  organisation, so no one can send them by the hundred.
- An invitation waits :data:`LIFETIME`; accepting checks everything again (the
  organisation may have been unchecked, the person banned, meanwhile).
- For a group that welcomes people approaching crisis, not someone without a valid
  record of each course its organisation requires (peerhub/care/training.py), at
  inviting and again at accepting.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit
from peerhub.accounts.actions import pseudonym_key
from peerhub.care.training import require_training
from peerhub.errors import FieldError, NotFound
from peerhub.groups.actions import is_banned
from peerhub.groups.models import LeadInvitation, ModeratorInvitation, OrganiserInvitation
from peerhub.i18n import _, ngettext
from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    OrganisationOrganiser,
    SafeguardingLead,
    User,
    WaitlistEntry,
)
from peerhub.realtime import after_commit
from peerhub.realtime.queries import rules_version
from peerhub.referrals import actions as referrals
from peerhub.security.permissions import group_rank, organisation_checked, require_rank
from peerhub.sharing import rules as sharing

LIFETIME: Final = timedelta(days=30)
QUIET_AFTER_NO: Final = timedelta(days=30)
WAITING_PER_PLACE: Final = 10
CONSENT_VERSION: Final = "1"

Kind = Literal["moderator", "organiser", "lead"]
KINDS: Final = ("moderator", "organiser", "lead")


def _not_checked(org: str) -> str:
    return _(
        "You can invite people once PeerHub has checked %(org)s. Until then nobody can "
        "join its groups, so there is nothing for a moderator or organiser to do yet.",
        org=org,
    )


def _waiting(
    model: type[ModeratorInvitation] | type[OrganiserInvitation] | type[LeadInvitation],
    now: datetime,
) -> ColumnElement[bool]:
    """Still waiting for an answer: not declined, not run out."""
    return and_(model.declined_at.is_(None), model.created_at > now - LIFETIME)


async def _target(db: AsyncSession, pseudonym: str, name: str = "pseudonym") -> User:
    key = pseudonym_key(pseudonym)[:40]
    if not key:
        raise FieldError(name, _("Give their name on PeerHub."))
    user = await db.scalar(
        select(User).where(User.pseudonym_key == key, User.disabled_at.is_(None))
    )
    if user is None:
        raise FieldError(name, _("There is no one with that name on PeerHub. Check the spelling."))
    return user


def _check_again(
    row: ModeratorInvitation | OrganiserInvitation | LeadInvitation | None,
    who: User,
    now: datetime,
    name: str = "pseudonym",
) -> None:
    """Refuse a second invitation while one waits, or soon after a no."""
    if row is None:
        return
    if row.declined_at is not None and row.declined_at > now - QUIET_AFTER_NO:
        raise FieldError(
            name,
            _(
                "%(name)s said no to this recently. PeerHub will not ask them again for a while.",
                name=who.pseudonym,
            ),
        )
    if row.declined_at is None and row.created_at > now - LIFETIME:
        raise FieldError(
            name,
            _(
                "You have invited %(name)s already. They have not answered yet.",
                name=who.pseudonym,
            ),
        )


async def _room_for_more(
    db: AsyncSession,
    model: type[ModeratorInvitation] | type[OrganiserInvitation] | type[LeadInvitation],
    where: ColumnElement[bool],
    now: datetime,
    name: str = "pseudonym",
) -> None:
    waiting = await db.scalar(
        select(func.count()).select_from(model).where(where, _waiting(model, now))
    )
    if int(waiting or 0) >= WAITING_PER_PLACE:
        raise FieldError(
            name,
            ngettext(
                "%(num)s invitation is waiting for an answer already. Wait for "
                "some answers, or withdraw some, first.",
                "%(num)s invitations are waiting for an answer already. Wait for "
                "some answers, or withdraw some, first.",
                WAITING_PER_PLACE,
            ),
        )


# --- Inviting ------------------------------------------------------------------------


async def invite_moderator(
    db: AsyncSession, actor: User, group_id: str, pseudonym: str, now: datetime
) -> User:
    """An organiser of the group invites a person, by name, to moderate it."""
    await require_rank(db, actor, group_id, GroupRole.ORGANISER)
    group = await db.scalar(
        select(Group).where(Group.id == group_id).options(selectinload(Group.organisation))
    )
    assert group is not None  # noqa: S101 - require_rank found it
    if group.organisation.verified_at is None:
        raise FieldError("pseudonym", _not_checked(group.organisation.name))
    target = await _target(db, pseudonym)
    rank = await group_rank(db, target, group_id)
    if rank == GroupRole.ORGANISER:
        raise FieldError(
            "pseudonym", _("%(name)s is an organiser of this group.", name=target.pseudonym)
        )
    if rank == GroupRole.MODERATOR:
        raise FieldError("pseudonym", _("%(name)s is already a moderator.", name=target.pseudonym))
    if await is_banned(db, group_id, target.id):
        raise FieldError(
            "pseudonym",
            _("%(name)s is banned from this group. Lift the ban first.", name=target.pseudonym),
        )
    # Training the organisation requires for a group welcoming people approaching
    # crisis (hazard H27, peerhub/care/training.py).
    await require_training(db, group_id, target.id, target.pseudonym, now, field="pseudonym")
    row = await db.get(ModeratorInvitation, (group_id, target.id), with_for_update=True)
    _check_again(row, target, now)
    await _room_for_more(db, ModeratorInvitation, ModeratorInvitation.group_id == group_id, now)
    if row is None:
        db.add(
            ModeratorInvitation(
                group_id=group_id, user_id=target.id, invited_by=actor.id, created_at=now
            )
        )
    else:
        row.invited_by, row.created_at, row.declined_at = actor.id, now, None
    audit.record(
        db,
        now,
        "group.moderator_invited",
        actor_id=actor.id,
        subject_id=target.id,
        group_id=group_id,
    )
    return target


async def invite_organiser(
    db: AsyncSession, actor: User, organisation_id: str, pseudonym: str, now: datetime
) -> User:
    """An organiser of the organisation invites a person, by name, to organise it too."""
    org = await db.get(Organisation, organisation_id)
    if org is None or await db.get(OrganisationOrganiser, (organisation_id, actor.id)) is None:
        raise NotFound(organisation_id)
    if org.verified_at is None:
        raise FieldError("pseudonym", _not_checked(org.name))
    target = await _target(db, pseudonym)
    if await db.get(OrganisationOrganiser, (organisation_id, target.id)) is not None:
        raise FieldError("pseudonym", _("%(name)s is already an organiser.", name=target.pseudonym))
    row = await db.get(OrganiserInvitation, (organisation_id, target.id), with_for_update=True)
    _check_again(row, target, now)
    await _room_for_more(
        db, OrganiserInvitation, OrganiserInvitation.organisation_id == organisation_id, now
    )
    if row is None:
        db.add(
            OrganiserInvitation(
                organisation_id=organisation_id,
                user_id=target.id,
                invited_by=actor.id,
                created_at=now,
            )
        )
    else:
        row.invited_by, row.created_at, row.declined_at = actor.id, now, None
    audit.record(
        db,
        now,
        "organisation.organiser_invited",
        actor_id=actor.id,
        subject_id=target.id,
        organisation_id=organisation_id,
    )
    return target


async def invite_lead(
    db: AsyncSession, actor: User, organisation_id: str, pseudonym: str, now: datetime
) -> User:
    """An organiser of the organisation invites a person, by name, to be one of its
    safeguarding leads: told when a crisis alert goes unseen, keeper of the
    safeguarding log, reviewer of serious incidents (peerhub/duty/)."""
    org = await db.get(Organisation, organisation_id)
    if org is None or await db.get(OrganisationOrganiser, (organisation_id, actor.id)) is None:
        raise NotFound(organisation_id)
    if org.verified_at is None:
        raise FieldError("lead", _not_checked(org.name))
    target = await _target(db, pseudonym, "lead")
    if await db.get(SafeguardingLead, (organisation_id, target.id)) is not None:
        raise FieldError(
            "lead", _("%(name)s is already a safeguarding lead.", name=target.pseudonym)
        )
    row = await db.get(LeadInvitation, (organisation_id, target.id), with_for_update=True)
    _check_again(row, target, now, "lead")
    await _room_for_more(
        db, LeadInvitation, LeadInvitation.organisation_id == organisation_id, now, "lead"
    )
    if row is None:
        db.add(
            LeadInvitation(
                organisation_id=organisation_id,
                user_id=target.id,
                invited_by=actor.id,
                created_at=now,
            )
        )
    else:
        row.invited_by, row.created_at, row.declined_at = actor.id, now, None
    audit.record(
        db,
        now,
        "organisation.lead_invited",
        actor_id=actor.id,
        subject_id=target.id,
        organisation_id=organisation_id,
    )
    return target


async def remove_lead(
    db: AsyncSession, actor: User, organisation_id: str, user_id: str, now: datetime
) -> None:
    """An organiser, or the lead themselves, ends someone's role as safeguarding lead."""
    is_organiser = await db.get(OrganisationOrganiser, (organisation_id, actor.id)) is not None
    if not is_organiser and actor.id != user_id:
        raise NotFound(organisation_id)
    row = await db.get(SafeguardingLead, (organisation_id, user_id))
    if row is None:
        raise FieldError("lead", _("That person is not a safeguarding lead."))
    await db.delete(row)
    audit.record(
        db,
        now,
        "organisation.lead_removed",
        actor_id=actor.id,
        subject_id=user_id,
        organisation_id=organisation_id,
    )


async def withdraw(
    db: AsyncSession, actor: User, kind: Kind, place_id: str, user_id: str, now: datetime
) -> None:
    """An organiser takes back an invitation that is still waiting."""
    row: ModeratorInvitation | OrganiserInvitation | LeadInvitation | None
    if kind == "moderator":
        await require_rank(db, actor, place_id, GroupRole.ORGANISER)
        row = await db.get(ModeratorInvitation, (place_id, user_id))
    else:
        if await db.get(OrganisationOrganiser, (place_id, actor.id)) is None:
            raise NotFound(place_id)
        table = LeadInvitation if kind == "lead" else OrganiserInvitation
        row = await db.get(table, (place_id, user_id))
    if row is None or row.declined_at is not None or row.created_at <= now - LIFETIME:
        raise FieldError(
            "lead" if kind == "lead" else "pseudonym",
            _("That invitation is not waiting any more."),
        )
    await db.delete(row)
    audit.record(
        db,
        now,
        f"{_AUDIT_PREFIX[kind]}_invitation_withdrawn",
        actor_id=actor.id,
        subject_id=user_id,
        place_id=place_id,
    )


_AUDIT_PREFIX: Final = {
    "moderator": "group.moderator",
    "organiser": "organisation.organiser",
    "lead": "organisation.lead",
}


# --- What people see -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invitation:
    """One invitation waiting for the person's answer, as their pages show it."""

    kind: Kind
    place_id: str  # the group's id, or the organisation's
    place_name: str  # the group's name, or the organisation's
    organisation: str  # the organisation's name
    slug: str | None  # the group's public page (checked organisations only)
    ground_rules: str
    invited_by: str | None  # the organiser's name on PeerHub
    at: datetime


async def waiting_for(db: AsyncSession, user_id: str, now: datetime) -> list[Invitation]:
    """The invitations waiting for this person's answer, newest first."""
    inviter = User.__table__.alias("inviter")
    mods = (
        await db.execute(
            select(ModeratorInvitation, Group, Organisation, inviter.c.pseudonym)
            .join(Group, Group.id == ModeratorInvitation.group_id)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .outerjoin(inviter, inviter.c.id == ModeratorInvitation.invited_by)
            .where(
                ModeratorInvitation.user_id == user_id,
                _waiting(ModeratorInvitation, now),
            )
        )
    ).all()
    orgs = (
        await db.execute(
            select(OrganiserInvitation, Organisation, inviter.c.pseudonym)
            .join(Organisation, Organisation.id == OrganiserInvitation.organisation_id)
            .outerjoin(inviter, inviter.c.id == OrganiserInvitation.invited_by)
            .where(
                OrganiserInvitation.user_id == user_id,
                _waiting(OrganiserInvitation, now),
            )
        )
    ).all()
    leads = (
        await db.execute(
            select(LeadInvitation, Organisation, inviter.c.pseudonym)
            .join(Organisation, Organisation.id == LeadInvitation.organisation_id)
            .outerjoin(inviter, inviter.c.id == LeadInvitation.invited_by)
            .where(LeadInvitation.user_id == user_id, _waiting(LeadInvitation, now))
        )
    ).all()
    found = (
        [
            Invitation(
                "moderator",
                group.id,
                group.name,
                org.name,
                group.slug if org.verified_at is not None else None,
                group.ground_rules,
                name,
                row.created_at,
            )
            for row, group, org, name in mods
        ]
        + [
            Invitation("organiser", org.id, org.name, org.name, None, "", name, row.created_at)
            for row, org, name in orgs
        ]
        + [
            Invitation("lead", org.id, org.name, org.name, None, "", name, row.created_at)
            for row, org, name in leads
        ]
    )
    return sorted(found, key=lambda i: i.at, reverse=True)


@dataclass(frozen=True, slots=True)
class Invited:
    """An invitation waiting, as the organiser's page lists it."""

    user_id: str
    pseudonym: str
    at: datetime


async def waiting_in_group(db: AsyncSession, group_id: str, now: datetime) -> list[Invited]:
    rows = await db.execute(
        select(ModeratorInvitation.user_id, User.pseudonym, ModeratorInvitation.created_at)
        .join(User, User.id == ModeratorInvitation.user_id)
        .where(ModeratorInvitation.group_id == group_id, _waiting(ModeratorInvitation, now))
        .order_by(ModeratorInvitation.created_at)
    )
    return [Invited(uid, name, at) for uid, name, at in rows]


async def waiting_in_organisation(
    db: AsyncSession, organisation_id: str, now: datetime, kind: Kind = "organiser"
) -> list[Invited]:
    table = LeadInvitation if kind == "lead" else OrganiserInvitation
    rows = await db.execute(
        select(table.user_id, User.pseudonym, table.created_at)
        .join(User, User.id == table.user_id)
        .where(table.organisation_id == organisation_id, _waiting(table, now))
        .order_by(table.created_at)
    )
    return [Invited(uid, name, at) for uid, name, at in rows]


# --- Answering -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answered:
    kind: Kind
    place_id: str
    accepted: bool
    # The group whose room must hear about the new moderator (None for organisers).
    group_id: str | None


async def answer(
    db: AsyncSession,
    user: User,
    kind: str,
    place_id: str,
    now: datetime,
    *,
    accept: bool,
    share: AbstractSet[tuple[str, str]] = frozenset(),
) -> Answered:
    """The person invited accepts or declines. NotFound when no invitation of theirs
    waits there; FieldError when it cannot be accepted now (kept, so they can later)."""
    if kind == "moderator":
        return await _answer_moderator(db, user, place_id, now, accept=accept, share=share)
    if kind == "organiser":
        return await _answer_organiser(db, user, place_id, now, accept=accept)
    if kind == "lead":
        return await _answer_lead(db, user, place_id, now, accept=accept)
    raise NotFound(place_id)


def _decline(
    db: AsyncSession,
    row: ModeratorInvitation | OrganiserInvitation | LeadInvitation,
    user: User,
    now: datetime,
) -> None:
    row.declined_at = now
    kind: Kind = (
        "moderator"
        if isinstance(row, ModeratorInvitation)
        else "lead"
        if isinstance(row, LeadInvitation)
        else "organiser"
    )
    audit.record(
        db,
        now,
        f"{_AUDIT_PREFIX[kind]}_declined",
        actor_id=user.id,
        subject_id=user.id,
        invited_by=row.invited_by,
    )


def _role_consent(db: AsyncSession, user: User, kind: str, subject: str, now: datetime) -> None:
    db.add(
        Consent(
            user_id=user.id,
            kind=kind,
            subject_id=subject,
            granted=True,
            version=CONSENT_VERSION,
            at=now,
        )
    )


async def _answer_moderator(
    db: AsyncSession,
    user: User,
    group_id: str,
    now: datetime,
    *,
    accept: bool,
    share: AbstractSet[tuple[str, str]],
) -> Answered:
    row = await db.get(ModeratorInvitation, (group_id, user.id), with_for_update=True)
    if row is None or row.declined_at is not None or row.created_at <= now - LIFETIME:
        raise NotFound(group_id)
    if not accept:
        _decline(db, row, user, now)
        return Answered("moderator", group_id, False, None)
    group = await db.get(Group, group_id, with_for_update=True)
    if group is None or not await organisation_checked(db, group_id):
        raise FieldError(
            "invitation",
            _(
                "PeerHub is checking the organisation that runs this group, so you cannot "
                "start moderating it yet. Your invitation is kept."
            ),
        )
    if await is_banned(db, group_id, user.id):
        await db.delete(row)
        raise FieldError("invitation", _("You cannot moderate this group."))
    rank = await group_rank(db, user, group_id)
    if rank >= GroupRole.MODERATOR:
        await db.delete(row)
        raise FieldError("invitation", _("You have this role in the group already."))
    # Checked again: the group may have started welcoming people approaching crisis, or
    # a record run out, since the invitation (hazard H27). The invitation is kept.
    await require_training(db, group_id, user.id, None, now, field="invitation")
    membership = await db.get(GroupMember, (group_id, user.id))
    new_place = membership is None
    if membership is None:
        db.add(
            GroupMember(
                group_id=group_id, user_id=user.id, role="moderator", status="active", joined_at=now
            )
        )
    else:
        if membership.status != "active":
            membership.joined_at = now
        membership.role, membership.status = "moderator", "active"
    if new_place or not await has_joined(db, user.id, group_id):
        # Taking a place in the group, as at joining: its terms, and sharing nothing
        # with it until the person chooses (docs/sharing.md).
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
    _role_consent(db, user, "group.moderator", group_id, now)
    await db.flush()
    if new_place:
        await sharing.set_group_choices(db, user, group_id, set(share), now, at_joining=True)
    # A moderator holds a place by role, not from the waiting list.
    await db.execute(
        delete(WaitlistEntry).where(
            WaitlistEntry.group_id == group_id, WaitlistEntry.user_id == user.id
        )
    )
    await db.delete(row)
    await referrals.note_joined(db, user.id, group_id, now)
    audit.record(
        db,
        now,
        "group.moderator_appointed",
        actor_id=user.id,
        subject_id=user.id,
        group_id=group_id,
        invited_by=row.invited_by,
    )
    after_commit.member_changed(db, group_id, user.id)  # every process re-reads the rank
    return Answered("moderator", group_id, True, group_id)


async def _answer_organiser(
    db: AsyncSession, user: User, organisation_id: str, now: datetime, *, accept: bool
) -> Answered:
    row = await db.get(OrganiserInvitation, (organisation_id, user.id), with_for_update=True)
    if row is None or row.declined_at is not None or row.created_at <= now - LIFETIME:
        raise NotFound(organisation_id)
    if not accept:
        _decline(db, row, user, now)
        return Answered("organiser", organisation_id, False, None)
    org = await db.get(Organisation, organisation_id)
    if org is None or org.verified_at is None:
        raise FieldError(
            "invitation",
            _(
                "PeerHub is checking this organisation, so you cannot start organising it "
                "yet. Your invitation is kept."
            ),
        )
    if await db.get(OrganisationOrganiser, (organisation_id, user.id)) is None:
        db.add(
            OrganisationOrganiser(organisation_id=organisation_id, user_id=user.id, added_at=now)
        )
    _role_consent(db, user, "organisation.organiser", organisation_id, now)
    await db.delete(row)
    audit.record(
        db,
        now,
        "organisation.organiser_added",
        actor_id=user.id,
        subject_id=user.id,
        organisation_id=organisation_id,
        invited_by=row.invited_by,
    )
    return Answered("organiser", organisation_id, True, None)


async def _answer_lead(
    db: AsyncSession, user: User, organisation_id: str, now: datetime, *, accept: bool
) -> Answered:
    row = await db.get(LeadInvitation, (organisation_id, user.id), with_for_update=True)
    if row is None or row.declined_at is not None or row.created_at <= now - LIFETIME:
        raise NotFound(organisation_id)
    if not accept:
        _decline(db, row, user, now)
        return Answered("lead", organisation_id, False, None)
    org = await db.get(Organisation, organisation_id)
    if org is None or org.verified_at is None:
        raise FieldError(
            "invitation",
            _(
                "PeerHub is checking this organisation, so you cannot start organising it "
                "yet. Your invitation is kept."
            ),
        )
    if await db.get(SafeguardingLead, (organisation_id, user.id)) is None:
        db.add(SafeguardingLead(organisation_id=organisation_id, user_id=user.id, added_at=now))
    _role_consent(db, user, "organisation.safeguarding_lead", organisation_id, now)
    await db.delete(row)
    audit.record(
        db,
        now,
        "organisation.lead_added",
        actor_id=user.id,
        subject_id=user.id,
        organisation_id=organisation_id,
        invited_by=row.invited_by,
    )
    return Answered("lead", organisation_id, True, None)


# --- Consent on record ---------------------------------------------------------------


async def has_joined(db: AsyncSession, user_id: str, group_id: str) -> bool:
    """Did the person take their place in the group themselves (joining, asking to
    join, taking an offered place, accepting an invitation), and not leave since?

    True when their latest ``group.join`` consent record for the group grants it.
    Places made for them by someone else (the old "appoint a moderator") have none.
    """
    granted = await db.scalar(
        select(Consent.granted)
        .where(
            Consent.user_id == user_id,
            Consent.kind == "group.join",
            Consent.subject_id == group_id,
        )
        .order_by(Consent.at.desc(), Consent.id.desc())
        .limit(1)
    )
    return bool(granted)
