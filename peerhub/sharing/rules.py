"""Who may see what about a person: the one place every page and API asks.

Audiences are relative to the person: the members of a group they are in, that
group's moderators, its organisers, and a professional who referred them. Items are
what PeerHub may know about them. The pseudonym is always shown; everything else only
when the person chose to share it with that audience (no choice = not shared).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.models import Consent, GroupMember, GroupRole, Referral, SavedNeeds, User
from peerhub.security.permissions import group_rank
from peerhub.sharing.models import CrisisPlan, PersonProfile, SharingChoice
from peerhub.taxonomy import COMMUNITIES, STAGES, language_name

SHARING_VERSION = "1"

AUDIENCES: dict[str, str] = {
    "members": "Members of your groups",
    "moderators": "Your groups’ moderators",
    "organisers": "Your groups’ organisers",
    "referrer": "A professional who referred you",
}

ITEMS: dict[str, str] = {
    "first_name": "Your first name",
    "pronouns": "Your pronouns",
    "languages": "Your languages and communities",
    "stage": "Your stage (approaching crisis, recovery, staying well)",
    "contact": "Your contact details (e-mail and phone)",
    "crisis_plan": "Your crisis plan",
}
# "Whether you joined and how it is going" is for the referrer only, and is chosen per
# referral on the referrals page (Referral.share_progress, with its own consent).

PLAN_FIELDS: dict[str, str] = {
    "early_signs": "Early signs that I am struggling",
    "what_helps": "What helps me",
    "what_does_not_help": "What does not help",
    "who_to_contact": "Who to contact, and how",
    "dependants": "People or animals who depend on me",
}

ROLE_AUDIENCE = {
    GroupRole.MEMBER: "members",
    GroupRole.MODERATOR: "moderators",
    GroupRole.ORGANISER: "organisers",
}


async def choices(db: AsyncSession, user_id: str) -> set[tuple[str, str]]:
    rows = await db.execute(
        select(SharingChoice.audience, SharingChoice.item).where(SharingChoice.user_id == user_id)
    )
    return {(audience, item) for audience, item in rows}


async def set_choices(
    db: AsyncSession, user: User, wanted: set[tuple[str, str]], now: datetime
) -> int:
    """Make the person's choices exactly ``wanted``; each change is a consent record."""
    wanted = {(a, i) for a, i in wanted if a in AUDIENCES and i in ITEMS}
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
    for (audience, item), given in [(c, True) for c in sorted(granted)] + [
        (c, False) for c in sorted(withdrawn)
    ]:
        db.add(
            Consent(
                user_id=user.id,
                kind=f"share.{audience}.{item}",
                granted=given,
                version=SHARING_VERSION,
                at=now,
            )
        )
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


def plan_dict(plan: CrisisPlan | None) -> dict[str, str] | None:
    if plan is None or not any(getattr(plan, f) for f in PLAN_FIELDS):
        return None
    return {f: getattr(plan, f) for f in PLAN_FIELDS}


async def view_for(db: AsyncSession, subject: User, audience: str) -> dict[str, Any]:
    """What this audience may see of the person: always the pseudonym, then their choices."""
    shared = {item for a, item in await choices(db, subject.id) if a == audience}
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
            out["languages"] = [language_name(str(t)) for t in needs.get("languages") or []]
            out["communities"] = [
                _label(COMMUNITIES.label, str(c)) for c in needs.get("communities") or []
            ]
        if "stage" in shared and needs.get("stage"):
            out["stage"] = _label(STAGES.label, str(needs["stage"]))
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


def _label(label_of: Any, code: str) -> str:
    try:
        return str(label_of(code))
    except KeyError:
        return code


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
