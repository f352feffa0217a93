"""The tables of care for the moderators (docs/moderation.md, "Care for moderators").

- :class:`CheckIn`: after a moderator sees to a crisis alert, PeerHub asks them,
  privately, how they are. Their answer (``feeling``, ``words``) is theirs alone: no
  organiser's page reads those columns (peerhub/care/queries.py selects the others by
  name). A debrief they ask for is what their organisers see, never the answer.
- :class:`TrainingRecord`: a course a moderator completed, entered by an organiser of
  an organisation; it counts for that organisation's groups.
- :class:`RequiredTraining`: the courses an organisation requires before someone
  moderates its groups that welcome people approaching crisis.
- :class:`Unavailability`: a moderator away now, or between two moments; rotas and
  escalations skip them (:func:`peerhub.care.queries.unavailable`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow

FEELINGS = ("okay", "shaken", "struggling")
DEBRIEF_STATES = ("requested", "arranged", "done")


class CheckIn(Base):
    __tablename__ = "care_check_ins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The moderator asked (only they see the answer).
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The alert they saw to. It goes when the person it was about erases their account
    # or when message retention deletes it; the check-in is the moderator's and stays.
    alert_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("crisis_alerts.id", ondelete="SET NULL"), default=None
    )
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The moderator's own answer: okay | shaken | struggling, and words. Private.
    feeling: Mapped[str | None] = mapped_column(String(12), default=None)
    words: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Answered or put aside ("not now"): no longer waiting on their page.
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # A debrief asked of their organisers: requested | arranged | done.
    debrief: Mapped[str | None] = mapped_column(String(12), default=None)
    debrief_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    debrief_updated_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("user_id", "alert_id", name="uq_care_check_ins_user_alert"),
        CheckConstraint(
            "feeling is null or feeling in ('okay', 'shaken', 'struggling')", name="feeling"
        ),
        CheckConstraint(
            "debrief is null or debrief in ('requested', 'arranged', 'done')", name="debrief"
        ),
        Index("ix_care_check_ins_debrief", "group_id", "debrief"),
    )


class TrainingRecord(Base):
    __tablename__ = "moderator_training"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(120))
    completed_on: Mapped[date] = mapped_column(Date)
    # None: it does not run out.
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "valid_until is null or valid_until >= completed_on", name="valid_after_completed"
        ),
    )


class RequiredTraining(Base):
    __tablename__ = "required_training"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    course: Mapped[str] = mapped_column(String(120), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Unavailability(Base):
    """One row per moderator who is, or will be, away. No row: available."""

    __tablename__ = "moderator_unavailability"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime]
    # None: until they say they are back.
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
