"""Web Push (RFC 8030, message encryption RFC 8291, VAPID RFC 8292) through pywebpush.

A person's browser subscribes on their notifications page (the service worker at
``/sw.js`` shows what arrives); its endpoint and keys are stored per person
(:class:`~peerhub.notify.models.PushSubscription`). A notice's push message is the
topic's generic title and text and the link (:func:`peerhub.notify.channels.push_payload`),
encrypted (``aes128gcm``) for the subscription's keys and signed with the deployment's
VAPID key. A push service answering 404 or 410 (the subscription has ended) deletes
the subscription; any other failure is raised, so the outbox retries the job.

pywebpush sends with ``requests`` (blocking): each POST runs in a worker thread, with
a time-out on the request and on the wait, so the event loop never blocks on it.

The VAPID key: ``PEERHUB_VAPID_PRIVATE_KEY`` (the raw 32-byte P-256 private key,
base64url, as :func:`new_private_key` gives) and
``PEERHUB_VAPID_SUBJECT`` (a ``mailto:`` or ``https://`` contact for push services;
default ``mailto:`` the deployment's SMTP from-address, else the site's https address).
Unset, the key is derived from the deployment's secret key (:func:`derived_private_key`),
so every process that shares the secret key (the compose file's two, say) signs with
the same key, as they must: a browser's subscription is tied to the key it was made
with. Changing the secret key (or this variable) therefore ends every subscription;
people turn notifications on again on their settings page.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete

from peerhub.config import ConfigError
from peerhub.notify.models import PushSubscription

if TYPE_CHECKING:
    from peerhub.context import AppContext

log = logging.getLogger("peerhub.notify")

#: Seconds for one push service's answer (the thread's request, and the wait for it).
TIMEOUT = 10.0
#: How long a push service keeps a message for a device that is off (seconds).
TTL = 12 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> str:
    """A new VAPID private key: the raw P-256 scalar, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    return _b64(key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass(frozen=True, slots=True)
class Vapid:
    private_key: str  # raw, base64url
    subject: str

    @property
    def public_key(self) -> str:
        """The application server key the browser subscribes with (uncompressed point)."""
        scalar = int.from_bytes(_unb64(self.private_key), "big")
        key = ec.derive_private_key(scalar, ec.SECP256R1())
        raw = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64(raw)


def _checked_key(value: str, name: str) -> str:
    value = value.strip()
    try:
        raw = _unb64(value)
    except ValueError as exc:
        raise ConfigError(f"{name}: not base64url") from exc
    if len(raw) != 32 or int.from_bytes(raw, "big") == 0:
        raise ConfigError(f"{name}: give the raw 32-byte P-256 private key, base64url")
    return value


#: The order of P-256's group: a private key is a number from 1 to N - 1.
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derived_private_key(secret_key: str) -> str:
    """A VAPID private key derived from the deployment's secret key (HMAC-SHA256 for this
    purpose, brought into P-256's range): the same in every process that shares it."""
    mac = hmac.new(secret_key.encode(), b"peerhub-vapid-key\x00", hashlib.sha256).digest()
    scalar = int.from_bytes(mac, "big") % (_N - 1) + 1
    return _b64(scalar.to_bytes(32, "big"))


def load_vapid(env: Mapping[str, str] | None, secret_key: str, base_url: str) -> Vapid:
    """The deployment's VAPID key and subject (see the module's docstring)."""
    env = os.environ if env is None else env
    subject = env.get("PEERHUB_VAPID_SUBJECT", "").strip()
    if subject and not subject.startswith(("mailto:", "https://")):
        raise ConfigError("PEERHUB_VAPID_SUBJECT: give a mailto: or https:// contact")
    if not subject:
        sender = env.get("PEERHUB_SMTP_FROM", "").strip()
        if "@" in sender:
            subject = f"mailto:{sender}"
        elif base_url.startswith("https://"):
            subject = base_url
        else:  # development, over plain http: a contact that reaches nobody
            subject = "mailto:peerhub@localhost"
    value = env.get("PEERHUB_VAPID_PRIVATE_KEY", "").strip()
    if value:
        return Vapid(_checked_key(value, "PEERHUB_VAPID_PRIVATE_KEY"), subject)
    return Vapid(derived_private_key(secret_key), subject)


def vapid_of(app: AppContext, state: Any) -> Vapid:
    """The application's VAPID key, loaded once and kept on ``state``."""
    current: Vapid | None = getattr(state, "vapid", None)
    if current is None:
        current = load_vapid(None, app.settings.secret_key, app.settings.base_url)
        state.vapid = current
    return current


class PushGone(Exception):
    """The push service says the subscription has ended (404 or 410)."""


class PushFailed(Exception):
    """The push service refused or did not answer (retried by the outbox)."""


def _post(subscription: dict[str, Any], data: bytes, vapid: Vapid, urgency: str) -> None:
    """One encrypted, VAPID-signed POST (blocking: run in a worker thread)."""
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            subscription_info=subscription,
            data=data.decode(),
            vapid_private_key=vapid.private_key,
            vapid_claims={"sub": vapid.subject},
            content_encoding="aes128gcm",
            timeout=TIMEOUT,
            ttl=TTL,
            headers={"Urgency": urgency},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise PushGone from None
        raise PushFailed(f"HTTP {status}") from None


async def post(
    subscription: PushSubscription, data: bytes, vapid: Vapid, urgency: str = "normal"
) -> None:
    """Send ``data`` to one subscription without blocking the event loop."""
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    await asyncio.wait_for(asyncio.to_thread(_post, info, data, vapid, urgency), TIMEOUT + 2)


async def send_all(
    app: AppContext,
    state: Any,
    subscriptions: Sequence[PushSubscription],
    data: bytes,
    *,
    urgent: bool = False,
) -> int:
    """Send ``data`` to each of a person's subscriptions and delete the ended ones;
    how many took it. Raises when a live one failed (the job is retried)."""
    vapid = vapid_of(app, state)
    failed: Exception | None = None
    delivered = 0
    for sub in subscriptions:
        try:
            await post(sub, data, vapid, "high" if urgent else "normal")
            delivered += 1
        except PushGone:
            async with app.sessions() as db, db.begin():
                await db.execute(delete(PushSubscription).where(PushSubscription.id == sub.id))
            log.info("a push subscription ended and was removed")
        except Exception as exc:  # the others are still tried
            failed = exc
    if failed is not None:
        raise failed
    return delivered
