"""Passwords, tokens, codes, e-mail addresses and people's words never reach the logs."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import logs
from peerhub.models import User
from tests.conftest import BASE, enrol_2fa, post_form
from tests.finding.conftest import add_group

PASSWORD = "Secret-Words-Nobody-Logs-42"
EMAIL = "person.private@example.org"
REFERRAL_EMAIL = "referred.person@example.net"
NOTE = "Distinctive note about a hard week 8f3k"


async def test_secrets_and_bodies_never_reach_the_logs(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Production's logging set-up, at its most talkative level.
    logs.quiet_third_party()
    caplog.set_level(logging.DEBUG)
    await add_group(sessions, "Logged Group")
    r = await post_form(
        client, "/signup", {"pseudonym": "Log Tester", "password": PASSWORD, "email": EMAIL}
    )
    assert r.status_code == 303
    sign_in_token = client.cookies["peerhub_session"]
    csrf = (await client.get("/api/me")).json()["csrf_token"]
    await client.post("/logout", data={"csrf_token": csrf}, headers={"Origin": BASE})
    await post_form(client, "/login", {"pseudonym": "Log Tester", "password": PASSWORD + "x"})
    await post_form(client, "/login", {"pseudonym": "Log Tester", "password": PASSWORD})
    async with sessions() as db, db.begin():
        me = await db.scalar(select(User).where(User.pseudonym == "Log Tester"))
        assert me is not None
        me.professional_status = "verified"
    await enrol_2fa(sessions, me.id)  # verified professionals need two-step sign-in
    made = await post_form(
        client,
        "/groups/logged-group/refer",
        {
            "person_name": "Sam",
            "contact_method": "email",
            "contact_value": REFERRAL_EMAIL,
            "note": NOTE,
            "consent": "yes",
        },
    )
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', made.text)
    assert code is not None
    await client.get(f"/r/{code.group(1)}")
    await client.post("/api/match", json={"postcode": "LS6 3HN", "languages": ["cy"]})
    # Provoke the error paths too.
    await post_form(client, "/signup", {"pseudonym": "x", "password": PASSWORD})
    await client.post("/api/match", json={"postcode": "NOT A POSTCODE"})

    # The test's own HTTP client (httpx) is not the server; everything else counts.
    server = [rec for rec in caplog.records if not rec.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(f"{rec.getMessage()} {rec.args!r} {rec.exc_text or ''}" for rec in server)
    assert any(rec.name == "peerhub.audit" for rec in server), "audit lines are expected"
    for secret in (
        PASSWORD,
        EMAIL,
        REFERRAL_EMAIL,
        NOTE,
        sign_in_token,
        csrf,
        code.group(1),
        "3HN",
    ):
        assert secret not in logged, f"{secret[:12]}… reached the logs"
