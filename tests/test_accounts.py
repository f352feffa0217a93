"""Sign-up, sign-in, sign-out, sessions and the throttle, over HTTP, on both databases."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from peerhub.models import AuditEvent, SignIn, User
from peerhub.security import throttle
from tests.conftest import BASE, FakeClock, csrf_token, enrol_2fa, post_form, sign_up


async def _user(app: Any, pseudonym: str) -> User:
    async with app.state.ctx.sessions() as db:
        user: User | None = await db.scalar(select(User).where(User.pseudonym == pseudonym))
    assert user is not None
    return user


async def test_signup_needs_only_a_pseudonym_and_password(
    client: httpx.AsyncClient, app: Any
) -> None:
    response = await sign_up(client, "River")
    # First the offer of recovery words (tests/test_recovery.py), then the account.
    assert response.headers["location"] == "/account/recovery?welcome=1"
    assert "peerhub_session=" in response.headers["set-cookie"]
    account = await client.get("/account")
    assert account.status_code == 200
    assert "River" in account.text
    user = await _user(app, "River")
    assert user.email is None
    assert user.password_hash.startswith("$argon2id$")
    me = (await client.get("/api/me")).json()
    assert me["pseudonym"] == "River" and me["professional_status"] == "none"


async def test_signup_rejects_bad_input_with_field_errors(client: httpx.AsyncClient) -> None:
    cases = [
        ({"pseudonym": "x", "password": "a long test password"}, "pseudonym"),
        ({"pseudonym": "Valid Name", "password": "short"}, "password"),
        ({"pseudonym": "Valid Name", "password": "password123"}, "password"),
        ({"pseudonym": "Valid Name", "password": "a" * 1025}, "password"),
        ({"pseudonym": "Valid Name", "password": "a long test password", "email": "nope"}, "email"),
    ]
    for data, field in cases:
        response = await post_form(client, "/signup", data)
        assert response.status_code == 422, data
        assert f'id="{field}-error"' in response.text
        assert 'aria-invalid="true"' in response.text
    assert (await client.get("/api/me")).status_code == 401


async def test_pseudonyms_are_unique_ignoring_case(client: httpx.AsyncClient) -> None:
    await sign_up(client, "Amani")
    client.cookies.clear()
    response = await post_form(
        client, "/signup", {"pseudonym": "aMANI", "password": "another long password"}
    )
    assert response.status_code == 422
    assert "taken" in response.text


async def test_login_logout_and_sign_in_replay_refused(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Kasia", "correct horse battery staple")
    client.cookies.clear()
    bad = await post_form(
        client, "/login", {"pseudonym": "Kasia", "password": "wrong horse battery staple"}
    )
    assert bad.status_code == 401
    ok = await post_form(
        client, "/login", {"pseudonym": "kasia", "password": "correct horse battery staple"}
    )
    assert ok.status_code == 303
    saved = dict(client.cookies)
    assert (await client.get("/api/me")).status_code == 200

    token = (await client.get("/api/me")).json()["csrf_token"]
    out = await client.post("/logout", data={"csrf_token": token}, headers={"Origin": BASE})
    assert out.status_code == 303
    assert "Clear-Site-Data" in out.headers
    assert "Max-Age=0" in out.headers["set-cookie"]

    # Replaying the old cookie after sign-out gets nothing.
    replay = httpx.AsyncClient(transport=client._transport, base_url=BASE, cookies=saved)
    async with replay:
        assert (await replay.get("/api/me")).status_code == 401
        page = await replay.get("/account")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_logout_ends_every_sign_in(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Dylan", "correct horse battery staple")
    other = httpx.AsyncClient(transport=client._transport, base_url=BASE)
    async with other:
        await post_form(
            other, "/login", {"pseudonym": "Dylan", "password": "correct horse battery staple"}
        )
        assert (await other.get("/api/me")).status_code == 200
        token = (await client.get("/api/me")).json()["csrf_token"]
        await client.post("/logout", data={"csrf_token": token}, headers={"Origin": BASE})
        assert (await other.get("/api/me")).status_code == 401
    async with app.state.ctx.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(SignIn)) == 0


async def test_sign_in_token_rotates_at_login_and_only_hash_is_stored(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Sam", "correct horse battery staple")
    first = client.cookies["peerhub_session"]
    await post_form(
        client, "/login", {"pseudonym": "Sam", "password": "correct horse battery staple"}
    )
    second = client.cookies["peerhub_session"]
    assert first != second
    async with app.state.ctx.sessions() as db:
        hashes = set((await db.scalars(select(SignIn.token_hash))).all())
    assert hashlib.sha256(second.encode()).hexdigest() in hashes
    assert second not in hashes and first not in hashes
    # The pre-login session was ended, not left behind.
    assert hashlib.sha256(first.encode()).hexdigest() not in hashes


async def test_unknown_account_gets_the_same_answer_as_a_wrong_password(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "Known Person", "correct horse battery staple")
    client.cookies.clear()
    calls: list[str] = []
    original = PasswordHasher.verify

    def spy(self: PasswordHasher, stored: str, password: str) -> bool:
        calls.append(stored)
        return original(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    token = await csrf_token(client, "/login")
    wrong = await post_form(
        client, "/login", {"pseudonym": "Known Person", "password": "not the password"}, token=token
    )
    unknown = await post_form(
        client, "/login", {"pseudonym": "Nobody Here", "password": "not the password"}, token=token
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("Known Person", "X") == unknown.text.replace("Nobody Here", "X")
    # Both paths verified exactly one argon2 hash: the same work, so similar time.
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)


async def test_throttle_slows_an_attacker_but_never_locks_out_for_good(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "Target", "correct horse battery staple")
    client.cookies.clear()
    token = await csrf_token(client, "/login")
    for _ in range(throttle.FREE_FAILURES):
        r = await post_form(
            client, "/login", {"pseudonym": "target", "password": "guess guess"}, token=token
        )
        assert r.status_code == 401
    blocked = await post_form(
        client,
        "/login",
        {"pseudonym": "Target", "password": "correct horse battery staple"},
        token=token,
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many attempts" in blocked.text
    # The cap on the delay means the owner always gets back in.
    clock.advance(seconds=throttle.MAX_DELAY.total_seconds() + 1)
    ok = await post_form(
        client,
        "/login",
        {"pseudonym": "Target", "password": "correct horse battery staple"},
        token=token,
    )
    assert ok.status_code == 303
    async with app.state.ctx.sessions() as db:
        actions = set((await db.scalars(select(AuditEvent.action))).all())
    assert {"login.failed", "login.locked", "login.throttled", "login.succeeded"} <= actions


async def test_throttle_delay_doubles_and_is_capped(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = await csrf_token(client, "/login")
    delays = []
    for _ in range(12):
        r = await post_form(
            client, "/login", {"pseudonym": "ghost", "password": "guess guess"}, token=token
        )
        if r.status_code == 429:
            delays.append(int(r.headers["retry-after"]))
            clock.advance(seconds=delays[-1])
            continue
        assert r.status_code == 401
    assert delays, "the throttle never engaged"
    assert max(delays) <= throttle.MAX_DELAY.total_seconds()
    assert delays == sorted(delays)


async def test_address_throttle_stops_spraying_many_accounts(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS_LIMIT", 4)
    token = await csrf_token(client, "/login")
    statuses = []
    for i in range(6):
        r = await post_form(
            client, "/login", {"pseudonym": f"victim{i}", "password": "guess guess"}, token=token
        )
        statuses.append(r.status_code)
    assert statuses[:4] == [401] * 4
    assert statuses[4:] == [429, 429]


async def test_spoofed_forwarded_for_does_not_change_the_address(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS_LIMIT", 3)
    token = await csrf_token(client, "/login")
    statuses = []
    for i in range(4):
        form = {"pseudonym": f"someone{i}", "password": "guess guess", "csrf_token": token}
        r = await client.post(
            "/login", data=form, headers={"Origin": BASE, "X-Forwarded-For": f"198.51.100.{i}"}
        )
        statuses.append(r.status_code)
    assert statuses[-1] == 429


async def test_rehash_on_login_when_parameters_change(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Old Hash", "correct horse battery staple")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with app.state.ctx.sessions() as db, db.begin():
        user = await db.scalar(select(User).where(User.pseudonym == "Old Hash"))
        assert user is not None
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(
            "correct horse battery staple"
        )
        old = user.password_hash
    client.cookies.clear()
    ok = await post_form(
        client, "/login", {"pseudonym": "Old Hash", "password": "correct horse battery staple"}
    )
    assert ok.status_code == 303
    user = await _user(app, "Old Hash")
    assert user.password_hash != old
    assert not weak.check_needs_rehash(user.password_hash)


async def test_disabled_account_loses_every_sign_in_and_cannot_sign_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Admin One", "correct horse battery staple")
    async with app.state.ctx.sessions() as db, db.begin():
        admin = await db.scalar(select(User).where(User.pseudonym == "Admin One"))
        assert admin is not None
        admin.is_admin = True
    await enrol_2fa(app, admin.id)
    other = httpx.AsyncClient(transport=client._transport, base_url=BASE)
    async with other:
        await sign_up(other, "Troubled", "another long password")
        assert (await other.get("/api/me")).status_code == 200
        target = await _user(app, "Troubled")
        r = await post_form(client, "/admin", {"user_id": target.id, "action": "disable"})
        assert r.status_code == 303
        assert (await other.get("/api/me")).status_code == 401
        other.cookies.clear()
        again = await post_form(
            other, "/login", {"pseudonym": "Troubled", "password": "another long password"}
        )
        assert again.status_code == 401


async def test_idle_and_absolute_timeouts(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    settings = app.state.ctx.settings
    await sign_up(client, "Sleepy", "correct horse battery staple")
    clock.advance(seconds=settings.sign_in_idle_timeout - 10)
    assert (await client.get("/api/me")).status_code == 200
    clock.advance(seconds=settings.sign_in_idle_timeout + 1)
    assert (await client.get("/api/me")).status_code == 401

    await post_form(
        client, "/login", {"pseudonym": "Sleepy", "password": "correct horse battery staple"}
    )
    steps = settings.sign_in_absolute_timeout // (settings.sign_in_idle_timeout // 2) + 1
    for _ in range(steps):
        clock.advance(seconds=settings.sign_in_idle_timeout // 2)
        if (await client.get("/api/me")).status_code == 401:
            break
    else:
        pytest.fail("a session stayed alive past the absolute time-out")


async def test_admin_page_is_for_admins_only(client: httpx.AsyncClient) -> None:
    anon = await client.get("/admin")
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    await sign_up(client, "Regular", "correct horse battery staple")
    assert (await client.get("/admin")).status_code == 403
    r = await post_form(client, "/admin", {"user_id": "x", "action": "disable"})
    assert r.status_code == 403


async def test_professional_verification_by_admin(client: httpx.AsyncClient, app: Any) -> None:
    await sign_up(client, "Dr Jones", "correct horse battery staple")
    # Not before they ask: the role brings two-step sign-in, so it is theirs to ask for.
    async with httpx.AsyncClient(transport=client._transport, base_url=BASE) as early:
        await sign_up(early, "Early Admin", "another long password")
        async with app.state.ctx.sessions() as db, db.begin():
            a = await db.scalar(select(User).where(User.pseudonym == "Early Admin"))
            assert a is not None
            a.is_admin = True
        await enrol_2fa(app, a.id)
        jones = await _user(app, "Dr Jones")
        r = await post_form(early, "/admin", {"user_id": jones.id, "action": "verify"})
        assert r.status_code == 422 and "has not asked" in r.text
        assert (await _user(app, "Dr Jones")).professional_status == "none"
    r = await post_form(
        client,
        "/account",
        {"action": "professional", "role": "GP", "organisation": "Example Surgery"},
    )
    assert r.status_code == 303
    assert (await client.get("/api/me")).json()["professional_status"] == "pending"
    pro = await _user(app, "Dr Jones")

    admin = httpx.AsyncClient(transport=client._transport, base_url=BASE)
    async with admin:
        await sign_up(admin, "The Admin", "another long password")
        async with app.state.ctx.sessions() as db, db.begin():
            a = await db.scalar(select(User).where(User.pseudonym == "The Admin"))
            assert a is not None
            a.is_admin = True
        await enrol_2fa(app, a.id)
        page = await admin.get("/admin")
        assert "Dr Jones" in page.text and "Example Surgery" in page.text
        r = await post_form(admin, "/admin", {"user_id": pro.id, "action": "verify"})
        assert r.status_code == 303
        missing = await post_form(admin, "/admin", {"user_id": "no-such-id", "action": "verify"})
        assert missing.status_code == 404
    assert (await client.get("/api/me")).json()["professional_status"] == "verified"


async def test_safe_next_refuses_open_redirects(client: httpx.AsyncClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = await csrf_token(client, "/signup")
        r = await client.post(
            "/signup",
            headers={"Origin": BASE},
            data={
                "pseudonym": f"User{abs(hash(target)) % 10000}",
                "password": "a long test password",
                "csrf_token": token,
                "next": target,
            },
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/account/recovery?welcome=1"
        client.cookies.clear()


async def test_people_see_their_sign_ins_and_end_any_of_them(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Two Devices", "correct horse battery staple")
    phone = httpx.AsyncClient(
        transport=client._transport,
        base_url=BASE,
        headers={
            "User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile"
        },
    )
    async with phone:
        await post_form(
            phone,
            "/login",
            {"pseudonym": "Two Devices", "password": "correct horse battery staple"},
        )
        page = await client.get("/account/sessions")
        assert page.status_code == 200
        assert "Chrome on Android" in page.text and "(this device)" in page.text
        async with app.state.ctx.sessions() as db:
            rows = (await db.scalars(select(SignIn))).all()
        me = (await client.get("/api/me")).json()["id"]
        phone_id = next(r.id for r in rows if "Android" in r.user_agent)
        assert all(r.user_id == me for r in rows)
        r = await post_form(client, "/account/sessions", {"session_id": phone_id})
        assert r.status_code == 303
        assert (await phone.get("/api/me")).status_code == 401
        assert (await client.get("/api/me")).status_code == 200
        # Someone else's session id (or a made-up one) ends nothing.
        other = httpx.AsyncClient(transport=client._transport, base_url=BASE)
        async with other:
            await sign_up(other, "Someone Else", "another long password")
            mine = (await client.get("/api/me")).json()
            async with app.state.ctx.sessions() as db:
                victim = next(
                    r.id
                    for r in (await db.scalars(select(SignIn))).all()
                    if r.user_id != mine["id"]
                )
            r = await post_form(client, "/account/sessions", {"session_id": victim})
            assert r.status_code == 404
            assert (await other.get("/api/me")).status_code == 200
