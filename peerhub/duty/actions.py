"""The duty desk's actions on a crisis alert: open it, close it with what was done,
review a serious incident. Check, write; the caller commits.

Who may act on an alert (:func:`role_for`): the group's moderators and organisers (as
in the room's console), the organisation's safeguarding leads, and PeerHub's
administrators (the ladder's last resort when an organisation has no lead). What each
sees of the record is decided in :mod:`peerhub.duty.pages`: the leads (and whoever
closed it) see what was done; organisers see that it was handled.

- **Open** ("I'm on it"): the first opener is recorded and the ladder stops there
  (peerhub/duty/escalation.py reads ``opened_at``). Opening again changes nothing.
- **Close**: one of :data:`~peerhub.moderation.models.ALERT_OUTCOMES` and optional
  words. Closing opens it too if nobody had, and asks the person who closed it,
  privately, how they are (peerhub/care/). Emergency services called makes it a
  serious incident: the organisation's safeguarding leads are told at once and asked
  to review it within :data:`REVIEW_WITHIN`; a reminder job falls due then.
- **Review**: a safeguarding lead (or an administrator) records their review of a
  serious incident, once.

Every step adds its line to the group's append-only moderation log.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import notify, outbox
from peerhub.care import actions as care
from peerhub.care.queries import unavailable
from peerhub.errors import FieldError, NotFound
from peerhub.i18n import _, lazy_gettext
from peerhub.inputs import check_text
from peerhub.models import Group, GroupRole, SafeguardingLead, User
from peerhub.moderation.models import (
    ALERT_OUTCOMES,
    REASON_LIMIT,
    WORDS_LIMIT,
    CrisisAlert,
    ModerationEvent,
)
from peerhub.security.permissions import group_rank

#: A serious incident's review is asked for within this time.
REVIEW_WITHIN: Final = timedelta(hours=72)

REVIEW_TOPIC = notify.topic(
    "duty.review",
    lazy_gettext("A serious incident needs your review"),
    lazy_gettext(
        "Emergency services were called after a crisis alert on PeerHub. "
        "As a safeguarding lead, please review what happened."
    ),
)


class Role(enum.IntEnum):
    """What a person is to an alert: more sees more."""

    NONE = 0
    MODERATOR = 1
    ORGANISER = 2
    LEAD = 3  # a safeguarding lead of the organisation, or an administrator


async def is_lead(db: AsyncSession, user_id: str, organisation_id: str) -> bool:
    return await db.get(SafeguardingLead, (organisation_id, user_id)) is not None


async def role_for(db: AsyncSession, user: User, group: Group) -> Role:
    if user.is_admin or await is_lead(db, user.id, group.organisation_id):
        return Role.LEAD
    rank = await group_rank(db, user, group.id)
    if rank >= GroupRole.ORGANISER:
        return Role.ORGANISER
    if rank >= GroupRole.MODERATOR:
        return Role.MODERATOR
    return Role.NONE


@dataclasses.dataclass(frozen=True, slots=True)
class Found:
    alert: CrisisAlert
    group: Group
    role: Role


async def find(db: AsyncSession, user: User, alert_id: str, *, lock: bool = False) -> Found:
    """The alert and what ``user`` is to it; NotFound for anyone else (they learn
    nothing, not even that it exists)."""
    alert = await db.get(CrisisAlert, alert_id, with_for_update=lock)
    group = await db.get(Group, alert.group_id) if alert is not None else None
    if alert is None or group is None:
        raise NotFound(alert_id)
    role = await role_for(db, user, group)
    if role == Role.NONE:
        raise NotFound(alert_id)
    return Found(alert, group, role)


def _log(
    db: AsyncSession, alert: CrisisAlert, actor: str, action: str, now: datetime, **detail: str
) -> None:
    db.add(
        ModerationEvent(
            group_id=alert.group_id,
            at=now,
            actor_id=actor,
            action=action,
            subject_id=alert.user_id,
            message_seq=alert.message_seq,
            detail={"alert": alert.id, **detail},
        )
    )


def open_alert(db: AsyncSession, alert: CrisisAlert, actor: str, now: datetime) -> bool:
    """Record ``actor`` as the first to open it; False when someone already had."""
    if alert.opened_at is not None:
        return False
    alert.opened_by, alert.opened_at = actor, now
    _log(db, alert, actor, "alert.opened", now)
    return True


async def close_alert(
    db: AsyncSession,
    alert: CrisisAlert,
    group: Group,
    actor: str,
    outcome: str,
    note: str,
    now: datetime,
) -> None:
    """Close it with what was done. FieldError for an unknown outcome or over-long
    words, or when it was closed already."""
    if outcome not in ALERT_OUTCOMES:
        raise FieldError("outcome", _("Choose what was done."))
    note = check_text(note, "note").strip()
    if len(note) > REASON_LIMIT:
        raise FieldError(
            "note", _("Please keep this under %(limit)d characters.", limit=REASON_LIMIT)
        )
    if alert.handled_at is not None:
        raise FieldError("outcome", _("Someone has already seen to that alert."))
    open_alert(db, alert, actor, now)
    alert.handled_by, alert.handled_at = actor, now
    alert.outcome, alert.outcome_note = outcome, note
    # The log says what was done, never the words (they stay with the alert's record).
    _log(db, alert, actor, "alert.seen", now, outcome=outcome)
    if outcome == "emergency":
        alert.review_due_at = now + REVIEW_WITHIN
        await tell_leads(db, alert, group, now)
        outbox.record(db, REVIEW_DUE, ReviewDue(alert.id), run_at=alert.review_due_at)
    # The person who saw to it is asked, privately, how they are (peerhub/care/).
    await care.after_alert(db, actor, alert.id, alert.group_id, now)


async def tell_leads(db: AsyncSession, alert: CrisisAlert, group: Group, now: datetime) -> int:
    from peerhub.duty.escalation import people_of

    people = await people_of(db, group.organisation_id, 2, now, unavailable)
    for person in sorted(people):
        await notify.tell(
            db,
            person,
            REVIEW_TOPIC,
            url=f"/duty/alerts/{alert.id}",
            ref=f"review:{alert.id}",
            now=now,
            urgent=False,
        )
    return len(people)


async def review(db: AsyncSession, found: Found, actor: str, note: str, now: datetime) -> None:
    if found.role < Role.LEAD:
        raise NotFound(found.alert.id)
    alert = found.alert
    if alert.review_due_at is None:
        raise FieldError("review", _("Only a serious incident is reviewed here."))
    if alert.reviewed_at is not None:
        raise FieldError("review", _("This incident has been reviewed already."))
    note = check_text(note, "review").strip()
    if not note:
        raise FieldError("review", _("Write what your review found."))
    if len(note) > WORDS_LIMIT:
        raise FieldError(
            "review", _("Please keep this under %(limit)d characters.", limit=WORDS_LIMIT)
        )
    alert.reviewed_by, alert.reviewed_at, alert.review_note = actor, now, note
    _log(db, alert, actor, "alert.reviewed", now)


# --- the review's reminder ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewDue:
    alert: str


REVIEW_DUE = outbox.kind("duty.review_due", ReviewDue)


async def remind_review(db: AsyncSession, alert_id: str, now: datetime) -> int:
    """When a review falls due and has not been recorded, tell the leads again."""
    alert = await db.get(CrisisAlert, alert_id, with_for_update=True)
    if alert is None or alert.reviewed_at is not None or alert.review_due_at is None:
        return 0
    group = await db.get(Group, alert.group_id)
    if group is None:
        return 0
    already = await db.scalar(
        select(ModerationEvent.id).where(
            ModerationEvent.group_id == alert.group_id,
            ModerationEvent.action == "alert.review_overdue",
            ModerationEvent.message_seq == alert.message_seq,
        )
    )
    if already is not None:
        return 0  # a second delivery: told once
    _log(db, alert, "", "alert.review_overdue", now)
    return await tell_leads(db, alert, group, now)
