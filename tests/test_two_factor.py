"""Two-step sign-in over HTTP, on both databases: set-up, the second step, recovery codes,
the throttle, the gate for roles that need it, turning it off, and what is never stored
or logged."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from peerhub import logs
from peerhub.accounts import twofactor
from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.models import AuditEvent, GroupMember, OrganisationOrganiser, SignIn, User
from peerhub.security import throttle, totp
from tests.conftest import (
    BASE,
    TEST_TOTP_SECRET,
    FakeClock,
    csrf_token,
    enrol_2fa,
    post_form,
    sign_up,
    totp_code,
)
from tests.finding.conftest import add_group

PASSWORD = "correct horse battery staple"
KEY = re.compile(
    r'<p class="secret-key" id="secret-key">.*?<span lang="zxx" translate="no">([A-Z2-7 ]+)</span>',
    re.S,
)
CODES = re.compile(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>")


def _key(html: str) -> str:
    """The key as the set-up page shows it, without its spaces."""
    match = KEY.search(html)
    assert match, html
    return match.group(1).replace(" ", "")


def other(client: httpx.AsyncClient, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url=BASE, **kwargs)


async def _user(app: Any, pseudonym: str) -> User:
    async with app.state.ctx.sessions() as db:
        user: User | None = await db.scalar(select(User).where(User.pseudonym == pseudonym))
    assert user is not None
    return user


async def _set(app: Any, pseudonym: str, **values: Any) -> User:
    async with app.state.ctx.sessions() as db, db.begin():
        user: User | None = await db.scalar(select(User).where(User.pseudonym == pseudonym))
        assert user is not None
        for key, value in values.items():
            setattr(user, key, value)
    return user


async def _actions(app: Any) -> list[AuditEvent]:
    async with app.state.ctx.sessions() as db:
        return list((await db.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())


async def _enrol_through_pages(
    client: httpx.AsyncClient, clock: FakeClock
) -> tuple[str, list[str]]:
    """Set up two-step sign-in as a person would; the key and the recovery codes."""
    page = await client.get("/account/2fa")
    assert page.status_code == 200
    secret = _key(page.text)
    assert "otpauth://totp/PeerHub:" in page.text and f"secret={secret}" in page.text
    done = await post_form(
        client,
        "/account/2fa",
        {"action": "confirm", "code": totp_code(clock(), secret), "password": PASSWORD},
    )
    assert done.status_code == 200, done.text
    codes = CODES.findall(done.text)
    assert len(codes) == twofactor.RECOVERY_CODES == len(set(codes))
    return secret, codes


async def _password_step(
    client: httpx.AsyncClient, pseudonym: str, nxt: str = ""
) -> httpx.Response:
    data = {"pseudonym": pseudonym, "password": PASSWORD}
    if nxt:
        data["next"] = nxt
    return await post_form(client, "/login", data)


async def _code_step(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await csrf_token(client, "/login")
    return await post_form(client, "/login/2fa", fields, token=token)


# --- Setting it up ---------------------------------------------------------------------


async def test_a_member_sets_it_up_and_sees_recovery_codes_once(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Nadia", PASSWORD)
    account = await client.get("/account")
    assert "Set up two-step sign-in" in account.text and "Off." in account.text
    page = await client.get("/account/2fa")
    assert "It is optional for you" in page.text
    for needle in (
        'autocomplete="one-time-code"',
        'inputmode="numeric"',
        'autocomplete="current-password"',
        "Need help now?",
    ):
        assert needle in page.text, needle
    # The same key until it is confirmed: reloading after adding it to an app is safe.
    assert _key(page.text) == _key((await client.get("/account/2fa")).text)

    # Wrong code, then wrong password: errors linked to their fields, nothing enabled.
    secret = _key(page.text)
    wrong = await post_form(
        client, "/account/2fa", {"action": "confirm", "code": "000000", "password": PASSWORD}
    )
    assert wrong.status_code == 422
    assert '<a href="#code">' in wrong.text and 'id="code-error"' in wrong.text
    assert 'aria-invalid="true" aria-describedby="code-hint code-error"' in wrong.text
    bad_pw = await post_form(
        client,
        "/account/2fa",
        {"action": "confirm", "code": totp_code(clock(), secret), "password": "not it at all"},
    )
    assert bad_pw.status_code == 422 and 'id="password-error"' in bad_pw.text
    async with app.state.ctx.sessions() as db:
        row = await db.get(TwoFactor, (await _user(app, "Nadia")).id)
        assert row is not None and not row.enrolled and row.pending_secret == secret

    # A second browser signed in with the password alone is signed out by enrolling.
    second = other(client)
    async with second:
        assert (await _password_step(second, "Nadia")).status_code == 303
        assert (await second.get("/api/me")).status_code == 200
        got, codes = await _enrol_through_pages(client, clock)
        assert got == secret
        assert (await second.get("/api/me")).status_code == 401
    assert (await client.get("/api/me")).status_code == 200

    user = await _user(app, "Nadia")
    async with app.state.ctx.sessions() as db:
        row = await db.get(TwoFactor, user.id)
        assert row is not None and row.enrolled and row.secret == secret
        assert row.pending_secret is None and row.last_step == totp.time_step(clock())
        stored = set((await db.scalars(select(RecoveryCode.code_hash))).all())
    # Only digests are kept, never the codes.
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    manage = await client.get("/account/2fa")
    assert "It is on" in manage.text and "10 of 10" in manage.text
    assert secret not in manage.text and not any(c in manage.text for c in codes)
    events = [e for e in await _actions(app) if e.action.startswith("2fa.")]
    enrolled = [e for e in events if e.action == "2fa.enrolled"]
    assert len(enrolled) == 1 and enrolled[0].detail == {"new_device": False, "recovery_codes": 10}


# --- Signing in -------------------------------------------------------------------------


async def test_sign_in_needs_the_code_after_the_password(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Kasia", PASSWORD)
    secret, _codes = await _enrol_through_pages(client, clock)
    client.cookies.clear()

    first = await _password_step(client, "kasia", nxt="/account/sessions")
    assert first.status_code == 303
    assert first.headers["location"] == "/login/2fa?next=%2Faccount%2Fsessions"
    assert "peerhub_session=" not in first.headers.get("set-cookie", "")
    assert "peerhub_2fa=" in first.headers["set-cookie"]
    assert "Max-Age=300" in first.headers["set-cookie"]
    assert (await client.get("/api/me")).status_code == 401  # not signed in yet
    page = await client.get(first.headers["location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text and 'inputmode="numeric"' in page.text
    assert 'name="next" value="/account/sessions"' in page.text

    wrong = await _code_step(client, code="123456", next="/account/sessions")
    assert wrong.status_code == 401 and 'id="code-error"' in wrong.text
    empty = await _code_step(client, code="", next="/account/sessions")
    assert empty.status_code == 422 and "Enter the 6-digit code" in empty.text

    clock.advance(seconds=30)  # the code used to set it up may not be used again
    ok = await _code_step(client, code=totp_code(clock(), secret), next="/account/sessions")
    assert ok.status_code == 303 and ok.headers["location"] == "/account/sessions"
    cookies = ok.headers.get_list("set-cookie")
    assert any(c.startswith("peerhub_session=") for c in cookies)
    assert any(c.startswith("peerhub_2fa=;") and "Max-Age=0" in c for c in cookies)
    assert (await client.get("/api/me")).json()["pseudonym"] == "Kasia"

    # The same code cannot sign anyone in again, even in the same 30 seconds.
    replay = other(client)
    async with replay:
        assert (await _password_step(replay, "Kasia")).status_code == 303
        again = await _code_step(replay, code=totp_code(clock(), secret))
        assert again.status_code == 401
        clock.advance(seconds=30)
        fresh = await _code_step(replay, code=totp_code(clock(), secret))
        assert fresh.status_code == 303

    actions = [e.action for e in await _actions(app)]
    assert "login.password_ok" in actions and "2fa.failed" in actions
    succeeded = [e for e in await _actions(app) if e.action == "login.succeeded"]
    assert [e.detail for e in succeeded][-2:] == [{"second_factor": "app"}] * 2


async def test_the_step_between_password_and_code_expires_and_cannot_be_forged(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Ola", PASSWORD)
    await _enrol_through_pages(client, clock)
    user = await _user(app, "Ola")
    client.cookies.clear()

    # No cookie, or a forged one: back to the start.
    assert (await client.get("/login/2fa")).headers["location"] == "/login?expired=1"
    client.cookies.set("peerhub_2fa", f"{user.id}.9999999999.abc.{'0' * 64}")
    forged = await _code_step(client, code=totp_code(clock()))
    assert forged.status_code == 303 and forged.headers["location"] == "/login?expired=1"

    await _password_step(client, "Ola")
    clock.advance(seconds=twofactor.PENDING_LOGIN.total_seconds() + 1)
    late = await _code_step(client, code="123456")
    assert late.headers["location"] == "/login?expired=1"
    notice = await client.get("/login?expired=1")
    assert "took more than 5 minutes" in notice.text

    # A new password ends a half-finished sign-in too.
    await _password_step(client, "Ola")
    await _set(app, "Ola", password_hash=await app.state.ctx.passwords.hash("another password"))
    changed = await _code_step(client, code="123456")
    assert changed.headers["location"] == "/login?expired=1"


async def test_the_step_between_password_and_code_works_once(
    client: httpx.AsyncClient, app: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of the pre-sign-in cookie (left on a shared computer, say) is worthless
    once its owner has signed in with it, though its five minutes have not passed."""
    await sign_up(client, "Once", PASSWORD)
    secret, codes = await _enrol_through_pages(client, clock)
    client.cookies.clear()
    await _password_step(client, "Once")
    pending = client.cookies.get("peerhub_2fa")
    assert pending
    clock.advance(seconds=30)
    ok = await _code_step(client, code=totp_code(clock(), secret))
    assert ok.status_code == 303 and ok.headers["location"] == "/account/groups"

    async with other(client) as copy:
        copy.cookies.set("peerhub_2fa", pending)
        page = await copy.get("/login/2fa")
        assert page.status_code == 303 and page.headers["location"] == "/login?expired=1"
        for attempt in (
            {"code": totp_code(clock() + timedelta(seconds=30), secret)},
            {"recovery_code": codes[0]},
        ):
            copy.cookies.set("peerhub_2fa", pending)
            replay = await _code_step(copy, **attempt)
            assert replay.status_code == 303, attempt
            assert replay.headers["location"] == "/login?expired=1"
            assert (await copy.get("/api/me")).status_code == 401
        # Even when the look-up misses it (two requests read before either wrote), the
        # insert of the spent nonce refuses the second, and undoes its code too.
        monkeypatch.setattr(twofactor, "pending_spent", _never_spent)
        copy.cookies.set("peerhub_2fa", pending)
        raced = await _code_step(copy, recovery_code=codes[1])
        assert raced.status_code == 303 and raced.headers["location"] == "/login?expired=1"
        assert (await copy.get("/api/me")).status_code == 401
    async with app.state.ctx.sessions() as db:
        assert await twofactor.codes_left(db, (await _user(app, "Once")).id) == 10
    assert "2fa.replay_refused" in [e.action for e in await _actions(app)]


async def _never_spent(db: Any, value: str) -> bool:
    return False


async def test_a_nonce_is_spent_once_whoever_tries_at_the_same_time(
    app: Any, settings: Any, clock: FakeClock
) -> None:
    from peerhub.db import make_engine, make_sessionmaker, transaction
    from peerhub.security import nonces

    other_engine = make_engine(settings.database_url)
    makers = [app.state.ctx.sessions, make_sessionmaker(other_engine)]
    expires = clock() + timedelta(minutes=5)

    async def spend(i: int) -> bool:
        async with transaction(makers[i % 2]) as db:
            return await nonces.spend(db, "test", "the-nonce", expires, clock())

    try:
        results = await asyncio.gather(*(spend(i) for i in range(8)))
    finally:
        await other_engine.dispose()
    assert results.count(True) == 1
    # Once its value has expired, the row is cleared away by the next spend.
    clock.advance(minutes=6)
    async with transaction(app.state.ctx.sessions) as db:
        assert await nonces.spend(db, "test", "another", clock() + timedelta(minutes=5), clock())
        assert not await nonces.is_spent(db, "test", "the-nonce")


async def test_two_uses_of_one_pre_sign_in_cookie_at_once_let_one_through(
    client: httpx.AsyncClient, app: Any, settings: Any, clock: FakeClock
) -> None:
    """Two server processes get the same cookie at the same moment, each with a
    different right recovery code: exactly one signs in, and the other's code is not
    spent either."""
    from peerhub.app import create_app

    await sign_up(client, "Racer", PASSWORD)
    _secret, codes = await _enrol_through_pages(client, clock)
    user = await _user(app, "Racer")
    client.cookies.clear()
    await _password_step(client, "Racer")
    pending = client.cookies.get("peerhub_2fa")
    assert pending
    async with app.state.ctx.sessions() as db:
        before = await db.scalar(
            select(func.count()).select_from(SignIn).where(SignIn.user_id == user.id)
        )

    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):

        async def use(application: Any, recovery_code: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
                c.cookies.set("peerhub_2fa", pending)
                return await _code_step(c, recovery_code=recovery_code)

        answers = await asyncio.gather(use(app, codes[0]), use(second, codes[1]))
    signed_in = [
        a
        for a in answers
        if any(c.startswith("peerhub_session=") for c in a.headers.get_list("set-cookie"))
    ]
    assert len(signed_in) == 1, [a.headers.get("location") for a in answers]
    refused = next(a for a in answers if a is not signed_in[0])
    assert refused.status_code == 303 and refused.headers["location"] == "/login?expired=1"
    async with app.state.ctx.sessions() as db:
        after = await db.scalar(
            select(func.count()).select_from(SignIn).where(SignIn.user_id == user.id)
        )
        assert await twofactor.codes_left(db, user.id) == len(codes) - 1
    assert after == (before or 0) + 1


async def test_recovery_codes_work_once_each(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Tariq", PASSWORD)
    secret, codes = await _enrol_through_pages(client, clock)
    client.cookies.clear()

    await _password_step(client, "Tariq")
    used = await _code_step(client, recovery_code=codes[3].upper().replace("-", " "))
    assert used.status_code == 303 and used.headers["location"] == "/account/2fa?recovered=1"
    page = await client.get(used.headers["location"])
    assert "You have 9 left" in page.text

    client.cookies.clear()
    await _password_step(client, "Tariq")
    twice = await _code_step(client, recovery_code=codes[3])
    assert twice.status_code == 401 and 'id="recovery_code-error"' in twice.text
    assert '<details class="recovery" open>' in twice.text
    malformed = await _code_step(client, recovery_code="not-a-code")
    assert malformed.status_code == 422

    events = [e for e in await _actions(app) if e.action == "2fa.recovery_code_used"]
    assert len(events) == 1 and events[0].detail == {"codes_left": 9}

    # New codes replace the old ones.
    await _code_step(client, recovery_code=codes[4])
    clock.advance(seconds=30)
    fresh = await post_form(
        client, "/account/2fa", {"action": "regenerate", "regen_code": totp_code(clock(), secret)}
    )
    assert fresh.status_code == 200
    new_codes = CODES.findall(fresh.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert "Your old recovery codes no longer work" in fresh.text
    client.cookies.clear()
    await _password_step(client, "Tariq")
    assert (await _code_step(client, recovery_code=codes[5])).status_code == 401
    assert (await _code_step(client, recovery_code=new_codes[0])).status_code == 303


async def test_wrong_codes_are_throttled_and_a_right_password_does_not_reset_that(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Guessed", PASSWORD)
    secret, _codes = await _enrol_through_pages(client, clock)
    client.cookies.clear()
    for _ in range(throttle.FREE_FAILURES):
        await _password_step(client, "Guessed")  # the attacker knows the password
        assert (await _code_step(client, code="000000")).status_code == 401
    await _password_step(client, "Guessed")
    # Even the right code (the next one, not yet used) is refused while blocked.
    blocked = await _code_step(client, code=totp_code(clock() + timedelta(seconds=30), secret))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many attempts" in blocked.text
    assert "2fa.locked" in [e.action for e in await _actions(app)]
    clock.advance(seconds=throttle.MAX_DELAY.total_seconds() + 1)
    await _password_step(client, "Guessed")
    assert (await _code_step(client, code=totp_code(clock(), secret))).status_code == 303


# --- Roles that need it -------------------------------------------------------------------


async def test_roles_that_need_it_are_sent_to_set_it_up_and_members_are_not(
    client: httpx.AsyncClient, app: Any, sessions: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Member Only", PASSWORD)
    assert (await client.get("/account")).status_code == 200
    assert (await client.get("/find")).status_code == 200

    people: dict[str, dict[str, object]] = {
        "An Admin": {"is_admin": True},
        "A Pro": {"professional_status": "verified", "professional_role": "GP"},
        "An Organiser": {},
        "A Moderator": {},
    }
    group = await add_group(sessions, "Gate Group")
    for name, flags in people.items():
        async with other(client) as c:
            await sign_up(c, name, PASSWORD)
            user = await _set(app, name, **flags)
            async with sessions() as db, db.begin():
                if name == "An Organiser":
                    db.add(
                        OrganisationOrganiser(
                            organisation_id=group.organisation_id, user_id=user.id
                        )
                    )
                if name == "A Moderator":
                    db.add(GroupMember(group_id=group.id, user_id=user.id, role="moderator"))
            for path in ("/admin", "/account", f"/organise/groups/{group.id}", "/referrals"):
                r = await c.get(path + "?x=1")
                assert r.status_code == 303, (name, path)
                assert r.headers["location"] == "/account/2fa?next=" + (path + "?x=1").replace(
                    "/", "%2F"
                ).replace("?", "%3F").replace("=", "%3D")
            posted = await post_form(c, "/account", {"action": "email", "email": ""})
            assert posted.status_code == 303 and posted.headers["location"] == "/account/2fa"
            api = await c.get("/api/realtime")
            assert api.status_code == 403 and api.json()["enrol"] == "/account/2fa"
            # Still reachable: the crisis route, their sessions, sign-out, and set-up.
            for path in ("/crisis", "/", "/account/sessions", "/api/me"):
                assert (await c.get(path)).status_code == 200, (name, path)
            page = await c.get("/account/2fa?next=%2Fadmin")
            assert "You need to set this up to carry on" in page.text
            assert 'name="next" value="/admin"' in page.text
            secret = _key(page.text)
            done = await post_form(
                c,
                "/account/2fa",
                {
                    "action": "confirm",
                    "code": totp_code(clock(), secret),
                    "password": PASSWORD,
                    "next": "/admin",
                },
            )
            assert 'href="/admin"' in done.text
            assert (await c.get("/account")).status_code == 200
            assert (await c.get("/account/2fa")).text.count("stays on") == 1
            # And it cannot be turned off.
            clock.advance(seconds=30)
            off = await post_form(
                c,
                "/account/2fa",
                {
                    "action": "disable",
                    "off_password": PASSWORD,
                    "off_code": totp_code(clock(), secret),
                },
            )
            assert off.status_code == 403
            async with sessions() as db:
                assert await twofactor.is_enrolled(db, user.id)


async def test_a_member_turns_it_off_with_password_and_code(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Quitter", PASSWORD)
    secret, codes = await _enrol_through_pages(client, clock)
    page = await client.get("/account/2fa")
    assert "Turn it off" in page.text
    clock.advance(seconds=30)
    no_pw = await post_form(
        client,
        "/account/2fa",
        {"action": "disable", "off_password": "", "off_code": totp_code(clock(), secret)},
    )
    assert no_pw.status_code == 422 and 'id="off_password-error"' in no_pw.text
    off = await post_form(
        client,
        "/account/2fa",
        {"action": "disable", "off_password": PASSWORD, "off_code": codes[0]},
    )
    assert off.status_code == 303
    user = await _user(app, "Quitter")
    async with app.state.ctx.sessions() as db:
        assert await db.get(TwoFactor, user.id) is None
        assert await db.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert "2fa.disabled" in [e.action for e in await _actions(app)]
    client.cookies.clear()
    back = await _password_step(client, "Quitter")
    # No code asked any more: straight to a member's landing page, "Your groups".
    assert back.headers["location"] == "/account/groups"


async def test_moving_to_a_new_phone_keeps_the_old_one_until_the_new_one_works(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Mover", PASSWORD)
    old, _codes = await _enrol_through_pages(client, clock)
    clock.advance(seconds=30)
    started = await post_form(
        client, "/account/2fa", {"action": "move", "move_code": totp_code(clock(), old)}
    )
    assert started.status_code == 303
    page = await client.get("/account/2fa")
    assert "Moving to a new phone" in page.text
    new = _key(page.text)
    assert new != old
    done = await post_form(
        client,
        "/account/2fa",
        {"action": "confirm", "code": totp_code(clock(), new), "password": PASSWORD},
    )
    assert done.status_code == 200 and len(CODES.findall(done.text)) == 10
    client.cookies.clear()
    clock.advance(seconds=30)
    await _password_step(client, "Mover")
    assert (await _code_step(client, code=totp_code(clock(), old))).status_code == 401
    assert (await _code_step(client, code=totp_code(clock(), new))).status_code == 303


async def test_an_admin_resets_it_for_someone_who_lost_everything(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Lost Phone", PASSWORD)
    await _enrol_through_pages(client, clock)
    lost = await _user(app, "Lost Phone")
    async with other(client) as admin:
        await sign_up(admin, "Helper Admin", PASSWORD)
        helper = await _set(app, "Helper Admin", is_admin=True)
        await enrol_2fa(app, helper.id)
        found = await admin.get("/admin?q=lost")
        assert "Reset two-step sign-in" in found.text
        r = await post_form(admin, "/admin", {"user_id": lost.id, "action": "reset_2fa"})
        assert r.status_code == 303
    assert (await client.get("/api/me")).status_code == 401  # their sessions ended
    async with app.state.ctx.sessions() as db:
        assert await db.get(TwoFactor, lost.id) is None
    reset = [e for e in await _actions(app) if e.action == "2fa.reset"]
    assert len(reset) == 1 and reset[0].actor_id == helper.id
    # No code asked any more: straight to a member's landing page, "Your groups".
    back = await _password_step(client, "Lost Phone")
    assert back.headers["location"] == "/account/groups"


async def test_secrets_and_codes_never_reach_the_logs_or_the_audit_trail(
    client: httpx.AsyncClient, app: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    logs.quiet_third_party()  # production's logging set-up, at its most talkative level
    caplog.set_level(logging.DEBUG)
    await sign_up(client, "Private", PASSWORD)
    secret, codes = await _enrol_through_pages(client, clock)
    client.cookies.clear()
    await _password_step(client, "Private")
    pending = client.cookies.get("peerhub_2fa")
    clock.advance(seconds=30)
    code = totp_code(clock(), secret)
    await _code_step(client, code=code)
    client.cookies.clear()
    await _password_step(client, "Private")
    await _code_step(client, recovery_code=codes[0])
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    audit_text = " ".join(repr((e.action, e.detail)) for e in await _actions(app))
    for needle in (secret, totp.grouped(secret), code, *codes, str(pending)):
        assert needle not in logged
        assert needle not in audit_text
    async with app.state.ctx.sessions() as db:
        row = await db.get(TwoFactor, (await _user(app, "Private")).id)
    assert secret not in repr(row)


async def test_a_sign_in_of_someone_given_a_role_mid_sign_in_is_gated_at_once(
    client: httpx.AsyncClient, app: Any, sessions: Any
) -> None:
    await sign_up(client, "Soon Mod", PASSWORD)
    group = await add_group(sessions, "Mid Group")
    assert (await client.get("/account")).status_code == 200
    user = await _user(app, "Soon Mod")
    async with sessions() as db, db.begin():
        db.add(GroupMember(group_id=group.id, user_id=user.id, role="moderator"))
    assert (await client.get("/account")).status_code == 303
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(SignIn)) == 1
    assert TEST_TOTP_SECRET  # the shared test key is what enrol_2fa uses
    await enrol_2fa(sessions, user.id)
    assert (await client.get("/account")).status_code == 200
