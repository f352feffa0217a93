"""Erasing an account: the person, and every trace of their pseudonym, goes.

:func:`erase_account` checks, writes and leaves the commit to the caller, like the
other actions. After the commit the caller closes the person's live sockets
(``realtime.disconnect_user``), tells the rooms whose log changed
(:func:`tell_rooms`) and drops the cached matching index.

What happens to each kind of data, and why, is in docs/privacy.md ("Erasure").
In short: rows that are only the person's go with the account (ON DELETE CASCADE);
rows that are also other people's (a report they made, a referral a professional
made, a message in a conversation) stay without the link to them; free text they
wrote is kept only in messages, and only if they chose so.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.errors import NotFound
from peerhub.models import (
    AuditEvent,
    LoginThrottle,
    Organisation,
    OrganisationOrganiser,
    Referral,
    ReferralEvent,
    User,
)
from peerhub.moderation.models import CrisisAlert, PersonalMute, Report
from peerhub.realtime.models import RoomMessage
from peerhub.security import signins, throttle

log = logging.getLogger("peerhub.privacy")

REDACTION_REASON = "Deleted by its writer"
# Stored in place of a referred person's name once their account is gone, and as the
# reason of the referral's last step. English, as data: the referral pages show them in
# the reader's language (peerhub/referrals/routes.py, person_label and event_text).
ERASED_NAME = "Deleted account"
ERASED_REFERRAL_REASON = "The person deleted their PeerHub account."
OPEN_REFERRAL_STATES = ("sent", "redirected", "accepted", "joined")


# Columns holding a person's id without a foreign key (so the database does nothing
# when the account goes), and what erasure does about each.
PLAIN_ID_COLUMNS: dict[str, str] = {
    "audit_events.actor_id": "kept: the security trail; the id no longer leads to anyone",
    "audit_events.subject_id": "kept, like actor_id; addresses on the person's rows are cleared",
    "moderation_events.actor_id": "kept: the append-only moderation log (names show 'Someone')",
    "moderation_events.subject_id": "kept, like actor_id",
    "referral_events.actor_id": "set to NULL where it is the person",
    "consents.subject_id": "not a person (a referral or a group); the consents go with the account",
    "personal_mutes.value": "other people's mutes of the person are deleted",
    "login_throttle.key": "the person's counters (by pseudonym, with an address, by id) go",
}


def erased_tables() -> set[str]:
    """Every table an erasure can delete from or overwrite: where dead copies of the
    person's data can linger until PostgreSQL vacuums them (docs/privacy.md).

    ``peerhub retention`` vacuums these after any erasure since its last run: the
    erasure itself runs in a web request's transaction, where VACUUM cannot."""
    from peerhub.privacy.export import person_columns

    return {c.table.name for c in person_columns()} | {"users", "login_throttle"}


class MessageChoice(enum.StrEnum):
    REMOVE = "remove"  # bodies emptied, status redacted: the log keeps its seqs
    KEEP = "keep"  # bodies stay; the sender becomes nobody (sender_id NULL)


def erase_throttle_key(user_id: str) -> str:
    """Wrong passwords on the erase page count here (the login counter is separate)."""
    return f"erase:{user_id}"


@dataclass(slots=True)
class Erased:
    user_id: str
    choice: MessageChoice
    # Rooms whose log changed: their live feeds must drop cached frames.
    rooms: set[str] = field(default_factory=set)
    messages: int = 0
    events_scrubbed: int = 0
    sign_ins_ended: int = 0


async def sole_organiser_of(db: AsyncSession, user_id: str) -> list[Organisation]:
    """Organisations that would be left with no organiser if this person went."""
    mine = select(OrganisationOrganiser.organisation_id).where(
        OrganisationOrganiser.user_id == user_id
    )
    counts = (
        select(OrganisationOrganiser.organisation_id)
        .where(OrganisationOrganiser.organisation_id.in_(mine))
        .group_by(OrganisationOrganiser.organisation_id)
        .having(func.count() == 1)
    )
    return list(
        await db.scalars(
            select(Organisation).where(Organisation.id.in_(counts)).order_by(Organisation.name)
        )
    )


async def erase_account(
    db: AsyncSession, user_id: str, now: datetime, *, choice: MessageChoice
) -> Erased:
    """Delete the account and everything that names it. The caller commits."""
    user = await db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(user_id)
    done = Erased(user_id, choice)
    await _messages(db, user_id, now, done)
    await _system_events(db, user_id, done)
    await _moderation(db, user_id)
    await _referrals(db, user_id, now)
    # Other people's personal mutes of this person hold their id as a value, not a key.
    await db.execute(
        delete(PersonalMute).where(PersonalMute.kind == "person", PersonalMute.value == user_id)
    )
    # The audit trail keeps what happened (security needs it) but forgets where from:
    # with the account gone an address is the one thing left that could point to them.
    await db.execute(
        update(AuditEvent)
        .where(
            or_(
                AuditEvent.actor_id == user_id,
                and_(AuditEvent.subject_id == user_id, AuditEvent.actor_id.is_(None)),
            )
        )
        .values(client_ip=None)
    )
    # Throttle counters are keyed by the case-folded pseudonym (alone, and with an
    # address digest: sign-in's and recovery's) and by the id (two-step codes, known
    # devices, this page).
    await throttle.forget_person(db, user.pseudonym_key, user_id)
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == erase_throttle_key(user_id)))
    done.sign_ins_ended = await signins.end_all_sign_ins(
        db, user_id, reason="This account has been deleted."
    )
    # Everything else that is only theirs goes with the row (ON DELETE CASCADE), and
    # every link to them from rows that stay becomes NULL (ON DELETE SET NULL).
    await db.execute(delete(User).where(User.id == user_id))
    db.expunge(user)
    audit.record(
        db,
        now,
        "account.erased",
        actor_id=user_id,
        subject_id=user_id,
        messages=choice.value,
        messages_changed=done.messages,
        sessions_ended=done.sign_ins_ended,
    )
    return done


async def _messages(db: AsyncSession, user_id: str, now: datetime, done: Erased) -> None:
    done.rooms.update(
        await db.scalars(
            select(RoomMessage.room_id).where(RoomMessage.sender_id == user_id).distinct()
        )
    )
    if done.choice is MessageChoice.KEEP:
        done.messages = int(
            await db.scalar(
                select(func.count())
                .select_from(RoomMessage)
                .where(RoomMessage.sender_id == user_id, RoomMessage.kind == "text")
            )
            or 0
        )
        return  # sender_id becomes NULL when the account row goes
    # The rows stay, emptied, so each room's log keeps every seq: resume and the
    # clients' gap detection rely on a log without holes (docs/realtime.md).
    shown = await db.execute(
        update(RoomMessage)
        .where(
            RoomMessage.sender_id == user_id,
            RoomMessage.kind == "text",
            RoomMessage.status == "visible",
        )
        .values(status="redacted", body="", redacted_at=now, redaction_reason=REDACTION_REASON)
    )
    # Held or rejected ones were only ever seen by their writer and the moderators:
    # they stay invisible to members (rejected), with no text.
    unseen = await db.execute(
        update(RoomMessage)
        .where(
            RoomMessage.sender_id == user_id,
            RoomMessage.kind == "text",
            RoomMessage.status.in_(("held", "rejected")),
        )
        .values(status="rejected", body="", redacted_at=now, redaction_reason=REDACTION_REASON)
    )
    done.messages = int(getattr(shown, "rowcount", 0) or 0) + int(
        getattr(unseen, "rowcount", 0) or 0
    )


async def _system_events(db: AsyncSession, user_id: str, done: Erased) -> None:
    """Room events that name the person (time-outs, approvals carrying a copy of their
    message, "by" fields) lose the name; a copied message loses its text too when the
    person chose to remove their messages."""
    rows = (
        await db.execute(
            select(RoomMessage).where(
                RoomMessage.kind == "system",
                RoomMessage.data.is_not(None),
                # Ids are random UUIDs: a text match finds exactly the events naming them.
                cast(RoomMessage.data, Text).like(f"%{user_id}%"),
            )
        )
    ).scalars()
    for message in rows:
        scrubbed = _scrub(message.data, user_id, done.choice)
        if scrubbed != message.data:
            message.data = scrubbed
            done.rooms.add(message.room_id)
            done.events_scrubbed += 1


def _names_person(value: Any, user_id: str) -> bool:
    return isinstance(value, dict) and value.get("id") == user_id


def _scrub(value: Any, user_id: str, choice: MessageChoice) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        writer = _names_person(value.get("sender"), user_id)
        for key, item in value.items():
            if item == user_id:
                continue  # "by": id, "user": id ...
            out[key] = None if _names_person(item, user_id) else _scrub(item, user_id, choice)
        if writer and choice is MessageChoice.REMOVE and "body" in out:
            out["body"] = None
            out["status"] = "redacted"
            out["reason"] = REDACTION_REASON
        return out
    if isinstance(value, list):
        return [None if _names_person(v, user_id) else _scrub(v, user_id, choice) for v in value]
    return value


async def _moderation(db: AsyncSession, user_id: str) -> None:
    # A report about the person themselves (not a message) has nothing left to point
    # at once they are gone: the row could not exist without its subject.
    await db.execute(
        delete(Report).where(Report.subject_id == user_id, Report.message_seq.is_(None))
    )
    # Crisis alerts are about the person's state of mind; with nobody left to
    # support, they go (open or handled).
    await db.execute(delete(CrisisAlert).where(CrisisAlert.user_id == user_id))


async def _referrals(db: AsyncSession, user_id: str, now: datetime) -> None:
    """The professional's record stays (that they referred someone to a group, when,
    and how it went as far as they were allowed to see); who it was does not."""
    referrals = list(
        await db.scalars(
            select(Referral).where(Referral.person_user_id == user_id).with_for_update()
        )
    )
    # Events the person made themselves (taking a referral up, withdrawing) lose the
    # link; the reasons written about them ("declined because...") go.
    await db.execute(
        update(ReferralEvent).where(ReferralEvent.actor_id == user_id).values(actor_id=None)
    )
    if referrals:
        await db.execute(
            update(ReferralEvent)
            .where(ReferralEvent.referral_id.in_([r.id for r in referrals]))
            .values(reason=None)
        )
    for referral in referrals:
        if referral.state in OPEN_REFERRAL_STATES:
            referral.state = "withdrawn"
            db.add(
                ReferralEvent(
                    referral_id=referral.id,
                    at=now,
                    state="withdrawn",
                    actor_id=None,
                    group_id=referral.group_id,
                    reason=ERASED_REFERRAL_REASON,
                )
            )
        referral.person_user_id = None
        referral.person_name = ERASED_NAME
        referral.contact_method = "code"
        referral.contact_value = None
        referral.note = ""
        referral.outcome = None
        referral.share_progress = False
        referral.updated_at = now
