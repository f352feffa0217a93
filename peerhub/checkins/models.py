"""Storage for private check-ins (peerhub/checkins/): a moderator's two-person
conversation with a member, opened from a crisis alert or a report.

The conversation itself is a room like any other: its room is the room of a hidden
group (``groups.kind = 'check_in'``) with two members, the moderator who asked and
the member once they accept. ``check_ins`` says who asked whom, from what, and how it
stands; ``check_in_settings`` holds an organisation's quiet period (no row: the
default).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow

#: A check-in closes by itself after this many minutes without a message.
DEFAULT_QUIET_MINUTES = 60
MAX_QUIET_MINUTES = 7 * 24 * 60

STATUSES = ("asked", "open", "declined", "closed")
SOURCES = ("alert", "report")
#: Why a check-in closed: the member left, the moderator closed it, it was quiet.
CLOSED_REASONS = ("left", "closed", "quiet", "declined")


class CheckIn(Base):
    __tablename__ = "check_ins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The hidden group whose room holds the conversation.
    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), unique=True
    )
    organisation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # The group the alert or report came from (its moderators' view of the crisis plan).
    source_group_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(12))  # alert | report
    source_id: Mapped[str] = mapped_column(String(36))
    asked_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    member_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(12), default="asked")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_reason: Mapped[str | None] = mapped_column(String(12), default=None)
    closed_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the live quiet-close job falls due: a job due at another time is stale.
    quiet_check_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        CheckConstraint("status in ('asked', 'open', 'declined', 'closed')", name="status"),
        CheckConstraint("source in ('alert', 'report')", name="source"),
        CheckConstraint(
            "closed_reason is null or closed_reason in ('left', 'closed', 'quiet', 'declined')",
            name="closed_reason",
        ),
    )


class CheckInSettings(Base):
    """An organisation's quiet period for its private check-ins."""

    __tablename__ = "check_in_settings"

    organisation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_QUIET_MINUTES)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            f"quiet_minutes >= 5 AND quiet_minutes <= {MAX_QUIET_MINUTES}", name="quiet"
        ),
    )
