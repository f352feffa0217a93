"""The notification layer (peerhub/notify, H25): tell records the page notice and one
outbox job per other channel; the e-mail job is sent once, in the person's language,
retried alone when it fails, and recorded; deliveries() is the record of who was told."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub import notify
from peerhub.db import transaction
from peerhub.errors import NotFound
from peerhub.i18n import lazy_gettext
from peerhub.notify import channels
from peerhub.notify.models import NoticeDelivery, NoticeSettings
from peerhub.outbox.models import OutboxEntry
from tests.conftest import FakeClock
from tests.notify.helpers import ALERT, Mailbox, person, settled, tell


async def _jobs(app: Any) -> list[dict[str, Any]]:
    async with app.state.ctx.sessions() as db:
        rows = await db.scalars(select(OutboxEntry).where(OutboxEntry.kind == "notify.send"))
        return [{"id": r.id, "done": r.done_at is not None, **(r.payload or {})} for r in rows]


async def test_tell_adds_an_unread_notice_and_an_email_job_for_an_address(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org")
    notice = await tell(app, sam)

    async with app.state.ctx.sessions() as db:
        shown = await notify.unread(db, sam)
    assert [n.id for n in shown] == [notice.id]
    assert shown[0].url == "/duty/alerts/1" and shown[0].urgent
    jobs = await _jobs(app)
    assert len(jobs) == 1 and jobs[0]["done"]  # delivered before the transaction returned
    assert mailbox.sent == [
        (
            "sam@example.org",
            "PeerHub: a crisis alert needs a moderator",
            mailbox.sent[0][2],
        )
    ]
    body = mailbox.sent[0][2]
    assert "A crisis alert needs a moderator on PeerHub." in body
    assert "https://peerhub.test/duty/alerts/1" in body or "/duty/alerts/1" in body
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.user_id, t.channel, t.status) for t in told] == [
        (sam, "page", "unread"),
        (sam, "email", "sent"),
    ]
    assert told[1].attempts == 1 and told[1].error is None


async def test_no_address_or_email_turned_off_means_only_the_page(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam")
    await tell(app, sam, ref="alert:a")
    async with app.state.ctx.sessions() as db, db.begin():
        db.add(NoticeSettings(user_id=sam, email=False))
    async with app.state.ctx.sessions() as db, db.begin():
        from peerhub.models import User

        user = await db.get(User, sam)
        assert user is not None
        user.email = "sam@example.org"
    await tell(app, sam, ref="alert:b")
    assert await _jobs(app) == []
    assert mailbox.sent == []
    async with app.state.ctx.sessions() as db:
        assert len(await notify.unread(db, sam)) == 2


async def test_a_failing_email_is_retried_alone_and_recorded_without_words(
    app: Any, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org")
    mailbox.failing = True
    await tell(app, sam)
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status, t.attempts, t.error) for t in told] == [
        ("page", "unread", 0, None),
        ("email", "failed", 1, "ConnectionRefusedError"),
    ]
    mailbox.failing = False
    clock.advance(seconds=5)  # past the outbox's first backoff
    await settled(app)
    assert len(mailbox.sent) == 1
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status, t.attempts, t.error) for t in told][1] == (
        "email",
        "sent",
        2,
        None,
    )


async def test_the_job_is_idempotent_a_sent_delivery_is_not_sent_again(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org")
    notice = await tell(app, sam)
    # The outbox delivers at least once: the same job again sends nothing.
    await channels.send(app.state.ctx, app.state, notify.Send(notice.id, "email"))
    assert len(mailbox.sent) == 1
    async with app.state.ctx.sessions() as db:
        rows = list(await db.scalars(select(NoticeDelivery)))
    assert [(r.channel, r.status, r.attempts) for r in rows] == [("email", "sent", 1)]


async def test_a_notice_seen_on_the_page_first_is_not_emailed(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org")
    mailbox.failing = True
    notice = await tell(app, sam)
    async with transaction(app.state.ctx.sessions) as db:
        await notify.mark_read(db, sam, notice.id, app.state.ctx.clock())
    mailbox.failing = False
    await channels.send(app.state.ctx, app.state, notify.Send(notice.id, "email"))
    assert mailbox.sent == []
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status, t.error) for t in told] == [
        ("page", "seen", None),
        ("email", "skipped", "SeenOnPage"),
    ]


async def test_the_email_is_written_in_the_persons_language(
    app: Any, client: httpx.AsyncClient
) -> None:
    # A topic with words that have a Welsh translation already (tests are not extracted).
    welsh = notify.TOPICS.get("test.welsh") or notify.topic(
        "test.welsh",
        lazy_gettext("PeerHub: choose a new password"),
        lazy_gettext("PeerHub: an update on a referral"),
    )
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org", language="cy")
    async with transaction(app.state.ctx.sessions) as db:
        await notify.tell(db, sam, welsh, url="/x", ref="r:1", now=app.state.ctx.clock())
    await settled(app)
    assert [m[1] for m in mailbox.sent] == ["PeerHub: dewiswch gyfrinair newydd"]
    assert "PeerHub: an update on a referral" not in mailbox.sent[0][2]


async def test_mark_read_is_only_for_ones_own_notices(app: Any, client: httpx.AsyncClient) -> None:
    sam = await person(app, client, "Sam")
    notice = await tell(app, sam)
    now = app.state.ctx.clock()
    async with app.state.ctx.sessions() as db, db.begin():
        with pytest.raises(NotFound):
            await notify.mark_read(db, "someone-else", notice.id, now)
        with pytest.raises(NotFound):
            await notify.mark_read(db, sam, "no-such-notice", now)
        await notify.mark_read(db, sam, notice.id, now)
        assert await notify.unread(db, sam) == []


async def test_tell_refuses_an_undeclared_topic_or_an_outside_link(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    loose = notify.Topic("loose", lazy_gettext("x"), lazy_gettext("y"))
    now = app.state.ctx.clock()
    async with app.state.ctx.sessions() as db, db.begin():
        with pytest.raises(TypeError):
            await notify.tell(db, sam, loose, url="/x", ref="r", now=now)
        for url in ("https://evil.example/x", "//evil.example/x", "/a b", "x"):
            with pytest.raises(ValueError, match="site-relative"):
                await notify.tell(db, sam, ALERT, url=url, ref="r", now=now)


def test_topics_are_declared_once_with_lazy_words() -> None:
    with pytest.raises(ValueError, match="new name"):
        notify.topic("test.alert", lazy_gettext("a"), lazy_gettext("b"))
    with pytest.raises(TypeError):
        notify.topic("test.plain", "not lazy", lazy_gettext("b"))


async def test_the_record_table_says_who_was_told_how_and_when(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    sam = await person(app, client, "Sam", "sam@example.org")
    mailbox.failing = True
    await tell(app, sam)
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    template = app.state.jinja.from_string(
        '{% from "notify/_record.html" import told_table %}{{ told_table(told, names) }}'
    )
    html = template.render(told=told, names={sam: "Sam <3"})
    assert "<caption>Who was told</caption>" in html
    assert html.count("Sam &lt;3") == 2 and "Sam <3" not in html
    assert "On PeerHub’s pages" in html and "Not seen yet" in html
    assert "E-mail" in html and "Not delivered yet: trying again" in html
    assert "A crisis alert" not in html  # the record shows no words, only who and how
