"""Changing a password and getting back in without it, over HTTP, on both databases:
recovery words, e-mailed links, codes handed over in person by an organiser or an
administrator, and what each refuses, spends, ends, records and never reveals.

Sockets closing on a change or a reset are shown with real sockets in
tests/realtime/test_recovery_sockets.py; the whole journey in a browser in
tests/browser/test_recovery_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from importlib import resources
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from peerhub.accounts import recovery
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.accounts.models_recovery import PasswordReset, RecoveryWords
from peerhub.app import create_app
from peerhub.models import (
    AuditEvent,
    Group,
    GroupMember,
    LoginThrottle,
    Organisation,
    OrganisationOrganiser,
    User,
)
from peerhub.security import throttle
from peerhub.security.passwords import Passwords
from tests.conftest import BASE, FakeClock, csrf_token, enrol_2fa, post_form, sign_up
from tests.finding.conftest import add_group
from tests.security.test_no_secrets_in_logs import everything_in, production_logging

__all__ = ["production_logging"]  # a fixture used below

PASSWORD = "a long test password"  # tests.conftest.sign_up's
NEW_PASSWORD = "a new and quiet morning"
WORDS = re.compile(
    r'<span class="visually-hidden">Word \d+: </span><span lang="en" translate="no">([a-z]+)</span>'
)
CODE = re.compile(r'<strong class="code">([A-Z2-9]{5}-[A-Z2-9]{5})</strong>')
LINK = re.compile(r"/recover/link\?token=([A-Za-z0-9_-]+)")


def other(app: Any, address: str = "203.0.113.20") -> httpx.AsyncClient:
    """Another browser, from its own address."""
    transport = httpx.ASGITransport(app=app, client=(address, 50010))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def _user(app: Any, pseudonym: str) -> User:
    async with app.state.ctx.sessions() as db:
        user: User | None = await db.scalar(select(User).where(User.pseudonym == pseudonym))
    assert user is not None
    return user


async def _audit(app: Any, action: str) -> list[AuditEvent]:
    async with app.state.ctx.sessions() as db:
        return list(
            await db.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


async def _all_audit_text(app: Any) -> str:
    async with app.state.ctx.sessions() as db:
        rows = await db.scalars(select(AuditEvent))
        return "\n".join(f"{r.action} {json.dumps(r.detail)}" for r in rows)


async def _signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/api/me")).status_code == 200


async def _make_words(client: httpx.AsyncClient, password: str | None = None) -> list[str]:
    data = {} if password is None else {"password": password}
    response = await post_form(client, "/account/recovery", data)
    assert response.status_code == 200, response.text[:500]
    words = WORDS.findall(response.text)
    assert len(words) == recovery.WORD_COUNT
    return words


async def _login(client: httpx.AsyncClient, pseudonym: str, password: str) -> httpx.Response:
    return await post_form(client, "/login", {"pseudonym": pseudonym, "password": password})


async def _reset(client: httpx.AsyncClient, password: str = NEW_PASSWORD) -> httpx.Response:
    return await post_form(
        client, "/recover/password", {"new_password": password, "confirm_password": password}
    )


# --- The word list ---------------------------------------------------------------------------


def test_the_word_list_is_the_licensed_list_less_the_words_left_out() -> None:
    words = recovery.word_list()
    assert len(words) == 1184 == len(set(words))
    assert all(re.fullmatch(r"[a-z]{3,5}", w) for w in words)
    licence = resources.files("peerhub.data").joinpath("RECOVERY-WORDS-LICENCE.md").read_text()
    assert "CC BY 3.0 US" in licence and "Electronic Frontier Foundation" in licence
    listed = licence.split("The words left out are:")[1].split("Nothing was added")[0].split()
    assert len(listed) == 112
    assert not set(listed) & set(words)
    assert {"grave", "harm", "panic", "drown"} <= set(listed)


def test_words_are_random_and_typed_words_are_read_kindly() -> None:
    drawn = {tuple(recovery.new_words()) for _ in range(50)}
    assert len(drawn) == 50  # about 61 bits each: a repeat would mean no randomness
    typed = " 1. Apple,  ACORN\n\tagile;aloe -- AMBER "
    assert recovery.split_words(typed) == ["apple", "acorn", "agile", "aloe", "amber"]
    ok = "apple acorn agile aloe angel ankle"
    assert recovery.check_words(ok.upper().replace(" ", ",\n")) == ok.split()
    with pytest.raises(Exception, match="not on PeerHub's word list"):
        recovery.check_words("apple acorn agile aloe angel ankel")
    with pytest.raises(Exception, match="You typed 5"):
        recovery.check_words("apple acorn agile aloe angel")
    with pytest.raises(Exception, match="Type your 6"):
        recovery.check_words(" , ")


# --- Changing the password -------------------------------------------------------------------


async def test_changing_the_password_needs_the_current_one_and_ends_only_other_sign_ins(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    async with other(app) as phone:
        assert (await _login(phone, "River", PASSWORD)).status_code == 303
        assert await _signed_in(phone)
        page = await client.get("/account/password")
        assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
        response = await post_form(
            client,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password?done=1"
        assert (
            "signed out of PeerHub on every other device"
            in (await client.get(response.headers["location"])).text
        )
        assert await _signed_in(client), "this session stays"
        assert not await _signed_in(phone), "the other session has ended"
        assert (await _login(phone, "River", PASSWORD)).status_code == 401
        assert (await _login(phone, "River", NEW_PASSWORD)).status_code == 303
    (changed,) = await _audit(app, "password.changed")
    river = await _user(app, "River")
    assert changed.actor_id == changed.subject_id == river.id
    assert changed.detail == {"sessions_ended": 1}


async def test_changing_the_password_refuses_a_wrong_current_one_and_bad_new_ones(
    client: httpx.AsyncClient, app: Any
) -> None:
    anonymous = await client.get("/account/password")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await sign_up(client, "River")

    async def change(current: str, new: str, again: str | None = None) -> httpx.Response:
        return await post_form(
            client,
            "/account/password",
            {
                "current_password": current,
                "new_password": new,
                "confirm_password": new if again is None else again,
            },
        )

    short = await change(PASSWORD, "short")
    assert short.status_code == 422 and "at least 8 characters" in short.text
    differ = await change(PASSWORD, NEW_PASSWORD, "something else entirely")
    assert differ.status_code == 422 and "not the same" in differ.text
    empty = await change("", NEW_PASSWORD)
    assert empty.status_code == 422 and "Enter your current password" in empty.text
    for _ in range(5):
        wrong = await change("not my password at all", NEW_PASSWORD)
        assert wrong.status_code == 422 and "not your current password" in wrong.text
    # Every wrong try was counted and recorded (committed, not rolled back).
    assert len(await _audit(app, "recovery.failed")) == 5
    throttled = await change(PASSWORD, NEW_PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    river = await _user(app, "River")
    assert await app.state.ctx.passwords.verify(river.password_hash, PASSWORD)
    assert not await _audit(app, "password.changed")


async def test_the_sessions_page_links_to_changing_the_password(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "River")
    page = await client.get("/account/sessions")
    assert '<a href="/account/password">change your password</a>' in page.text
    assert (await client.get("/account/password")).status_code == 200
    account = await client.get("/account")
    assert 'href="/account/password"' in account.text and 'href="/account/recovery"' in account.text


# --- Recovery words --------------------------------------------------------------------------


async def test_sign_up_offers_recovery_words_shown_once_and_stored_only_as_a_hash(
    client: httpx.AsyncClient, app: Any
) -> None:
    response = await sign_up(client, "River")
    offer = await client.get(response.headers["location"])
    assert offer.status_code == 200
    assert "One more step: your recovery words" in offer.text
    # Just after signing up, in the sign-up's own session, no password is asked again.
    assert 'name="password"' not in offer.text
    assert 'href="/account">Not now, carry on</a>' in offer.text
    words = await _make_words(client)
    async with app.state.ctx.sessions() as db:
        row = (await db.scalars(select(RecoveryWords))).one()
    assert row.words_hash.startswith("$argon2id$")
    assert not any(w in row.words_hash for w in words if len(w) > 3)
    assert await app.state.ctx.passwords.verify(row.words_hash, " ".join(words))
    # Shown once: no page shows them again.
    for path in ("/account/recovery", "/account", "/account/export"):
        text = (await client.get(path)).text
        assert " ".join(words) not in text and not WORDS.search(text), path
    (made,) = await _audit(app, "recovery_words.made")
    assert made.detail == {"replaced": False}
    # The next set needs the password, even in the same session.
    page = await client.get("/account/recovery")
    assert 'name="password"' in page.text and "Make new recovery words" in page.text


async def test_sign_up_in_the_middle_of_joining_comes_back_to_it(
    client: httpx.AsyncClient,
) -> None:
    response = await post_form(
        client,
        "/signup",
        {"pseudonym": "River", "password": PASSWORD, "next": "/groups/tuesday-talk/join"},
    )
    offer = await client.get(response.headers["location"])
    assert 'href="/groups/tuesday-talk/join">Not now, carry on</a>' in offer.text
    shown = await post_form(
        client, "/account/recovery", {"next": "/groups/tuesday-talk/join", "welcome": "1"}
    )
    assert 'href="/groups/tuesday-talk/join">I have saved them</a>' in shown.text


async def test_new_words_need_the_password_and_the_old_ones_stop_working(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "River")
    old = await _make_words(client)
    clock.advance(minutes=31)
    missing = await post_form(client, "/account/recovery", {})
    assert missing.status_code == 422 and "Enter your password" in missing.text
    wrong = await post_form(client, "/account/recovery", {"password": "not my password"})
    assert wrong.status_code == 422 and "not your password" in wrong.text
    new = await _make_words(client, PASSWORD)
    assert new != old
    assert (await _audit(app, "recovery_words.made"))[-1].detail == {"replaced": True}
    async with other(app) as stranger:
        refused = await post_form(
            stranger, "/recover", {"pseudonym": "River", "words": " ".join(old)}
        )
        assert refused.status_code == 401
        accepted = await post_form(
            stranger, "/recover", {"pseudonym": "river", "words": " ".join(new)}
        )
        assert accepted.status_code == 303


async def test_recovering_with_the_words_sets_a_new_password_and_ends_every_sign_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    words = await _make_words(client)
    async with other(app) as phone:
        assert (await _login(phone, "River", PASSWORD)).status_code == 303
        async with other(app, "198.51.100.4") as lost:
            assert 'href="/recover">Forgotten your password?</a>' in (await lost.get("/login")).text
            form = await lost.get("/recover")
            assert form.status_code == 200 and "recovery words" in form.text
            # Any case, commas, line breaks and extra spaces.
            typed = "  " + ",\n".join(w.upper() for w in words) + "  "
            proved = await post_form(lost, "/recover", {"pseudonym": "  RIVER ", "words": typed})
            assert proved.status_code == 303 and proved.headers["location"] == "/recover/password"
            assert "peerhub_reset=" in proved.headers["set-cookie"]
            assert "HttpOnly" in proved.headers["set-cookie"]
            choose = await lost.get("/recover/password")
            assert choose.status_code == 200 and "Choose a new password" in choose.text
            mismatch = await post_form(
                lost,
                "/recover/password",
                {"new_password": NEW_PASSWORD, "confirm_password": "something else"},
            )
            assert mismatch.status_code == 422
            weak = await _reset(lost, "password")
            assert weak.status_code == 422 and "too common" in weak.text
            done = await _reset(lost)
            assert done.status_code == 200
            assert "Your new password is saved" in done.text
            # The words were used: a new set is shown at once, and the old one is gone.
            fresh = WORDS.findall(done.text)
            assert len(fresh) == 6 and fresh != words
            assert "old recovery words have been used" in done.text
            assert 'href="/login?reset=1"' in done.text
            assert not await _signed_in(client) and not await _signed_in(phone)
            assert "Sign in with it now" in (await lost.get("/login?reset=1")).text
            assert (await _login(lost, "River", PASSWORD)).status_code == 401
            assert (await _login(lost, "River", NEW_PASSWORD)).status_code == 303
            assert await _signed_in(lost)
        # Single use: the old words no longer work; the new ones do.
        again = await post_form(phone, "/recover", {"pseudonym": "River", "words": " ".join(words)})
        assert again.status_code == 401
        newer = await post_form(phone, "/recover", {"pseudonym": "River", "words": " ".join(fresh)})
        assert newer.status_code == 303
    river = await _user(app, "River")
    (reset,) = await _audit(app, "password.reset")
    assert reset.subject_id == river.id and reset.client_ip == "198.51.100.4"
    assert reset.detail == {"method": "words", "issued_by": None, "sessions_ended": 2}
    # No word stands in the trail's values as a word of its own. (A substring test
    # would fail by chance: "reset" is on the list and in the action's name, and hex
    # ids can hold "face" or "dead".)
    async with app.state.ctx.sessions() as db:
        details = [r.detail for r in await db.scalars(select(AuditEvent))]

    def strings(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [s for value in node.values() for s in strings(value)]
        if isinstance(node, list):
            return [s for value in node for s in strings(value)]
        return [node] if isinstance(node, str) else []

    audit_words = {w for v in strings(details) for w in re.split(r"[^a-z]+", v.lower())}
    assert not audit_words & set(words + fresh)


async def test_a_reset_from_a_signed_in_browser_signs_it_out_and_its_forms_still_work(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    words = await _make_words(client)
    proved = await post_form(client, "/recover", {"pseudonym": "River", "words": " ".join(words)})
    assert proved.status_code == 303
    done = await _reset(client)
    assert done.status_code == 200
    assert "peerhub_session=;" in done.headers["set-cookie"].replace('""', "")
    # The page shows nobody signed in, and saving the new words works signed out.
    assert ">Sign in</a>" in done.text and ">Sign out</button>" not in done.text
    new = WORDS.findall(done.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', done.text)
    assert token is not None
    saved = await post_form(
        client,
        "/recover/save",
        {"pseudonym": "River", "words": " ".join(new)},
        token=token.group(1),
    )
    assert saved.status_code == 200 and " ".join(new) in saved.text
    assert not await _signed_in(client)


async def test_unknown_names_and_wrong_words_get_the_same_answer_and_the_same_work(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_up(client, "River")
    words = await _make_words(client)
    async with other(app) as c:
        await sign_up(c, "Wordless")  # an account that never made words
    passwords: Passwords = app.state.ctx.passwords
    verified: list[bool] = []
    real_verify = passwords.verify

    async def counting(stored: str | None, password: str) -> bool:
        verified.append(stored is None)
        return await real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify", counting)
    wrong = " ".join(reversed(words))
    answers = []
    async with other(app, "198.51.100.9") as stranger:
        for name, typed in (("River", wrong), ("Nobody Here", wrong), ("Wordless", wrong)):
            response = await post_form(stranger, "/recover", {"pseudonym": name, "words": typed})
            answers.append((response.status_code, recovery_routes_message(response.text)))
    assert len(set(answers)) == 1 and answers[0][0] == 401
    # One argon2 verification each: a real hash for River, the dummy for the others.
    assert verified == [False, True, True]
    failed = await _audit(app, "recovery.failed")
    assert [f.detail for f in failed] == [{"method": "words"}] * 3
    assert failed[1].subject_id is None


def recovery_routes_message(html: str) -> str:
    start = html.index('<div class="error-summary"')
    return html[start : html.index("</div>", start)]


async def test_wrong_words_are_throttled_apart_from_signing_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    words = await _make_words(client)
    async with other(app, "198.51.100.10") as stranger:
        for _ in range(5):
            r = await post_form(stranger, "/recover", {"pseudonym": "River", "words": "apple " * 6})
            assert r.status_code == 401
        held = await post_form(
            stranger, "/recover", {"pseudonym": "River", "words": " ".join(words)}
        )
        assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
        assert "Too many attempts" in held.text
        # Codes for the same name are held back too (the same counter)...
        code = await post_form(
            stranger, "/recover/code", {"pseudonym": "River", "code": "ABCDE-23456"}
        )
        assert code.status_code == 429
        # ...but signing in with the password is not.
        assert (await _login(stranger, "River", PASSWORD)).status_code == 303
    assert await _audit(app, "recovery.locked")


async def test_bad_input_gets_a_clear_answer_without_touching_the_account(
    client: httpx.AsyncClient, app: Any
) -> None:
    for data, expected in (
        ({"pseudonym": "", "words": "apple acorn agile aloe angel ankle"}, "Enter your name"),
        ({"pseudonym": "River", "words": ""}, "Type your 6 recovery words"),
        ({"pseudonym": "River", "words": "apple acorn"}, "You typed 2"),
        ({"pseudonym": "River", "words": "x" * 5000}, "not on PeerHub"),
    ):
        r = await post_form(client, "/recover", data)
        assert r.status_code == 422 and expected in r.text, (data, r.text[:300])
    for data, expected in (
        ({"pseudonym": "River", "code": "short"}, "10 letters and numbers"),
        ({"pseudonym": "River", "code": "ABCDE-2345O"}, "10 letters and numbers"),  # O, not 0
        ({"pseudonym": "", "code": "ABCDE-23456"}, "Enter your name"),
    ):
        r = await post_form(client, "/recover/code", data)
        assert r.status_code == 422 and expected in r.text
    for data, expected in (
        ({"pseudonym": "River", "email": ""}, "Enter the e-mail address"),
        ({"pseudonym": "River", "email": "not an address"}, "does not look like an e-mail"),
    ):
        r = await post_form(client, "/recover/email", data)
        assert r.status_code == 422 and expected in r.text
    async with app.state.ctx.sessions() as db:
        assert not await db.scalar(select(func.count()).select_from(LoginThrottle))


async def test_a_reset_ticket_works_once_for_a_short_while_and_cannot_be_forged(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "River")
    words = " ".join(await _make_words(client))
    async with other(app) as lost:
        assert (
            await post_form(lost, "/recover", {"pseudonym": "River", "words": words})
        ).status_code == 303
        ticket = lost.cookies["peerhub_reset"]
        # Altered: refused.
        user_id, method, ref, expires, nonce, mac = ticket.split(".")
        for forged in (
            f"{user_id}.{method}.{ref}.{int(expires) + 3600}.{nonce}.{mac}",
            f"{user_id}.email.{ref}.{expires}.{nonce}.{mac}",
            f"{user_id}.{method}.{ref}.{expires}.{nonce}.{'0' * 64}",
        ):
            _set_ticket(lost, forged)
            r = await lost.get("/recover/password")
            assert r.status_code == 303 and r.headers["location"] == "/recover?expired=1"
        _set_ticket(lost, ticket)
        assert (await lost.get("/recover/password")).status_code == 200  # the real one works
        # Too late: 15 minutes.
        clock.advance(minutes=16)
        late = await _reset(lost)
        assert late.status_code == 303 and late.headers["location"] == "/recover?expired=1"
        assert "started again" not in (await lost.get("/recover?expired=1")).text
        assert "Please start again" in (await lost.get("/recover?expired=1")).text
        # A fresh proof, used once; the same ticket again is dead.
        assert (
            await post_form(lost, "/recover", {"pseudonym": "River", "words": words})
        ).status_code == 303
        ticket = lost.cookies["peerhub_reset"]
        assert (await _reset(lost)).status_code == 200
        _set_ticket(lost, ticket)
        replay = await _reset(lost, "yet another long password")
        assert replay.status_code == 303 and replay.headers["location"] == "/recover?expired=1"
    river = await _user(app, "River")
    assert await app.state.ctx.passwords.verify(river.password_hash, NEW_PASSWORD)


def _set_ticket(client: httpx.AsyncClient, value: str) -> None:
    """Put a ticket in the browser's cookie jar where the server's own would be."""
    for cookie in list(client.cookies.jar):
        if cookie.name == "peerhub_reset":
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    client.cookies.set("peerhub_reset", value, domain="testserver.local")


async def test_words_replaced_after_proving_cannot_finish_the_reset(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    await sign_up(client, "River")
    words = " ".join(await _make_words(client))
    async with other(app) as lost:
        assert (
            await post_form(lost, "/recover", {"pseudonym": "River", "words": words})
        ).status_code == 303
        clock.advance(minutes=31)
        await _make_words(client, PASSWORD)  # the owner makes a new set meanwhile
        spent = await _reset(lost)
        assert spent.status_code == 303 and spent.headers["location"] == "/recover?expired=1"
    assert not await _audit(app, "password.reset")


async def test_the_words_can_be_saved_as_a_text_file_without_javascript(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "River")
    shown = await post_form(client, "/account/recovery", {})
    assert 'action="/recover/save"' in shown.text and "js-print" in shown.text
    assert '<script type="module" src="/static/js/print.js"></script>' in shown.text
    words = WORDS.findall(shown.text)
    saved = await post_form(
        client, "/recover/save", {"pseudonym": "River", "words": " ".join(words)}
    )
    assert saved.status_code == 200
    assert saved.headers["content-type"].startswith("text/plain")
    assert (
        saved.headers["content-disposition"] == 'attachment; filename="peerhub-recovery-words.txt"'
    )
    assert (
        " ".join(words) in saved.text and "River" in saved.text and f"{BASE}/recover" in saved.text
    )
    # It only ever echoes a name and words from the list.
    bad = await post_form(client, "/recover/save", {"pseudonym": "River", "words": "<script>"})
    assert bad.status_code == 422


# --- E-mailed links --------------------------------------------------------------------------


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


async def _with_email(app: Any, client: httpx.AsyncClient, name: str, email: str) -> None:
    await post_form(client, "/signup", {"pseudonym": name, "password": PASSWORD, "email": email})


async def test_an_e_mailed_link_lets_the_person_choose_a_new_password_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    outbox = Outbox()
    app.state.sender = outbox
    await _with_email(app, client, "River", "river@example.org")
    async with other(app) as lost:
        asked = await post_form(
            lost, "/recover/email", {"pseudonym": "river", "email": " River@Example.ORG "}
        )
        assert asked.status_code == 200 and "Check your e-mail" in asked.text
        ((to, subject, body),) = outbox.sent
        assert to == "river@example.org" and subject == "PeerHub: choose a new password"
        token = LINK.search(body)
        assert token is not None and "30 minutes" in body
        async with app.state.ctx.sessions() as db:
            row = (await db.scalars(select(PasswordReset))).one()
        assert row.kind == "email" and token.group(1) not in row.secret_hash
        opened = await lost.get(f"/recover/link?token={token.group(1)}")
        # On to a page whose address holds no token.
        assert opened.status_code == 303 and opened.headers["location"] == "/recover/password"
        assert (await _reset(lost)).status_code == 200
        assert not await _signed_in(client)
        again = await lost.get(f"/recover/link?token={token.group(1)}")
        assert again.headers["location"] == "/recover/email?expired=1"
        assert (
            "expired or has already been used" in (await lost.get(again.headers["location"])).text
        )
    (reset,) = await _audit(app, "password.reset")
    assert reset.detail["method"] == "email"
    assert token.group(1) not in await _all_audit_text(app)


async def test_the_e_mail_answer_is_the_same_whether_or_not_the_account_or_address_exists(
    client: httpx.AsyncClient, app: Any
) -> None:
    outbox = Outbox()
    app.state.sender = outbox
    await _with_email(app, client, "River", "river@example.org")
    async with other(app) as c:
        await sign_up(c, "No Mail")
    pages = []
    async with other(app, "198.51.100.11") as asker:
        for name, email in (
            ("River", "river@example.org"),
            ("Nobody Here", "river@example.org"),
            ("River", "someone.else@example.org"),
            ("No Mail", "nomail@example.org"),
        ):
            r = await post_form(asker, "/recover/email", {"pseudonym": name, "email": email})
            main = r.text[r.text.index("<main") : r.text.index("</main>")]
            pages.append((r.status_code, main))
    assert len(set(pages)) == 1 and pages[0][0] == 200
    assert [to for to, _, _ in outbox.sent] == ["river@example.org"]


async def test_an_e_mailed_link_expires_and_a_new_one_replaces_it_up_to_a_limit(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    outbox = Outbox()
    app.state.sender = outbox
    await _with_email(app, client, "River", "river@example.org")

    async def ask() -> str | None:
        await post_form(
            client, "/recover/email", {"pseudonym": "River", "email": "river@example.org"}
        )
        found = LINK.search(outbox.sent[-1][2]) if outbox.sent else None
        return found.group(1) if found else None

    first = await ask()
    clock.advance(minutes=31)
    expired = await client.get(f"/recover/link?token={first}")
    assert expired.headers["location"] == "/recover/email?expired=1"
    second = await ask()
    third = await ask()
    assert second != third
    # Only the newest link works.
    assert (await client.get(f"/recover/link?token={second}")).headers["location"] == (
        "/recover/email?expired=1"
    )
    assert (await client.get(f"/recover/link?token={third}")).headers["location"] == (
        "/recover/password"
    )
    # Three in an hour at most: nobody can fill a person's inbox.
    assert len(outbox.sent) == 3
    await ask()
    assert len(outbox.sent) == 3
    assert await _audit(app, "recovery.email_limited")


async def test_adding_or_changing_an_e_mail_address_needs_the_password(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    page = await client.get("/account")
    assert 'name="email_password"' in page.text
    missing = await post_form(client, "/account", {"action": "email", "email": "r@example.org"})
    assert missing.status_code == 422 and "Enter your password to add or change" in missing.text
    wrong = await post_form(
        client,
        "/account",
        {"action": "email", "email": "r@example.org", "email_password": "not my password"},
    )
    assert wrong.status_code == 422 and "not your password" in wrong.text
    assert (await _user(app, "River")).email is None
    assert len(await _audit(app, "recovery.failed")) == 1
    ok = await post_form(
        client,
        "/account",
        {"action": "email", "email": "r@example.org", "email_password": PASSWORD},
    )
    assert ok.status_code == 303
    assert (await _user(app, "River")).email == "r@example.org"
    # The same address again, or none, needs nothing.
    same = await post_form(client, "/account", {"action": "email", "email": "R@example.org "})
    assert same.status_code == 303
    removed = await post_form(client, "/account", {"action": "email", "email": ""})
    assert removed.status_code == 303 and (await _user(app, "River")).email is None


# --- Codes handed over in person -------------------------------------------------------------


async def _organised_group(app: Any, client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """Group "Harbour Circle": Olga organises it (signed in on ``client``); Mia is a member."""
    sessions = app.state.ctx.sessions
    await sign_up(client, "Olga")
    group = await add_group(sessions, "Harbour Circle")
    async with other(app, "203.0.113.31") as c:
        await sign_up(c, "Mia")
        # Mia joins the group herself (an organiser's code needs a member's own join).
        joined = await post_form(c, "/groups/harbour-circle/join", {})
        assert joined.status_code == 303 and "done=joined" in joined.headers["location"]
    olga, mia = await _user(app, "Olga"), await _user(app, "Mia")
    async with sessions() as db, db.begin():
        db.add(OrganisationOrganiser(organisation_id=group.organisation_id, user_id=olga.id))
    await enrol_2fa(app, olga.id)
    return group.id, {"olga": olga.id, "mia": mia.id}


async def _later(client: httpx.AsyncClient, clock: FakeClock, *, hours: int) -> None:
    """Let hours pass while the organiser keeps using PeerHub (sessions idle out after 2)."""
    for _ in range(hours):
        clock.advance(hours=1)
        assert await _signed_in(client)


async def test_an_organiser_gives_a_member_a_code_in_person_and_it_works_once(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, ids = await _organised_group(app, client)
    page = await client.get(f"/organise/groups/{group_id}")
    assert f'action="/organise/groups/{group_id}/reset-code"' in page.text
    assert "Give a password reset code" in page.text
    async with other(app, "203.0.113.31") as mia:
        assert (await _login(mia, "Mia", PASSWORD)).status_code == 303
        issued = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
        )
        assert issued.status_code == 200, issued.text[:500]
        code = CODE.search(issued.text)
        assert code is not None and "only this once" in issued.text
        (row,) = await _audit(app, "password.reset_code_issued")
        assert (row.actor_id, row.subject_id) == (ids["olga"], ids["mia"])
        assert row.detail == {"group_id": group_id, "kind": "organiser"}
        async with other(app, "198.51.100.12") as lost:
            assert "I have a reset code" in (await lost.get("/recover")).text
            typed = code.group(1).lower().replace("-", " ")
            proved = await post_form(lost, "/recover/code", {"pseudonym": "mia", "code": typed})
            assert proved.status_code == 303 and proved.headers["location"] == "/recover/password"
            done = await _reset(lost)
            assert done.status_code == 200 and len(WORDS.findall(done.text)) == 6
            assert not await _signed_in(mia), "every session of Mia ended"
            again = await post_form(
                lost, "/recover/code", {"pseudonym": "Mia", "code": code.group(1)}
            )
            assert again.status_code == 401 and "used or has expired" in again.text
    (reset,) = await _audit(app, "password.reset")
    # Her sign-up's session and the one she signed in with.
    assert reset.detail == {"method": "organiser", "issued_by": ids["olga"], "sessions_ended": 2}
    assert code.group(1) not in await _all_audit_text(app)
    async with app.state.ctx.sessions() as db:
        stored = (await db.scalars(select(PasswordReset))).one()
    assert stored.kind == "organiser" and stored.used_at is not None
    assert code.group(1).replace("-", "") not in stored.secret_hash


async def test_codes_are_refused_for_people_who_must_use_two_step_sign_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    """Refused with one message that names no role: the refusal must not tell the
    organiser that a member moderates elsewhere or is a verified professional."""
    group_id, ids = await _organised_group(app, client)
    async with app.state.ctx.sessions() as db, db.begin():
        member = await db.get(GroupMember, (group_id, ids["mia"]))
        assert member is not None
        member.role = "moderator"
    refused = await post_form(
        client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
    )
    assert refused.status_code == 403
    assert recovery.cannot_give("Mia") in refused.text
    for role in ("moderator", "organiser", "professional", "administrator is", "two-step"):
        assert role not in refused.text.split("<main")[1].split("</main>")[0]
    (row,) = await _audit(app, "password.reset_code_refused")
    assert row.detail == {"group_id": group_id, "reason": "two_step_required"}
    # A verified professional who is a plain member of the group: the same words.
    async with app.state.ctx.sessions() as db, db.begin():
        member = await db.get(GroupMember, (group_id, ids["mia"]))
        person = await db.get(User, ids["mia"])
        assert member is not None and person is not None
        member.role = "member"
        person.professional_status = "verified"
    again = await post_form(
        client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
    )
    assert again.status_code == 403 and "verified professional" not in again.text
    assert main_text(again) == main_text(refused)
    async with app.state.ctx.sessions() as db:
        assert not await db.scalar(select(func.count()).select_from(PasswordReset))


def main_text(response: httpx.Response) -> str:
    return response.text[response.text.index("<main") : response.text.index("</main>")]


async def test_codes_only_from_the_groups_organisers_for_its_members(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, ids = await _organised_group(app, client)
    async with other(app, "203.0.113.40") as c:
        await sign_up(c, "Stranger")
        stranger = await _user(app, "Stranger")
        # Not a member of the group: as if there were no such person.
        r = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": stranger.id}
        )
        assert r.status_code == 404
        # A member of the group cannot give codes; an outsider learns nothing.
        r = await post_form(c, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]})
        assert r.status_code == 404
    async with other(app, "203.0.113.31") as mia:
        await _login(mia, "Mia", PASSWORD)
        r = await post_form(
            mia, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["olga"]}
        )
        assert r.status_code == 403
    mine = await post_form(
        client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["olga"]}
    )
    assert mine.status_code == 404  # the organiser is not a member of the group
    assert not await _audit(app, "password.reset_code_issued")


async def test_an_organiser_may_give_three_codes_a_day_across_processes(
    client: httpx.AsyncClient, app: Any, clock: FakeClock, settings: Any
) -> None:
    group_id, ids = await _organised_group(app, client)
    for name in ("Nia", "Ola", "Pia"):
        async with other(app, "203.0.113.50") as c:
            await sign_up(c, name)
            await post_form(c, "/groups/harbour-circle/join", {})
        ids[name] = (await _user(app, name)).id
    for name in ("mia", "Nia", "Ola"):
        r = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids[name]}
        )
        assert r.status_code == 200
        clock.advance(hours=1)
    held = await post_form(
        client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["Pia"]}
    )
    assert held.status_code == 429 and "3 reset codes in the last 24 hours" in held.text
    # The first code was given 3 hours ago: it drops out of the day in 21 hours.
    assert 20 * 3600 < int(held.headers["retry-after"]) <= 21 * 3600 + 1
    assert await _audit(app, "password.reset_code_limited")
    # Another server process on the same database holds the same limit.
    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE, cookies=client.cookies
        ) as c:
            r = await post_form(
                c, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["Pia"]}
            )
            assert r.status_code == 429
    await _later(client, clock, hours=21)
    clock.advance(minutes=1)
    assert (
        await post_form(client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["Pia"]})
    ).status_code == 200


async def test_a_code_expires_after_a_day_and_a_new_one_replaces_the_old(
    client: httpx.AsyncClient, app: Any, clock: FakeClock
) -> None:
    group_id, ids = await _organised_group(app, client)

    async def issue() -> str:
        r = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
        )
        found = CODE.search(r.text)
        assert found is not None
        return found.group(1)

    first = await issue()
    second = await issue()
    async with other(app, "198.51.100.13") as lost:
        r = await post_form(lost, "/recover/code", {"pseudonym": "Mia", "code": first})
        assert r.status_code == 401
        await _later(client, clock, hours=24)
        clock.advance(seconds=1)
        r = await post_form(lost, "/recover/code", {"pseudonym": "Mia", "code": second})
        assert r.status_code == 401
        third = await issue()
        r = await post_form(lost, "/recover/code", {"pseudonym": "Mia", "code": third})
        assert r.status_code == 303


async def test_an_administrator_gives_a_code_and_resets_two_step_sign_in(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, ids = await _organised_group(app, client)
    async with app.state.ctx.sessions() as db, db.begin():
        member = await db.get(GroupMember, (group_id, ids["mia"]))
        assert member is not None
        member.role = "moderator"
    await enrol_2fa(app, ids["mia"])
    async with other(app, "203.0.113.60") as admin:
        await sign_up(admin, "Ada Admin")
        ada = await _user(app, "Ada Admin")
        async with app.state.ctx.sessions() as db, db.begin():
            row = await db.get(User, ada.id)
            assert row is not None
            row.is_admin = True
        await enrol_2fa(app, ada.id)
        # Not for organisers.
        assert (
            await post_form(client, "/admin/reset-code", {"user_id": ids["mia"]})
        ).status_code == 403
        found = await admin.get("/admin?q=mia")
        assert 'action="/admin/reset-code"' in found.text and "also resets two-step" in found.text
        issued = await post_form(admin, "/admin/reset-code", {"user_id": ids["mia"]})
        assert issued.status_code == 200
        code = CODE.search(issued.text)
        assert code is not None
        own = await post_form(admin, "/admin/reset-code", {"user_id": ada.id})
        assert own.status_code == 403
        assert (
            await post_form(admin, "/admin/reset-code", {"user_id": "no-such-id"})
        ).status_code == 404
    async with app.state.ctx.sessions() as db:
        assert await db.get(TwoFactor, ids["mia"]) is None
    issued_row = (await _audit(app, "password.reset_code_issued"))[-1]
    assert issued_row.detail == {"kind": "admin", "second_factor_reset": True}
    assert await _audit(app, "2fa.reset")
    async with other(app, "198.51.100.14") as lost:
        assert (
            await post_form(lost, "/recover/code", {"pseudonym": "Mia", "code": code.group(1)})
        ).status_code == 303
        assert (await _reset(lost)).status_code == 200
        signed = await _login(lost, "Mia", NEW_PASSWORD)
        # A moderator must set up two-step sign-in again before anything else.
        assert signed.status_code == 303
        assert (await lost.get("/account")).headers["location"].startswith("/account/2fa")
    (reset,) = await _audit(app, "password.reset")
    assert reset.detail["method"] == "admin" and reset.detail["issued_by"] == ada.id


async def test_a_reset_clears_strangers_lock_out_of_the_account(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    words = " ".join(await _make_words(client))
    # Strangers guessing from many addresses fill the account-wide counter, which holds
    # back every device the owner has not signed in on before (docs/security.md).
    for n in range(throttle.ACCOUNT_FREE + 4):
        async with other(app, f"203.0.113.{n + 1}") as stranger:
            await _login(stranger, "River", "guessing the password")
    async with other(app, "198.51.100.16") as lost:
        assert (await _login(lost, "River", PASSWORD)).status_code == 429
        await post_form(lost, "/recover", {"pseudonym": "River", "words": words})
        assert (await _reset(lost)).status_code == 200
        assert (await _login(lost, "River", NEW_PASSWORD)).status_code == 303


# --- Privacy and logs ------------------------------------------------------------------------


async def test_the_export_says_when_words_were_made_and_never_holds_a_secret(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "River")
    words = await _make_words(client)
    data = (await client.get("/account/export")).json()
    part = data["password_recovery"]
    assert part["recovery_words_made_at"].startswith("2026-11-02")
    assert part["reset_links_and_codes"] == []
    text = json.dumps(data)
    assert "$argon2" not in text and " ".join(words) not in text


async def test_recovery_leaves_no_secret_in_the_logs(
    client: httpx.AsyncClient,
    app: Any,
    caplog: pytest.LogCaptureFixture,
    production_logging: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    email = "lantern.7hq@example.org"
    await _with_email(app, client, "Lantern Keeper", email)
    words = await _make_words(client)
    outbox = Outbox()
    async with other(app, "198.51.100.17") as lost:
        await post_form(lost, "/recover", {"pseudonym": "Lantern Keeper", "words": " ".join(words)})
        reset = await _reset(lost)
        new_words = WORDS.findall(reset.text)
        # The e-mail path with the development sender, which logs a line per message.
        await post_form(lost, "/recover/email", {"pseudonym": "Lantern Keeper", "email": email})
        app.state.sender = outbox
        await post_form(lost, "/recover/email", {"pseudonym": "Lantern Keeper", "email": email})
        token = LINK.search(outbox.sent[-1][2])
        assert token is not None
        await lost.get(f"/recover/link?token={token.group(1)}")
        await _reset(lost, "a third long password here")
    assert any("log sender" in r.getMessage() for r in caplog.records)
    secrets = [email, token.group(1), PASSWORD, NEW_PASSWORD, " ".join(words), " ".join(new_words)]
    for record in caplog.records:
        text = everything_in(record)
        for secret in secrets:
            assert secret not in text, (secret, record.name, record.getMessage())


# --- The security review's findings (items 3, 6, 7 and the low ones) --------------------------


async def test_asking_for_a_link_counts_the_same_whatever_the_name_and_address(
    client: httpx.AsyncClient, app: Any
) -> None:
    """The answers to a stranger's requests (200 until too many, then 429) are the same
    whether or not the address belongs to the name, so they cannot be used to find it."""
    app.state.sender = Outbox()
    await _with_email(app, client, "Alice Example", "alice@example.org")
    async with other(app) as c:
        await _with_email(app, c, "Bob Example", "bob@example.org")
    answers = {}
    async with other(app, "198.51.100.66") as stranger:
        for name, guess in (
            ("Alice Example", "alice@example.org"),
            ("Bob Example", "robert@example.org"),
            ("Nobody Here", "nobody@example.org"),
        ):
            codes = []
            for _ in range(8):
                r = await post_form(stranger, "/recover/email", {"pseudonym": name, "email": guess})
                codes.append(r.status_code)
            answers[name] = codes
    assert len(set(map(tuple, answers.values()))) == 1, answers
    assert answers["Alice Example"][: throttle.FREE_FAILURES] == [200] * throttle.FREE_FAILURES
    assert 429 in answers["Alice Example"]


async def _parallel(
    client: httpx.AsyncClient, path: str, forms: list[dict[str, str]], page: str = "/account"
) -> list[int]:
    token = await csrf_token(client, page)
    headers = {"Origin": BASE}

    async def one(form: dict[str, str]) -> int:
        r = await client.post(path, data={**form, "csrf_token": token}, headers=headers)
        return r.status_code

    return list(await asyncio.gather(*(one(f) for f in forms)))


@pytest.mark.parametrize(
    ("path", "form", "failed"),
    [
        (
            "/account/password",
            {"new_password": "thief's new password", "confirm_password": "thief's new password"},
            "recovery.failed",
        ),
        ("/account/recovery", {}, "recovery.failed"),
        ("/account", {"action": "email", "email": "thief@example.org"}, "recovery.failed"),
        ("/account/erase", {"messages": "keep"}, "account.erase_refused"),
        ("/account/2fa", {"action": "confirm", "code": "123456"}, "2fa.failed"),
    ],
)
async def test_passwords_sent_all_at_once_inside_a_sign_in_queue_and_each_counts(
    client: httpx.AsyncClient, app: Any, path: str, form: dict[str, str], failed: str
) -> None:
    """Someone with a borrowed session sends sixty guesses of the password at once: the
    throttle counts each before checking it, so only the free tries are checked."""
    await sign_up(client, "Victim Vic")
    await _make_words(client)  # (so /account/recovery asks for the password)
    field = {
        "/account/password": "current_password",
        "/account": "email_password",
        "/account/erase": "password",
    }.get(path, "password")
    statuses = await _parallel(
        client, path, [{**form, field: f"guess number {i}"} for i in range(60)]
    )
    assert statuses.count(429) == 60 - throttle.FREE_FAILURES, statuses
    assert len(await _audit(app, failed)) == throttle.FREE_FAILURES
    assert await _signed_in(client)


@pytest.mark.parametrize("path", ["/recover", "/recover/code"])
async def test_recovery_tries_sent_all_at_once_queue_and_each_counts(
    client: httpx.AsyncClient, app: Any, path: str
) -> None:
    await sign_up(client, "Victim Vic")
    async with other(app, "198.51.100.70") as thief:
        secret = {"/recover": "words", "/recover/code": "code"}[path]
        guesses = [
            " ".join(recovery.new_words()) if secret == "words" else recovery.new_code()
            for _ in range(40)
        ]
        statuses = await _parallel(
            thief, path, [{"pseudonym": "Victim Vic", secret: g} for g in guesses], "/recover"
        )
    assert statuses.count(401) == throttle.FREE_FAILURES, statuses
    assert statuses.count(429) == 40 - throttle.FREE_FAILURES
    assert len(await _audit(app, "recovery.failed")) == throttle.FREE_FAILURES


async def test_a_reset_cookie_with_odd_digits_starts_again_instead_of_failing(
    client: httpx.AsyncClient,
) -> None:
    """ "²".isdigit() is true and int() refuses it: the ticket's expiry is read as ASCII
    digits, so such a cookie is a dead ticket (start again), never a 500."""
    assert recovery.read_ticket("a.words.b.\u00b2.n.m") is None
    assert recovery.read_ticket("a.words.b.\u0663\u0660.n.m") is None
    assert recovery.read_ticket("a.words.b.12.n.m") is not None
    token = await csrf_token(client, "/recover")
    jar = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    for value in ("a.words.b.\u00b2.n.m", "a.words.b.\u00b2\u00b3.n.m"):
        cookie = f"{jar}; peerhub_reset={value}".encode("latin-1")
        page = await client.get("/recover/password", headers={b"cookie": cookie})
        assert page.status_code == 303 and page.headers["location"] == "/recover?expired=1"
        sent = await client.post(
            "/recover/password",
            data={"csrf_token": token, "new_password": "abcdefghijk", "confirm_password": "x"},
            headers={b"Origin": BASE.encode(), b"cookie": cookie},
        )
        assert sent.status_code == 303 and sent.headers["location"] == "/recover?expired=1"


async def test_changing_the_password_ends_every_waiting_code_and_link(
    client: httpx.AsyncClient, app: Any
) -> None:
    app.state.sender = outbox = Outbox()
    group_id, ids = await _organised_group(app, client)
    async with other(app, "203.0.113.31") as mia:
        assert (await _login(mia, "Mia", PASSWORD)).status_code == 303
        await post_form(
            mia,
            "/account",
            {"action": "email", "email": "mia@example.org", "email_password": PASSWORD},
        )
        # While she is signed in, a code and a link are made in her name...
        issued = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
        )
        code = CODE.search(issued.text)
        assert code is not None
        await post_form(client, "/recover/email", {"pseudonym": "Mia", "email": "mia@example.org"})
        link = LINK.search(outbox.sent[-1][2])
        assert link is not None
        # ...and she changes her password: both die with the old one.
        changed = await post_form(
            mia,
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "confirm_password": NEW_PASSWORD,
            },
        )
        assert changed.status_code == 303, changed.text[:300]
    async with other(app, "198.51.100.20") as thief:
        r = await post_form(thief, "/recover/code", {"pseudonym": "Mia", "code": code.group(1)})
        assert r.status_code == 401
        opened = await thief.get(f"/recover/link?token={link.group(1)}")
        assert opened.headers["location"] == "/recover/email?expired=1"


async def test_signing_in_ends_waiting_codes_and_the_account_page_says_so(
    client: httpx.AsyncClient, app: Any
) -> None:
    """A code someone asked for in the person's name dies when the person signs in, and
    their account page says who made it, when, and what became of it."""
    group_id, ids = await _organised_group(app, client)
    issued = await post_form(
        client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
    )
    code = CODE.search(issued.text)
    assert code is not None
    async with other(app, "203.0.113.32") as mia:
        assert (await _login(mia, "Mia", PASSWORD)).status_code == 303
        (cancelled,) = await _audit(app, "recovery.cancelled_by_sign_in")
        assert cancelled.detail == {"cancelled": 1}
        account = await mia.get("/account")
        notice = account.text[account.text.index('id="ways-back"') :]
        assert "Olga" in notice and "Harbour Circle" not in notice[:0]
        assert "stopped working when you signed in" in notice
    async with other(app, "198.51.100.21") as thief:
        r = await post_form(thief, "/recover/code", {"pseudonym": "Mia", "code": code.group(1)})
        assert r.status_code == 401


async def test_nobody_can_make_a_stranger_a_member_and_take_over_their_account(
    client: httpx.AsyncClient, app: Any
) -> None:
    """The security review's takeover: register an organisation, "appoint" any name as
    moderator (which made them an active member, without asking), remove them again (a
    plain member now), give them a reset code and use it. Now nobody gets a role or a
    place without saying yes, and a code needs a place the person took themselves in
    an organisation PeerHub has checked."""
    from tests.groups.helpers import create_group, register_org, verify_org

    await sign_up(client, "Quiet Member")
    plan = await post_form(client, "/account/crisis-plan", {"early_signs": "VICTIM-SECRET-PLAN"})
    assert plan.status_code == 303
    victim = await _user(app, "Quiet Member")
    async with other(app, "198.51.100.66") as mallory:
        await sign_up(mallory, "Mallory")
        org_id = await register_org(mallory, "Totally Real Charity")
        group_id = await create_group(mallory, org_id)
        moderators = f"/organise/groups/{group_id}/moderators"
        for action in ("appoint", "invite", "remove"):
            r = await post_form(
                mallory, moderators, {"pseudonym": "Quiet Member", "action": action}
            )
            assert r.status_code == 422, (action, r.status_code)
        await verify_org(mallory, org_id)  # even once PeerHub has checked it
        for action in ("appoint", "remove"):
            r = await post_form(
                mallory, moderators, {"pseudonym": "Quiet Member", "action": action}
            )
            assert r.status_code == 422, (action, r.status_code)
        invited = await post_form(
            mallory, moderators, {"pseudonym": "Quiet Member", "action": "invite"}
        )
        assert invited.status_code == 303
        async with app.state.ctx.sessions() as db:
            assert await db.get(GroupMember, (group_id, victim.id)) is None
        # Invited is not a moderator: the victim is not sent to set up two-step sign-in.
        for page in ("/account/groups", "/account/crisis-plan", "/groups"):
            assert (await client.get(page)).status_code == 200, page
        code = await post_form(
            mallory, f"/organise/groups/{group_id}/reset-code", {"user_id": victim.id}
        )
        assert code.status_code == 404 and CODE.search(code.text) is None
        # A place someone else made (as the old appointing did) proves nothing either.
        async with app.state.ctx.sessions() as db, db.begin():
            db.add(GroupMember(group_id=group_id, user_id=victim.id, role="member"))
        code = await post_form(
            mallory, f"/organise/groups/{group_id}/reset-code", {"user_id": victim.id}
        )
        assert code.status_code == 403 and CODE.search(code.text) is None
        (refused,) = await _audit(app, "password.reset_code_refused")
        assert refused.detail["reason"] == "not_joined_themselves"
    async with app.state.ctx.sessions() as db:
        assert not await db.scalar(select(func.count()).select_from(PasswordReset))
    assert (await client.get("/api/me")).status_code == 200  # still theirs


async def test_no_code_from_an_organisation_peerhub_no_longer_vouches_for(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, ids = await _organised_group(app, client)
    async with app.state.ctx.sessions() as db, db.begin():
        group = await db.get(Group, group_id)
        assert group is not None
        org = await db.get(Organisation, group.organisation_id)
        assert org is not None
        org.verified_at = None
    r = await post_form(client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]})
    assert r.status_code == 403 and "once PeerHub has checked" in r.text
    assert CODE.search(r.text) is None


async def test_refusals_count_toward_an_organisers_daily_limit(
    client: httpx.AsyncClient, app: Any
) -> None:
    """So refusals cannot be used to sort many members into those with a role and those
    without."""
    group_id, ids = await _organised_group(app, client)
    async with app.state.ctx.sessions() as db, db.begin():
        member = await db.get(GroupMember, (group_id, ids["mia"]))
        assert member is not None
        member.role = "moderator"
    for _ in range(recovery.ORGANISER_DAILY_LIMIT):
        r = await post_form(
            client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]}
        )
        assert r.status_code == 403
    r = await post_form(client, f"/organise/groups/{group_id}/reset-code", {"user_id": ids["mia"]})
    assert r.status_code == 429
