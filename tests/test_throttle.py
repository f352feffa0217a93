"""The throttle's counters decay instead of resetting, and bound guessing per day.

The simulations drive the real module (through ``actions.authenticate`` and the
two-step code counter) on both databases, with a fake clock, as the fastest possible
guesser: each next guess is sent the moment the last answer's ``Retry-After`` allows.
They check the bounds that docs/security.md states ("How fast can anyone guess?"), so
the page cannot promise more than the code keeps.
"""

from __future__ import annotations

import asyncio
import math
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.accounts import actions, twofactor
from peerhub.db import transaction
from peerhub.models import LoginThrottle, User
from peerhub.security import throttle
from peerhub.security.passwords import Passwords
from tests.conftest import BASE, REPO, FakeClock, csrf_token, sign_up

DAY = timedelta(hours=24)
SECRET = "test-secret-for-the-simulation"
PASSWORD = "the owner's long password"


def _documented() -> dict[str, tuple[int, int]]:
    """The table of docs/security.md: who is guessing -> (bound, simulation's count)."""
    text = (REPO / "docs" / "security.md").read_text("utf-8")
    rows = re.findall(r"^\| ([a-z][a-z ,()-]+?) \| \*\*(\d+)\*\* \| (\d+) \|$", text, re.M)
    return {who: (int(bound), int(got)) for who, bound, got in rows}


async def _account(sessions: async_sessionmaker[AsyncSession], passwords: Passwords) -> User:
    async with transaction(sessions) as db:
        return await actions.signup(
            db, passwords, FakeClock()(), pseudonym="Moderator Mo", password=PASSWORD
        )


async def _attack(
    sessions: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    clock: FakeClock,
    addresses: list[str],
) -> int:
    """Guess wrong passwords for 24 hours as fast as the answers allow; how many were
    checked (not refused with 429)."""
    end = clock() + DAY
    ready = dict.fromkeys(addresses, clock())
    checked = 0
    while True:
        address = min(ready, key=lambda a: ready[a])
        clock.now = max(clock(), ready[address])
        if clock() >= end:
            return checked
        result = await actions.authenticate(
            sessions,
            passwords,
            clock(),
            pseudonym="moderator mo",
            password=f"guess number {checked}",
            client_ip=address,
            secret_key=SECRET,
        )
        assert result.user is None
        if not result.throttled:
            checked += 1
            continue
        wait = clock() + timedelta(seconds=result.retry_after)
        # Told the account itself is held back: no address may try before then.
        for other in ready if result.account_wide else [address]:
            ready[other] = max(ready[other], wait)


async def test_one_address_gets_no_more_guesses_a_day_than_the_docs_say(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, clock: FakeClock
) -> None:
    await _account(sessions, passwords)
    got = await _attack(sessions, passwords, clock, ["198.51.100.7"])
    bound, documented = _documented()["one address"]
    assert bound == math.floor(throttle.strict_policy().most_failures(DAY))
    # The fastest guesser does reach the cap (one guess every 15 minutes, 96 a day) and
    # no further; the old counter, reset every 15 minutes, let through about 837.
    assert 24 * 60 / 15 <= got <= bound
    assert got == documented


async def test_many_addresses_get_no_more_guesses_a_day_than_the_docs_say(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, clock: FakeClock
) -> None:
    await _account(sessions, passwords)
    addresses = [f"203.0.113.{i}" for i in range(1, 13)]
    got = await _attack(sessions, passwords, clock, addresses)
    bound, documented = _documented()["many addresses"]
    assert bound == math.floor(throttle.account_policy().most_failures(DAY))
    # Spreading over twelve addresses is worth about twice one address, no more.
    assert 2 * 96 <= got <= bound
    assert got == documented


async def test_one_address_alone_never_reaches_the_account_wide_counter(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, clock: FakeClock
) -> None:
    """So a stranger at one address cannot hold the owner back anywhere else."""
    policy = throttle.strict_policy()
    assert 1 / (1 - 2 ** (-policy.cap / policy.half_life)) < throttle.ACCOUNT_FREE
    await _account(sessions, passwords)
    await _attack(sessions, passwords, clock, ["198.51.100.7"])
    async with sessions() as db:
        row = await db.get(LoginThrottle, throttle.account_key("moderator mo"))
    assert row is not None and row.blocked_until is None


async def test_two_step_codes_get_no_more_guesses_a_day_than_the_docs_say(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, clock: FakeClock
) -> None:
    """Someone who has the password guesses codes as fast as the second step allows."""
    user = await _account(sessions, passwords)
    end = clock() + DAY
    checked = 0
    while clock() < end:
        async with transaction(sessions) as db:
            held = await twofactor.reserve_attempt(db, user.id, "198.51.100.7", clock())
            if held.allowed:
                await twofactor.settle_attempt(
                    db, held, user.id, "198.51.100.7", clock(), ok=False, where="login"
                )
        if held.allowed:
            checked += 1
        else:
            clock.advance(seconds=held.verdict.retry_after)
    bound, documented = _documented()["two-step codes"]
    assert bound == math.floor(throttle.strict_policy().most_failures(DAY))
    assert 96 <= checked <= bound
    assert checked == documented


async def test_failures_decay_instead_of_resetting(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    key = throttle.second_factor_key("someone")
    address = throttle.address_key("198.51.100.7")
    async with transaction(sessions) as db:
        for _ in range(throttle.FREE_FAILURES):
            assert (await throttle.reserve(db, [key, address], clock())).allowed
        first = await throttle.check(db, [key, address], clock())
    assert not first.allowed and first.retry_after == 30
    # Fifteen minutes later the old counter started again from zero, with five free
    # tries; now the five failures are still there, a little faded, and the next one
    # brings a longer delay at once.
    clock.advance(minutes=15)
    async with transaction(sessions) as db:
        assert (await throttle.check(db, [key, address], clock())).allowed
        assert (await throttle.reserve(db, [key, address], clock())).blocked
        verdict = await throttle.check(db, [key, address], clock())
        row = await db.get(LoginThrottle, key)
    assert not verdict.allowed and 30 < verdict.retry_after <= 60
    assert row is not None
    assert row.score == pytest.approx(5 * 2 ** (-15 / 120) + 1)
    # Two half-lives (4 hours) later, three quarters of the count have gone; untouched
    # for a day, the row itself goes at the next attempt anyone makes.
    clock.advance(hours=4)
    async with transaction(sessions) as db:
        await throttle.reserve(db, ["2fa:someone else", address], clock())
        await throttle.reserve(db, [key, address], clock())
        row = await db.get(LoginThrottle, key)
        assert row is not None
        assert row.score == pytest.approx((5 * 2 ** (-15 / 120) + 1) / 4 + 1)
    clock.advance(hours=25)
    async with transaction(sessions) as db:
        await throttle.reserve(db, ["2fa:someone else", address], clock())
        keys = set(await db.scalars(select(LoginThrottle.key)))
    assert key not in keys


def test_the_owner_can_always_try_again_within_the_cap() -> None:
    for policy in (throttle.strict_policy(), throttle.account_policy()):
        assert policy.delay(policy.free - 0.01) is None
        assert policy.delay(policy.free) == policy.base
        assert policy.delay(policy.free + 1) == policy.base * 2
        assert policy.delay(10_000) == throttle.MAX_DELAY
    assert throttle.policy_for("acct:mo") == throttle.account_policy()
    assert throttle.policy_for("ip:198.51.100.7") == throttle.address_policy()
    for key in ("pair:mo@abc", "dev:u:d", "2fa:u", "erase:u", "recover:mo"):
        assert throttle.policy_for(key) == throttle.strict_policy()


async def test_guesses_sent_all_at_once_queue_and_each_counts(
    client: httpx.AsyncClient,
) -> None:
    """Twenty wrong passwords sent together: the throttle sees each one before the next
    is checked, so only the free ones are checked and the rest are held back."""
    await sign_up(client, "Target", PASSWORD)
    client.cookies.clear()
    token = await csrf_token(client, "/login")

    async def guess(i: int) -> int:
        form = {"pseudonym": "Target", "password": f"wrong {i}", "csrf_token": token}
        r = await client.post("/login", data=form, headers={"Origin": BASE})
        return r.status_code

    statuses = await asyncio.gather(*(guess(i) for i in range(20)))
    assert sorted(statuses).count(401) == throttle.FREE_FAILURES
    assert statuses.count(429) == 20 - throttle.FREE_FAILURES


async def test_a_right_password_gives_its_attempt_back(
    sessions: async_sessionmaker[AsyncSession], passwords: Passwords, clock: FakeClock
) -> None:
    """The account-wide and address counters, which strangers share with the owner, are
    not moved by the owner's own right passwords; this account and address's is cleared."""
    await _account(sessions, passwords)
    for _ in range(3):
        result: Any = await actions.authenticate(
            sessions,
            passwords,
            clock(),
            pseudonym="Moderator Mo",
            password=PASSWORD,
            client_ip="198.51.100.7",
            secret_key=SECRET,
        )
        assert result.user is not None
    async with sessions() as db:
        rows = {r.key: r for r in await db.scalars(select(LoginThrottle))}
    assert throttle.pair_key("moderator mo", "198.51.100.7", SECRET) not in rows
    assert rows[throttle.account_key("moderator mo")].score == pytest.approx(0)
    assert rows[throttle.address_key("198.51.100.7")].score == pytest.approx(0)
    assert all(r.blocked_until is None for r in rows.values())


async def test_sign_ins_sent_together_never_wait_for_each_other_in_a_circle(
    client: httpx.AsyncClient,
) -> None:
    """A double-clicked sign-in, with a mistyped one from the same place at the same
    time: one attempt gives its count back while another takes one, on the same
    counters. Each locks them in the same order, so all are answered (no deadlock)."""
    await sign_up(client, "Target", PASSWORD)

    async def attempt(password: str, token: str) -> int:
        form = {"pseudonym": "Target", "password": password, "csrf_token": token}
        r = await client.post("/login", data=form, headers={"Origin": BASE})
        return r.status_code

    for _ in range(3):
        client.cookies.clear()
        token = await csrf_token(client, "/login")
        tries = (PASSWORD, PASSWORD, "wrong")
        statuses = await asyncio.gather(*(attempt(p, token) for p in tries))
        assert statuses == [303, 303, 401]
