"""Duty notices and how each reached its person (issue 14, hazard H25).

A :class:`Notice` is one thing a person was told (a crisis alert needs a moderator, a
rota has a gap): its topic (generic words, declared in code), a site-relative link
and a reference to what it is about. The row *is* the in-page channel: an unread
notice is shown on every page until the person marks it seen. Each other channel
(e-mail, Web Push, SMS) is an outbox job whose result is a :class:`NoticeDelivery`:
which channel, whether it was sent, how many tries, and the failure's exception class
only — never the text and never the address or number.

What a person chose (:class:`NoticeSettings`) and this browser's Web Push
subscriptions (:class:`PushSubscription`) are theirs: exported with their data and
deleted with their account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow

TOPIC_LIMIT = 80
URL_LIMIT = 300
REF_LIMIT = 120
PHONE_LIMIT = 16  # E.164: "+" and at most 15 digits
ENDPOINT_LIMIT = 1000

#: The channels besides the page (the notice row itself).
CHANNELS = ("email", "push", "sms")
STATUSES = ("sent", "failed", "skipped")


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        # The banner's one query per signed-in page: a person's unread notices.
        Index("ix_notices_unread", "user_id", "read_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(TOPIC_LIMIT))
    url: Mapped[str] = mapped_column(String(URL_LIMIT))
    # What it is about ("alert:<id>", "rota:<group>:<start>"): the escalation record's key.
    ref: Mapped[str] = mapped_column(String(REF_LIMIT), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class NoticeDelivery(Base):
    """A notice's delivery by one channel: at most one row per (notice, channel)."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "channel"),
        CheckConstraint("channel in ('email', 'push', 'sms')", name="channel"),
        CheckConstraint("status in ('sent', 'failed', 'skipped')", name="status"),
    )

    # BIGINT on PostgreSQL; SQLite needs exactly INTEGER for a rowid key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last failure's exception class (or why it was skipped), never its message.
    error: Mapped[str | None] = mapped_column(String(80), default=None)


class NoticeSettings(Base):
    """Which channels a person wants duty notices by (no row: the defaults). The page
    is always on; e-mail needs an address on the account, push a subscription, SMS a
    phone number, which is stored only for this. ``sound``: whether an open page plays
    a short tone for a new urgent notice (kept here, not in the browser)."""

    __tablename__ = "notice_settings"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    push: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sms: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    phone: Mapped[str | None] = mapped_column(String(PHONE_LIMIT), default=None)
    sound: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A browser's Web Push subscription (RFC 8030): where to send, and its keys."""

    __tablename__ = "push_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(ENDPOINT_LIMIT), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
