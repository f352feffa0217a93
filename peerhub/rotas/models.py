"""The rota tables: who covers each session of a group, each group's rota settings,
the gaps already told, and each moderator's secret calendar feed.

A session is named as an EXDATE names it: the group and the wall-clock start its
RRULE produced ("YYYY-MM-DDTHH:MM:SS" in the group's zone, ``session_key``). Its UTC
start (``starts_at``) is kept beside it for queries by time; when a group's timetable
changes, entries for starts that are no longer sessions are simply never shown
(peerhub/rotas/queries.py reads the timetable first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

#: Hours ahead that a session with nobody rostered is a gap, unless a group sets its own.
DEFAULT_GAP_HOURS = 48
MIN_GAP_HOURS = 1
MAX_GAP_HOURS = 336  # two weeks

OFFERED = "offered"
ROSTERED = "rostered"


class RotaEntry(Base):
    """One moderator on one session: offered (waiting for an organiser) or rostered."""

    __tablename__ = "rota_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    session_key: Mapped[str] = mapped_column(String(19))
    starts_at: Mapped[datetime]
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=OFFERED)
    # Who made the entry what it is: the moderator (an offer), or the organiser who
    # confirmed, assigned or swapped it (NULL once their account is gone).
    assigned_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("group_id", "session_key", "user_id", name="uq_rota_entries_session"),
        CheckConstraint("status in ('offered', 'rostered')", name="status"),
        Index("ix_rota_entries_starts_at", "starts_at", "group_id"),
    )


class RotaSettings(Base):
    """A group's rota settings; a group without a row has the defaults."""

    __tablename__ = "rota_settings"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    # A session this many hours ahead with nobody rostered is a gap (shown and told).
    gap_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_GAP_HOURS)
    # A moderator's offer is rostered at once (True), or waits for an organiser (False).
    offers_stand: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"gap_hours between {MIN_GAP_HOURS} and {MAX_GAP_HOURS}", name="gap_hours"),
    )


class RotaGap(Base):
    """A gap that was told: one row per session, so it is told once (whichever process
    finds it first inserts the row; the other's insert fails). Deleted when someone is
    rostered for the session, so a later gap in it is told again."""

    __tablename__ = "rota_gaps"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    session_key: Mapped[str] = mapped_column(String(19), primary_key=True)
    starts_at: Mapped[datetime]
    told_at: Mapped[datetime] = mapped_column(default=utcnow)


class RotaFeed(Base):
    """A moderator's secret calendar feed of their own rota. Only a SHA-256 of the
    token in the URL is kept; making a new one replaces it, and deleting the row
    revokes it."""

    __tablename__ = "rota_feeds"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
