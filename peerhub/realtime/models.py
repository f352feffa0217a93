"""Storage for the real-time rooms: one room per group, its ordered message log,
read positions and ground-rules acceptances.

The log is the truth; the fan-out only carries copies. Each message takes its
``seq`` from the room's ``next_seq`` counter in the transaction that inserts it,
so ``seq`` order is commit order and a rolled-back send leaves no hole
(see :mod:`peerhub.realtime.writer`; the reads are in :mod:`peerhub.realtime.queries`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

BODY_LIMIT = 4000
REASON_LIMIT = 500

# visible: everyone sees it. held: waiting for a moderator (the writer and the
# room's moderators see it). rejected: a moderator refused a held message.
# redacted: its text is gone for everyone; a notice remains.
MESSAGE_STATUSES = ("visible", "held", "rejected", "redacted")
# text: something a person wrote. system: an event in the room's stream (a
# room opened or closed, a moderation action), described by ``data``.
MESSAGE_KINDS = ("text", "system")


class Room(Base):
    """A group's room. Its id is the group's id; the row is made on first use."""

    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    # The seq the next message will take. Writers lock this row, so it also
    # serialises the writers of one room (and only of one room).
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    # A moderator opened the room for a sitting (the ``session.open`` frame).
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime | None] = mapped_column(default=None)
    opened_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Members may write only while the room is open and a moderator is present.
    moderator_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("next_seq >= 1", name="next_seq"),)


class RoomMessage(Base):
    __tablename__ = "room_messages"

    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(12), default="text")
    # Kept when the account goes (SET NULL): the conversation stays readable.
    sender_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Chosen by the client; a retry with the same one returns the first ack.
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    status: Mapped[str] = mapped_column(String(12), default="visible")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    redacted_at: Mapped[datetime | None] = mapped_column(default=None)
    redaction_reason: Mapped[str | None] = mapped_column(String(REASON_LIMIT), default=None)

    __table_args__ = (
        UniqueConstraint("room_id", "sender_id", "client_id", name="uq_room_messages_client"),
        CheckConstraint("status in ('visible', 'held', 'rejected', 'redacted')", name="status"),
        CheckConstraint("kind in ('text', 'system')", name="kind"),
        CheckConstraint(f"length(body) <= {BODY_LIMIT}", name="body_length"),
        CheckConstraint("seq >= 1", name="seq"),
    )


class RoomReadPosition(Base):
    """The last seq a person has read in a room (never goes backwards)."""

    __tablename__ = "room_read_positions"

    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoomRulesAcceptance(Base):
    """A person accepted a version of the group's ground rules (kept for each version).

    The version is a digest of the rules' text, so editing the rules asks
    everyone to accept them again, with no counter to keep in step.
    """

    __tablename__ = "room_rules_acceptances"

    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deployment(Base):
    """This installation's random id: one row, made by migration 0015 (or, if it is
    missing, by the first process to start). With the database's own identity it names
    the deployment's channels on a shared Redis (:mod:`peerhub.realtime.deployment`)."""

    __tablename__ = "deployment"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
