"""The in-page channel and the settings page (peerhub/notify/routes.py, banner.py):
the banner on every page for the signed-in person (one query; none for visitors), the
polling endpoint, "mark as seen", the channels and the SMS number, this browser's push
subscription, and the service worker at the site's root."""

from __future__ import annotations

import base64
import logging
import os
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from peerhub import notify
from peerhub.notify import sms
from peerhub.notify.models import NoticeSettings, PushSubscription
from tests.conftest import BASE, csrf_token, post_form
from tests.notify.helpers import Mailbox, person, tell

HTML = {"Accept": "text/html"}


class Counter:
    def __init__(self, engine: Any) -> None:
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self.seen)

    def seen(self, _conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def about_notices(self) -> list[str]:
        return [s for s in self.statements if "notices" in s]


async def test_the_banner_shows_unread_notices_on_every_page_with_one_query(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    notice = await tell(app, sam)
    counter = Counter(app.state.ctx.engine)
    for path in ("/", "/account", "/find"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200
        assert 'id="duty-notices"' in page.text
        assert "A crisis alert needs a moderator on PeerHub." in page.text
        assert f'action="/notices/{notice.id}/seen"' in page.text
        assert 'href="/duty/alerts/1"' in page.text
        assert "Need help now?" in page.text  # the crisis route is untouched
    assert len(counter.about_notices()) == 3  # one per page


async def test_visitors_get_no_banner_and_no_query(app: Any, client: httpx.AsyncClient) -> None:
    counter = Counter(app.state.ctx.engine)
    page = await client.get("/", headers=HTML)
    assert page.status_code == 200
    assert "duty-notices" not in page.text and "notices.js" not in page.text
    assert counter.about_notices() == []


async def test_with_nothing_unread_the_banner_is_hidden_but_ready_for_new_ones(
    app: Any, client: httpx.AsyncClient
) -> None:
    await person(app, client, "Sam")
    page = await client.get("/", headers=HTML)
    assert 'id="duty-notices"' in page.text
    assert 'aria-labelledby="duty-notices-title"' in page.text
    assert "/static/js/notices.js" in page.text


async def test_the_polling_endpoint_gives_the_unread_notices_in_the_pages_language(
    app: Any, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/api/notices/unread")).status_code == 401
    sam = await person(app, client, "Sam")
    notice = await tell(app, sam)
    answer = await client.get("/api/notices/unread")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.json() == {
        "notices": [
            {
                "id": notice.id,
                "text": "A crisis alert needs a moderator on PeerHub.",
                "url": "/duty/alerts/1",
                "urgent": True,
            }
        ],
        "poll": 20,
        "sound": True,
    }


async def test_mark_as_seen_takes_the_notice_off_the_banner(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    notice = await tell(app, sam)
    other = await tell(app, sam, ref="alert:2")
    done = await post_form(client, f"/notices/{notice.id}/seen", {"next": "/find"})
    assert done.status_code == 303 and done.headers["location"] == "/find"
    shown = (await client.get("/api/notices/unread")).json()["notices"]
    assert [n["id"] for n in shown] == [other.id]
    # No open redirect through next.
    done = await post_form(client, f"/notices/{other.id}/seen", {"next": "https://evil.example"})
    assert done.headers["location"] == "/"
    assert (await client.get("/api/notices/unread")).json()["notices"] == []
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status) for t in told] == [("page", "seen")]


async def test_someone_elses_notice_cannot_be_marked_seen(
    app: Any, client: httpx.AsyncClient, settings: Any
) -> None:
    sam = await person(app, client, "Sam")
    notice = await tell(app, sam)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as ben:
        await person(app, ben, "Ben")
        answer = await post_form(ben, f"/notices/{notice.id}/seen", {})
        assert answer.status_code == 404
        all_seen = await post_form(ben, "/notices/seen", {})
        assert all_seen.status_code == 303
    assert [n["id"] for n in (await client.get("/api/notices/unread")).json()["notices"]] == [
        notice.id
    ]


async def test_the_settings_page_saves_channels_and_a_checked_number(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam", "sam@example.org")
    page = await client.get("/account/notifications")
    assert page.status_code == 200
    assert '<label for="phone">' in page.text and 'name="channel" value="sms"' in page.text
    # The sound for urgent notices: a checkbox in the form (no JavaScript needed), and
    # the switch beside the notices too.
    assert 'type="checkbox" id="notice-sound" name="sound" value="on" checked' in page.text
    assert "js-notice-sound" in page.text
    assert "/account/notifications" in (await client.get("/account")).text

    bad = await post_form(
        client, "/account/notifications", {"channel": "sms", "phone": "07700 900123"}
    )
    assert bad.status_code == 422
    assert "international form" in bad.text and 'aria-invalid="true"' in bad.text

    saved = await post_form(
        client,
        "/account/notifications",
        {"channel": ["sms", "push"], "phone": "+44 7700 900123"},  # type: ignore[dict-item]
    )
    assert saved.status_code == 303
    async with app.state.ctx.sessions() as db:
        row = await db.get(NoticeSettings, sam)
    assert row is not None
    assert (row.email, row.push, row.sms, row.phone) == (False, True, True, "+447700900123")

    removed = await post_form(
        client, "/account/notifications", {"channel": "sms", "remove_phone": "1"}
    )
    assert removed.status_code == 303
    async with app.state.ctx.sessions() as db:
        row = await db.get(NoticeSettings, sam)
    assert row is not None and row.phone is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("0044 (7700) 900-123", "+447700900123"),
        ("+1.415.555.0100", "+14155550100"),
        ("07700 900123", None),
        ("+44", None),
        ("+0 7700 900123", None),
        ("+4477009001231234", None),
        ("+44 7700 ９00123", None),
        ("+44 7700 900123 ext 4", None),
    ],
)
def test_phone_numbers_are_checked_strictly(raw: str, expected: str | None) -> None:
    assert sms.normalise_phone(raw) == expected


async def test_an_sms_is_sent_by_the_provider_and_logged_without_number_or_text(
    app: Any, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.state.sms = provider = sms.LogSmsProvider()
    sam = await person(app, client, "Sam")
    await post_form(client, "/account/notifications", {"channel": "sms", "phone": "+447700900123"})
    with caplog.at_level(logging.INFO, logger="peerhub.notify"):
        await tell(app, sam)
    assert provider.sent == [
        (
            "+447700900123",
            "A crisis alert needs a moderator on PeerHub. http://testserver/duty/alerts/1",
        )
    ]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "test.alert" in logged and "tel:" in logged
    assert "7700900123" not in logged and "crisis alert needs" not in logged
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status) for t in told] == [("page", "unread"), ("sms", "sent")]


async def test_every_channel_on_is_one_job_each_and_one_failing_does_not_resend_others(
    app: Any, client: httpx.AsyncClient
) -> None:
    app.state.sender = mailbox = Mailbox()
    app.state.sms = provider = sms.LogSmsProvider()
    sam = await person(app, client, "Sam", "sam@example.org")
    await post_form(
        client,
        "/account/notifications",
        {"channel": ["email", "sms"], "phone": "+447700900123"},  # type: ignore[dict-item]
    )
    mailbox.failing = True
    await tell(app, sam)
    assert len(provider.sent) == 1 and mailbox.sent == []
    async with app.state.ctx.sessions() as db:
        told = await notify.deliveries(db, "alert:1")
    assert [(t.channel, t.status) for t in told] == [
        ("page", "unread"),
        ("email", "failed"),
        ("sms", "sent"),
    ]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


P256DH = _b64(b"\x04" + os.urandom(64))  # an uncompressed P-256 point


async def test_this_browsers_subscription_is_added_checked_and_removed(
    app: Any, client: httpx.AsyncClient
) -> None:
    sam = await person(app, client, "Sam")
    token = await csrf_token(client, "/account/notifications")
    headers = {"Origin": BASE, "X-CSRF-Token": token}
    endpoint = "https://fcm.googleapis.com/fcm/send/abc123"
    good = {"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": _b64(os.urandom(16))}}
    for bad in (
        {**good, "endpoint": "https://internal.example/x"},  # not a push service
        {**good, "endpoint": "http://fcm.googleapis.com/fcm/send/abc"},  # not https
        {**good, "endpoint": "https://fcm.googleapis.com:8443/x"},
        {**good, "keys": {"p256dh": "short", "auth": "x"}},
        {"endpoint": endpoint},
        ["not", "an", "object"],
    ):
        answer = await client.post("/api/notices/push", json=bad, headers=headers)
        assert answer.status_code == 422, bad
    added = await client.post("/api/notices/push", json=good, headers=headers)
    assert added.status_code == 201
    again = await client.post("/api/notices/push", json=good, headers=headers)
    assert again.status_code == 201
    async with app.state.ctx.sessions() as db:
        rows = list(await db.scalars(select(PushSubscription)))
    assert [(r.user_id, r.endpoint) for r in rows] == [(sam, endpoint)]
    page = await client.get("/account/notifications")
    assert "Turned on in 1 browser." in page.text

    removed = await client.post(
        "/api/notices/push/remove", json={"endpoint": endpoint}, headers=headers
    )
    assert removed.status_code == 200
    async with app.state.ctx.sessions() as db:
        assert list(await db.scalars(select(PushSubscription))) == []
    # Without the CSRF header, nothing is added.
    refused = await client.post("/api/notices/push", json=good, headers={"Origin": BASE})
    assert refused.status_code == 403


async def test_all_browsers_can_be_removed_with_a_form(app: Any, client: httpx.AsyncClient) -> None:
    sam = await person(app, client, "Sam")
    async with app.state.ctx.sessions() as db, db.begin():
        for n in range(2):
            db.add(PushSubscription(user_id=sam, endpoint=f"https://x/{n}", p256dh="k", auth="a"))
    done = await post_form(client, "/account/notifications/browsers", {})
    assert done.status_code == 303
    async with app.state.ctx.sessions() as db:
        assert list(await db.scalars(select(PushSubscription))) == []


async def test_the_service_worker_is_served_from_the_root(client: httpx.AsyncClient) -> None:
    answer = await client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["service-worker-allowed"] == "/"
    assert "showNotification" in answer.text and "notificationclick" in answer.text


def test_the_sms_provider_is_chosen_by_settings() -> None:
    from peerhub.config import ConfigError

    assert isinstance(sms.load_sms_provider({}), sms.LogSmsProvider)
    assert isinstance(sms.load_sms_provider({"PEERHUB_SMS_PROVIDER": "log"}), sms.LogSmsProvider)
    with pytest.raises(ConfigError, match="PEERHUB_SMS_PROVIDER"):
        sms.load_sms_provider({"PEERHUB_SMS_PROVIDER": "acme"})
