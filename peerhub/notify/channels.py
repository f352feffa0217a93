"""Sending a notice by e-mail, Web Push or SMS: the ``notify.send`` outbox jobs.

Each job sends one notice by one channel, in the recipient's language
(``users.language``), and records a :class:`~peerhub.notify.models.NoticeDelivery` in
its own transaction: ``sent``; ``failed`` with the exception's class (the job is
raised again, so the outbox retries it with backoff); or ``skipped`` with the reason
when the channel no longer applies (the person turned it off or removed the address,
number or subscription since, closed the account, or saw the notice on the page
first). A job runs at least once: a delivery already recorded ``sent`` or ``skipped``
for the (notice, channel) is not sent again.

What is sent is only the topic's generic words and a link (:func:`email_message`,
:func:`push_payload`, :func:`sms_text`): never a member's words, a name or a group's
name, since these show on lock screens and in inboxes (the lock-screen rule, H25).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import i18n, mail
from peerhub.i18n import _, lazy_gettext
from peerhub.models import User
from peerhub.notify import SEND, TOPICS, Send, Topic
from peerhub.notify import push as web_push
from peerhub.notify import sms as sms_
from peerhub.notify.models import Notice, NoticeDelivery, NoticeSettings, PushSubscription
from peerhub.security.tokens import keyed

if TYPE_CHECKING:
    from peerhub.context import AppContext
    from peerhub.outbox.dispatcher import Dispatcher

log = logging.getLogger("peerhub.notify")

#: The path of the page where a person chooses their channels.
SETTINGS_PATH = "/account/notifications"

#: A notice whose topic is no longer declared (a job recorded by an older version).
UNKNOWN = Topic(
    "",
    lazy_gettext("PeerHub: you have a new notice"),
    lazy_gettext("You have a new notice on PeerHub."),
)


def topic_of(name: str) -> Topic:
    return TOPICS.get(name) or UNKNOWN


# --- what is sent: the topic's words and a link, nothing else -------------------------


def email_message(
    topic: Topic, link: str, settings_link: str, language: str | None
) -> tuple[str, str]:
    """Subject and body of a notice's e-mail, in ``language`` (the recipient's)."""
    with i18n.using(mail.language_of(language)):
        subject = str(topic.subject)
        lines = [
            *mail.paragraph(str(topic.text)),
            "",
            *mail.paragraph(_("See it on PeerHub: %(url)s", url=link)),
            "",
            _("— PeerHub"),
            "",
            *mail.paragraph(
                _(
                    "You get this e-mail because you help on PeerHub and chose to be told "
                    "by e-mail. You can change how PeerHub tells you here: %(url)s",
                    url=settings_link,
                )
            ),
        ]
        return subject, "\n".join(lines)


def push_payload(topic: Topic, link: str, language: str | None) -> bytes:
    """The JSON a push notification carries: the topic's title and text, and the link."""
    with i18n.using(mail.language_of(language)):
        data = {"title": str(topic.subject), "body": str(topic.text), "url": link}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def sms_text(topic: Topic, link: str, language: str | None) -> str:
    """A notice's SMS: the topic's text and the link."""
    with i18n.using(mail.language_of(language)):
        return f"{topic.text} {link}"


# --- the job -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    notice: Notice
    user: User
    chosen: NoticeSettings | None
    subscriptions: list[PushSubscription]
    attempts: int


def _log_key(app: AppContext) -> str:
    # Logs name a recipient only by a keyed hash; the key is derived, never the secret.
    return keyed(app.settings.secret_key, "notify-log", "")


async def _load(db: AsyncSession, job: Send) -> _Job | None:
    """What sending needs, or None when it was sent (or skipped) already."""
    notice = await db.get(Notice, job.notice_id)
    if notice is None:
        return None  # erased with its person: nothing to send, nothing to record
    done = await _delivery(db, job)
    if done is not None and done.status in ("sent", "skipped"):
        return None
    user = await db.get(User, notice.user_id)
    if user is None:
        return None
    chosen = await db.get(NoticeSettings, user.id)
    subscriptions = list(
        await db.scalars(
            select(PushSubscription)
            .where(PushSubscription.user_id == user.id)
            .order_by(PushSubscription.created_at, PushSubscription.id)
        )
    )
    return _Job(notice, user, chosen, subscriptions, (done.attempts if done else 0) + 1)


async def _delivery(db: AsyncSession, job: Send) -> NoticeDelivery | None:
    found: NoticeDelivery | None = await db.scalar(
        select(NoticeDelivery).where(
            NoticeDelivery.notice_id == job.notice_id, NoticeDelivery.channel == job.channel
        )
    )
    return found


async def _record(
    app: AppContext, job: Send, status: str, attempts: int, error: str | None
) -> None:
    async with app.sessions() as db, db.begin():
        if await db.get(Notice, job.notice_id) is None:
            return  # erased meanwhile
        row = await _delivery(db, job)
        if row is None:
            row = NoticeDelivery(notice_id=job.notice_id, channel=job.channel)
            db.add(row)
        row.status = status
        row.attempts = attempts
        row.at = app.clock()
        row.error = error[:80] if error else None


def _why_not(job: Send, found: _Job) -> str | None:
    """Why the channel no longer applies, or None."""
    user, chosen = found.user, found.chosen
    if user.disabled_at is not None:
        return "AccountClosed"
    if found.notice.read_at is not None:
        return "SeenOnPage"
    if job.channel == "email":
        if chosen is not None and not chosen.email:
            return "TurnedOff"
        return None if user.email else "NoAddress"
    if job.channel == "push":
        if chosen is not None and not chosen.push:
            return "TurnedOff"
        return None if found.subscriptions else "NoSubscription"
    if job.channel == "sms":
        if chosen is None or not chosen.phone:
            return "NoNumber"
        return None if chosen.sms else "TurnedOff"
    return "UnknownChannel"


async def send(app: AppContext, state: Any, job: Send) -> None:
    """Send ``job``'s notice by its channel once, and record how it went."""
    async with app.sessions() as db:
        found = await _load(db, job)
    if found is None:
        return
    reason = _why_not(job, found)
    if reason is not None:
        await _record(app, job, "skipped", found.attempts - 1, reason)
        return
    notice, user = found.notice, found.user
    topic = topic_of(notice.topic)
    base = app.settings.base_url.rstrip("/")
    link = base + notice.url
    try:
        if job.channel == "email":
            subject, body = email_message(topic, link, base + SETTINGS_PATH, user.language)
            sender = mail.sender_of(state, _log_key(app))
            await sender.send(user.email or "", subject, body)
        elif job.channel == "sms":
            phone = found.chosen.phone if found.chosen else None
            if not phone:  # _why_not said it is there
                raise LookupError("no number")
            token = sms_.sending_topic.set(notice.topic)
            try:
                provider = sms_.sms_of(state, _log_key(app))
                await provider.send(phone, sms_text(topic, link, user.language))
            finally:
                sms_.sending_topic.reset(token)
        else:
            payload = push_payload(topic, link, user.language)
            if not await web_push.send_all(
                app, state, found.subscriptions, payload, urgent=notice.urgent
            ):
                await _record(app, job, "skipped", found.attempts, "NoSubscription")
                return
    except Exception as exc:
        log.warning(
            "notice %s by %s failed (attempt %d): %s",
            notice.id,
            job.channel,
            found.attempts,
            type(exc).__name__,
        )
        await _record(app, job, "failed", found.attempts, type(exc).__name__)
        raise
    await _record(app, job, "sent", found.attempts, None)


def register(dispatcher: Dispatcher, app: AppContext, state: Any) -> None:
    """Run ``notify.send`` jobs (the application does, at start-up)."""
    # A wrong VAPID or SMS setting stops the start, rather than failing every job.
    web_push.vapid_of(app, state)
    sms_.sms_of(state, _log_key(app))

    async def deliver(job: Send) -> None:
        await send(app, state, job)

    dispatcher.register(SEND, deliver, max_attempts=8, in_request=False)
