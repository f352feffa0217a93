"""A person's choices for duty notices, and their browsers' push subscriptions.

Actions in the caller's transaction (like every action): the routes
(peerhub/notify/routes.py) call them inside :func:`peerhub.db.transaction`.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.errors import FieldError
from peerhub.i18n import _
from peerhub.notify.models import ENDPOINT_LIMIT, NoticeSettings, PushSubscription
from peerhub.notify.sms import normalise_phone

#: A person may have this many browsers subscribed at once (the oldest go first).
SUBSCRIPTION_LIMIT = 10

#: Push services PeerHub sends to (a subscription's endpoint must be on one of these
#: hosts or under them): the browsers' own services. ``PEERHUB_PUSH_SERVICES`` (hosts,
#: comma-separated) replaces the list. Sending only there keeps a subscription from
#: making the server POST to an address of the subscriber's choosing.
PUSH_SERVICES = (
    "fcm.googleapis.com",  # Chrome, Edge, Opera, Samsung Internet
    "updates.push.services.mozilla.com",  # Firefox
    "push.services.mozilla.com",
    "notify.windows.com",  # Edge on Windows (legacy)
    "push.apple.com",  # Safari
)


@dataclass(frozen=True, slots=True)
class Choices:
    email: bool
    push: bool
    sms: bool
    phone: str | None
    browsers: int
    sound: bool = True


async def choices(db: AsyncSession, user_id: str) -> Choices:
    row = await db.get(NoticeSettings, user_id)
    browsers = await db.scalar(
        select(func.count())
        .select_from(PushSubscription)
        .where(PushSubscription.user_id == user_id)
    )
    if row is None:
        return Choices(True, True, True, None, browsers or 0)
    return Choices(row.email, row.push, row.sms, row.phone, browsers or 0, row.sound)


async def save(
    db: AsyncSession,
    user_id: str,
    *,
    email: bool,
    push: bool,
    sms: bool,
    phone: str,
    now: datetime,
    sound: bool | None = None,
) -> None:
    """Save the channels and the number ("" removes it), and the sound for urgent
    notices unless ``sound`` is None. Raises :class:`FieldError` (``phone``) for a
    number that is not in the international form."""
    number: str | None = None
    if phone.strip():
        number = normalise_phone(phone)
        if number is None:
            raise FieldError(
                "phone",
                _(
                    "Enter a mobile number in the international form: a + sign, the "
                    "country code and the number, like +44 7700 900123."
                ),
            )
    row = await db.get(NoticeSettings, user_id)
    if row is None:
        row = NoticeSettings(user_id=user_id)
        db.add(row)
    row.email, row.push, row.sms, row.phone, row.updated_at = email, push, sms, number, now
    if sound is not None:
        row.sound = sound


async def set_sound(db: AsyncSession, user_id: str, on: bool, now: datetime) -> None:
    """Turn the tone an open page plays for a new urgent notice on or off (the other
    choices stay as they are; no row yet: the defaults, with this sound)."""
    row = await db.get(NoticeSettings, user_id)
    if row is None:
        row = NoticeSettings(user_id=user_id, email=True, push=True, sms=True)
        db.add(row)
    row.sound, row.updated_at = on, now


def _services(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if env is None else env
    given = env.get("PEERHUB_PUSH_SERVICES", "")
    hosts = tuple(h.strip().lower() for h in given.split(",") if h.strip())
    return hosts or PUSH_SERVICES


def _key(text: str, size: int) -> bool:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == size


def checked_subscription(
    endpoint: object, p256dh: object, auth: object, env: Mapping[str, str] | None = None
) -> tuple[str, str, str]:
    """A browser's subscription, checked: an https endpoint on a known push service, a
    P-256 public key (65 bytes) and a 16-byte secret, base64url. Raises ``ValueError``."""
    if not (isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)):
        raise ValueError("the subscription needs an endpoint and two keys")
    if len(endpoint) > ENDPOINT_LIMIT or not endpoint.isascii():
        raise ValueError("the endpoint is too long")
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        raise ValueError("the endpoint is not an address") from exc
    if parts.scheme != "https" or parts.username or parts.password or port not in (None, 443):
        raise ValueError("the endpoint must be an https address")
    if not any(host == s or host.endswith("." + s) for s in _services(env)):
        raise ValueError("the endpoint is not a known push service")
    if not (_key(p256dh, 65) and p256dh.startswith("B") and _key(auth, 16)):
        raise ValueError("the subscription's keys are not valid")
    return endpoint, p256dh, auth


async def subscribe(
    db: AsyncSession, user_id: str, endpoint: str, p256dh: str, auth: str, now: datetime
) -> None:
    """Store this browser's subscription for ``user_id`` (checked with
    :func:`checked_subscription` first). An endpoint is one browser: stored again, it
    moves to this person (the browser's previous person signed out there)."""
    await db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
    db.add(
        PushSubscription(
            user_id=user_id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_at=now
        )
    )
    await db.flush()
    kept = select(PushSubscription.id).where(PushSubscription.user_id == user_id)
    newest = kept.order_by(PushSubscription.created_at.desc(), PushSubscription.id).limit(
        SUBSCRIPTION_LIMIT
    )
    await db.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user_id,
            PushSubscription.id.not_in(newest.scalar_subquery()),
        )
    )


async def unsubscribe(db: AsyncSession, user_id: str, endpoint: str | None) -> None:
    """Remove one of the person's browsers (``endpoint``), or all of them (None)."""
    found = delete(PushSubscription).where(PushSubscription.user_id == user_id)
    if endpoint is not None:
        found = found.where(PushSubscription.endpoint == endpoint)
    await db.execute(found)
