"""Shared helpers for the notification tests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from peerhub import notify
from peerhub.db import transaction
from peerhub.i18n import lazy_gettext
from peerhub.models import User
from peerhub.notify.models import Notice
from tests.conftest import sign_up

DEADLINE = 10.0

ALERT = notify.TOPICS.get("test.alert") or notify.topic(
    "test.alert",
    lazy_gettext("PeerHub: a crisis alert needs a moderator"),
    lazy_gettext("A crisis alert needs a moderator on PeerHub."),
)


class Mailbox:
    """A sender that keeps what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.failing = False

    async def send(self, to: str, subject: str, body: str) -> None:
        if self.failing:
            raise ConnectionRefusedError("the mail server is down")
        self.sent.append((to, subject, body))


async def person(
    app: Any, client: httpx.AsyncClient, pseudonym: str, email: str | None = None, **extra: Any
) -> str:
    """Sign ``client`` up as ``pseudonym`` (with ``email`` if given); their id."""
    await sign_up(client, pseudonym)
    me = await client.get("/api/me")
    user_id: str = me.json()["id"]
    async with app.state.ctx.sessions() as db, db.begin():
        user = await db.get(User, user_id)
        assert user is not None
        user.email = email
        for key, value in extra.items():
            setattr(user, key, value)
    return user_id


async def tell(app: Any, user_id: str, ref: str = "alert:1", urgent: bool = True) -> Notice:
    """Tell ``user_id`` about ALERT in an action's transaction (jobs run before it returns)."""
    async with transaction(app.state.ctx.sessions) as db:
        notice = await notify.tell(
            db,
            user_id,
            ALERT,
            url="/duty/alerts/1",
            ref=ref,
            now=app.state.ctx.clock(),
            urgent=urgent,
        )
    # Its channels are sent by the dispatcher's loop, not in the transaction's request.
    await settled(app)
    return notice


async def settled(app: Any) -> None:
    app.state.outbox.wake()
    await asyncio.wait_for(app.state.outbox.idle(), DEADLINE)
