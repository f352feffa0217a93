"""Who may see what about a person: the one place every page and API asks.

Audiences are relative to the person: the members of a group they are in, that
group's moderators, its organisers, and a professional who referred them. Items are
what PeerHub may know about them. The pseudonym is always shown to a group audience;
everything else only when the person chose to share it with that audience (no choice
= not shared).

**Group audiences are per group.** What the organisers of group A may see is what the
person chose for group A, never what they chose for another group: joining a new
group (or saying yes to moderating one) starts from sharing nothing there, and the
person is asked at joining. A group whose organisation PeerHub has not verified gets
nothing beyond the pseudonym, whatever was chosen (its organisers are not known to be
who they say they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit, languages
from peerhub.errors import NotFound
from peerhub.finding import wording
from peerhub.i18n import lazy_gettext
from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    Referral,
    SavedNeeds,
    User,
)
from peerhub.security.permissions import group_rank, organisation_checked
from peerhub.sharing.models import CrisisPlan, GroupSharingChoice, PersonProfile, SharingChoice
from peerhub.taxonomy import COMMUNITIES, STAGES

# Version 2: group audiences became per group (migration 0012).
SHARING_VERSION = "2"

AUDIENCES: dict[str, Any] = {
    "members": lazy_gettext("Members of your groups"),
    "moderators": lazy_gettext("Your groups’ moderators"),
    "organisers": lazy_gettext("Your groups’ organisers"),
    "referrer": lazy_gettext("A professional who referred you"),
}
# Chosen for each group separately.
GROUP_AUDIENCES: dict[str, Any] = {
    "members": lazy_gettext("Its members"),
    "moderators": lazy_gettext("Its moderators"),
    "organisers": lazy_gettext("Its organisers"),
}
# Chosen once, for the person.
PERSON_AUDIENCES = ("referrer",)

ITEMS: dict[str, Any] = {
    "first_name": lazy_gettext("Your first name"),
    "pronouns": lazy_gettext("Your pronouns"),
    "languages": lazy_gettext("Your languages and communities"),
    "stage": lazy_gettext("Your stage (approaching crisis, recovery, staying well)"),
    "contact": lazy_gettext("Your contact details (e-mail and phone)"),
    "crisis_plan": lazy_gettext("Your crisis plan"),
}
# "Whether you joined and how it is going" is for the referrer only, and is chosen per
# referral on the referrals page (Referral.share_progress, with its own consent).

PLAN_FIELDS: dict[str, Any] = {
    "early_signs": lazy_gettext("Early signs that I am struggling"),
    "what_helps": lazy_gettext("What helps me"),
    "what_does_not_help": lazy_gettext("What does not help"),
    "who_to_contact": lazy_gettext("Who to contact, and how"),
    "dependants": lazy_gettext("People or animals who depend on me"),
}

ROLE_AUDIENCE = {
    GroupRole.MEMBER: "members",
    GroupRole.MODERATOR: "moderators",
    GroupRole.ORGANISER: "organisers",
}

Choices = set[tuple[str, str]]


def parse_choices(values: list[str], audiences: tuple[str, ...] | dict[str, str]) -> Choices:
    """``audience:item`` form values, keeping only known audiences and items."""
    out: Choices = set()
    for value in values:
        audience, _, item = value.partition(":")
        if audience in audiences and item in ITEMS:
            out.add((audience, item))
    return out


async def choices(db: AsyncSession, user_id: str) -> Choices:
    """What the person shares with a professional who referred them."""
    rows = await db.execute(
        select(SharingChoice.audience, SharingChoice.item).where(SharingChoice.user_id == user_id)
    )
    return {(audience, item) for audience, item in rows}


async def group_choices(db: AsyncSession, user_id: str, group_id: str) -> Choices:
    """What the person shares with this group's members, moderators and organisers."""
    rows = await db.execute(
        select(GroupSharingChoice.audience, GroupSharingChoice.item).where(
            GroupSharingChoice.user_id == user_id, GroupSharingChoice.group_id == group_id
        )
    )
    return {(audience, item) for audience, item in rows}


def _consents(
    db: AsyncSession,
    user: User,
    granted: Choices,
    withdrawn: Choices,
    now: datetime,
    subject_id: str | None,
) -> None:
    for (audience, item), given in [(c, True) for c in sorted(granted)] + [
        (c, False) for c in sorted(withdrawn)
    ]:
        db.add(
            Consent(
                user_id=user.id,
                kind=f"share.{audience}.{item}",
                subject_id=subject_id,
                granted=given,
                version=SHARING_VERSION,
                at=now,
            )
        )


async def set_choices(db: AsyncSession, user: User, wanted: Choices, now: datetime) -> int:
    """Make what the referrer may see exactly ``wanted``; each change is a consent."""
    wanted = {(a, i) for a, i in wanted if a in PERSON_AUDIENCES and i in ITEMS}
    current = await choices(db, user.id)
    granted, withdrawn = wanted - current, current - wanted
    for audience, item in sorted(withdrawn):
        await db.execute(
            delete(SharingChoice).where(
                SharingChoice.user_id == user.id,
                SharingChoice.audience == audience,
                SharingChoice.item == item,
            )
        )
    for audience, item in sorted(granted):
        db.add(SharingChoice(user_id=user.id, audience=audience, item=item, at=now))
    _consents(db, user, granted, withdrawn, now, None)
    if granted or withdrawn:
        audit.record(
            db,
            now,
            "sharing.changed",
            actor_id=user.id,
            subject_id=user.id,
            granted=len(granted),
            withdrawn=len(withdrawn),
        )
    return len(granted) + len(withdrawn)


async def set_group_choices(
    db: AsyncSession,
    user: User,
    group_id: str,
    wanted: Choices,
    now: datetime,
    *,
    at_joining: bool = False,
) -> int:
    """Make what this group's audiences may see exactly ``wanted``.

    The person must have a place in the group (a membership or a request): the
    choice belongs to that place. Each change is a consent record with the group as
    its subject; at joining, a ``share.group`` record says the choice was offered and
    whether anything beyond the pseudonym was chosen, so "nothing" is on record too.
    """
    wanted = {(a, i) for a, i in wanted if a in GROUP_AUDIENCES and i in ITEMS}
    if await db.get(GroupMember, (group_id, user.id)) is None:
        raise NotFound(group_id)
    current = await group_choices(db, user.id, group_id)
    granted, withdrawn = wanted - current, current - wanted
    for audience, item in sorted(withdrawn):
        await db.execute(
            delete(GroupSharingChoice).where(
                GroupSharingChoice.group_id == group_id,
                GroupSharingChoice.user_id == user.id,
                GroupSharingChoice.audience == audience,
                GroupSharingChoice.item == item,
            )
        )
    for audience, item in sorted(granted):
        db.add(
            GroupSharingChoice(
                group_id=group_id, user_id=user.id, audience=audience, item=item, at=now
            )
        )
    if at_joining:
        db.add(
            Consent(
                user_id=user.id,
                kind="share.group",
                subject_id=group_id,
                granted=bool(wanted),
                version=SHARING_VERSION,
                at=now,
            )
        )
    _consents(db, user, granted, withdrawn, now, group_id)
    if granted or withdrawn:
        audit.record(
            db,
            now,
            "sharing.changed",
            actor_id=user.id,
            subject_id=user.id,
            group_id=group_id,
            granted=len(granted),
            withdrawn=len(withdrawn),
        )
    return len(granted) + len(withdrawn)


async def forget_group_choices(db: AsyncSession, user: User, group_id: str, now: datetime) -> None:
    """The person is leaving the group: their choices for it are withdrawn, on record.

    (The rows would go with the membership anyway; this writes the consents.)
    """
    await set_group_choices(db, user, group_id, set(), now)


def plan_dict(plan: CrisisPlan | None) -> dict[str, str] | None:
    if plan is None or not any(getattr(plan, f) for f in PLAN_FIELDS):
        return None
    return {f: getattr(plan, f) for f in PLAN_FIELDS}


async def view_for(
    db: AsyncSession, subject: User, audience: str, group_id: str | None = None
) -> dict[str, Any]:
    """What this audience may see of the person: always the pseudonym, then their choices.

    A group audience needs the group (``group_id``): only the choices made for it
    count, and none at all while its organisation is not verified.
    """
    shared: set[str]
    if audience in GROUP_AUDIENCES:
        if group_id is None:
            raise ValueError("a group audience needs the group")
        if await organisation_checked(db, group_id):
            shared = {i for a, i in await group_choices(db, subject.id, group_id) if a == audience}
        else:
            shared = set()
    else:
        shared = {item for a, item in await choices(db, subject.id) if a == audience}
    return await _view(db, subject, shared)


def _language_names(needs: dict[str, Any]) -> list[str]:
    """The saved search's languages by name: the boxes ticked and those typed by name
    ("urdu", "اردو"), each once; words that name no one language are left out."""
    tags: list[str] = []
    entries = [str(t) for t in needs.get("languages") or []]
    entries += str(needs.get("other_languages") or "").split(",")
    for entry in entries:
        if not entry.strip():
            continue
        try:
            tag = languages.parse(entry)
        except languages.LanguageError:
            continue
        if tag not in tags:
            tags.append(tag)
    # Named in the page's language (CLDR), as the finding pages name them.
    return [wording.language_name(t) for t in tags]


async def _view(db: AsyncSession, subject: User, shared: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": subject.id, "pseudonym": subject.pseudonym}
    if not shared:
        return out
    profile = await db.get(PersonProfile, subject.id)
    if "first_name" in shared and profile is not None and profile.first_name:
        out["first_name"] = profile.first_name
    if "pronouns" in shared and profile is not None and profile.pronouns:
        out["pronouns"] = profile.pronouns
    if shared & {"languages", "stage"}:
        saved = await db.get(SavedNeeds, subject.id)
        needs = saved.needs if saved is not None else {}
        if "languages" in shared:
            out["languages"] = _language_names(needs)
            out["communities"] = [
                wording.term_label(COMMUNITIES, str(c)) for c in needs.get("communities") or []
            ]
        if "stage" in shared and needs.get("stage"):
            out["stage"] = wording.term_label(STAGES, str(needs["stage"]))
    if "contact" in shared:
        contact = {
            "email": subject.email or "",
            "phone": profile.phone if profile is not None else "",
        }
        if any(contact.values()):
            out["contact"] = contact
    if "crisis_plan" in shared:
        plan = plan_dict(await db.get(CrisisPlan, subject.id))
        if plan is not None:
            out["crisis_plan"] = plan
    return out


async def audience_in_group(
    db: AsyncSession, viewer: User, subject_id: str, group_id: str
) -> str | None:
    """The viewer's audience for a person in a group, or None if they may not look.

    The person must be in the group (active), and so must the viewer (any rank).
    """
    if viewer.id == subject_id:
        return "self"
    membership = await db.get(GroupMember, (group_id, subject_id))
    if membership is None or membership.status != "active":
        return None
    rank = await group_rank(db, viewer, group_id)
    return ROLE_AUDIENCE.get(rank)


async def referrer_views(db: AsyncSession, professional: User) -> dict[str, dict[str, Any]]:
    """For each referral this professional made that a person took up: what they share."""
    rows = await db.execute(
        select(Referral.id, Referral.person_user_id).where(
            Referral.professional_id == professional.id, Referral.person_user_id.is_not(None)
        )
    )
    out: dict[str, dict[str, Any]] = {}
    for referral_id, person_id in rows:
        person = await db.get(User, person_id)
        if person is not None:
            # The professional knows the person by name already; the pseudonym (their
            # identity in the rooms) is not theirs to see.
            view = await view_for(db, person, "referrer")
            view.pop("id"), view.pop("pseudonym")
            if view:
                out[referral_id] = view
    return out


@dataclass(frozen=True, slots=True)
class MyGroupSharing:
    """One of the person's groups, and what each of its audiences may see."""

    group: Group
    verified: bool
    status: str  # active | requested
    chosen: Choices


async def my_groups(db: AsyncSession, user_id: str) -> list[MyGroupSharing]:
    """Every group the person has a place in (or asked for), with their choices there."""
    rows = (
        await db.execute(
            select(Group, GroupMember.status, Organisation.verified_at)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(GroupMember.user_id == user_id)
            .order_by(Group.name)
            .options(selectinload(Group.texts))  # its name in the page's language
        )
    ).all()
    chosen: dict[str, Choices] = {}
    for group_id, audience, item in await db.execute(
        select(
            GroupSharingChoice.group_id, GroupSharingChoice.audience, GroupSharingChoice.item
        ).where(GroupSharingChoice.user_id == user_id)
    ):
        chosen.setdefault(group_id, set()).add((audience, item))
    return [
        MyGroupSharing(group, verified is not None, status, chosen.get(group.id, set()))
        for group, status, verified in rows
    ]
