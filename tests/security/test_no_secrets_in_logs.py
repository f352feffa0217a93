"""A realistic visit leaves no password, token or e-mail address in any log record.

Every record of every logger is captured at DEBUG (PeerHub's own ``peerhub.*`` and
everything under the root logger) with production's logging set-up
(:func:`peerhub.logs.quiet_third_party`, as ``peerhub serve`` applies it). The flow:
sign up with an e-mail address, sign out, a wrong password, sign in, change the
e-mail address, join a group, refer someone by e-mail as a professional, open the
referral link, end the session. Message bodies in rooms are checked by the
real-time tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import logs
from peerhub.models import User
from tests.conftest import csrf_token, enrol_2fa, post_form
from tests.finding.conftest import add_group

PASSWORD = "Quiet-Harbour-Lantern-7731"
WRONG_PASSWORD = "Quiet-Harbour-Lantern-7732"
EMAIL = "first.address.4kq@example.org"
NEW_EMAIL = "second.address.9zt@example.net"
REFERRAL_EMAIL = "referred.person.2hb@example.com"
CODE = re.compile(r'<strong class="code">([A-Z0-9-]+)</strong>')


@pytest.fixture
def production_logging() -> Iterator[None]:
    """peerhub serve's logging, undone afterwards so other tests see no change."""
    saved = {name: logging.getLogger(name).level for name in logs.QUIET}
    logs.quiet_third_party()
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def everything_in(record: logging.LogRecord) -> str:
    """The formatted line, the arguments, the traceback and every extra attribute."""
    line = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    return f"{line}\n{record.args!r}\n{record.exc_text or ''}\n{vars(record)!r}"


async def test_a_whole_visit_leaves_no_secret_in_the_logs(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    production_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="peerhub")
    await add_group(sessions, "Quiet Harbour Group")
    secrets: dict[str, str] = {}

    # Before signing in: the pre-sign-in CSRF cookie and the token made from it.
    secrets["anonymous CSRF token"] = await csrf_token(client, "/signup")
    secrets["pre-sign-in cookie"] = client.cookies["peerhub_csrf"]

    r = await post_form(
        client, "/signup", {"pseudonym": "Quiet Harbour", "password": PASSWORD, "email": EMAIL}
    )
    assert r.status_code == 303, r.text[:300]
    secrets["first session cookie"] = client.cookies["peerhub_session"]
    secrets["first session CSRF token"] = (await client.get("/api/me")).json()["csrf_token"]
    assert (await post_form(client, "/logout", {})).status_code == 303

    r = await post_form(
        client, "/login", {"pseudonym": "Quiet Harbour", "password": WRONG_PASSWORD}
    )
    assert r.status_code == 401
    r = await post_form(client, "/login", {"pseudonym": "quiet harbour", "password": PASSWORD})
    assert r.status_code == 303
    secrets["second session cookie"] = client.cookies["peerhub_session"]
    secrets["second session CSRF token"] = (await client.get("/api/me")).json()["csrf_token"]
    # The known-device cookie, and the random token inside it (before its signature).
    secrets["known-device cookie"] = client.cookies["peerhub_device"]
    secrets["known-device token"] = client.cookies["peerhub_device"].split(".")[0]

    r = await post_form(
        client, "/account", {"action": "email", "email": NEW_EMAIL, "email_password": PASSWORD}
    )
    assert r.status_code == 303, r.text[:300]
    r = await post_form(client, "/groups/quiet-harbour-group/join", {})
    assert r.status_code == 303 and "done=joined" in r.headers["location"]

    async with sessions() as db, db.begin():
        me = await db.scalar(select(User).where(User.pseudonym == "Quiet Harbour"))
        assert me is not None and me.email == NEW_EMAIL
        me.professional_status, me.professional_role = "verified", "Link worker"
        my_id = me.id
    await enrol_2fa(sessions, my_id)  # a verified professional's role needs two-step sign-in
    r = await post_form(
        client,
        "/groups/quiet-harbour-group/refer",
        {
            "person_name": "Sam",
            "contact_method": "email",
            "contact_value": REFERRAL_EMAIL,
            "note": "Prefers evening groups",
            "consent": "yes",
        },
    )
    assert r.status_code == 200, r.text[:300]
    found = CODE.search(r.text)
    assert found is not None
    secrets["referral code"] = found.group(1)
    assert (await client.get(f"/r/{found.group(1)}")).status_code == 200
    assert (await post_form(client, "/logout", {})).status_code == 303

    secrets |= {
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "e-mail address": EMAIL,
        "new e-mail address": NEW_EMAIL,
        "referred person's e-mail address": REFERRAL_EMAIL,
    }
    records = caplog.records
    assert any(r.name == "peerhub.audit" for r in records), "the flow should have logged"
    leaks = [
        f"the {what} in a {record.name} {record.levelname} record: {record.getMessage()[:200]}"
        for record in records
        for what, secret in secrets.items()
        if secret in everything_in(record)
    ]
    assert not leaks, "\n".join(leaks)
