"""Care for the moderators (peerhub/care; hazard H27): check-ins after a crisis alert
that only the moderator sees, debriefs their organisers see, training records and the
training an organisation requires, and time away. On both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from peerhub.care import actions as care
from peerhub.care.models import CheckIn, TrainingRecord, Unavailability
from peerhub.care.queries import unavailable
from peerhub.models import AuditEvent, GroupMember, User
from peerhub.moderation.models import CrisisAlert
from peerhub.privacy.erasure import MessageChoice, erase_account
from tests.conftest import FakeClock, enrol_me, sign_up
from tests.groups.helpers import (
    create_group,
    make_moderator,
    person,
    post,
    register_org,
    user_row,
    verify_org,
)

CRISIS = ["approaching_crisis", "recovery"]
SECRET_WORDS = "the quiet after it was the worst part"


async def _org_and_group(client: httpx.AsyncClient, **overrides: Any) -> tuple[str, str]:
    await sign_up(client, "Olu")
    org_id = await register_org(client)
    await verify_org(client, org_id)
    return org_id, await create_group(client, org_id, **overrides)


async def _alert(app: Any, group_id: str, moderator_id: str, *, times: int = 1) -> str:
    """A crisis alert a moderator saw to, and the alert-closing action's call."""
    async with app.state.ctx.sessions() as db, db.begin():
        alert = CrisisAlert(group_id=group_id, user_id=None, message_seq=3)
        db.add(alert)
        await db.flush()
        for _ in range(times):
            await care.after_alert(db, moderator_id, alert.id, group_id, app.state.ctx.clock())
    return alert.id


async def _check_ins(app: Any, user_id: str) -> list[CheckIn]:
    async with app.state.ctx.sessions() as db:
        return list(await db.scalars(select(CheckIn).where(CheckIn.user_id == user_id)))


async def test_a_check_in_waits_once_per_alert_and_its_answer_is_the_moderators_alone(
    app: Any, client: httpx.AsyncClient
) -> None:
    org_id, group_id = await _org_and_group(client)
    async with person(app, "Mina") as mina, person(app, "Nosy") as nosy:
        await make_moderator(client, mina, group_id, "Mina")
        mina_id = (await user_row(app.state.ctx.sessions, "Mina")).id
        # The alert-closing action calls after_alert; calling it again changes nothing.
        await _alert(app, group_id, mina_id, times=2)
        await _alert(app, group_id, mina_id)  # a second alert: a second check-in
        rows = await _check_ins(app, mina_id)
        assert len(rows) == 2
        first = rows[0].id

        page = await mina.get("/care")
        assert page.status_code == 200
        assert page.text.count("How are you after the crisis alert in Tuesday Talk") == 2
        # Linked from the moderator's own pages; not from a plain member's.
        for path in ("/account/groups", "/moderate"):
            assert 'href="/care"' in (await mina.get(path)).text, path
        assert 'href="/care"' not in (await nosy.get("/account/groups")).text

        r = await post(
            mina,
            f"/care/check-ins/{first}",
            {"action": "answer", "feeling": "struggling", f"words-{first}": SECRET_WORDS},
        )
        assert r.status_code == 303, r.text[:300]
        r = await post(mina, f"/care/check-ins/{first}", {"action": "debrief"})
        assert r.status_code == 303
        page = await mina.get("/care")
        assert SECRET_WORDS in page.text and "Debrief: Asked for" in page.text
        assert page.text.count("How are you after the crisis alert") == 1

        # Nobody else can answer, read or ask on it: the same 404 as none.
        for action in ("answer", "debrief", "forget", "aside", ""):
            r = await post(nosy, f"/care/check-ins/{first}", {"action": action})
            assert r.status_code == 404, action
        assert SECRET_WORDS not in (await nosy.get("/care")).text

        # The organiser sees the request, never the answer.
        pages = [
            await client.get(f"/organise/organisations/{org_id}/care"),
            await client.get(f"/organise/organisations/{org_id}"),
            await client.get(f"/organise/groups/{group_id}"),
            await client.get("/moderate"),
        ]
        for shown in pages:
            assert shown.status_code == 200, shown.url
            assert SECRET_WORDS not in shown.text and "Struggling" not in shown.text
        care_page = pages[0].text
        assert "Mina asked for a debrief after a crisis alert on 2 November 2026" in care_page
        # Their own export has it; the organiser's has none of it.
        mine = (await mina.get("/account/export")).json()
        assert {c["words"] for c in mine["moderator_check_ins"]} == {SECRET_WORDS, ""}
        theirs = (await client.get("/account/export")).text
        assert SECRET_WORDS not in theirs

        # The organiser marks the debrief arranged, then done (audited).
        r = await post(
            client, f"/organise/organisations/{org_id}/care/debriefs/{first}", {"state": "arranged"}
        )
        assert r.status_code == 303
        r = await post(
            client, f"/organise/organisations/{org_id}/care/debriefs/{first}", {"state": "done"}
        )
        assert r.status_code == 303
        assert "Debrief: Done" in (await mina.get("/care")).text
        # Not for someone else: the moderator cannot mark their own debrief done.
        r = await post(
            mina, f"/organise/organisations/{org_id}/care/debriefs/{first}", {"state": "done"}
        )
        assert r.status_code == 404

        # The moderator deletes what they said; the debrief stays.
        r = await post(mina, f"/care/check-ins/{first}", {"action": "forget"})
        assert r.status_code == 303
    (row,) = [c for c in await _check_ins(app, mina_id) if c.id == first]
    assert row.feeling is None and row.words == "" and row.debrief == "done"
    async with app.state.ctx.sessions() as db:
        actions = set(
            await db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == mina_id))
        )
    assert {"care.debrief_arranged", "care.debrief_done"} <= actions


async def test_an_answer_must_be_one_of_the_choices(app: Any, client: httpx.AsyncClient) -> None:
    _org_id, group_id = await _org_and_group(client)
    me = await enrol_me(client)
    await _alert(app, group_id, me)
    (row,) = await _check_ins(app, me)
    r = await post(client, f"/care/check-ins/{row.id}", {"action": "answer", "feeling": "meh"})
    assert r.status_code == 422 and "Choose how you are." in r.text
    r = await post(
        client,
        f"/care/check-ins/{row.id}",
        {"action": "answer", "feeling": "okay", f"words-{row.id}": "x" * 2001},
    )
    assert r.status_code == 422


async def test_organisers_keep_training_records_and_nobody_else_can(
    app: Any, client: httpx.AsyncClient
) -> None:
    org_id, group_id = await _org_and_group(client)
    base = f"/organise/organisations/{org_id}/care"
    form = {"pseudonym": "Mina", "course": "Suicide first aid", "completed_on": "2026-09-01"}
    async with (
        person(app, "Mina") as mina,
        person(app, "Mona") as member,
        person(app, "Oren") as other,
    ):
        await make_moderator(client, mina, group_id, "Mina")
        # Someone organising another organisation, and a member of this one's group.
        other_org = await register_org(other, "Another Network")
        await verify_org(other, other_org)
        r = await post(member, "/groups/tuesday-talk/join", {})
        assert r.status_code == 303
        await enrol_me(member)

        r = await post(client, f"{base}/training", {**form, "valid_until": "2028-09-01"})
        assert r.status_code == 303, r.text[:500]
        async with app.state.ctx.sessions() as db:
            record = await db.scalar(select(TrainingRecord))
        assert record is not None and record.valid_until == date(2028, 9, 1)
        page = (await client.get(base)).text
        assert "Suicide first aid" in page and "valid until 1 September 2028" in page

        # Refused to everyone else, with the 404 of a page that does not exist.
        for who in (member, other, mina):
            assert (await who.get(base)).status_code == 404
            assert (await post(who, f"{base}/training", form)).status_code == 404
            assert (await who.get(f"{base}/training/{record.id}")).status_code == 404
            r = await post(who, f"{base}/training/{record.id}", {"action": "remove"})
            assert r.status_code == 404
            assert (await post(who, f"{base}/required", {"required": "X"})).status_code == 404
        # Nor through the other organisation's own pages.
        other_base = f"/organise/organisations/{other_org}/care"
        r = await post(other, f"{other_base}/training/{record.id}", {"action": "remove"})
        assert r.status_code == 404
        assert (await other.get(f"{other_base}/training/{record.id}")).status_code == 404
        # Mina sees her own record on her page.
        assert "Suicide first aid" in (await mina.get("/care")).text

    # Bad input is a 422 naming the field.
    r = await post(client, f"{base}/training", {**form, "completed_on": "yesterday"})
    assert r.status_code == 422 and "Give a date like 2026-12-31." in r.text
    r = await post(client, f"{base}/training", {**form, "valid_until": "2026-01-01"})
    assert r.status_code == 422
    r = await post(client, f"{base}/training", {**form, "pseudonym": "Nobody Here"})
    assert r.status_code == 422
    # Edit, then remove.
    r = await post(
        client,
        f"{base}/training/{record.id}",
        {"course": "Mental health first aid", "completed_on": "2026-10-01", "valid_until": ""},
    )
    assert r.status_code == 303, r.text[:300]
    async with app.state.ctx.sessions() as db:
        changed = await db.get(TrainingRecord, record.id)
        assert changed is not None
        assert (changed.course, changed.valid_until) == ("Mental health first aid", None)
    r = await post(client, f"{base}/training/{record.id}", {"action": "remove"})
    assert r.status_code == 303
    async with app.state.ctx.sessions() as db:
        assert await db.get(TrainingRecord, record.id) is None
        logged = list(
            await db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("care.%")))
        )
    assert logged == ["care.training_added", "care.training_changed", "care.training_removed"]


async def test_required_training_is_checked_at_inviting_and_at_accepting(
    app: Any, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    org_id, group_id = await _org_and_group(client, stages=CRISIS)
    base = f"/organise/organisations/{org_id}/care"
    r = await post(
        client,
        f"{base}/required",
        {"required": "Suicide first aid\nsuicide  FIRST aid\nSafeguarding"},
    )
    assert r.status_code == 303
    page = (await client.get(base)).text
    assert page.count("<li>Suicide first aid</li>") == 1 and "<li>Safeguarding</li>" in page

    async def invite(name: str) -> httpx.Response:
        return await post(
            client,
            f"/organise/groups/{group_id}/moderators",
            {"pseudonym": name, "action": "invite"},
        )

    async with person(app, "Mina") as mina:
        r = await invite("Mina")
        assert r.status_code == 422
        assert "cannot moderate this group yet" in r.text
        assert "Safeguarding, Suicide first aid" in r.text
        # One course recorded (however it is written), another run out: still refused.
        for course, until in (("SUICIDE first aid", ""), ("Safeguarding", "2026-10-31")):
            r = await post(
                client,
                f"{base}/training",
                {
                    "pseudonym": "Mina",
                    "course": course,
                    "completed_on": "2026-01-05",
                    "valid_until": until,
                },
            )
            assert r.status_code == 303, r.text[:300]
        r = await invite("Mina")
        assert r.status_code == 422 and "no valid record of: Safeguarding." in r.text
        # Valid until today counts.
        r = await post(
            client,
            f"{base}/training",
            {
                "pseudonym": "Mina",
                "course": "Safeguarding",
                "completed_on": "2026-10-01",
                "valid_until": "2026-11-02",
            },
        )
        assert r.status_code == 303
        r = await invite("Mina")
        assert r.status_code == 303, r.text[:500]

        # Accepting checks again: the record was corrected meanwhile (it ran out
        # yesterday), so it is refused, and the invitation is kept.
        async with app.state.ctx.sessions() as db, db.begin():
            await db.execute(
                update(TrainingRecord)
                .where(TrainingRecord.valid_until == date(2026, 11, 2))
                .values(valid_until=date(2026, 11, 1))
            )
        r = await post(
            mina,
            "/account/invitations",
            {"kind": "moderator", "place_id": group_id, "answer": "accept"},
        )
        assert r.status_code == 409 and "Safeguarding" in r.text
        mina_id = (await user_row(app.state.ctx.sessions, "Mina")).id
        async with app.state.ctx.sessions() as db:
            assert await db.get(GroupMember, (group_id, mina_id)) is None
        r = await post(
            client,
            f"{base}/training",
            {"pseudonym": "Mina", "course": "Safeguarding", "completed_on": "2026-11-02"},
        )
        assert r.status_code == 303
        r = await post(
            mina,
            "/account/invitations",
            {"kind": "moderator", "place_id": group_id, "answer": "accept"},
        )
        assert r.status_code == 303, r.text[:300]
        async with app.state.ctx.sessions() as db:
            row = await db.get(GroupMember, (group_id, mina_id))
            assert row is not None and row.role == "moderator"

        # A new requirement leaves her moderating, shown as needing training.
        r = await post(
            client,
            f"{base}/required",
            {"required": "Suicide first aid\nSafeguarding\nDebriefing others"},
        )
        assert r.status_code == 303
        page = (await client.get(base)).text
        assert "Training needed" in page and "Debriefing others" in page
        # And beside her name on the group's own page.
        page = (await client.get(f"/organise/groups/{group_id}")).text
        assert "Training needed" in page and "Debriefing others" in page


async def test_a_group_not_welcoming_people_in_crisis_needs_no_training(
    app: Any, client: httpx.AsyncClient
) -> None:
    org_id, group_id = await _org_and_group(client)  # recovery and staying well only
    r = await post(
        client, f"/organise/organisations/{org_id}/care/required", {"required": "Safeguarding"}
    )
    assert r.status_code == 303
    async with person(app, "Mina") as mina:
        await make_moderator(client, mina, group_id, "Mina")
    page = (await client.get(f"/organise/organisations/{org_id}/care")).text
    assert "Mina" in page and "Training needed" not in page


async def test_unavailable_follows_the_clock(
    app: Any, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """2 November 2026, 09:00 UTC: away from the 4th to the end of the 5th (UK time)."""
    await sign_up(client, "Mina")
    me = await enrol_me(client)
    sessions = app.state.ctx.sessions

    async def away_at(moment: datetime) -> bool:
        async with sessions() as db:
            return me in await unavailable(db, [me, "someone-else"], moment)

    r = await post(
        client,
        "/care/availability",
        {"action": "away", "away_from": "2026-11-04", "away_until": "2026-11-05"},
    )
    assert r.status_code == 303, r.text[:300]
    assert not await away_at(clock())
    assert await away_at(datetime(2026, 11, 4, 0, 0, tzinfo=UTC))
    assert await away_at(datetime(2026, 11, 5, 23, 59, tzinfo=UTC))
    assert not await away_at(datetime(2026, 11, 6, 0, 0, tzinfo=UTC))
    page = (await client.get("/care")).text
    assert "You will be unavailable from 4 November 2026 until the end of 5 November 2026." in page

    # Away now, until they say they are back.
    r = await post(client, "/care/availability", {"action": "away"})
    assert r.status_code == 303
    assert await away_at(clock())
    assert await away_at(clock() + timedelta(days=400))
    assert "You are unavailable until you say you are back." in (await client.get("/care")).text
    r = await post(client, "/care/availability", {"action": "back"})
    assert r.status_code == 303
    assert not await away_at(clock())

    # Bad dates are a 422.
    for form in (
        {"away_from": "2026-11-09", "away_until": "2026-11-08"},
        {"away_until": "2020-01-01"},
        {"away_from": "not a date"},
        {"away_from": "2099-01-01"},
    ):
        r = await post(client, "/care/availability", {"action": "away", **form})
        assert r.status_code == 422, form
    async with sessions() as db:
        assert await db.get(Unavailability, me) is None


async def test_organisers_see_when_a_moderator_is_away(app: Any, client: httpx.AsyncClient) -> None:
    org_id, group_id = await _org_and_group(client)
    async with person(app, "Mina") as mina:
        await make_moderator(client, mina, group_id, "Mina")
        r = await post(mina, "/care/availability", {"action": "away", "away_until": "2026-11-20"})
        assert r.status_code == 303
    for path in (f"/organise/organisations/{org_id}/care", f"/organise/groups/{group_id}"):
        page = (await client.get(path)).text
        assert "Unavailable until 20 November 2026" in page, path
    # Not to another organisation that merely holds a training record of hers.
    async with person(app, "Oren") as other:
        other_org = await register_org(other, "Another Network")
        r = await post(
            other,
            f"/organise/organisations/{other_org}/care/training",
            {"pseudonym": "Mina", "course": "Safeguarding", "completed_on": "2026-10-01"},
        )
        assert r.status_code == 303
        page = (await other.get(f"/organise/organisations/{other_org}/care")).text
        assert "Mina" in page and "Unavailable" not in page


async def test_erasing_a_moderator_takes_their_care_rows_and_an_alerts_erasure_keeps_theirs(
    app: Any, client: httpx.AsyncClient
) -> None:
    org_id, group_id = await _org_and_group(client, stages=CRISIS)
    sessions = app.state.ctx.sessions
    async with person(app, "Mina") as mina:
        await make_moderator(client, mina, group_id, "Mina")
        r = await post(mina, "/care/availability", {"action": "away"})
        assert r.status_code == 303
    mina_id = (await user_row(sessions, "Mina")).id
    r = await post(
        client,
        f"/organise/organisations/{org_id}/care/training",
        {"pseudonym": "Mina", "course": "Safeguarding", "completed_on": "2026-10-01"},
    )
    assert r.status_code == 303
    alert_id = await _alert(app, group_id, mina_id)
    # The alert goes (its person erased, or retention): Mina's check-in stays.
    async with sessions() as db, db.begin():
        alert = await db.get(CrisisAlert, alert_id)
        await db.delete(alert)
    (row,) = await _check_ins(app, mina_id)
    assert row.alert_id is None
    async with sessions() as db, db.begin():
        await erase_account(db, mina_id, app.state.ctx.clock(), choice=MessageChoice.REMOVE)
    async with sessions() as db:
        for model in (CheckIn, TrainingRecord, Unavailability):
            count = await db.scalar(
                select(func.count()).select_from(model).where(model.user_id == mina_id)
            )
            assert count == 0, model
        assert await db.get(User, mina_id) is None


async def test_the_care_page_needs_sign_in_and_shows_each_person_only_their_own(
    app: Any, client: httpx.AsyncClient
) -> None:
    r = await client.get("/care")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    await sign_up(client, "Sol")
    page = await client.get("/care")
    assert page.status_code == 200
    assert "Nothing is waiting." in page.text and "You are available." in page.text


async def test_the_notification_seams_are_called_once_each_with_where_to_look(
    app: Any, client: httpx.AsyncClient, monkeypatch: Any
) -> None:
    """tell_check_in and tell_debrief_request do nothing until wired to
    peerhub.notify.tell; they are called where a notification belongs."""
    told: list[tuple[str, str, str, str]] = []

    async def tell(kind: str, db: Any, user_id: str, url: str, ref: str, now: datetime) -> None:
        told.append((kind, user_id, url, ref.split(":")[0]))

    monkeypatch.setattr(care, "tell_check_in", lambda *a: tell("check_in", *a))
    monkeypatch.setattr(care, "tell_debrief_request", lambda *a: tell("debrief", *a))
    org_id, group_id = await _org_and_group(client)
    me = await enrol_me(client)  # Olu organises; here Olu saw to the alert too
    await _alert(app, group_id, me, times=2)
    assert told == [("check_in", me, "/care", "care.check_in")]
    (row,) = await _check_ins(app, me)
    for _ in range(2):  # asked once, whatever is pressed again
        r = await post(client, f"/care/check-ins/{row.id}", {"action": "debrief"})
        assert r.status_code == 303
    assert told[1:] == [
        ("debrief", me, f"/organise/organisations/{org_id}/care#debriefs-title", "care.debrief")
    ]
