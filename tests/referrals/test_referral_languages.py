"""Referrals in the page's language: the pages the link crawl cannot reach (a code just
made, a landing page with a code, a history, an inbox with a referral in it, a form
with errors) come through the catalogues, and each e-mail is written in its reader's
own language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from peerhub import i18n, mail
from peerhub.models import GroupMember, ReferralEvent, User
from peerhub.privacy.erasure import ERASED_NAME, ERASED_REFERRAL_REASON
from peerhub.referrals import actions, routes
from tests.conftest import BASE, outbox_idle, post_form, sign_up
from tests.finding.conftest import add_group
from tests.i18n.untranslated import untranslated
from tests.referrals.test_referrals import CODE, Outbox, _as, _refer, other

PSEUDO_TAG = "en-XA"
MAIN = re.compile(r"<main\b.*?</main>", re.S)
# Values a <button type="submit"> sends (data, never shown: the button's text is its
# content), which tests/i18n/untranslated.py reads as if they were shown.
SENT_VALUES = ("share", "unshare", "withdraw", "accepted", "declined", "redirected", "closed")


@pytest.fixture
def pseudo() -> Iterator[None]:
    i18n.enable_pseudo(True)
    try:
        yield
    finally:
        i18n.enable_pseudo(False)


def _left(page: httpx.Response, *content: str) -> list[str]:
    """English left in the page's main part (the layout around it is not this area's)."""
    found = MAIN.search(page.text)
    assert found is not None, page.text[:300]
    return untranslated(found.group(0), {*content, *SENT_VALUES})


async def test_referral_pages_in_the_pseudo_language(
    client: httpx.AsyncClient, sessions: Any, pseudo: None
) -> None:
    group = await add_group(sessions, "Pseudo Circle", join_policy="open")
    client.cookies.set(i18n.LANG_COOKIE, PSEUDO_TAG)
    await _as(client, "Dr Pseudo", sessions, professional_status="verified")
    names = ("Pseudo Circle", "Dr Pseudo", "Sam", "Would like a Welsh-speaking group")

    refused = await _refer(client, group.slug, consent="")
    assert refused.status_code == 422
    assert _left(refused, *names) == []
    made = await _refer(client, group.slug)
    assert made.status_code == 200
    code = CODE.search(made.text).group(1)  # type: ignore[union-attr]
    # The link itself is an address, the same in every language.
    assert _left(made, *names, code, f"{BASE}/r/{code}", f"{BASE}/r/", f"{BASE}/r") == []

    person = other(client)
    moderator = other(client)
    async with person, moderator:
        for each in (person, moderator):
            each.cookies.set(i18n.LANG_COOKIE, PSEUDO_TAG)
        mod = await _as(moderator, "Pseudo Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
        await sign_up(person, "Sam Pseudo", "another long password")
        landing = await person.get(f"/r/{code}")
        assert landing.status_code == 200 and f'action="/r/{code}"' in landing.text
        assert _left(landing, *names, code) == []
        wrong = await person.get("/r?code=ABCD-EFGH-JKLM")
        assert wrong.status_code == 404 and _left(wrong, "ABCD-EFGH-JKLM") == []
        assert (await post_form(person, f"/r/{code}", {})).status_code == 303
        theirs = await person.get("/referrals")
        assert "Pseudo Circle" in theirs.text and _left(theirs, *names) == []

        inbox = await moderator.get("/organise/referrals")
        assert "Sam" in inbox.text and _left(inbox, *names) == []
        async with sessions() as db:
            referral_id = (await actions.by_code(db, code)).id
        declined = await post_form(
            moderator, f"/organise/referrals/{referral_id}", {"state": "declined"}
        )
        # The error page's frame is peerhub/web/render.py's; its message is this area's.
        assert declined.status_code == 422
        assert "Say why, kindly" not in declined.text
        assert i18n.pseudo("Say why, kindly: the person and their referrer will see it.") in (
            declined.text.replace("&#39;", "'")
        )

    history = await client.get("/referrals")
    assert "Pseudo Circle" in history.text
    assert _left(history, *names) == []


def test_a_history_step_is_dated_in_the_page_language() -> None:
    at = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    step = actions.ShownEvent(at, "declined", "carers only")
    assert routes.event_text(step) == "4 Mar 2025, 09:30: declined — carers only"
    with i18n.using("cy"):
        assert routes.moment(at).startswith("4 Maw 2025")
    # Summer: UK time, an hour ahead of UTC.
    assert routes.moment(datetime(2025, 7, 4, 9, 30, tzinfo=UTC)) == "4 Jul 2025, 10:30"


async def test_each_answer_is_written_in_its_readers_language(
    client: httpx.AsyncClient, sessions: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.state.sender = Outbox()
    written: list[tuple[bool, str]] = []
    real = mail.referral_answer_message

    def recording(**kwargs: Any) -> tuple[str, str]:
        written.append((kwargs["for_professional"], i18n.current().tag))
        return real(**kwargs)

    monkeypatch.setattr(mail, "referral_answer_message", recording)
    group = await add_group(sessions, "Letter Circle", join_policy="open")
    await _as(
        client,
        "Dr Letters",
        sessions,
        professional_status="verified",
        email="dr.letters@example.org",
        language="cy",
    )
    code = CODE.search((await _refer(client, group.slug)).text).group(1)  # type: ignore[union-attr]
    person = other(client)
    moderator = other(client)
    async with person, moderator:
        await sign_up(person, "Letter Person", "another long password")
        async with sessions() as db, db.begin():
            me = await db.scalar(select(User).where(User.pseudonym == "Letter Person"))
            assert me is not None
            me.email, me.language = "person@example.org", "ur"
        assert (await post_form(person, f"/r/{code}", {})).status_code == 303
        mod = await _as(moderator, "Letter Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
            referral_id = (await actions.by_code(db, code)).id
        moderator.cookies.set(i18n.LANG_COOKIE, "pl")  # the moderator's own page language
        answer = await post_form(
            moderator, f"/organise/referrals/{referral_id}", {"state": "accepted"}
        )
        assert answer.status_code == 303
    await outbox_idle(app)
    assert sorted(written) == [(False, "ur"), (True, "cy")]


async def test_a_deleted_accounts_referral_is_shown_in_the_page_language(
    client: httpx.AsyncClient, sessions: Any, pseudo: None
) -> None:
    """An erasure stores "Deleted account" in place of the person's name and its reason
    in the history (English, as data): the professional's and the group's pages show
    both in their reader's language."""
    group = await add_group(sessions, "Erased Circle", join_policy="open")
    client.cookies.set(i18n.LANG_COOKIE, PSEUDO_TAG)
    await _as(client, "Dr Erased", sessions, professional_status="verified")
    code = CODE.search((await _refer(client, group.slug)).text).group(1)  # type: ignore[union-attr]
    moderator = other(client)
    async with moderator:
        moderator.cookies.set(i18n.LANG_COOKIE, PSEUDO_TAG)
        mod = await _as(moderator, "Erased Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
            referral = await actions.by_code(db, code)
            # What peerhub/privacy/erasure.py leaves of a referral (an open one withdrawn).
            referral.person_name = ERASED_NAME
            referral.state = "withdrawn"
            db.add(
                ReferralEvent(
                    referral_id=referral.id,
                    at=datetime.now(UTC),
                    state="withdrawn",
                    actor_id=None,
                    group_id=group.id,
                    reason=ERASED_REFERRAL_REASON,
                )
            )
        inbox = await moderator.get("/organise/referrals")
    history = await client.get("/referrals")
    names = ("Erased Circle", "Dr Erased", "Would like a Welsh-speaking group")
    assert history.status_code == 200
    assert i18n.pseudo("Deleted account") in history.text
    assert i18n.pseudo("The person deleted their PeerHub account.") in history.text
    assert _left(history, *names) == []
    assert inbox.status_code == 200 and "Erased Circle" in inbox.text
    assert i18n.pseudo("Deleted account") in inbox.text
    assert _left(inbox, *names) == []
