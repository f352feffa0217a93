"""Consented, closed-loop referrals: check, write; the caller commits.

States (each change recorded with its time, who made it and why)::

    sent ──▶ accepted ──▶ joined ──▶ closed (with an outcome)
      │  ╲        ╲──────────────────▶ closed
      │   ╲──▶ declined (with a reason)
      ╰─────▶ redirected (to another group) ──▶ accepted / declined / redirected
    any open state ──▶ withdrawn (by the person)

The group's organisers and moderators accept, decline, redirect and close. The
person withdraws. "joined" is recorded when the person becomes a member of the group.
The referring professional sees whether the person joined, and any outcome, only if
the person chose to share that (``share_progress``); it can be changed at any time.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from peerhub import audit
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.i18n import _, format_number, lazy_gettext, pgettext
from peerhub.models import (
    Consent,
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    OrganisationOrganiser,
    Referral,
    ReferralEvent,
    User,
)
from peerhub.notify import letters
from peerhub.security.permissions import group_rank, organisation_checked
from peerhub.security.tokens import digest

TRANSITIONS: dict[str, frozenset[str]] = {
    "sent": frozenset({"accepted", "declined", "redirected", "withdrawn", "joined"}),
    "redirected": frozenset({"accepted", "declined", "redirected", "withdrawn", "joined"}),
    "accepted": frozenset({"joined", "closed", "withdrawn"}),
    "joined": frozenset({"closed", "withdrawn"}),
    "declined": frozenset(),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}
GROUP_DECISIONS = frozenset({"accepted", "declined", "redirected", "closed"})
OPEN_STATES = frozenset({"sent", "redirected", "accepted", "joined"})
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud safely
CODE_LENGTH = 12  # 60 bits
CONSENT_VERSION = "1"
PHONE_RE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
NOT_TAKING = lazy_gettext(
    "This group cannot take anyone at the moment. You can still find another group, "
    "with or without a referral."
)


def state_label(state: str) -> str:
    """A referral's state in the page's language (the stored value is English data)."""
    labels = {
        "sent": pgettext("referral state", "sent"),
        "accepted": pgettext("referral state", "accepted"),
        "joined": pgettext("referral state", "joined"),
        "closed": pgettext("referral state", "closed"),
        "declined": pgettext("referral state", "declined"),
        "redirected": pgettext("referral state", "redirected"),
        "withdrawn": pgettext("referral state", "withdrawn"),
    }
    return labels.get(state, state)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(code: str) -> str:
    raw = re.sub(r"[^A-Za-z0-9]", "", code).upper()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == CODE_LENGTH else raw


@dataclass(frozen=True, slots=True)
class NewReferral:
    referral: Referral
    code: str  # shown once


async def _group(db: AsyncSession, slug: str) -> Group:
    group = await db.scalar(select(Group).where(Group.slug == slug, Group.kind == "group"))
    if group is None:
        raise NotFound(slug)
    return group


async def _checked_group(db: AsyncSession, slug: str) -> Group:
    """A group people may be referred to: its organisation is verified by PeerHub.

    Anything else is NotFound, the same as no such group: a referral (with the
    person's contact details and the professional's note) must never reach
    organisers PeerHub has not checked.
    """
    group = await _group(db, slug)
    if not await organisation_checked(db, group.id):
        raise NotFound(slug)
    return group


def _event(
    db: AsyncSession,
    referral: Referral,
    state: str,
    actor_id: str | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    db.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            state=state,
            actor_id=actor_id,
            group_id=referral.group_id,
            reason=reason,
        )
    )


async def create_referral(
    db: AsyncSession,
    professional: User,
    slug: str,
    now: datetime,
    *,
    person_name: str,
    contact_method: str,
    contact_value: str,
    note: str,
    consent: bool,
) -> NewReferral:
    if not professional.is_professional:
        raise Forbidden("Only verified professionals can refer someone.")
    group = await _checked_group(db, slug)
    if group.status != "active":
        raise FieldError("group", _("This group is not taking referrals right now."))
    name = " ".join(person_name.split())
    if not 1 <= len(name) <= 60:
        raise FieldError(
            "person_name",
            _("Give the person's first name or their name on PeerHub (up to 60 characters)."),
        )
    contact = contact_value.strip()
    if contact_method == "email":
        if not EMAIL_RE.fullmatch(contact) or len(contact) > 254:
            raise FieldError("contact_value", _("Give the person's e-mail address."))
    elif contact_method == "phone":
        if not PHONE_RE.fullmatch(contact):
            raise FieldError("contact_value", _("Give the person's phone number."))
    elif contact_method == "code":
        contact = ""
    else:
        raise FieldError("contact_method", _("Choose how the person wants to be contacted."))
    note = note.strip()
    if len(note) > 1000:
        raise FieldError(
            "note", _("Keep the note under %(limit)s characters.", limit=format_number(1000))
        )
    if not consent:
        raise FieldError("consent", _("You can only refer someone who has agreed to it."))
    code = new_code()
    referral = Referral(
        code_hash=digest(code),
        group_id=group.id,
        professional_id=professional.id,
        person_name=name,
        contact_method=contact_method,
        contact_value=contact or None,
        note=note,
        consent_confirmed_at=now,
        state="sent",
        created_at=now,
        updated_at=now,
    )
    db.add(referral)
    await db.flush()
    _event(db, referral, "sent", professional.id, now)
    audit.record(
        db,
        now,
        "referral.created",
        actor_id=professional.id,
        subject_id=referral.id,
        group_id=group.id,
    )
    return NewReferral(referral, code)


async def by_code(db: AsyncSession, code: str) -> Referral:
    referral = await db.scalar(
        select(Referral).where(Referral.code_hash == digest(normalise_code(code)))
    )
    if referral is None:
        raise NotFound("referral")
    return referral


def shown_state(referral: Referral, viewer: User | None) -> str:
    """The referral's state as whoever holds its code may see it (its landing page).

    The person who took it up sees the truth. Anyone else (the referring professional
    among them: they made the code) sees what the professional's own view shows:
    "joined" and "closed" look exactly like "accepted" until the person shares their
    progress (:func:`professional_view`).
    """
    if viewer is not None and viewer.id == referral.person_user_id:
        return referral.state
    if referral.state in HIDDEN_STATES and not referral.share_progress:
        return "accepted"
    return referral.state


async def claim(db: AsyncSession, user: User, code: str, now: datetime) -> Referral:
    """The referred person takes up the referral with its code (once; only they can).

    Forbidden for the professional who made it, whatever its state (they hold the
    code too). For anyone else, a referral someone already took up, or one closed
    without being shared, is answered as if taken up, and nothing changes: the answer
    must not tell whoever holds the code (a professional with a second account
    included) whether the person took it up or how it went.
    """
    referral = await by_code(db, code)
    if referral.professional_id is not None and referral.professional_id == user.id:
        raise Forbidden("referral")
    if shown_state(referral, user) not in OPEN_STATES:
        raise NotFound("referral")
    if referral.person_user_id not in (None, user.id) or referral.state not in OPEN_STATES:
        return referral
    if not await organisation_checked(db, referral.group_id):
        # Made while the organisation was verified, and it no longer is: nobody can
        # join the group, so the referral cannot be taken up (the landing page says so).
        raise FieldError("code", str(NOT_TAKING))
    if referral.person_user_id is None:
        referral.person_user_id = user.id
        referral.updated_at = now
        db.add(
            Consent(
                user_id=user.id,
                kind="referral.take_up",
                subject_id=referral.id,
                granted=True,
                version=CONSENT_VERSION,
                at=now,
            )
        )
        audit.record(db, now, "referral.claimed", actor_id=user.id, subject_id=referral.id)
    membership = await db.get(GroupMember, (referral.group_id, user.id))
    if membership is not None and membership.status == "active" and referral.state != "joined":
        _answered_by_joining(db, referral)
        _move(db, referral, "joined", user.id, now)
    return referral


def _move(
    db: AsyncSession,
    referral: Referral,
    state: str,
    actor_id: str | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    if state not in TRANSITIONS[referral.state]:
        raise FieldError(
            "state",
            _(
                "A referral that is %(state)s cannot become %(new)s.",
                state=state_label(referral.state),
                new=state_label(state),
            ),
        )
    referral.state = state
    referral.updated_at = now
    _event(db, referral, state, actor_id, now, reason)


async def load(db: AsyncSession, referral_id: str) -> Referral:
    referral = await db.get(Referral, referral_id)
    if referral is None:
        raise NotFound(referral_id)
    return referral


async def decide(
    db: AsyncSession,
    actor: User,
    referral_id: str,
    state: str,
    now: datetime,
    *,
    reason: str = "",
    redirect_to: str = "",
    outcome: str = "",
) -> Referral:
    """A group's organiser or moderator answers a referral."""
    referral = await load(db, referral_id)
    rank = await group_rank(db, actor, referral.group_id)
    if rank < GroupRole.MODERATOR or not await organisation_checked(db, referral.group_id):
        # Not theirs, or their organisation is not (or no longer) verified: the same
        # answer as no such referral.
        raise NotFound(referral_id)
    if state not in GROUP_DECISIONS:
        raise FieldError("state", _("Choose accept, decline, redirect or close."))
    reason = reason.strip()[:1000]
    if state == "declined" and not reason:
        raise FieldError("reason", _("Say why, kindly: the person and their referrer will see it."))
    if state == "redirected":
        try:
            target = await _checked_group(db, redirect_to.strip())
        except NotFound:
            target = None
        if target is None or target.id == referral.group_id or target.status != "active":
            # Only to an active group of a verified organisation: a referral carries
            # the person's contact details and the professional's note.
            raise FieldError(
                "redirect_to", _("Choose another active group from PeerHub’s directory.")
            ) from None
        # The event records the group it now belongs to; the old group's inbox drops it.
        referral.group_id = target.id
        _move(
            db,
            referral,
            state,
            actor.id,
            now,
            reason or _("suggested %(group)s instead", group=target.name),
        )
    elif state == "closed":
        text = outcome.strip()[:1000]
        if not text:
            raise FieldError("outcome", _("Record the outcome before closing."))
        _move(db, referral, state, actor.id, now, reason or None)
        referral.outcome = text
    else:
        _move(db, referral, state, actor.id, now, reason or None)
    audit.record(db, now, f"referral.{state}", actor_id=actor.id, subject_id=referral.id)
    return referral


async def withdraw(db: AsyncSession, user: User, referral_id: str, now: datetime) -> Referral:
    referral = await load(db, referral_id)
    if referral.person_user_id != user.id:
        raise NotFound(referral_id)
    _move(db, referral, "withdrawn", user.id, now)
    db.add(
        Consent(
            user_id=user.id,
            kind="referral.take_up",
            subject_id=referral.id,
            granted=False,
            version=CONSENT_VERSION,
            at=now,
        )
    )
    audit.record(db, now, "referral.withdrawn", actor_id=user.id, subject_id=referral.id)
    return referral


async def set_sharing(
    db: AsyncSession, user: User, referral_id: str, share: bool, now: datetime
) -> Referral:
    """The person decides whether the referrer may see that they joined, and the outcome."""
    referral = await load(db, referral_id)
    if referral.person_user_id != user.id:
        raise NotFound(referral_id)
    referral.share_progress = share
    referral.updated_at = now
    db.add(
        Consent(
            user_id=user.id,
            kind="referral.share_progress",
            subject_id=referral.id,
            granted=share,
            version=CONSENT_VERSION,
            at=now,
        )
    )
    audit.record(
        db, now, "referral.sharing_changed", actor_id=user.id, subject_id=referral.id, share=share
    )
    return referral


def _answered_by_joining(db: AsyncSession, referral: Referral) -> None:
    """The person joined before the group answered: to the professional this must look
    like an acceptance (professional_view), so they get its e-mail too, after the commit
    (an outbox job recorded here, peerhub/notify/letters.py)."""
    if referral.state in ("sent", "redirected"):
        letters.referral_accepted(db, referral.id)


async def note_joined(db: AsyncSession, user_id: str, group_id: str, now: datetime) -> int:
    """Called when someone becomes an active member: their open referrals there are joined."""
    rows = (
        await db.scalars(
            select(Referral).where(
                Referral.person_user_id == user_id,
                Referral.group_id == group_id,
                Referral.state.in_(("sent", "redirected", "accepted")),
            )
        )
    ).all()
    for referral in rows:
        _answered_by_joining(db, referral)
        _move(db, referral, "joined", None, now)
    return len(rows)


@dataclass(frozen=True, slots=True)
class ShownEvent:
    """One step of a referral's history as the referring professional sees it."""

    at: datetime
    state: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class ProfessionalView:
    """What the referring professional may see of one referral."""

    referral: Referral
    group: Group
    state: str
    outcome: str | None
    events: list[ShownEvent]


# What a hidden step looks like to the professional: exactly an acceptance.
HIDDEN_STATES = frozenset({"joined", "closed"})


def professional_view(
    referral: Referral, group: Group, events: list[ReferralEvent]
) -> ProfessionalView:
    """The referral as its professional may see it.

    Until the person shares their progress, "joined" and "closed" must not be told
    apart from "accepted", in the state, the history or the times. So the history is
    rewritten as if the group had accepted: the first step into accepted, joined or
    closed is shown as "accepted" at the time it happened (a real acceptance keeps
    its own time and reason; a join that came first is shown as the acceptance, at
    the join's time, with no reason, as an acceptance without a message is), and
    later hidden steps are left out. Every later view of the same referral
    is a continuation of the same story (a withdrawal after joining shows as
    "accepted, then withdrawn"), so no change of view gives the join away.
    """
    shown = [ShownEvent(e.at, e.state, e.reason) for e in events]
    if referral.share_progress:
        return ProfessionalView(referral, group, referral.state, referral.outcome, shown)
    out: list[ShownEvent] = []
    accepted = False
    for event in shown:
        if event.state in HIDDEN_STATES:
            if not accepted:
                out.append(ShownEvent(event.at, "accepted", None))
                accepted = True
            continue
        if event.state == "accepted":
            if accepted:
                continue
            accepted = True
        out.append(event)
    state = referral.state
    if state in HIDDEN_STATES:
        state = "accepted"
    return ProfessionalView(referral, group, state, None, out)


async def events_of(db: AsyncSession, referral_ids: list[str]) -> dict[str, list[ReferralEvent]]:
    out: dict[str, list[ReferralEvent]] = {rid: [] for rid in referral_ids}
    if not referral_ids:
        return out
    rows = (
        await db.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id.in_(referral_ids))
            .order_by(ReferralEvent.id)
        )
    ).all()
    for event in rows:
        out[event.referral_id].append(event)
    return out


async def sent_by(db: AsyncSession, professional: User) -> list[ProfessionalView]:
    rows = (
        await db.execute(
            select(Referral, Group)
            .join(Group, Group.id == Referral.group_id)
            .where(Referral.professional_id == professional.id)
            .order_by(Referral.created_at.desc())
            .options(selectinload(Group.texts))  # its name in the page's language
        )
    ).all()
    events = await events_of(db, [r.id for r, _ in rows])
    return [professional_view(r, g, events[r.id]) for r, g in rows]


async def for_person(db: AsyncSession, user: User) -> list[tuple[Referral, Group]]:
    rows = (
        await db.execute(
            select(Referral, Group)
            .join(Group, Group.id == Referral.group_id)
            .where(Referral.person_user_id == user.id)
            .order_by(Referral.created_at.desc())
            # The page does not link a group whose organisation is not (or no longer)
            # verified: its page would not be found.
            .options(selectinload(Group.organisation), selectinload(Group.texts))
        )
    ).all()
    return [(r, g) for r, g in rows]


async def moderated_group_ids(db: AsyncSession, user: User) -> list[str]:
    """Groups this person moderates, or organises through their organisation."""
    moderated = select(GroupMember.group_id).where(
        GroupMember.user_id == user.id,
        GroupMember.role == "moderator",
        GroupMember.status == "active",
    )
    organised = (
        select(Group.id)
        .join(OrganisationOrganiser, OrganisationOrganiser.organisation_id == Group.organisation_id)
        .where(OrganisationOrganiser.user_id == user.id)
    )
    return list((await db.scalars(moderated.union(organised))).all())


async def inbox(db: AsyncSession, user: User) -> list[tuple[Referral, Group]]:
    """Referrals to the groups this person moderates or organises.

    Only groups of verified organisations: if PeerHub withdraws an organisation's
    verification, its referrals (contact details, notes) leave its inbox at once.
    """
    group_ids = await moderated_group_ids(db, user)
    if not group_ids:
        return []
    rows = (
        await db.execute(
            select(Referral, Group)
            .join(Group, Group.id == Referral.group_id)
            .join(Organisation, Organisation.id == Group.organisation_id)
            .where(Referral.group_id.in_(group_ids), Organisation.verified_at.is_not(None))
            .order_by(Referral.created_at.desc())
            .options(selectinload(Group.texts))  # its name in the page's language
        )
    ).all()
    return [(r, g) for r, g in rows]
