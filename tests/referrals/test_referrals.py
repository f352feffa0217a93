"""The closed referral loop: who may refer, the state machine, consent-gated visibility."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Consent, GroupMember, ProfessionalStatus, Referral, User
from peerhub.referrals import actions
from tests.conftest import BASE, FakeClock, enrol_2fa, outbox_idle, post_form, sign_up
from tests.finding.conftest import add_group, add_user

CODE = re.compile(r'<strong class="code">([A-Z0-9-]+)</strong>')


async def _as(
    client: httpx.AsyncClient,
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    **flags: object,
) -> User:
    await sign_up(client, name, "correct horse battery staple")
    async with sessions() as db, db.begin():
        user = await db.scalar(select(User).where(User.pseudonym == name))
        assert user is not None
        for key, value in flags.items():
            setattr(user, key, value)
    # Verified professionals and moderators need two-step sign-in; set it up for everyone
    # here (these tests are about referrals, not about signing in).
    await enrol_2fa(sessions, user.id)
    return user


def other(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url=BASE)


async def _refer(client: httpx.AsyncClient, slug: str, **overrides: str) -> httpx.Response:
    data = {
        "person_name": "Sam",
        "contact_method": "code",
        "contact_value": "",
        "note": "Would like a Welsh-speaking group",
        "consent": "yes",
    }
    data.update(overrides)
    return await post_form(client, f"/groups/{slug}/refer", data)


async def test_only_verified_professionals_can_refer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Welsh Circle")
    anon = await client.get("/groups/welsh-circle/refer")
    assert anon.status_code == 303 and "/login" in anon.headers["location"]
    await _as(client, "Pending Pro", sessions, professional_status=ProfessionalStatus.PENDING.value)
    assert "Only professionals" in (await client.get("/groups/welsh-circle/refer")).text
    assert (await _refer(client, "welsh-circle")).status_code == 403
    async with sessions() as db:
        assert (await db.scalars(select(Referral))).first() is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"consent": ""}, "consent"),
        ({"person_name": ""}, "person_name"),
        ({"contact_method": "email", "contact_value": "not an address"}, "contact_value"),
        ({"contact_method": "phone", "contact_value": "call me"}, "contact_value"),
        ({"contact_method": "pigeon"}, "contact_method"),
    ],
)
async def test_referral_form_errors_name_the_field(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    overrides: dict[str, str],
    field: str,
) -> None:
    await add_group(sessions, "Welsh Circle")
    await _as(client, "Dr Pro", sessions, professional_status="verified", professional_role="GP")
    r = await _refer(client, "welsh-circle", **overrides)
    assert r.status_code == 422
    assert f'id="{field}' in r.text
    unknown = await _refer(client, "no-such-group")
    assert unknown.status_code == 404


async def test_the_whole_loop_with_consent_gated_progress(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    moderator = await add_user(sessions, "Group Mod")
    group = await add_group(sessions, "Welsh Circle", moderators=(moderator.id,))
    await _as(client, "Dr Pro", sessions, professional_status="verified", professional_role="GP")
    made = await _refer(client, "welsh-circle")
    assert made.status_code == 200
    code = CODE.search(made.text).group(1)  # type: ignore[union-attr]
    async with sessions() as db:
        stored = (await db.scalars(select(Referral))).one()
    assert stored.code_hash != code and code not in str(stored.__dict__)

    person = other(client)
    async with person:
        landing = await person.get(f"/r/{code}")
        assert "You have been referred to Welsh Circle" in landing.text
        assert "A GP" in landing.text
        await sign_up(person, "Sam Here", "another long password")
        r = await post_form(person, f"/r/{code}", {})
        assert r.status_code == 303 and r.headers["location"].startswith(
            "/groups/welsh-circle/join"
        )
        me = (await person.get("/api/me")).json()["id"]
        # The person joins the group: the referral is joined...
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=me, role="member"))
            assert await actions.note_joined(db, me, group.id, stored.created_at) == 1
        # ...but the professional sees only "accepted"-or-earlier until the person allows it.
        page = (await client.get("/referrals")).text
        assert "joined" not in page.split("Referrals you made")[1]
        assert "accepted" in page.split("Referrals you made")[1]
        assert "has not chosen to share" not in page
        referral_id = stored.id
        r = await post_form(person, f"/referrals/{referral_id}", {"action": "share"})
        assert r.status_code == 303
        page = (await client.get("/referrals")).text
        assert "joined" in page.split("Referrals you made")[1]
        # Changing their mind takes effect at once.
        await post_form(person, f"/referrals/{referral_id}", {"action": "unshare"})
        assert "joined" not in (await client.get("/referrals")).text.split("Referrals you made")[1]
        async with sessions() as db:
            consents = (
                await db.scalars(select(Consent).where(Consent.user_id == me).order_by(Consent.id))
            ).all()
        assert [(c.kind, c.granted) for c in consents] == [
            ("referral.take_up", True),
            ("referral.share_progress", True),
            ("referral.share_progress", False),
        ]
        # Someone else cannot take up the same code (answered as if they had, so the
        # answer does not say whether the person took it up; nothing changes).
        third = other(client)
        async with third:
            await sign_up(third, "Somebody Else", "yet another long password")
            assert (await post_form(third, f"/r/{code}", {})).status_code == 303
        async with sessions() as db:
            assert (await db.get(Referral, referral_id)).person_user_id == me  # type: ignore[union-attr]


async def test_inbox_is_for_the_groups_organisers_and_moderators_only(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Welsh Circle")
    await _as(client, "Dr Pro", sessions, professional_status="verified")
    await _refer(client, "welsh-circle")
    async with sessions() as db:
        referral = (await db.scalars(select(Referral))).one()
    # The professional is not a moderator of the group.
    assert (await client.get("/organise/referrals")).status_code == 403
    r = await post_form(client, f"/organise/referrals/{referral.id}", {"state": "accepted"})
    assert r.status_code == 404
    mod_client = other(client)
    async with mod_client:
        mod = await _as(mod_client, "The Moderator", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=referral.group_id, user_id=mod.id, role="moderator"))
        inbox = await mod_client.get("/organise/referrals")
        assert inbox.status_code == 200 and "Sam" in inbox.text
        assert "please don't reach out" in inbox.text
        r = await post_form(mod_client, f"/organise/referrals/{referral.id}", {"state": "accepted"})
        assert r.status_code == 303


async def test_state_machine_refuses_impossible_transitions(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    mod = await add_user(sessions, "mod")
    group = await add_group(sessions, "Group A", moderators=(mod.id,))
    await add_group(sessions, "Group B")
    async with sessions() as db, db.begin():
        pro = User(
            pseudonym="pro", pseudonym_key="pro", password_hash="!", professional_status="verified"
        )
        db.add(pro)
        await db.flush()
        made = await actions.create_referral(
            db,
            pro,
            "group-a",
            clock(),
            person_name="Ada",
            contact_method="email",
            contact_value="ada@example.org",
            note="",
            consent=True,
        )
        rid = made.referral.id
    async with sessions() as db, db.begin():
        moderator = await db.get(User, mod.id)
        assert moderator is not None
        with pytest.raises(Exception, match="cannot become closed"):
            await actions.decide(db, moderator, rid, "closed", clock(), outcome="x")
    async with sessions() as db, db.begin():
        moderator = await db.get(User, mod.id)
        assert moderator is not None
        with pytest.raises(Exception, match="Say why"):
            await actions.decide(db, moderator, rid, "declined", clock())
    async with sessions() as db, db.begin():
        moderator = await db.get(User, mod.id)
        assert moderator is not None
        await actions.decide(db, moderator, rid, "redirected", clock(), redirect_to="group-b")
    async with sessions() as db:
        referral = await db.get(Referral, rid)
        assert referral is not None and referral.group_id != group.id
        # The old group's moderator no longer sees or decides it.
        moderator = await db.get(User, mod.id)
        assert moderator is not None
        with pytest.raises(Exception, match=rid):
            await actions.decide(db, moderator, rid, "accepted", clock())
    async with sessions() as db:
        from peerhub.models import ReferralEvent

        states = [
            e.state
            for e in (
                await db.scalars(
                    select(ReferralEvent)
                    .where(ReferralEvent.referral_id == rid)
                    .order_by(ReferralEvent.id)
                )
            ).all()
        ]
    assert states == ["sent", "redirected"]


def test_transition_table_is_closed() -> None:
    for state, targets in actions.TRANSITIONS.items():
        assert targets <= set(actions.TRANSITIONS), state
    for final in ("declined", "closed", "withdrawn"):
        assert actions.TRANSITIONS[final] == frozenset()
    assert (
        "withdrawn" in actions.TRANSITIONS["sent"] and "withdrawn" in actions.TRANSITIONS["joined"]
    )


async def test_code_guessing_is_rate_limited(client: httpx.AsyncClient) -> None:
    statuses = [(await client.get(f"/r/AAAA-BBBB-{i:04d}")).status_code for i in range(11)]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429


async def test_referred_person_joins_through_the_join_page(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_group(sessions, "Open Circle", join_policy="open")
    await _as(client, "Dr Pro", sessions, professional_status="verified")
    code = CODE.search((await _refer(client, "open-circle")).text).group(1)  # type: ignore[union-attr]
    person = other(client)
    async with person:
        await sign_up(person, "Referred Person", "another long password")
        claimed = await post_form(person, f"/r/{code}", {})
        join_page = claimed.headers["location"]
        assert join_page.startswith("/groups/open-circle/join")
        joined = await post_form(person, "/groups/open-circle/join", {})
        assert joined.status_code == 303
    async with sessions() as db:
        referral = (await db.scalars(select(Referral))).one()
    assert referral.state == "joined"
    made = (await client.get("/referrals")).text.split("Referrals you made")[1]
    assert "joined" not in made and "accepted" in made and "has not chosen" not in made


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


@pytest.mark.parametrize("state", ["accepted", "declined"])
async def test_answers_are_e_mailed_to_the_person_and_the_referrer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any, state: str
) -> None:
    outbox = Outbox()
    app.state.sender = outbox
    await add_group(sessions, "Mail Circle")
    pro = await _as(
        client, "Dr Mail", sessions, professional_status="verified", email="dr.mail@example.org"
    )
    made = await _refer(
        client, "mail-circle", contact_method="email", contact_value="person@example.net"
    )
    assert made.status_code == 200
    async with sessions() as db:
        referral = (await db.scalars(select(Referral))).one()
    mod_client = other(client)
    async with mod_client:
        mod = await _as(mod_client, "Mail Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=referral.group_id, user_id=mod.id, role="moderator"))
        form = {
            "state": state,
            "reason": "The group is for carers only" if state == "declined" else "",
        }
        r = await post_form(mod_client, f"/organise/referrals/{referral.id}", form)
        assert r.status_code == 303
    await outbox_idle(app)
    recipients = sorted(to for to, _, _ in outbox.sent)
    assert recipients == ["dr.mail@example.org", "person@example.net"]
    assert pro.email == "dr.mail@example.org"
    for _to, subject, body in outbox.sent:
        assert "Mail Circle" not in subject  # subjects may be logged: nothing personal
        assert "Mail Circle" in body
    if state == "declined":
        person_body = next(b for to, _, b in outbox.sent if to == "person@example.net")
        assert "carers only" in person_body and "not a judgement" in person_body


async def test_no_e_mail_when_nobody_gave_an_address(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    outbox = Outbox()
    app.state.sender = outbox
    await add_group(sessions, "Quiet Circle")
    await _as(client, "Dr Quiet", sessions, professional_status="verified")
    await _refer(client, "quiet-circle")  # "I will use the code", and no e-mail anywhere
    async with sessions() as db:
        referral = (await db.scalars(select(Referral))).one()
    mod_client = other(client)
    async with mod_client:
        mod = await _as(mod_client, "Quiet Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=referral.group_id, user_id=mod.id, role="moderator"))
        r = await post_form(mod_client, f"/organise/referrals/{referral.id}", {"state": "accepted"})
        assert r.status_code == 303
    async with sessions() as db:
        refreshed = await db.get(Referral, referral.id)
        assert refreshed is not None and refreshed.state == "accepted"
    assert outbox.sent == []


# --- Issue 9, point 13: a hidden "joined" or "closed" reads exactly as "accepted" --------

ROW = re.compile(r"<tr>\s*<td>.*?</tr>", re.S)


def _someone(client: httpx.AsyncClient, n: int) -> httpx.AsyncClient:
    """Another person's browser, from their own address."""
    app = client._transport.app  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{60 + n}", 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def test_a_hidden_join_or_close_reads_exactly_as_a_real_acceptance(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Four referrals, made at the same moment, of the same name, to the same group:
    A is truly accepted; B's person joined; C's person joined and the group closed it;
    D was accepted, joined and closed. Nobody chose to share their progress, so the
    professional's page and their export must not tell them apart (ids aside)."""
    group = await add_group(sessions, "Open Circle", join_policy="open")
    await _as(client, "Dr Pro", sessions, professional_status="verified", professional_role="GP")
    codes = [CODE.search((await _refer(client, "open-circle")).text).group(1) for _ in range(4)]  # type: ignore[union-attr]
    people = [_someone(client, n) for n in range(5)]
    moderator = people[4]
    try:
        mod = await _as(moderator, "The Moderator", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
        ids = []
        for n, (person, code) in enumerate(zip(people, codes, strict=False)):
            await sign_up(person, f"Referred {n}", "another long password")
            assert (await post_form(person, f"/r/{code}", {})).status_code == 303
        async with sessions() as db:
            for code in codes:
                ids.append((await actions.by_code(db, code)).id)
        a, b, c, d = ids

        async def decide(referral_id: str, state: str, **extra: str) -> None:
            r = await post_form(
                moderator, f"/organise/referrals/{referral_id}", {"state": state, **extra}
            )
            assert r.status_code == 303, r.text

        async def join(person: httpx.AsyncClient) -> None:
            r = await post_form(person, "/groups/open-circle/join", {})
            assert r.status_code == 303 and "done=joined" in r.headers["location"]

        # (Steps within the two-hour idle time-out, so everyone stays signed in.)
        clock.advance(minutes=30)
        await decide(a, "accepted")
        await join(people[1])
        await join(people[2])
        await decide(d, "accepted")
        clock.advance(minutes=30)
        await join(people[3])
        clock.advance(minutes=30)
        await decide(c, "closed", outcome="Came every week, now co-facilitating.")
        await decide(d, "closed", outcome="Moved away.")
    finally:
        for person in people:
            await person.aclose()
    async with sessions() as db:
        states = {r.id: r.state for r in (await db.scalars(select(Referral))).all()}
    assert [states[x] for x in (a, b, c, d)] == ["accepted", "joined", "closed", "closed"]

    page = await client.get("/referrals")
    made = page.text.split("Referrals you made")[1]
    rows = ROW.findall(made)
    assert len(rows) == 4
    assert len(set(rows)) == 1, "\n\n".join(rows)
    # ...and each reads as sent, then accepted half an hour later.
    assert "accepted" in rows[0] and "joined" not in made and "closed" not in made
    assert "not chosen" not in made and "Moved away" not in made
    # UK time, as CLDR writes it in British English ("4 Mar 2025, 09:30").
    times = re.findall(r"(\d+ \w+ \d{4}, \d\d:\d\d): (\w+)", rows[0])
    assert [s for _, s in times] == ["sent", "accepted"]
    assert times[0][0] != times[1][0]

    export = await client.get("/account/export")
    mine = export.json()["referrals_you_made"]
    assert len(mine) == 4
    shown = [json.dumps({k: v for k, v in r.items() if k != "id"}, sort_keys=True) for r in mine]
    assert len(set(shown)) == 1, shown
    assert [e["state"] for e in mine[0]["history"]] == ["sent", "accepted"]

    # Once the person chooses to share, the truth shows (for theirs only).
    async with sessions() as db, db.begin():
        referral = await db.get(Referral, c)
        assert referral is not None
        referral.share_progress = True
    made = (await client.get("/referrals")).text.split("Referrals you made")[1]
    assert "closed: Came every week" in made and made.count("joined") == 1


async def test_the_codes_page_and_taking_it_up_tell_the_professional_nothing_hidden(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """The security review, item 4: the professional holds every code they made. The
    landing page showed a hidden "closed" as "no longer open", and posting the code
    told taken-up (404) from not (and took it up for them). Now the page reads every
    hidden state like an acceptance, the professional cannot take up their own
    referral whatever its state, and for anyone else a referral already taken up, or
    closed unseen, answers like one taken up, changing nothing."""
    import time

    from peerhub.security.ratelimit import TokenBuckets

    # (This test opens many codes from one address; their rate limit is tested above.)
    app = client._transport.app  # type: ignore[attr-defined]
    app.state.code_limits = TokenBuckets(rate=1, burst=1000, clock=time.monotonic)
    group = await add_group(sessions, "Open Circle", join_policy="open")
    await _as(client, "Dr Pro", sessions, professional_status="verified", professional_role="GP")
    codes = [CODE.search((await _refer(client, "open-circle")).text).group(1) for _ in range(5)]  # type: ignore[union-attr]
    people = [_someone(client, n) for n in range(5)]
    try:
        moderator = people[4]
        mod = await _as(moderator, "The Moderator", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
        # A, B, C are taken up; D and E are not.
        for n in range(3):
            await sign_up(people[n], f"Referred {n}", "another long password")
            assert (await post_form(people[n], f"/r/{codes[n]}", {})).status_code == 303
        async with sessions() as db:
            a, b, c, d, e = [(await actions.by_code(db, code)).id for code in codes]

        async def decide(referral_id: str, state: str, **extra: str) -> None:
            r = await post_form(
                moderator, f"/organise/referrals/{referral_id}", {"state": state, **extra}
            )
            assert r.status_code == 303, r.text

        await decide(a, "accepted")  # A: truly accepted
        for person in people[1:3]:  # B joined; C joined and was closed
            assert (await post_form(person, "/groups/open-circle/join", {})).status_code == 303
        await decide(c, "closed", outcome="Came every week.")
        await decide(d, "accepted")  # D: accepted, then closed without the person
        await decide(d, "closed", outcome="Never came.")
        await decide(e, "accepted")  # E: accepted, not taken up yet
    finally:
        for person in people:
            await person.aclose()

    def main(html: str, code: str) -> str:
        return html[html.index("<main") : html.index("</main>")].replace(code, "CODE")

    for viewer in (client, other(client)):
        async with contextlib.AsyncExitStack() as stack:
            if viewer is not client:
                await stack.enter_async_context(viewer)
            pages = {main((await viewer.get(f"/r/{code}")).text, code) for code in codes}
            assert len(pages) == 1, pages
            assert "no longer open" not in pages.pop()
    assert "You made this referral" in (await client.get(f"/r/{codes[2]}")).text
    # The professional cannot take up their own referral, whatever became of it.
    for code in codes:
        r = await post_form(client, f"/r/{code}", {})
        assert r.status_code == 403 and "You made this referral" in r.text
    # Someone else holding the codes: the same answer for those taken up or closed
    # unseen, and nothing changes.
    async with other(client) as holder:
        await sign_up(holder, "Code Holder", "yet another long password")
        for code in codes[:4]:
            r = await post_form(holder, f"/r/{code}", {})
            assert r.status_code == 303 and r.headers["location"].startswith(
                "/groups/open-circle/join"
            )
        holder_id = (await holder.get("/api/me")).json()["id"]
    async with sessions() as db:
        rows = {r.id: r for r in (await db.scalars(select(Referral))).all()}
        assert [rows[x].state for x in (a, b, c, d, e)] == [
            "accepted",
            "joined",
            "closed",
            "closed",
            "accepted",
        ]
        assert holder_id not in {r.person_user_id for r in rows.values()}
        assert rows[d].person_user_id is None
        assert not (await db.scalars(select(Consent).where(Consent.user_id == holder_id))).all()


# --- Issue 9, point 12: no referral into a group of an unchecked organisation ------------


async def test_no_referral_reaches_an_organisation_peerhub_has_not_checked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from peerhub.models import Organisation

    moderator = await add_user(sessions, "Group Mod")
    checked = await add_group(sessions, "Checked Circle", moderators=(moderator.id,))
    unchecked = await add_group(sessions, "Shady Circle")
    async with sessions() as db, db.begin():
        org = await db.get(Organisation, unchecked.organisation_id)
        assert org is not None
        org.verified_at = None
    await _as(client, "Dr Pro", sessions, professional_status="verified", professional_role="GP")
    # Neither the page nor the form: the same 404 as the group's public page.
    assert (await client.get("/groups/shady-circle/refer")).status_code == 404
    assert (await _refer(client, "shady-circle")).status_code == 404
    async with sessions() as db:
        assert (await db.scalars(select(Referral))).all() == []
    # A referral to a checked group cannot be redirected to it either.
    code = CODE.search((await _refer(client, "checked-circle")).text).group(1)  # type: ignore[union-attr]
    async with sessions() as db:
        referral = (await db.scalars(select(Referral))).one()
    mod_client = other(client)
    async with mod_client:
        await sign_up(mod_client, "Group Mod Two", "yet another long password")
        me = (await mod_client.get("/api/me")).json()["id"]
        await enrol_2fa(sessions, me)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=checked.id, user_id=me, role="moderator"))
        moved = await post_form(
            mod_client,
            f"/organise/referrals/{referral.id}",
            {"state": "redirected", "redirect_to": "shady-circle"},
        )
        assert moved.status_code == 422 and "directory" in moved.text
        async with sessions() as db:
            again = await db.get(Referral, referral.id)
            assert again is not None and again.group_id == checked.id and again.state == "sent"

        # PeerHub withdraws the checked group's verification: its referral (with the
        # person's contact and the professional's note) leaves the inbox, cannot be
        # answered, and cannot be taken up.
        async with sessions() as db, db.begin():
            org = await db.get(Organisation, checked.organisation_id)
            assert org is not None
            org.verified_at = None
        inbox = await mod_client.get("/organise/referrals")
        assert inbox.status_code == 200 and "Welsh-speaking" not in inbox.text
        answer = await post_form(
            mod_client, f"/organise/referrals/{referral.id}", {"state": "accepted"}
        )
        assert answer.status_code == 404
    person = other(client)
    async with person:
        await sign_up(person, "Sam Here", "another long password")
        landing = await person.get(f"/r/{code}")
        assert landing.status_code == 200 and "cannot take anyone" in landing.text
        assert f'action="/r/{code}"' not in landing.text
        taken = await post_form(person, f"/r/{code}", {})
        assert taken.status_code == 409
        mine = await person.get("/referrals")
        assert mine.status_code == 200 and "Checked Circle" not in mine.text  # not taken up
    async with sessions() as db:
        still = await db.get(Referral, referral.id)
        assert still is not None and still.person_user_id is None and still.state == "sent"


async def test_a_join_before_any_answer_e_mails_the_professional_as_an_acceptance(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    """The page says "accepted" for a join; the professional's e-mail must say the same,
    or a missing "accepted" e-mail would give the join away."""
    outbox = Outbox()
    app.state.sender = outbox
    group = await add_group(sessions, "Mail Circle", join_policy="open")
    await _as(
        client, "Dr Mail", sessions, professional_status="verified", email="dr.mail@example.org"
    )
    codes = [CODE.search((await _refer(client, "mail-circle")).text).group(1) for _ in range(2)]  # type: ignore[union-attr]
    people = [_someone(client, n) for n in range(3)]
    try:
        moderator = people[2]
        mod = await _as(moderator, "Mail Mod", sessions)
        async with sessions() as db, db.begin():
            db.add(GroupMember(group_id=group.id, user_id=mod.id, role="moderator"))
        for n, code in enumerate(codes):
            await sign_up(people[n], f"Referred {n}", "another long password")
            assert (await post_form(people[n], f"/r/{code}", {})).status_code == 303
        async with sessions() as db:
            accepted, joined = [(await actions.by_code(db, c)).id for c in codes]
        r = await post_form(moderator, f"/organise/referrals/{accepted}", {"state": "accepted"})
        assert r.status_code == 303
        r = await post_form(people[1], "/groups/mail-circle/join", {})
        assert r.status_code == 303 and "done=joined" in r.headers["location"]
        # Someone who joins without a referral, or a second join, sends nothing more.
        r = await post_form(people[0], "/groups/mail-circle/join", {})
        assert r.status_code == 303
    finally:
        for person in people:
            await person.aclose()
    async with sessions() as db:
        states = {r.id: r.state for r in (await db.scalars(select(Referral))).all()}
    assert states == {accepted: "joined", joined: "joined"}
    letters = [(to, subject, body) for to, subject, body in outbox.sent]
    assert [to for to, _, _ in letters] == ["dr.mail@example.org"] * 2
    assert letters[0] == letters[1]
    assert "Mail Circle has accepted your referral." in letters[0][2]


async def test_a_taken_up_referral_to_a_group_no_longer_checked_links_nowhere(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from peerhub.models import Organisation

    group = await add_group(sessions, "Open Circle", join_policy="open")
    await _as(client, "Dr Pro", sessions, professional_status="verified")
    code = CODE.search((await _refer(client, "open-circle")).text).group(1)  # type: ignore[union-attr]
    person = _someone(client, 1)
    async with person:
        await sign_up(person, "Referred Person", "another long password")
        assert (await post_form(person, f"/r/{code}", {})).status_code == 303
        assert 'href="/groups/open-circle"' in (await person.get("/referrals")).text
        async with sessions() as db, db.begin():
            org = await db.get(Organisation, group.organisation_id)
            assert org is not None
            org.verified_at = None
        page = await person.get("/referrals")
    assert page.status_code == 200
    assert 'href="/groups/open-circle"' not in page.text  # its page would not be found
    assert "Open Circle (this group cannot take anyone at the moment)" in page.text
