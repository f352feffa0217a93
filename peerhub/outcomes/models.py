"""Storage for match outcomes.

``match_outcomes`` is the anonymous record: the kind of reasons a group was shown
for (:class:`peerhub.matching.MatchKind`), the week it was shown, and what happened.
It holds no person and no group, so it is kept (for :data:`OUTCOME_RETENTION`) after
the person is gone.

``outcome_links`` ties an outcome to the person and the group only while it is being
followed: at most eight weeks for them to join, then eight weeks after joining. The
link is deleted when the outcome is settled, when the person erases their account
(``ON DELETE CASCADE``) and when the group goes; it is in the person's data export.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow


class MatchOutcome(Base):
    """One result shown to a signed-in person, by kind; no person, no group."""

    __tablename__ = "match_outcomes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The Monday of the week it was shown (UTC): no finer time is kept.
    shown_week: Mapped[date] = mapped_column(Date, index=True)
    fit: Mapped[str] = mapped_column(String(12))
    language: Mapped[str] = mapped_column(String(12))
    community: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(12))
    relaxed: Mapped[str] = mapped_column(String(12))
    rank: Mapped[str] = mapped_column(String(12))
    format: Mapped[str] = mapped_column(String(12))
    # Whether attendance can be seen at all: only in the group's room, so not for a
    # group that meets in person only.
    attendance_seen: Mapped[bool] = mapped_column(Boolean)
    joined: Mapped[bool] = mapped_column(Boolean, default=False)
    came: Mapped[bool] = mapped_column(Boolean, default=False)
    still_coming: Mapped[bool] = mapped_column(Boolean, default=False)
    # Settled: followed to the end (or the link was lost); only settled outcomes are
    # published, so every count in the report is final.
    settled: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    __table_args__ = (
        CheckConstraint("not still_coming or came", name="still_coming_came"),
        CheckConstraint("not came or joined", name="came_joined"),
    )


class OutcomeLink(Base):
    """Who and which group an unsettled outcome is about, while it is followed."""

    __tablename__ = "outcome_links"

    outcome_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("match_outcomes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), index=True
    )
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)
    first_came_at: Mapped[datetime | None] = mapped_column(default=None)
    last_came_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("user_id", "group_id", name="uq_outcome_links_person"),)
