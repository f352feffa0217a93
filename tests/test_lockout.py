"""Nobody can lock a named person out: strangers' wrong passwords slow the strangers,
not the owner on a phone or computer they have signed in on before (known devices).
Over HTTP, on both databases."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from peerhub.models import AuditEvent, LoginThrottle, User
from peerhub.security import devices, throttle
from peerhub.security.models import KnownDevice
from peerhub.security.tokens import digest
from tests.conftest import BASE, FakeClock, csrf_token, make_settings, post_form, sign_up

PASSWORD = "a calm walk by the river"
PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile"


@contextlib.asynccontextmanager
async def device(
    app: Any, address: str, user_agent: str = "Mozilla/5.0 (X11; Linux) Firefox/128.0"
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies) at ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 50123))
    headers = {"User-Agent": user_agent}
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as c:
        yield c


async def sign_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await post_form(client, "/login", {"pseudonym": name, "password": password})


async def strangers_guess(app: Any, name: str, addresses: int, each: int) -> list[int]:
    """Strangers at ``addresses`` addresses each send ``each`` wrong passwords."""
    statuses: list[int] = []
    for i in range(addresses):
        async with device(app, f"198.51.100.{i + 10}") as stranger:
            token = await csrf_token(stranger, "/login")
            for j in range(each):
                r = await post_form(
                    stranger, "/login", {"pseudonym": name, "password": f"guess {j}"}, token=token
                )
                statuses.append(r.status_code)
    return statuses


@contextlib.asynccontextmanager
async def usual_phone(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The owner signs up on a laptop, then signs in (and out) on their phone."""
    async with device(app, "203.0.113.20") as laptop:
        await sign_up(laptop, "Moderator Mo", PASSWORD)
    async with device(app, "203.0.113.21", PHONE) as phone:
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303
        assert (await post_form(phone, "/logout", {})).status_code == 303
        yield phone


async def test_strangers_wrong_passwords_do_not_keep_the_owner_out_of_their_usual_device(
    app: Any,
) -> None:
    async with usual_phone(app) as phone:
        # Strangers at six addresses try forty wrong passwords: far past the five free
        # ones per address, and past the account-wide counter's twenty.
        statuses = await strangers_guess(app, "moderator mo", addresses=6, each=7)
        assert statuses.count(429) > 0 and 401 in statuses
        # A new device is held back by the account-wide counter, and told why...
        async with device(app, "192.0.2.50") as borrowed:
            held = await sign_in(borrowed, "Moderator Mo", PASSWORD)
        assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
        assert "The phone or computer you usually sign in on can still sign in" in held.text
        # ...but the owner's usual phone is not: the right password signs them in.
        ok = await sign_in(phone, "Moderator Mo", PASSWORD)
        assert ok.status_code == 303, ok.text
        assert (await phone.get("/api/me")).json()["pseudonym"] == "Moderator Mo"
    async with app.state.ctx.sessions() as db:
        success = (
            await db.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "login.succeeded")
                .order_by(AuditEvent.id.desc())
            )
        ).first()
    assert success is not None and success.detail == {"known_device": True}


async def test_a_stranger_at_one_address_holds_back_only_that_address(app: Any) -> None:
    async with device(app, "203.0.113.20") as laptop:
        await sign_up(laptop, "Moderator Mo", PASSWORD)
    statuses = await strangers_guess(app, "Moderator Mo", addresses=1, each=12)
    assert statuses[: throttle.FREE_FAILURES] == [401] * throttle.FREE_FAILURES
    assert set(statuses[throttle.FREE_FAILURES :]) == {429}
    # The right password from that address waits too: the counter cannot tell who it is.
    async with device(app, "198.51.100.10") as same_place:
        assert (await sign_in(same_place, "Moderator Mo", PASSWORD)).status_code == 429
    # From anywhere else, even a device never used before, the owner signs in at once.
    async with device(app, "192.0.2.50") as library:
        assert (await sign_in(library, "Moderator Mo", PASSWORD)).status_code == 303


async def test_a_wrong_password_from_a_known_device_is_still_counted(
    app: Any, clock: FakeClock
) -> None:
    async with usual_phone(app) as phone:
        for _ in range(throttle.FREE_FAILURES):
            assert (await sign_in(phone, "Moderator Mo", "not my password")).status_code == 401
        blocked = await sign_in(phone, "Moderator Mo", PASSWORD)
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        # The owner's own mistakes say nothing about strangers guessing.
        assert "usually sign in on" not in blocked.text
        async with app.state.ctx.sessions() as db:
            rows = {r.key: r for r in await db.scalars(select(LoginThrottle))}
        # Counted on the device's own counter, not on the account's, which is the
        # strangers' (the phone's first sign-in, from an unknown device, gave its
        # attempt back there).
        mine = [r for k, r in rows.items() if k.startswith("dev:")]
        assert len(mine) == 1 and mine[0].score == pytest.approx(throttle.FREE_FAILURES)
        assert rows[throttle.account_key("moderator mo")].score == pytest.approx(0)
        clock.advance(seconds=int(blocked.headers["retry-after"]))
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303


async def test_unknown_names_are_answered_like_wrong_passwords_even_with_a_device_cookie(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser known to one account gets the same answer, after the same work, for a
    name nobody has as for another account's wrong password."""
    async with device(app, "203.0.113.20") as laptop:
        await sign_up(laptop, "Someone Else", "another long password")
    calls: list[str] = []
    original = PasswordHasher.verify

    def spy(self: PasswordHasher, stored: str, password: str) -> bool:
        calls.append(stored)
        return original(self, stored, password)

    async with usual_phone(app) as phone:
        monkeypatch.setattr(PasswordHasher, "verify", spy)
        token = await csrf_token(phone, "/login")
        wrong = await post_form(
            phone, "/login", {"pseudonym": "Someone Else", "password": "nope nope"}, token=token
        )
        unknown = await post_form(
            phone, "/login", {"pseudonym": "Nobody Here", "password": "nope nope"}, token=token
        )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("Someone Else", "X") == unknown.text.replace("Nobody Here", "X")
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)
    assert "set-cookie" not in wrong.headers or "peerhub_device" not in wrong.headers["set-cookie"]


async def test_only_a_hash_of_the_device_token_is_stored_and_the_cookie_is_signed(
    app: Any, tmp_path: Any, db_url: str
) -> None:
    async with device(app, "203.0.113.20") as laptop:
        joined = await sign_up(laptop, "Moderator Mo", PASSWORD)
        cookie = next(c for c in joined.headers.get_list("set-cookie") if "peerhub_device=" in c)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
        assert f"Max-Age={int(devices.LIFETIME.total_seconds())}" in cookie
        value = laptop.cookies.get("peerhub_device")
        assert value
    settings = app.state.ctx.settings
    tokens = devices.tokens_in(settings.secret_key, value)
    assert len(tokens) == 1
    async with app.state.ctx.sessions() as db:
        rows = list(await db.scalars(select(KnownDevice)))
    assert [r.token_hash for r in rows] == [digest(tokens[0])]
    assert all(
        tokens[0] not in str(getattr(r, c.key)) for r in rows for c in KnownDevice.__table__.c
    )
    # A token with a wrong signature is not even looked up.
    forged = tokens[0] + "." + "0" * 32
    assert devices.tokens_in(settings.secret_key, forged) == []
    # Behind HTTPS the cookie is __Host- prefixed and Secure.
    secure = make_settings(db_url, tmp_path, base_url="https://peerhub.example")
    assert devices.cookie_name(secure) == "__Host-peerhub_device"


async def test_known_devices_are_listed_forgotten_and_end_with_a_new_password(
    app: Any,
) -> None:
    async with usual_phone(app) as phone:
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303
        page = await phone.get("/account/sessions")
        assert "Phones and computers PeerHub remembers" in page.text
        assert page.text.count("Forget this one") == 2  # the laptop and the phone
        assert "Chrome on Android</strong> (this device)" in page.text
        async with app.state.ctx.sessions() as db:
            user = await db.scalar(select(User).where(User.pseudonym == "Moderator Mo"))
            assert user is not None
            rows = list(await db.scalars(select(KnownDevice).order_by(KnownDevice.created_at)))
        laptop_id, phone_id = rows[0].id, rows[1].id
        # Another person's device id forgets nothing.
        async with device(app, "192.0.2.60") as other:
            await sign_up(other, "Other Person", "another long password")
            r = await post_form(
                other, "/account/sessions", {"action": "forget_device", "device_id": phone_id}
            )
            assert r.status_code == 404
        r = await post_form(
            phone, "/account/sessions", {"action": "forget_device", "device_id": laptop_id}
        )
        assert r.status_code == 303 and r.headers["location"] == "/account/sessions?forgotten=1"
        async with app.state.ctx.sessions() as db:
            assert [d.id for d in await db.scalars(select(KnownDevice).where(
                KnownDevice.user_id == user.id))] == [phone_id]  # fmt: skip
            actions = list(await db.scalars(select(AuditEvent.action)))
        assert "device.remembered" in actions and "device.forgotten" in actions

        # A new password (changed, reset or recovered) makes every device unknown again.
        async with app.state.ctx.sessions() as db, db.begin():
            me = await db.get(User, user.id)
            assert me is not None
            me.password_hash = await app.state.ctx.passwords.hash("a brand new password")
        await strangers_guess(app, "moderator mo", addresses=6, each=7)
        held = await sign_in(phone, "Moderator Mo", "a brand new password")
        assert held.status_code == 429
        assert "Phones and computers" in (await phone.get("/account/sessions")).text
        assert "Forget this one" not in (await phone.get("/account/sessions")).text


async def test_one_browser_remembers_a_few_accounts(app: Any) -> None:
    """A shared family computer: each account signed in there stays known to it."""
    async with device(app, "203.0.113.30") as shared:
        for name in ("Ana", "Ben", "Cai"):
            await sign_up(shared, name, f"{name} has a long password")
            await post_form(shared, "/logout", {})
        value = shared.cookies.get("peerhub_device")
        assert len(devices.tokens_in(app.state.ctx.settings.secret_key, value)) == 3
        await strangers_guess(app, "ana", addresses=6, each=7)
        assert (await sign_in(shared, "Ana", "Ana has a long password")).status_code == 303


async def test_a_rehashed_password_keeps_its_devices_known(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New hashing parameters give the same password a new hash at the next sign-in; the
    devices remembered under the old hash stay known (only a new password forgets them)."""
    async with usual_phone(app) as phone:
        async with app.state.ctx.sessions() as db:
            before = await db.scalar(select(User.password_hash))
        passwords = app.state.ctx.passwords
        monkeypatch.setattr(passwords, "needs_rehash", lambda stored: True)
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303
        monkeypatch.undo()
        async with app.state.ctx.sessions() as db:
            after = await db.scalar(select(User.password_hash))
            marks = set(await db.scalars(select(KnownDevice.password_mark)))
        assert after != before and marks == {digest(after or "")}
        await strangers_guess(app, "moderator mo", addresses=6, each=7)
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303


# --- The ways back in and the password typed again (security review, items 2 and 5) ---------


async def strangers_recover(app: Any, name: str, addresses: int, each: int) -> list[int]:
    """Strangers at ``addresses`` addresses each try ``each`` wrong sets of recovery words."""
    statuses: list[int] = []
    for i in range(addresses):
        async with device(app, f"198.51.100.{i + 10}") as stranger:
            token = await csrf_token(stranger, "/recover")
            for _ in range(each):
                r = await post_form(
                    stranger, "/recover", {"pseudonym": name, "words": "apple " * 6}, token=token
                )
                statuses.append(r.status_code)
    return statuses


async def test_strangers_cannot_stop_the_owner_changing_their_password(
    app: Any, clock: FakeClock
) -> None:
    """Wrong recovery words for the owner's name, from one address and from many, fill
    the name's recovery counters; the owner, signed in, still changes their password,
    makes new recovery words and adds an e-mail address (typing the password again
    counts on their own device or session, which no stranger can move)."""
    async with usual_phone(app) as phone:
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303
        statuses = await strangers_recover(app, "Moderator Mo", addresses=8, each=6)
        assert 429 in statuses  # the strangers are held back...
        for attempt in range(3):  # ...for as long as they keep going
            clock.advance(minutes=7)
            await strangers_recover(app, "Moderator Mo", addresses=8, each=2)
            words = await post_form(phone, "/account/recovery", {"password": PASSWORD})
            assert words.status_code == 200, (attempt, words.status_code)
        email = await post_form(
            phone,
            "/account",
            {"action": "email", "email": "mo@example.org", "email_password": PASSWORD},
        )
        assert email.status_code == 303
        changed = await post_form(
            phone,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "a new calm walk",
                "confirm_password": "a new calm walk",
            },
        )
        assert changed.status_code == 303, changed.text[:300]
    async with device(app, "203.0.113.40") as browser:
        # A signed-in browser that is not a known device counts on its session's counter.
        await sign_up(browser, "Second Person", PASSWORD)
        await strangers_recover(app, "Second Person", addresses=8, each=6)
        r = await post_form(browser, "/account/recovery", {"password": PASSWORD})
        assert r.status_code == 200


async def test_the_owners_usual_device_can_recover_while_strangers_hold_the_name(
    app: Any,
) -> None:
    """Strangers from many addresses fill the name's account-wide recovery counter; the
    owner's usual phone (a known device) still recovers with the words, as it could
    still sign in."""
    async with device(app, "203.0.113.20") as laptop:
        await sign_up(laptop, "Moderator Mo", PASSWORD)
        made = await post_form(laptop, "/account/recovery", {})
        word = r'Word \d+: </span><span lang="en" translate="no">([a-z]+)</span>'
        words = " ".join(re.findall(word, made.text))
        assert len(words.split()) == 6
        await post_form(laptop, "/logout", {})
        await strangers_recover(app, "Moderator Mo", addresses=12, each=5)
        async with device(app, "192.0.2.99") as new_phone:
            held = await post_form(
                new_phone, "/recover", {"pseudonym": "Moderator Mo", "words": words}
            )
            assert held.status_code == 429
            assert "usual" in held.text  # told their usual device can still do it
        proved = await post_form(laptop, "/recover", {"pseudonym": "Moderator Mo", "words": words})
        assert proved.status_code == 303 and proved.headers["location"] == "/recover/password"


async def test_changing_the_password_keeps_this_browser_a_known_device(app: Any) -> None:
    """The new password forgets the other devices, but not the one it was changed on:
    strangers guessing from many addresses afterwards still cannot keep the owner out."""
    async with usual_phone(app) as phone:
        assert (await sign_in(phone, "Moderator Mo", PASSWORD)).status_code == 303
        changed = await post_form(
            phone,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "a brand new password",
                "confirm_password": "a brand new password",
            },
        )
        assert changed.status_code == 303
        assert devices.cookie_name(app.state.ctx.settings) in changed.headers["set-cookie"]
        async with app.state.ctx.sessions() as db:
            listed = list(await db.scalars(select(KnownDevice)))
        assert len(listed) == 1  # the laptop is forgotten with the old password
        await strangers_guess(app, "moderator mo", addresses=8, each=5)
        await post_form(phone, "/logout", {})
        again = await sign_in(phone, "Moderator Mo", "a brand new password")
        assert again.status_code == 303, again.text[:300]
