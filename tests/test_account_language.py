"""The account's language: chosen on the account page, used for its pages and its e-mails.

An e-mail is written in its recipient's language (``users.language``), whatever the
language of the request that causes it; the pseudo-language (every catalogue string
bracketed ⟦…⟧) shows a text went through the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from babel.support import NullTranslations
from sqlalchemy import select

from peerhub import i18n, mail
from peerhub.models import User
from tests.conftest import BASE, outbox_idle, post_form, sign_up

PASSWORD = "a long test password"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


@pytest.fixture
def pseudo() -> Iterator[None]:
    i18n.enable_pseudo()
    try:
        yield
    finally:
        i18n.enable_pseudo(False)


# A stand-in Welsh catalogue with the reset e-mail's words (the shipped one is filled
# in by translators).
WELSH = {
    "PeerHub: choose a new password": "PeerHub: dewiswch gyfrinair newydd",
    "Hello %(name)s,": "Helo %(name)s,",
}


class _Welsh(NullTranslations):
    def gettext(self, message: str) -> str:
        return WELSH.get(message, message)


@pytest.fixture
def welsh(monkeypatch: pytest.MonkeyPatch) -> None:
    real = i18n.translations

    def translations(identifier: str, domain: str = "messages") -> NullTranslations:
        return _Welsh() if identifier == "cy" else real(identifier, domain)

    monkeypatch.setattr(i18n, "translations", translations)


async def _set_language(app: Any, pseudonym: str, tag: str | None) -> None:
    async with app.state.ctx.sessions() as db, db.begin():
        user = (await db.scalars(select(User).where(User.pseudonym == pseudonym))).one()
        user.language = tag


async def _ask_for_link(app: Any, pseudonym: str, email: str) -> tuple[str, str, str]:
    outbox = Outbox()
    app.state.sender = outbox
    transport = httpx.ASGITransport(app=app, client=("203.0.113.30", 50000))
    # The person asking is not signed in and their browser asks for English.
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE, headers={"Accept-Language": "en-GB"}
    ) as lost:
        asked = await post_form(lost, "/recover/email", {"pseudonym": pseudonym, "email": email})
        assert asked.status_code == 200
        assert '<html lang="en-GB"' in asked.text
    ((to, subject, body),) = outbox.sent
    assert to == email
    return to, subject, body


async def test_a_reset_e_mail_to_a_welsh_account_is_written_in_welsh(
    client: httpx.AsyncClient, app: Any, welsh: None
) -> None:
    await post_form(
        client, "/signup", {"pseudonym": "Rhys", "password": PASSWORD, "email": "rhys@example.org"}
    )
    await _set_language(app, "Rhys", "cy")
    _, subject, body = await _ask_for_link(app, "Rhys", "rhys@example.org")
    assert subject == "PeerHub: dewiswch gyfrinair newydd"
    assert body.startswith("Helo Rhys,")
    assert "/recover/link?token=" in body


async def test_the_reset_e_mail_goes_through_the_catalogue_in_the_accounts_language(
    client: httpx.AsyncClient, app: Any, pseudo: None
) -> None:
    await post_form(
        client, "/signup", {"pseudonym": "Nia", "password": PASSWORD, "email": "nia@example.org"}
    )
    await _set_language(app, "Nia", "en-XA")
    _, subject, body = await _ask_for_link(app, "Nia", "nia@example.org")
    assert subject.startswith("⟦") and subject.endswith("⟧")
    lines = [line for line in body.splitlines() if line.strip()]
    link = [line for line in lines if "/recover/link?token=" in line]
    assert len(link) == 1 and "⟦" not in link[0]  # the address is never translated
    # Every other line is a translated text (a wrapped paragraph keeps its brackets at
    # its ends).
    prose = " ".join(line.strip() for line in lines if line not in link)
    assert prose.startswith("⟦") and prose.endswith("⟧")
    assert "Nia" in body
    assert "Someone asked" not in body and "If it was not you" not in body
    # The crisis line: the service's own name as it is, how to reach it translated.
    assert "Samaritans" in body and "Call 116 123" not in body


async def test_an_account_without_a_language_gets_the_requests_language(
    client: httpx.AsyncClient, app: Any
) -> None:
    await post_form(
        client, "/signup", {"pseudonym": "Sam", "password": PASSWORD, "email": "sam@example.org"}
    )
    _, subject, body = await _ask_for_link(app, "Sam", "sam@example.org")
    assert subject == "PeerHub: choose a new password"
    assert body.startswith("Hello Sam,") and "30 minutes" in body


@pytest.mark.parametrize("accepted", [True, False])
def test_answers_to_joining_and_referrals_are_built_in_the_recipients_language(
    accepted: bool, pseudo: None
) -> None:
    # The request (an organiser's) is in English; the recipient chose another language.
    with i18n.using("en-GB"):
        subject, body = mail.join_answer_message(
            pseudonym="Ade",
            group_name="Cylch Aberystwyth",
            accepted=accepted,
            message="Croeso!",
            account_url="https://peerhub.example/account",
            help_line="Samaritans, 116 123",
            language="en-XA",
        )
        assert i18n.current().tag == "en-GB"  # the request's language is untouched
    assert subject.startswith("⟦")
    assert "Cylch Aberystwyth" in body  # a group's name is its own
    assert "Good news" not in body and "not able to" not in body  # no English left
    assert "  Croeso!" in body  # the group's own words are never translated
    assert "Samaritans, 116 123" in body
    with i18n.using("en-GB"):
        subject, body = mail.referral_answer_message(
            greeting_name="Ade",
            group_name="Cylch Aberystwyth",
            accepted=accepted,
            reason="",
            for_professional=False,
            page_url="https://peerhub.example/referrals",
            language="en-XA",
        )
    assert subject.startswith("⟦") and body.startswith("⟦")
    # No language of their own: the request's.
    with i18n.using("en-GB"):
        subject, _ = mail.referral_answer_message(
            greeting_name="Ade",
            group_name="Cylch Aberystwyth",
            accepted=accepted,
            reason="",
            for_professional=True,
            page_url="https://peerhub.example/referrals",
            language=None,
        )
    assert subject == "PeerHub: an update on a referral"


async def test_choosing_a_language_on_the_account_page_keeps_it_for_the_account(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Elin")
    page = await client.get("/account")
    assert page.status_code == 200
    assert 'action="/language"' in page.text and 'action="/easy-read"' in page.text
    assert 'id="account-lang"' in page.text and 'value="cy"' in page.text
    chosen = await post_form(
        client, "/language", {"lang": "cy", "next": "/account?saved=1#preferences"}
    )
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/account?saved=1#preferences"
    async with app.state.ctx.sessions() as db:
        user = (await db.scalars(select(User).where(User.pseudonym == "Elin"))).one()
        assert user.language == "cy"
    # The account remembers it, not only the cookie: without the cookie, and with a
    # browser asking for English, the next page is in Welsh.
    client.cookies.delete(i18n.LANG_COOKIE)
    again = await client.get("/account", headers={"Accept-Language": "en-GB"})
    assert '<html lang="cy"' in again.text
    # The page says which language is chosen, named in itself.
    assert "selected>Cymraeg</option>" in again.text


async def test_easy_read_is_shown_and_changed_on_the_account_page(
    client: httpx.AsyncClient, app: Any
) -> None:
    await sign_up(client, "Osian")
    page = await client.get("/account")
    assert "Turn Easy Read on" in page.text
    turned = await post_form(client, "/easy-read", {"on": "1", "next": "/account"})
    assert turned.status_code == 303
    async with app.state.ctx.sessions() as db:
        user = (await db.scalars(select(User).where(User.pseudonym == "Osian"))).one()
        assert user.easy_read is True
    assert "Turn Easy Read off" in (await client.get("/account")).text


async def test_an_answer_to_a_join_request_is_written_in_the_members_language(
    client: httpx.AsyncClient, app: Any, pseudo: None
) -> None:
    from tests.groups.helpers import (
        RecordingSender,
        create_group,
        person,
        post,
        register_org,
        user_row,
        verify_org,
    )

    sender = RecordingSender()
    app.state.sender = sender
    await sign_up(client, "Olu")  # the organiser, whose pages are in English
    org_id = await register_org(client)
    await verify_org(client, org_id)
    group_id = await create_group(client, org_id, join_policy="request")
    async with person(app, "Gwen", email="gwen@example.org") as gwen:
        await post(gwen, "/groups/tuesday-talk/join", {}, json=True)
    await _set_language(app, "Gwen", "en-XA")
    gwen_id = (await user_row(app.state.ctx.sessions, "Gwen")).id
    answer = await post(
        client,
        f"/organise/groups/{group_id}/requests",
        {"user_id": gwen_id, "decision": "accept", "message": "Croeso, Gwen!"},
    )
    assert answer.status_code == 303
    await outbox_idle(app)  # the letter goes by the outbox's loop
    (letter,) = sender.sent
    assert letter.subject.startswith("⟦") and letter.subject.endswith("⟧")
    assert "has said yes" not in letter.body and "Croeso, Gwen!" in letter.body
    assert "Samaritans" in letter.body and "Call 116 123" not in letter.body
