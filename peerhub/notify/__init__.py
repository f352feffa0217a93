"""Telling people about duty: the notification layer (issue 14, hazard H25).

Declare a topic once, at import time, with generic words only (no member's words, no
name, no group)::

    ALERT = notify.topic(
        "duty.alert",
        lazy_gettext("PeerHub: a crisis alert needs a moderator"),
        lazy_gettext("A crisis alert needs a moderator on PeerHub."),
    )

and tell a person inside the action's transaction::

    await notify.tell(db, user_id, ALERT, url=f"/duty/alerts/{alert.id}",
                      ref=f"alert:{alert.id}", now=now, urgent=True)

:func:`tell` adds a :class:`Notice` row — the in-page channel: a banner on every page
until the person marks it seen — and records one outbox job (``notify.send``) per
other channel the person uses (e-mail, Web Push, SMS), so a failing channel is retried
by the outbox without sending the others again. The jobs' handler
(:mod:`peerhub.notify.channels`) writes in the person's language, sends, and records a
:class:`NoticeDelivery`. Nothing leaves PeerHub but the topic's words and a link: the
lock-screen rule (docs/notifications.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.support import LazyProxy
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from peerhub import outbox
from peerhub.errors import NotFound
from peerhub.models import User, new_id
from peerhub.notify.models import (
    CHANNELS,
    REF_LIMIT,
    URL_LIMIT,
    Notice,
    NoticeDelivery,
    NoticeSettings,
    PushSubscription,
)

#: What the interface calls a translatable string declared at import time.
LazyString = LazyProxy

#: At most this many unread notices are shown (and sent to the page) at once.
UNREAD_LIMIT = 20


@dataclass(frozen=True)
class Topic:
    """What a notice says, in generic words only: ``subject`` (an e-mail's subject, a
    push notification's title) and ``text`` (the banner, the push body, the SMS)."""

    name: str
    subject: LazyString
    text: LazyString


TOPICS: dict[str, Topic] = {}


def topic(name: str, subject: LazyString | str, text: LazyString | str) -> Topic:
    """Declare a topic (once per name, at import time, like ``outbox.kind``)."""
    if not 0 < len(name) <= 80 or name in TOPICS:
        raise ValueError(f"notify {name!r}: a topic needs a new name of at most 80 characters")
    if not isinstance(subject, LazyProxy) or not isinstance(text, LazyProxy):
        raise TypeError(f"notify {name}: subject and text must be lazy_gettext(...) strings")
    declared = Topic(name, subject, text)
    TOPICS[name] = declared
    return declared


@dataclass(frozen=True, slots=True)
class Send:
    """Send one notice by one channel (``email``, ``push`` or ``sms``)."""

    notice_id: str
    channel: str


SEND = outbox.kind("notify.send", Send)


def _checked_url(url: str) -> str:
    # A path on this site only: the link goes into e-mails, push notifications and SMS.
    if (
        not url.startswith("/")
        or url.startswith("//")
        or "\\" in url
        or len(url) > URL_LIMIT
        or any(c.isspace() or ord(c) < 32 for c in url)
    ):
        raise ValueError(f"notify: {url!r} is not a site-relative path")
    return url


async def channels_for(db: AsyncSession, user_id: str) -> list[str]:
    """The channels besides the page that ``user_id`` is told by now."""
    user = await db.get(User, user_id)
    if user is None or user.disabled_at is not None:
        return []
    chosen = await db.get(NoticeSettings, user_id)
    email_on = chosen.email if chosen else True
    push_on = chosen.push if chosen else True
    sms_on = bool(chosen and chosen.sms and chosen.phone)
    found: list[str] = []
    if email_on and user.email:
        found.append("email")
    if push_on:
        subscribed = await db.scalar(select(exists().where(PushSubscription.user_id == user_id)))
        if subscribed:
            found.append("push")
    if sms_on:
        found.append("sms")
    return found


async def tell(
    db: AsyncSession,
    user_id: str,
    topic: Topic,
    *,
    url: str,
    ref: str,
    now: datetime,
    urgent: bool = False,
) -> Notice:
    """Tell ``user_id`` about ``topic`` (a link to ``url``, about ``ref``), in ``db``'s
    transaction: the notice row, and an outbox job per other channel they use."""
    if TOPICS.get(topic.name) is not topic:
        raise TypeError(f"notify.tell: {topic!r} is not a declared topic")
    if not 0 < len(ref) <= REF_LIMIT:
        raise ValueError("notify.tell: a ref of 1 to 120 characters is needed")
    if now.tzinfo is None:
        raise ValueError("notify.tell: now must be an aware datetime")
    notice = Notice(
        id=new_id(),  # known now, for the jobs: no flush of the caller's session needed
        user_id=user_id,
        topic=topic.name,
        url=_checked_url(url),
        ref=ref,
        urgent=urgent,
        created_at=now,
    )
    db.add(notice)
    for channel in await channels_for(db, user_id):
        outbox.record(db, SEND, Send(notice_id=notice.id, channel=channel))
    return notice


async def unread(db: AsyncSession, user_id: str) -> list[Notice]:
    """``user_id``'s unread notices, newest first (at most :data:`UNREAD_LIMIT`): one
    query on ``ix_notices_unread``."""
    rows = await db.scalars(
        select(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .order_by(Notice.created_at.desc(), Notice.id)
        .limit(UNREAD_LIMIT)
    )
    return list(rows)


async def unread_with_sound(db: AsyncSession, user_id: str) -> tuple[list[Notice], bool]:
    """``user_id``'s unread notices (as :func:`unread`) and whether an open page plays a
    tone for a new urgent one (:attr:`NoticeSettings.sound`; no row: on), in one query:
    the person's row, joined to their settings and their unread notices."""
    unread_rows = (
        select(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .order_by(Notice.created_at.desc(), Notice.id)
        .limit(UNREAD_LIMIT)
        .subquery()
    )
    found = aliased(Notice, unread_rows)
    rows = (
        await db.execute(
            select(NoticeSettings.sound, found)
            .select_from(User)
            .outerjoin(NoticeSettings, NoticeSettings.user_id == User.id)
            .outerjoin(found, found.user_id == User.id)
            .where(User.id == user_id)
            .order_by(found.created_at.desc(), found.id)
        )
    ).all()
    sound = True
    notices: list[Notice] = []
    for on, notice in rows:
        sound = on is not False
        if notice is not None:
            notices.append(notice)
    return notices, sound


async def mark_read(db: AsyncSession, user_id: str, notice_id: str, now: datetime) -> None:
    """Mark one of ``user_id``'s notices seen (an action, in the caller's transaction).

    "No such notice" and "not yours" are the same :class:`~peerhub.errors.NotFound`;
    a notice seen already stays as it was."""
    notice = await db.get(Notice, notice_id) if len(notice_id) <= 36 else None
    if notice is None or notice.user_id != user_id:
        raise NotFound("notice")
    if notice.read_at is None:
        notice.read_at = now


async def mark_all_read(db: AsyncSession, user_id: str, now: datetime) -> None:
    """Mark every unread notice of ``user_id`` seen."""
    await db.execute(
        update(Notice)
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .values(read_at=now)
    )


@dataclass(frozen=True, slots=True)
class Told:
    """One line of the record: who was told (``user_id``), by which channel, when,
    and how it went. ``page`` lines are the notice itself: ``unread`` or ``seen`` (then
    ``at`` is when it was seen)."""

    notice_id: str
    user_id: str
    topic: str
    channel: str
    status: str
    at: datetime
    attempts: int = 0
    error: str | None = None


async def deliveries(db: AsyncSession, ref: str) -> list[Told]:
    """Everyone told about ``ref``, by every channel, oldest first."""
    notices = list(
        await db.scalars(
            select(Notice).where(Notice.ref == ref).order_by(Notice.created_at, Notice.id)
        )
    )
    if not notices:
        return []
    sent: dict[str, list[NoticeDelivery]] = {}
    for row in await db.scalars(
        select(NoticeDelivery)
        .where(NoticeDelivery.notice_id.in_([n.id for n in notices]))
        .order_by(NoticeDelivery.at, NoticeDelivery.id)
    ):
        sent.setdefault(row.notice_id, []).append(row)
    told: list[Told] = []
    for n in notices:
        told.append(
            Told(
                n.id,
                n.user_id,
                n.topic,
                "page",
                "seen" if n.read_at else "unread",
                n.read_at or n.created_at,
            )
        )
        for d in sorted(sent.get(n.id, []), key=lambda d: CHANNELS.index(d.channel)):
            told.append(
                Told(n.id, n.user_id, n.topic, d.channel, d.status, d.at, d.attempts, d.error)
            )
    return told


__all__ = [
    "SEND",
    "TOPICS",
    "LazyString",
    "Notice",
    "NoticeDelivery",
    "Send",
    "Told",
    "Topic",
    "deliveries",
    "mark_all_read",
    "mark_read",
    "tell",
    "topic",
    "unread",
]
