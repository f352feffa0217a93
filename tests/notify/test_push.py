"""Web Push (peerhub/notify/push.py) against a fake push service on loopback: the
message is encrypted (aes128gcm) for the subscription's keys and carries a VAPID
Authorization header signed with the deployment's key; what it holds is only the
topic's words and the link; a 404 or 410 deletes the subscription."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from peerhub import notify
from peerhub.config import ConfigError
from peerhub.notify import push
from peerhub.notify.models import PushSubscription
from tests.notify.helpers import person, tell


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """A subscriber's keys, as a browser makes them."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return _b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return plain


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class FakePushService:
    """A push service on 127.0.0.1: answers ``status`` and keeps each request."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(size)
                outer.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePushService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def service() -> Iterator[FakePushService]:
    with FakePushService() as running:
        yield running


def _check_vapid(header: str, vapid: push.Vapid, audience: str) -> None:
    """``vapid t=<JWT>, k=<public key>``: the JWT is ES256-signed by the key, for the
    push service's origin, naming the deployment's contact."""
    scheme, _, params = header.partition(" ")
    assert scheme.lower() == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == vapid.public_key
    head, claims, signature = parts["t"].split(".")
    assert json.loads(_unb64(head))["alg"] == "ES256"
    body = json.loads(_unb64(claims))
    assert body["aud"] == audience and body["sub"] == vapid.subject
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(vapid.public_key))
    raw = _unb64(signature)
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))


async def test_a_push_is_encrypted_and_signed_and_holds_only_the_topic_and_link(
    app: Any, client: httpx.AsyncClient, service: FakePushService
) -> None:
    browser = Browser()
    sam = await person(app, client, "Sam")
    async with app.state.ctx.sessions() as db, db.begin():
        db.add(
            PushSubscription(
                user_id=sam,
                endpoint=f"{service.url}/push/sam-browser",
                p256dh=browser.p256dh,
                auth=_b64(browser.auth),
            )
        )
    await tell(app, sam)

    assert len(service.received) == 1
    got = service.received[0]
    assert got.path == "/push/sam-browser"
    assert got.headers["content-encoding"] == "aes128gcm"
    assert got.headers["urgency"] == "high"  # an urgent notice
    assert b"crisis alert" not in got.body  # encrypted
    _check_vapid(got.headers["authorization"], push.vapid_of(app.state.ctx, app.state), service.url)
    assert json.loads(browser.decrypt(got.body)) == {
        "title": "PeerHub: a crisis alert needs a moderator",
        "body": "A crisis alert needs a moderator on PeerHub.",
        "url": "http://testserver/duty/alerts/1",
    }
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status) for t in told] == [("page", "unread"), ("push", "sent")]


@pytest.mark.parametrize("status", [404, 410])
async def test_an_ended_subscription_is_deleted(
    app: Any, client: httpx.AsyncClient, service: FakePushService, status: int
) -> None:
    service.status = status
    browser = Browser()
    sam = await person(app, client, "Sam")
    async with app.state.ctx.sessions() as db, db.begin():
        db.add(
            PushSubscription(
                user_id=sam,
                endpoint=f"{service.url}/push/gone",
                p256dh=browser.p256dh,
                auth=_b64(browser.auth),
            )
        )
    await tell(app, sam)
    async with app.state.ctx.sessions() as db:
        assert list(await db.scalars(select(PushSubscription))) == []
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status, t.error) for t in told][1] == (
        "push",
        "skipped",
        "NoSubscription",
    )


async def test_a_failing_push_service_is_recorded_and_retried(
    app: Any, client: httpx.AsyncClient, service: FakePushService
) -> None:
    service.status = 503
    browser = Browser()
    sam = await person(app, client, "Sam")
    async with app.state.ctx.sessions() as db, db.begin():
        db.add(
            PushSubscription(
                user_id=sam,
                endpoint=f"{service.url}/push/busy",
                p256dh=browser.p256dh,
                auth=_b64(browser.auth),
            )
        )
    await tell(app, sam)
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
        subscriptions = list(await db.scalars(select(PushSubscription)))
    assert [(t.channel, t.status, t.error) for t in told][1] == ("push", "failed", "PushFailed")
    assert len(subscriptions) == 1  # kept: the service may come back


def test_the_vapid_key_is_derived_from_the_secret_key_unless_given() -> None:
    first = push.load_vapid({}, "a shared secret key " * 3, "https://peerhub.example")
    again = push.load_vapid({}, "a shared secret key " * 3, "https://peerhub.example")
    other = push.load_vapid({}, "another secret key " * 3, "https://peerhub.example")
    assert first == again and first.subject == "https://peerhub.example"
    assert other.private_key != first.private_key
    assert len(_unb64(first.public_key)) == 65
    given = push.new_private_key()
    env = {"PEERHUB_VAPID_PRIVATE_KEY": given, "PEERHUB_VAPID_SUBJECT": "mailto:a@b.example"}
    assert push.load_vapid(env, "x" * 40, "x") == push.Vapid(given, "mailto:a@b.example")
    smtp = push.load_vapid({"PEERHUB_SMTP_FROM": "duty@peerhub.example"}, "x" * 40, "http://x")
    assert smtp.subject == "mailto:duty@peerhub.example"
    with pytest.raises(ConfigError, match="PEERHUB_VAPID_PRIVATE_KEY"):
        push.load_vapid({"PEERHUB_VAPID_PRIVATE_KEY": "short"}, "x" * 40, "x")
    with pytest.raises(ConfigError, match="PEERHUB_VAPID_SUBJECT"):
        push.load_vapid({"PEERHUB_VAPID_SUBJECT": "someone"}, "x" * 40, "x")
