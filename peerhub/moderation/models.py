"""Storage for the moderation toolkit.

- :class:`RoomModeration`: a room's moderation settings (slow mode, lock, pinned
  announcement, the hold-for-review list).
- :class:`Sanction`: a time-out (with its stored expiry, so it survives a restart)
  or a ban from the group.
- :class:`Report`: a member's report of a message or a person, until resolved.
- :class:`CrisisAlert`: a message that may show its writer is in crisis, kept until
  a moderator has seen to it (so it is never lost when no moderator is online).
- :class:`ModerationEvent`: the append-only log of every moderation action, with
  who, what, when and why. The application only ever inserts into it.
- :class:`PersonalMute`: a word or a person one member has muted for themselves.
- :class:`NewcomerReview` and :class:`NewcomerProgress`: a group's choice to hold a new
  member's first messages for review, and how far each member has come.

Blocks are :class:`peerhub.models.Block` (matching reads them too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.i18n import lazy_gettext
from peerhub.models import Base, new_id, utcnow

REASON_LIMIT = 500
WORDS_LIMIT = 1000
PHRASE_LIMIT = 80
MAX_PHRASES = 200
MAX_MUTES = 200

# The kinds of report: the key is stored; the words are shown in the reader's language.
REPORT_CATEGORIES = {
    "unkind": lazy_gettext("Unkind, bullying or harassing"),
    "unsafe": lazy_gettext("Worried about someone’s safety"),
    "discrimination": lazy_gettext("Hate or discrimination"),
    "privacy": lazy_gettext("Shares someone’s private information"),
    "spam": lazy_gettext("Advertising, spam or selling"),
    "other": lazy_gettext("Something else"),
}

SANCTION_KINDS = ("timeout", "ban")


class RoomModeration(Base):
    """A room's moderation settings. Made on first change; absent means defaults."""

    __tablename__ = "room_moderation"

    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    # Seconds a member must wait between messages (0 = off). Moderators are exempt.
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Read-only for members; moderators may still write.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned_text: Mapped[str | None] = mapped_column(Text, default=None)
    pinned_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    pinned_at: Mapped[datetime | None] = mapped_column(default=None)
    # Words and phrases that hold a message for a moderator to approve first.
    hold_phrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("slow_mode_seconds >= 0 AND slow_mode_seconds <= 3600", name="slow"),
    )


class Sanction(Base):
    """A time-out (``until`` set) or a ban from the group (``until`` empty)."""

    __tablename__ = "sanctions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    until: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(String(REASON_LIMIT), default="")
    created_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)
    lifted_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        CheckConstraint("kind in ('timeout', 'ban')", name="kind"),
        CheckConstraint("kind = 'ban' OR until IS NOT NULL", name="timeout_until"),
        Index("ix_sanctions_group_user", "group_id", "user_id"),
    )


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    reporter_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The person reported (the message's writer when a message is reported).
    subject_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    message_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    category: Mapped[str] = mapped_column(String(20))
    words: Mapped[str] = mapped_column(String(WORDS_LIMIT), default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    outcome: Mapped[str | None] = mapped_column(String(12), default=None)
    note: Mapped[str] = mapped_column(String(REASON_LIMIT), default="")
    resolved_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the reporter was told it was handled (live, or on their next visit).
    reporter_told_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How far up the ladder an unhandled report has gone (as CrisisAlert.level).
    level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        CheckConstraint("status in ('open', 'resolved')", name="status"),
        CheckConstraint("outcome is null or outcome in ('action', 'no_action')", name="outcome"),
        CheckConstraint("subject_id is not null or message_seq is not null", name="target"),
        Index("ix_reports_group_status", "group_id", "status"),
    )


class CrisisAlert(Base):
    __tablename__ = "crisis_alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    message_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Closed: who closed it and when, with what was done (peerhub/duty/).
    handled_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    handled_at: Mapped[datetime | None] = mapped_column(default=None)
    # Opened: the first person on duty who said "I'm on it" (this stops the ladder).
    opened_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    # How far up the ladder it has gone: 0 the room's moderators, 1 the group's
    # organisers, 2 the organisation's safeguarding leads (peerhub/duty/escalation.py).
    level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None] = mapped_column(default=None)
    # What was done (ALERT_OUTCOMES' keys) and the words the person closing it chose.
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    outcome_note: Mapped[str] = mapped_column(String(REASON_LIMIT), default="", server_default="")
    # A serious incident (emergency services called): the safeguarding lead's review.
    review_due_at: Mapped[datetime | None] = mapped_column(default=None)
    reviewed_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str] = mapped_column(String(WORDS_LIMIT), default="", server_default="")

    __table_args__ = (
        Index("ix_crisis_alerts_group_open", "group_id", "handled_at"),
        CheckConstraint("level >= 0 AND level <= 3", name="level"),
        CheckConstraint(
            "outcome is null or outcome in "
            "('check_in', 'signposted', 'emergency', 'supported', 'no_action')",
            name="outcome",
        ),
    )


# What a person closing a crisis alert did: the key is stored.
ALERT_OUTCOMES = {
    "check_in": lazy_gettext("A private check-in with the person"),
    "signposted": lazy_gettext("Signposted them to crisis contacts"),
    "emergency": lazy_gettext("Called emergency services"),
    "supported": lazy_gettext("The person was already being supported"),
    "no_action": lazy_gettext("No action was needed"),
}


class ModerationEvent(Base):
    """One moderation action. Append-only: nothing in PeerHub updates or deletes these."""

    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Plain ids, not foreign keys: the log keeps its rows whatever happens to accounts.
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)
    action: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(36), default=None)
    message_seq: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(String(REASON_LIMIT), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_moderation_events_group_at", "group_id", "at"),)


class PersonalMute(Base):
    """A word (or phrase) or a person someone has muted for themselves, everywhere."""

    __tablename__ = "personal_mutes"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(PHRASE_LIMIT), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("kind in ('word', 'person')", name="kind"),)


# --- new members' first messages -------------------------------------------------------

# auto: on when the group welcomes people approaching crisis (its stage tags say so);
# on / off: the organisers' choice, whatever the stages.
NEWCOMER_MODES = ("auto", "on", "off")
DEFAULT_NEWCOMER_MESSAGES = 3
MAX_NEWCOMER_MESSAGES = 20


class NewcomerReview(Base):
    """A group's choice about holding a new member's first messages for review.

    No row means the defaults: ``auto``, three messages. Organisers set it on the
    group's form (peerhub/moderation/newcomers.py).
    """

    __tablename__ = "newcomer_review"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(8), default="auto")
    messages: Mapped[int] = mapped_column(Integer, default=DEFAULT_NEWCOMER_MESSAGES)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("mode in ('auto', 'on', 'off')", name="mode"),
        CheckConstraint(f"messages >= 1 AND messages <= {MAX_NEWCOMER_MESSAGES}", name="messages"),
    )


class NewcomerProgress(Base):
    """How many of a member's held messages in a group a moderator has approved, counted
    up to :data:`MAX_NEWCOMER_MESSAGES`. Written in the approval's transaction, so every
    process and every restart agree; messages posted without a hold are counted from the
    room's log instead (peerhub/moderation/newcomers.py says why both)."""

    __tablename__ = "newcomer_progress"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    approved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"approved >= 0 AND approved <= {MAX_NEWCOMER_MESSAGES}", name="approved"),
    )


async def active_ban(db: AsyncSession, group_id: str, user_id: str) -> Sanction | None:
    """The person's ban from the group, if one is in force. Here, beside the table,
    because joining (groups/actions.py) and the rooms (moderation/extension.py) both
    ask."""
    found: Sanction | None = await db.scalar(
        select(Sanction).where(
            Sanction.group_id == group_id,
            Sanction.user_id == user_id,
            Sanction.kind == "ban",
            Sanction.lifted_at.is_(None),
        )
    )
    return found
