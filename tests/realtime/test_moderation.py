"""The moderation toolkit end to end: a real server, real sockets, both databases."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.models import Block, GroupMember
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report, Sanction
from peerhub.outbox.models import OutboxEntry
from peerhub.realtime.models import RoomMessage
from tests.conftest import FakeClock
from tests.realtime.conftest import Client, RTServer, World, joined, later

Sessions = async_sessionmaker[AsyncSession]
_refs = itertools.count(1)


async def act(client: Client, frame_type: str, **fields: Any) -> dict[str, Any]:
    """Send a frame with a fresh ref; the ``done`` or ``error`` frame answering it."""
    ref = f"r{next(_refs)}"
    await client.send(frame_type, ref=ref, **fields)
    return await client.expect(("done", "error"), ref=ref)


async def audit(sessions: Sessions, room: str) -> list[tuple[str, str | None, str]]:
    async with sessions() as db:
        rows = await db.execute(
            select(ModerationEvent.action, ModerationEvent.subject_id, ModerationEvent.reason)
            .where(ModerationEvent.group_id == room)
            .order_by(ModerationEvent.id)
        )
        return [(a, s, r) for a, s, r in rows]


def event(name: str) -> Any:
    return lambda f: f["kind"] == "system" and f["data"]["event"] == name


# --- ranks ---------------------------------------------------------------------------


async def test_nobody_acts_on_an_equal_or_higher_rank(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana, mo, olga = await joined(connect_as, world.group_id, "ana", "mo", "olga")
    room, users = world.group_id, world.users

    refused = await act(ana, "mod.timeout", room=room, user=users["ben"], minutes=5, reason="x")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    refused = await act(mo, "mod.timeout", room=room, user=users["olga"], minutes=5)
    assert refused["code"] == "forbidden" and "higher rank" in refused["message"]
    refused = await act(mo, "mod.ban", room=room, user=users["mo"])
    assert refused["code"] == "forbidden"
    # An organiser outranks a moderator.
    done = await act(olga, "mod.timeout", room=room, user=users["mo"], minutes=5, reason="test")
    assert done["type"] == "done" and done["action"] == "mod.timeout"
    # Someone outside the group is "not found", as for any room they are not in.
    outsider = await act(mo, "mod.timeout", room=world.other_group_id, user=users["out"], minutes=5)
    assert outsider["code"] == "not_found"
    assert [a for a, _, _ in await audit(sessions, room)] == ["timeout"]


# --- time-outs -----------------------------------------------------------------------


async def test_a_time_out_refuses_messages_until_it_ends_and_survives_a_restart(
    rt_settings: Settings, rt_clock: FakeClock, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    with RTServer(rt_settings, clock=rt_clock) as server:
        ana = await Client.open(server, world.tokens["ana"])
        ben = await Client.open(server, world.tokens["ben"])
        mo = await Client.open(server, world.tokens["mo"])
        for client in (ana, ben, mo):
            await client.join(room)
        done = await act(
            mo, "mod.timeout", room=room, user=world.users["ana"], minutes=10, reason="Cool off"
        )
        assert done["until"] == "2026-11-03T17:10:00.000Z"
        notice = await ben.expect("message", where=event("member.timed_out"))
        assert notice["data"]["user"] == {"id": world.users["ana"], "name": "Ana"}
        assert "reason" not in notice["data"]  # the why goes to the person, not the room
        private = await ana.expect("sanction")
        assert private["kind"] == "timeout" and private["reason"] == "Cool off"
        await ana.send("send", room=room, client_id="timed-00001", body="hello?")
        error = await ana.expect("error", client_id="timed-00001")
        assert error["code"] == "timed_out" and error["retry_after"] == 600
        assert "17:10 UTC" in error["message"]
        for client in (ana, ben, mo):
            await client.close()

    # A new process reads the stored expiry.
    later(rt_clock, minutes=5)
    with RTServer(rt_settings, clock=rt_clock) as server:
        ana = await Client.open(server, world.tokens["ana"])
        sub = await ana.join(room)
        assert sub["extra"]["moderation"]["timed_out_until"] == "2026-11-03T17:10:00.000Z"
        await ana.send("send", room=room, client_id="timed-00002", body="and now?")
        assert (await ana.expect("error", client_id="timed-00002"))["retry_after"] == 300
        later(rt_clock, minutes=5, seconds=1)
        assert (await ana.say(room, "back again", "timed-00003"))["status"] == "visible"
        await ana.close()
    assert [a for a, _, _ in await audit(sessions, room)] == ["timeout"]


async def test_a_time_out_can_be_lifted(connect_as: Any, world: World, sessions: Sessions) -> None:
    ana, mo = await joined(connect_as, world.group_id, "ana", "mo")
    room, who = world.group_id, world.users["ana"]
    await act(mo, "mod.timeout", room=room, user=who, minutes=60)
    await ana.expect("sanction", kind="timeout")
    assert (await act(mo, "mod.untimeout", room=room, user=who))["type"] == "done"
    await ana.expect("sanction", kind="lifted")
    await ana.expect("message", where=event("member.timeout_lifted"))
    assert (await ana.say(room, "thank you", "lifted-0001"))["status"] == "visible"
    again = await act(mo, "mod.untimeout", room=room, user=who)
    assert again["code"] == "not_timed_out"
    assert [a for a, _, _ in await audit(sessions, room)] == ["timeout", "timeout.lifted"]


# --- removal and bans ----------------------------------------------------------------


async def test_removal_closes_the_socket_and_takes_the_place(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ben, mo = await joined(connect_as, world.group_id, "ben", "mo")
    done = await act(mo, "mod.remove", room=world.group_id, user=world.users["ben"], reason="r")
    assert done["type"] == "done"
    code, reason = await ben.closed()
    assert code == 1008 and "removed you" in str(reason)
    await mo.expect("message", where=event("member.removed"))
    async with sessions() as db:
        assert await db.get(GroupMember, (world.group_id, world.users["ben"])) is None
    again = await act(mo, "mod.remove", room=world.group_id, user=world.users["ben"])
    assert again["code"] == "not_member"


async def test_removal_and_a_ban_withdraw_what_the_person_shared_on_record(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    """Their place ends, and so does what they shared with the group: docs/sharing.md
    promises a withdrawal on record (as when someone leaves), not a silent cascade."""
    from datetime import UTC, datetime

    from peerhub.models import Consent, User
    from peerhub.sharing import rules as sharing

    async with sessions() as db, db.begin():
        for name in ("ben", "cat"):
            person = await db.get(User, world.users[name])
            assert person is not None
            await sharing.set_group_choices(
                db, person, world.group_id, {("moderators", "crisis_plan")}, datetime.now(UTC)
            )
    (mo,) = await joined(connect_as, world.group_id, "mo")
    assert (await act(mo, "mod.remove", room=world.group_id, user=world.users["ben"]))["type"] == (
        "done"
    )
    assert (await act(mo, "mod.ban", room=world.group_id, user=world.users["cat"]))["type"] == (
        "done"
    )
    async with sessions() as db:
        for name in ("ben", "cat"):
            rows = (
                await db.execute(
                    select(Consent.kind, Consent.granted)
                    .where(
                        Consent.user_id == world.users[name],
                        Consent.subject_id == world.group_id,
                    )
                    .order_by(Consent.id)
                )
            ).all()
            assert rows[-2:] == [
                ("share.moderators.crisis_plan", False),
                ("group.join", False),
            ], (name, rows)


async def test_a_ban_cuts_the_live_socket_and_stops_rejoining(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    import httpx

    from peerhub.models import SignIn

    cat, mo = await joined(connect_as, world.group_id, "cat", "mo")
    await act(mo, "mod.ban", room=world.group_id, user=world.users["cat"], reason="Abuse")
    code, reason = await cat.closed()
    assert code == 1008 and "banned" in str(reason)
    await mo.expect("message", where=event("member.banned"))

    # A new socket cannot get in, and neither can joining again.
    again = await connect_as("cat")
    await again.send("subscribe", room=world.group_id)
    assert (await again.expect("error"))["code"] == "not_found"
    async with sessions() as db:
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids["cat"])
        )
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["cat"])
        asked = await http.post(
            f"/groups/{world.slug}/join",
            headers={
                "X-CSRF-Token": str(csrf),
                "Origin": server.base,
                "Accept": "application/json",
            },
        )
        assert asked.json()["outcome"] == "banned"
        page = await http.get(f"/groups/{world.slug}/join")
        assert "closed this group to you" in page.text

    await mo.send("mod.queue", room=world.group_id)
    answer = await mo.expect("mod.queue")
    assert [b["name"] for b in answer["banned"]] == ["Cat"]
    assert (await act(mo, "mod.unban", room=world.group_id, user=world.users["cat"]))["type"] == (
        "done"
    )
    async with sessions() as db:
        ban = await db.scalar(select(Sanction).where(Sanction.kind == "ban"))
        assert ban is not None and ban.lifted_at is not None and ban.reason == "Abuse"
    assert [a for a, _, _ in await audit(sessions, world.group_id)] == ["ban", "ban.lifted"]


# --- redaction -----------------------------------------------------------------------


async def test_redaction_removes_the_text_for_everyone_live_on_resume_and_in_history(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    ack = await ana.say(room, "my phone number is 07700 900123", "redact-0001")
    await ben.expect("message", client_id="redact-0001")
    done = await act(mo, "mod.redact", room=room, seq=ack["seq"], reason="Personal details")
    assert done["seq"] == ack["seq"]
    for client in (ana, ben):
        notice = await client.expect("message", where=event("message.redacted"))
        assert notice["data"]["seq"] == ack["seq"]
        assert notice["data"]["reason"] == "Personal details"
    async with sessions() as db:
        row = await db.get(RoomMessage, (room, ack["seq"]))
        assert row is not None and row.status == "redacted" and row.body == ""

    # A socket catching up (the feed's ring is dropped on system events) and history.
    cat = await connect_as("cat")
    await cat.subscribe(room, after=0)
    replay = await cat.expect("message", client_id="redact-0001")
    assert replay["body"] is None and replay["reason"] == "Personal details"
    await cat.send("history", room=room, before_seq=ack["seq"] + 5)
    page = await cat.expect("history")
    [old] = [m for m in page["messages"] if m.get("client_id") == "redact-0001"]
    assert old["body"] is None and old["status"] == "redacted"

    again = await act(mo, "mod.redact", room=room, seq=ack["seq"])
    assert again["code"] == "already_redacted"
    missing = await act(mo, "mod.redact", room=room, seq=999)
    assert missing["code"] == "not_found"
    assert await audit(sessions, room) == [("redact", world.users["ana"], "Personal details")]


async def test_a_moderator_cannot_redact_an_organisers_message(
    connect_as: Any, world: World
) -> None:
    olga, mo = await joined(connect_as, world.group_id, "olga", "mo")
    ack = await olga.say(world.group_id, "welcome all", "olga-000001")
    refused = await act(mo, "mod.redact", room=world.group_id, seq=ack["seq"])
    assert refused["code"] == "forbidden"


# --- slow mode, lock, pin --------------------------------------------------------------


async def test_slow_mode_spaces_out_members_but_not_moderators(
    connect_as: Any, world: World, rt_clock: FakeClock
) -> None:
    room = world.group_id
    ana, mo = await joined(connect_as, room, "ana", "mo")
    assert (await act(mo, "mod.slow", room=room, seconds=30))["seconds"] == 30
    await ana.expect("message", where=event("room.slow_mode"))
    await ana.say(room, "one", "slow-000001")
    await ana.send("send", room=room, client_id="slow-000002", body="two")
    error = await ana.expect("error", client_id="slow-000002")
    assert error["code"] == "slow_mode" and error["retry_after"] == 30
    await mo.say(room, "moderators are exempt", "slow-mod-001")
    await mo.say(room, "twice", "slow-mod-002")
    later(rt_clock, seconds=31)
    assert (await ana.say(room, "two", "slow-000002"))["status"] == "visible"
    await act(mo, "mod.slow", room=room, seconds=0)
    await ana.expect("message", where=event("room.slow_mode"))
    await ana.say(room, "three", "slow-000003")


async def test_a_locked_room_is_read_only_for_members(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, mo = await joined(connect_as, room, "ana", "mo")
    await act(mo, "mod.lock", room=room, locked=True, reason="Taking a break")
    await ana.expect("message", where=lambda f: f["kind"] == "system" and f["data"].get("locked"))
    await ana.send("send", room=room, client_id="locked-0001", body="can I?")
    assert (await ana.expect("error", client_id="locked-0001"))["code"] == "locked"
    await mo.say(room, "moderators can", "locked-mod-1")
    assert (await act(mo, "mod.lock", room=room, locked=True))["code"] == "unchanged"
    await act(mo, "mod.lock", room=room, locked=False)
    await ana.expect(
        "message",
        where=lambda f: f["kind"] == "system" and "locked" in f["data"] and not f["data"]["locked"],
    )
    assert (await ana.say(room, "now I can", "locked-0002"))["status"] == "visible"
    assert [a for a, _, _ in await audit(sessions, room)] == ["lock", "unlock"]


async def test_a_pinned_announcement_reaches_everyone_and_every_new_socket(
    connect_as: Any, world: World
) -> None:
    room = world.group_id
    ben, mo = await joined(connect_as, room, "ben", "mo")
    await act(mo, "mod.pin", room=room, text="Tonight: sleep and rest.")
    pinned = await ben.expect("message", where=event("room.pinned"))
    assert pinned["data"]["text"] == "Tonight: sleep and rest."
    cat = await connect_as("cat")
    sub = await cat.join(room)
    assert sub["extra"]["moderation"]["pinned"]["text"] == "Tonight: sleep and rest."
    await act(mo, "mod.unpin", room=room)
    await ben.expect("message", where=event("room.unpinned"))
    assert (await act(mo, "mod.unpin", room=room))["code"] == "unchanged"


# --- hold for review -----------------------------------------------------------------


async def test_held_messages_wait_for_a_moderator(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    done = await act(mo, "mod.hold_words", room=room, words="car boot\n\nCASH  app\ncar boot")
    assert done["count"] == 2
    held = await ana.say(room, "Selling at the car-boot sale", "held-000001")
    assert held["status"] == "held"
    await mo.expect("mod.changed", what="held")
    assert (await mo.expect("message", client_id="held-000001"))["status"] == "held"
    # "carboot" is not the phrase; other people never see a held message.
    assert (await ana.say(room, "carboots are fun", "held-000002"))["status"] == "visible"
    await ben.expect("message", client_id="held-000002")
    assert not [f for f in ben.seen if f.get("client_id") == "held-000001"]
    await mo.send("mod.queue", room=room)
    queue = await mo.expect("mod.queue")
    assert [h["seq"] for h in queue["held"]] == [held["seq"]]
    assert queue["settings"]["hold_words"] == ["car boot", "CASH app"]

    cat = await connect_as("cat")
    await cat.join(room)
    await act(cat, "me.mute", kind="person", value=world.users["ana"])
    await act(mo, "mod.approve", room=room, seq=held["seq"])
    approved = await ben.expect("message", where=event("message.approved"))
    # The event names the message and its writer; the text comes by history, which
    # leaves it out for people who muted the writer.
    assert approved["data"]["seq"] == held["seq"] and "message" not in approved["data"]
    assert approved["data"]["sender"] == {"id": world.users["ana"], "name": "Ana"}
    for client, expected in ((ben, ["Selling at the car-boot sale"]), (cat, [])):
        await client.send("history", room=room, before_seq=held["seq"] + 1, limit=1)
        page = await client.expect("history")
        assert [m["body"] for m in page["messages"] if m["status"] == "visible"] == expected
    assert (await act(mo, "mod.approve", room=room, seq=held["seq"]))["code"] == "not_held"

    other = await ana.say(room, "pay me by cash app", "held-000003")
    assert other["status"] == "held"
    await act(mo, "mod.reject", room=room, seq=other["seq"], reason="No selling")
    await ana.expect("message", where=event("message.rejected"))
    async with sessions() as db:
        row = await db.get(RoomMessage, (room, other["seq"]))
        assert row is not None and row.status == "rejected"
    # Moderators' own messages are never held.
    assert (await mo.say(room, "no car boot talk", "held-mod-01"))["status"] == "visible"
    assert [a for a, _, _ in await audit(sessions, room)] == ["hold_words", "approve", "reject"]


# --- reports -------------------------------------------------------------------------


async def test_a_report_reaches_the_moderators_and_the_reporter_hears_back(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    ack = await ana.say(room, "you are useless", "report-0001")
    await ben.send(
        "report.create", ref="rep1", room=room, seq=ack["seq"], category="unkind", words="Hurtful"
    )
    received = await ben.expect("report.received")
    assert received["ref"] == "rep1"
    await mo.expect("mod.changed", what="report")
    await mo.send("mod.queue", room=room)
    [report] = (await mo.expect("mod.queue"))["reports"]
    assert report["id"] == received["report"]
    assert report["reporter"]["name"] == "Ben" and report["subject"]["name"] == "Ana"
    assert report["message"]["body"] == "you are useless" and report["words"] == "Hurtful"
    assert report["category_text"].startswith("Unkind")
    assert not [f for f in ana.seen if f["type"].startswith(("report", "mod."))]

    done = await act(
        mo, "mod.resolve", room=room, report=report["id"], outcome="action", note="Spoke"
    )
    assert done["type"] == "done"
    handled = await ben.expect("report.handled")
    assert handled["report"] == report["id"] and handled["outcome"] == "action"
    again = await act(mo, "mod.resolve", room=room, report=report["id"], outcome="no_action")
    assert again["code"] == "already_resolved"
    assert (await act(mo, "mod.resolve", room=room, report=report["id"], outcome="maybe"))[
        "code"
    ] == "bad_outcome"


async def test_a_report_waits_when_no_moderator_is_online_and_the_reporter_is_told_later(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ben = await connect_as("ben")
    await ben.join(room)
    await ben.send(
        "report.create", ref="rep2", room=room, user=world.users["cat"], category="unsafe"
    )
    report_id = (await ben.expect("report.received"))["report"]
    await ben.close()
    async with sessions() as db:
        stored = await db.get(Report, report_id)
        assert stored is not None and stored.status == "open"

    mo = await connect_as("mo")
    await mo.join(room)
    await mo.send("mod.queue", room=room)
    [report] = (await mo.expect("mod.queue"))["reports"]
    assert report["subject"]["name"] == "Cat" and report["message"] is None
    await act(mo, "mod.resolve", room=room, report=report_id, outcome="no_action")

    ben = await connect_as("ben")
    sub = await ben.subscribe(room)
    assert sub["extra"]["reports_handled"] == [
        {"report": report_id, "outcome": "no_action", "at": "2026-11-03T17:00:00.000Z"}
    ]
    await ben.close()
    ben = await connect_as("ben")
    assert "reports_handled" not in (await ben.subscribe(room))["extra"]


async def test_bad_reports_get_clear_errors(connect_as: Any, world: World) -> None:
    ben = await connect_as("ben")
    await ben.join(world.group_id)
    room = world.group_id
    assert (await act(ben, "report.create", room=room, seq=1, category="rude"))["code"] == (
        "bad_category"
    )
    assert (await act(ben, "report.create", room=room, category="unkind"))["code"] == "bad_frame"
    assert (await act(ben, "report.create", room=room, seq=999, category="unkind"))["code"] == (
        "not_found"
    )
    me = world.users["ben"]
    assert (await act(ben, "report.create", room=room, user=me, category="other"))["code"] == (
        "forbidden"
    )
    bad = await act(ben, "report.create", room=room, category="unkind", words="x" * 1001)
    assert bad["code"] in ("bad_frame", "too_long")


# --- crisis signals --------------------------------------------------------------------


async def test_a_crisis_message_is_posted_and_routed_to_a_human(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    ack = await ana.say(room, "Honestly I can’t go on like this", "crisis-0001")
    assert ack["status"] == "visible"
    support = await ana.expect("support")
    assert support["seq"] == ack["seq"] and support["contacts"]
    alert = await mo.expect("alert", kind="crisis")
    assert alert["sender"]["id"] == world.users["ana"]
    assert (await ben.expect("message", client_id="crisis-0001"))["body"].startswith("Honestly")
    await mo.expect("mod.changed", what="alert")
    await mo.send("mod.queue", room=room)
    [stored] = (await mo.expect("mod.queue"))["alerts"]
    assert stored["person"]["name"] == "Ana" and stored["message"]["seq"] == ack["seq"]
    assert stored["opened_by"] is None and stored["level"] == 0
    # Its first step up the ladder was stored with it, due in the group's 5 minutes.
    async with sessions() as db:
        step = await db.scalar(select(OutboxEntry).where(OutboxEntry.kind == "duty.escalate"))
        raised = await db.scalar(select(CrisisAlert.created_at))
    assert step is not None and raised is not None
    assert step.payload == {"item": "alert", "id": stored["id"], "step": 1}
    assert step.run_at == raised + timedelta(minutes=5)
    # "I'm on it" stops the ladder; closing says what was done (required).
    await act(mo, "mod.alert_open", room=room, alert=stored["id"])
    await mo.send("mod.queue", room=room)
    [opened] = (await mo.expect("mod.queue"))["alerts"]
    assert opened["opened_by"]["name"] == "Mo"
    assert (await act(mo, "mod.alert_done", room=room, alert=stored["id"]))["code"] == "bad_frame"
    unknown = await act(mo, "mod.alert_done", room=room, alert=stored["id"], outcome="shrug")
    assert unknown["code"] in ("bad_frame", "bad_outcome")
    await act(mo, "mod.alert_done", room=room, alert=stored["id"], outcome="check_in")
    again = await act(mo, "mod.alert_done", room=room, alert=stored["id"], outcome="check_in")
    assert again["code"] == "already_resolved"
    # It is not a violation: nothing in the moderation log but the moderator's care.
    assert [a for a, _, _ in await audit(sessions, room)] == ["alert.opened", "alert.seen"]

    # Word boundaries: a skilled baker is not in crisis.
    await ana.say(room, "I am a skilled baker, unkilled by bread", "crisis-0002")
    await ben.expect("message", client_id="crisis-0002")
    assert len([f for f in ana.seen if f["type"] == "support"]) == 1
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(CrisisAlert)) == 1


async def test_a_crisis_alert_waits_for_a_moderator_who_is_not_online(
    connect_as: Any, world: World
) -> None:
    room = world.group_id
    ana = await connect_as("ana")
    await ana.join(room)
    ack = await ana.say(room, "I want to die", "crisis-0003")
    await ana.expect("support")
    mo = await connect_as("mo")
    await mo.join(room)
    await mo.send("mod.queue", room=room)
    [alert] = (await mo.expect("mod.queue"))["alerts"]
    assert alert["message"]["seq"] == ack["seq"]


# --- personal controls ---------------------------------------------------------------


async def test_muting_and_blocking_hide_a_person_for_me_only(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, ben, cat = await joined(connect_as, room, "ana", "ben", "cat")
    await act(ben, "me.mute", kind="person", value=world.users["ana"])
    controls = await ben.expect("me.controls")
    assert controls["muted_people"] == [{"id": world.users["ana"], "name": "Ana"}]
    await ana.say(room, "ben cannot see this", "mute-000001")
    await cat.say(room, "but he sees this", "mute-000002")
    await ben.expect("message", client_id="mute-000002")
    await cat.expect("message", client_id="mute-000001")
    assert not [f for f in ben.seen if f.get("client_id") == "mute-000001"]

    await act(ben, "me.mute", kind="word", value="  Weather  ")
    assert (await ben.expect("me.controls"))["muted_words"] == ["Weather"]
    await act(ben, "me.unmute", kind="person", value=world.users["ana"])
    await ana.say(room, "now he can", "mute-000003")
    await ben.expect("message", client_id="mute-000003")

    await act(ben, "me.block", user=world.users["cat"])
    blocked = await ben.expect("me.controls", where=lambda f: f["blocked"])
    assert blocked["blocked"] == [{"id": world.users["cat"], "name": "Cat"}]
    await cat.say(room, "blocked words", "block-00001")
    await ana.say(room, "after the block", "block-00002")
    await ben.expect("message", client_id="block-00002")
    assert not [f for f in ben.seen if f.get("client_id") == "block-00001"]
    async with sessions() as db:
        assert await db.get(Block, (world.users["ben"], world.users["cat"])) is not None

    # A new socket starts with the same controls.
    again = await connect_as("ben")
    sub = await again.join(room)
    assert sub["extra"]["personal"]["muted_words"] == ["Weather"]
    assert [p["name"] for p in sub["extra"]["personal"]["blocked"]] == ["Cat"]
    await cat.say(room, "still blocked", "block-00003")
    await ana.say(room, "visible", "block-00004")
    await again.expect("message", client_id="block-00004")
    assert not [f for f in again.seen if f.get("client_id") == "block-00003"]

    await act(ben, "me.unblock", user=world.users["cat"])
    await cat.say(room, "unblocked", "block-00005")
    await ben.expect("message", client_id="block-00005")
    assert (await act(ben, "me.block", user=world.users["ben"]))["code"] == "forbidden"
    assert (await act(ben, "me.mute", kind="colour", value="red"))["code"] == "bad_frame"


# --- the audit log ---------------------------------------------------------------------


async def test_the_audit_log_records_sessions_and_actions_and_organisers_can_read_it(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    import httpx

    room = world.group_id
    ana, mo = await joined(connect_as, room, "ana", "mo")
    await mo.send("session.open", room=room)
    await ana.expect("message", where=event("session.opened"))
    await act(mo, "mod.timeout", room=room, user=world.users["ana"], minutes=15, reason="Pause")
    await mo.send("session.close", room=room)
    await ana.expect("message", where=event("session.closed"))
    await mo.send("mod.queue", room=room)
    log = (await mo.expect("mod.queue"))["audit"]
    assert [e["action"] for e in log][:3] == ["session.closed", "timeout", "session.opened"]
    assert log[1]["actor"]["name"] == "Mo" and log[1]["reason"] == "Pause"

    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["olga"])
        page = await http.get(f"/organise/groups/{room}/moderation")
        assert page.status_code == 200
        assert "timed out Ana for 15 minutes" in " ".join(page.text.split())
        assert "Pause" in page.text and "opened a session" in page.text
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["ana"])
        assert (await http.get(f"/organise/groups/{room}/moderation")).status_code == 403


@pytest.mark.parametrize("frame", [{"minutes": 0}, {"minutes": 10081}, {"user": "../x"}])
async def test_bad_moderation_frames_are_refused_by_name(
    connect_as: Any, world: World, frame: dict[str, Any]
) -> None:
    mo = await connect_as("mo")
    await mo.join(world.group_id)
    fields = {"room": world.group_id, "user": world.users["ana"], "minutes": 5, **frame}
    answer = await act(mo, "mod.timeout", **fields)
    assert answer["type"] == "error" and answer["code"] == "bad_frame"
    # The socket stays usable.
    await mo.send("me.controls")
    assert (await mo.expect("me.controls"))["muted_words"] == []


@pytest.mark.parametrize("page", ["/account/sharing", "/account/crisis-plan"])
async def test_changing_what_i_share_tells_open_consoles_at_once(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions, page: str
) -> None:
    import httpx

    from peerhub.models import SignIn

    (mo,) = await joined(connect_as, world.group_id, "mo")
    async with sessions() as db:
        csrf = await db.scalar(
            select(SignIn.csrf_token).where(SignIn.id == world.sign_in_ids["ana"])
        )
    async with httpx.AsyncClient(base_url=server.base) as http:
        http.cookies.set(server.settings.sign_in_cookie_name, world.tokens["ana"])
        saved = await http.post(
            page,
            data={"csrf_token": str(csrf)},
            headers={"Origin": server.base},
        )
    assert saved.status_code == 303, saved.text
    await mo.expect("mod.changed", what="sharing")
