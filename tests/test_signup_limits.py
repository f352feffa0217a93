"""Limits on making accounts and registering organisations from one address (shared by
every server process, in the database), and passwords that are too easy to guess.
Over HTTP, on both databases."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from peerhub.app import create_app
from peerhub.config import Settings
from peerhub.models import Organisation, User
from peerhub.security import buckets
from peerhub.security.models import RateBucket
from peerhub.security.passwords import PasswordPolicyError, check_policy
from peerhub.web.limits import in_words
from tests.conftest import BASE, FakeClock, enrol_me, post_form, sign_up
from tests.groups.helpers import post

PASSWORD = "a long test password"


@contextlib.asynccontextmanager
async def browser(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50200))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


async def _join(app: Any, address: str, name: str) -> httpx.Response:
    async with browser(app, address) as c:
        return await post_form(c, "/signup", {"pseudonym": name, "password": PASSWORD})


async def _count(app: Any, model: Any) -> int:
    async with app.state.ctx.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_26th_sign_up_from_one_address_waits_with_a_clear_page(
    app: Any, settings: Settings, clock: FakeClock
) -> None:
    """Two server processes share the bucket: sign-ups alternate between them."""
    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):
        statuses = []
        for i in range(26):
            r = await _join(app if i % 2 else second, "198.51.100.7", f"Puppet {i}")
            statuses.append(r.status_code)
    burst = buckets.SIGNUP.burst
    assert statuses == [303] * burst + [429] * (26 - burst)
    assert await _count(app, User) == burst
    # The 26th: a page that says when to try again, in plain words, and Retry-After.
    last = await _join(app, "198.51.100.7", "Puppet 26")
    assert last.status_code == 429
    wait = int(last.headers["retry-after"])
    assert 0 < wait <= buckets.SIGNUP.every.total_seconds()
    assert "Please wait before trying again" in last.text
    assert f"You can try again in {in_words(wait)}." in last.text
    assert "nothing you typed was wrong" in last.text
    assert 'href="/crisis"' in last.text
    # Another address is not affected; and after the wait, this one can again.
    assert (await _join(app, "203.0.113.99", "Someone Else")).status_code == 303
    clock.advance(seconds=wait)
    assert (await _join(app, "198.51.100.7", "Puppet 27")).status_code == 303
    assert (await _join(app, "198.51.100.7", "Puppet 28")).status_code == 429


async def test_only_accounts_made_take_from_the_bucket(app: Any, clock: FakeClock) -> None:
    """Mistakes on the form cost nothing, and an IPv6 /64 counts as one address."""
    for _ in range(buckets.SIGNUP.burst + 5):
        r = await _join(app, "2001:db8:1:2::7", "x")  # a name too short: sent back
        assert r.status_code == 422
    for i in range(buckets.SIGNUP.burst):
        assert (await _join(app, f"2001:db8:1:2::{i + 1:x}", f"Person {i}")).status_code == 303
    assert (await _join(app, "2001:db8:1:2:ffff::1", "One More")).status_code == 429
    assert (await _join(app, "2001:db8:1:3::1", "Next Door")).status_code == 303
    async with app.state.ctx.sessions() as db:
        keys = set(await db.scalars(select(RateBucket.key)))
    # Each /64 its own bucket; the /56 and /48 around them one each (IPv6 only).
    assert keys == {
        "signup:2001:db8:1:2::/64",
        "signup:2001:db8:1:3::/64",
        "signup56:2001:db8:1::/56",
        "signup48:2001:db8:1::/48",
    }
    # A bucket full again for a while is deleted when someone else takes a token.
    clock.advance(seconds=max(b.refill.total_seconds() for b in buckets.SIGNUPS) + 1)
    assert (await _join(app, "192.0.2.1", "Later On")).status_code == 303
    async with app.state.ctx.sessions() as db:
        keys = set(await db.scalars(select(RateBucket.key)))
    assert keys == {"signup:192.0.2.1"}


async def test_registering_organisations_from_one_address_is_limited_too(
    app: Any, clock: FakeClock
) -> None:
    async with browser(app, "198.51.100.8") as c:
        await sign_up(c, "Olu")
        await enrol_me(c)  # organisers need two-step sign-in for everything else
        form = {"name": "Org", "description": "Peer groups.", "lived_experience_led": "yes"}
        # A form sent back with a mistake costs nothing.
        assert (await post(c, "/organise/organisations/new", {"name": ""})).status_code == 422
        made = []
        for i in range(buckets.ORGANISATIONS.burst + 1):
            r = await post(c, "/organise/organisations/new", {**form, "name": f"Org {i}"})
            made.append((r.status_code, r.headers.get("location", "")[:24]))
        registered = (303, "/organise/organisations/")
        assert made == [registered] * buckets.ORGANISATIONS.burst + [(429, "")]
        page = await post(c, "/organise/organisations/new", {**form, "name": "Org again"})
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
        assert "A lot of organisations have been registered" in page.text
        assert "You can try again in" in page.text and 'href="/organise"' in page.text
        as_json = await post(
            c, "/organise/organisations/new", {**form, "name": "Org as JSON"}, json=True
        )
        assert as_json.status_code == 429
        assert as_json.json()["retry_after"] == int(as_json.headers["retry-after"])
        assert "try again in" in as_json.json()["error"]
    assert await _count(app, Organisation) == buckets.ORGANISATIONS.burst
    async with browser(app, "203.0.113.40") as elsewhere:
        await sign_up(elsewhere, "Ade")
        r = await post(elsewhere, "/organise/organisations/new", {**form, "name": "Ade's"})
        assert r.status_code == 303 and r.headers["location"].startswith(registered[1])
    clock.advance(seconds=buckets.ORGANISATIONS.every.total_seconds())
    async with browser(app, "198.51.100.8") as c:
        await sign_up(c, "Olu Again")
        r = await post(c, "/organise/organisations/new", {**form, "name": "Org later"})
        assert r.status_code == 303 and r.headers["location"].startswith(registered[1])


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("aaaaaaaa", "one character typed over and over"),
        ("ZZZZZZZZZZZZZZZZZZZZZZZZ", "one character typed over and over"),
        ("        ", "only spaces"),
        (" \t  \u3000   ", "only spaces"),
    ],
)
def test_passwords_of_one_repeated_character_or_only_spaces_are_refused(
    password: str, words: str
) -> None:
    with pytest.raises(PasswordPolicyError, match=words):
        check_policy(password, "River")


def test_ordinary_passwords_still_pass() -> None:
    for password in ("aaaaaaab", "  a calm walk  ", "correct horse battery staple", "ñññññññá"):
        check_policy(password, "River")


async def test_sign_up_says_why_a_repeated_character_password_is_refused(
    client: httpx.AsyncClient,
) -> None:
    for password, words in (("11111111", "typed over and over"), (" " * 12, "only spaces")):
        r = await post_form(client, "/signup", {"pseudonym": "River", "password": password})
        assert r.status_code == 422
        assert 'id="password-error"' in r.text and words in r.text
    assert (await client.get("/api/me")).status_code == 401


def test_waits_are_said_in_plain_words() -> None:
    assert in_words(1) == "less than a minute"
    assert in_words(60) == "1 minute"
    assert in_words(61) == "2 minutes"
    assert in_words(300) == "5 minutes"
    assert in_words(3600) == "1 hour"
    assert in_words(3900) == "1 hour and 5 minutes"
    assert in_words(7260) == "2 hours and 1 minute"


# --- The security review: wider IPv6 buckets, and addresses with a port ----------------------


def _six(prefix_48: int, subnet: int, host: int = 1) -> str:
    """An address in 2001:db8:<prefix_48>::/48, its /64 number ``subnet``."""
    return f"2001:db8:{prefix_48:x}:{subnet:x}::{host:x}"


async def test_one_ipv6_household_is_not_256_households(app: Any) -> None:
    """With the /64 bucket alone, one /56 (256 /64s, what a household is often given)
    could make some 5,000 accounts at once. Its /56 has a bucket of its own, and
    another /56 is not held back."""
    cap = buckets.SIGNUP_56.burst
    statuses = [(await _join(app, _six(1, n), f"Six {n:03d}x")).status_code for n in range(cap + 1)]
    assert statuses == [303] * cap + [429]
    assert (await _join(app, _six(1, 0x100), "Next Door Six")).status_code == 303


async def test_one_ipv6_organisation_is_not_65536_households(app: Any) -> None:
    cap = buckets.SIGNUP_48.burst
    statuses = [
        (await _join(app, _six(2, n * 0x100), f"Wide {n:03d}x")).status_code for n in range(cap + 1)
    ]
    assert statuses == [303] * cap + [429]
    assert (await _join(app, _six(3, 0), "Other Org Six")).status_code == 303
    # IPv4 addresses are one unit already: no wider bucket for them.
    assert not buckets.applies(buckets.SIGNUP_56, "198.51.100.7")
    assert buckets.applies(buckets.SIGNUP_56, "2001:db8::1")


def test_addresses_with_a_port_from_a_proxy_count_as_the_address() -> None:
    from peerhub.security.clientip import client_ip, network_of, parse_address

    proxies = ("10.0.0.0/8",)
    for forwarded, expected in (
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("fe80::1%eth0", "fe80::1"),
        ("203.0.113.9, 10.0.0.2:8080", "203.0.113.9"),
    ):
        assert client_ip("10.0.0.1", {"x-forwarded-for": forwarded}, proxies) == expected
    assert network_of("203.0.113.9:1") == network_of("203.0.113.9:2") == "203.0.113.9"
    assert network_of("[2001:db8::7]:443") == "2001:db8::/64"
    assert parse_address("not an address") is None
    assert parse_address("1.2.3.4:x") is None


async def test_sign_ups_through_a_proxy_from_new_ports_are_one_address(
    settings: Settings, clock: FakeClock
) -> None:
    from dataclasses import replace

    proxied = create_app(replace(settings, trusted_proxies=("127.0.0.1",)), clock=clock)
    async with proxied.router.lifespan_context(proxied):
        statuses = []
        for i in range(buckets.SIGNUP.burst + 1):
            async with browser(proxied, "127.0.0.1") as c:
                c.headers["X-Forwarded-For"] = f"198.51.100.9:{40000 + i}"
                r = await post_form(c, "/signup", {"pseudonym": f"Port {i}x", "password": PASSWORD})
                statuses.append(r.status_code)
    assert statuses == [303] * buckets.SIGNUP.burst + [429]
