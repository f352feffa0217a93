"""Erasure: the account goes, and its pseudonym appears nowhere afterwards (hazard H9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from sqlalchemy import func, select

from peerhub.config import Settings
from peerhub.models import AuditEvent, Referral, ReferralEvent, User
from peerhub.moderation.queries import queue_of
from peerhub.realtime import protocol, queries
from peerhub.realtime.models import RoomMessage
from peerhub.security.passwords import Passwords
from tests.conftest import FakeClock, csrf_token, post_form, sign_up
from tests.privacy.helpers import (
    EMAIL,
    FIRST_NAME,
    NAME,
    PASSWORD,
    SAM_WORDS,
    Seeded,
    every_value,
    signed_in,
)
from tests.realtime.conftest import Client, RTServer, World


async def erase(client: httpx.AsyncClient, choice: str, password: str = PASSWORD) -> httpx.Response:
    token = await csrf_token(client, "/account/erase")
    return await post_form(
        client, "/account/erase", {"messages": choice, "password": password}, token=token
    )


async def _room_frames(app: Any, room: str) -> list[dict[str, Any]]:
    async with app.state.ctx.sessions() as db:
        views = await queries.fetch_after(db, room, 0, 100_000, 100_000)
    return [json.loads(protocol.message(v)) for v in views]


async def test_the_erase_page_explains_asks_for_a_choice_and_the_password(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        page = await sam.get("/account/erase")
        assert page.status_code == 200
        assert "cannot be undone" in page.text
        assert 'name="messages" value="remove"' in page.text
        assert 'name="messages" value="keep"' in page.text
        assert 'autocomplete="current-password"' in page.text
        assert 'href="/account/export"' in page.text
        # Sam is the only organiser of an organisation: warned, not stopped.
        assert "only organiser of" in page.text and "Riverside Circle" in page.text
        missing = await post_form(sam, "/account/erase", {"password": PASSWORD})
        assert missing.status_code == 422
        assert 'id="messages-error"' in missing.text
        wrong = await erase(sam, "remove", "not my password")
        assert wrong.status_code == 422 and "That password is not right." in wrong.text
        assert 'aria-invalid="true"' in wrong.text
        # A form from another site is refused before anything is read.
        forged = await sam.post(
            "/account/erase",
            data={"messages": "remove", "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403
        still = await sam.get("/api/me")
        assert still.status_code == 200 and still.json()["pseudonym"] == NAME


async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/account/erase")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


async def test_guessing_the_password_on_the_erase_page_is_throttled(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        statuses = [(await erase(sam, "keep", f"guess {i}")).status_code for i in range(6)]
        assert statuses[:5] == [422] * 5
        assert statuses[5] == 429
        # Even the right password waits out the delay.
        blocked = await erase(sam, "keep")
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    async with app.state.ctx.sessions() as db:
        assert await db.get(User, seeded.sam) is not None


@pytest.mark.parametrize("choice", ["remove", "keep"])
async def test_an_erased_account_appears_nowhere(
    app: Any, settings: Settings, seeded: Seeded, clock: FakeClock, choice: str
) -> None:
    talk = seeded.groups["tuesday-talk"]
    index = await app.state.match_index.get()
    assert seeded.sam in index.get(talk).member_ids
    async with signed_in(app, settings, seeded.token) as sam:
        response = await erase(sam, choice)
        assert response.status_code == 303
        assert response.headers["location"] == "/account/erased"
        assert "Max-Age=0" in response.headers["set-cookie"]
        assert "Clear-Site-Data" in response.headers
        gone = await sam.get("/account/erased")
        assert gone.status_code == 200 and "Your account has been deleted" in gone.text
        # Every session ended: the old cookie is nobody's.
        sam.cookies.set(settings.sign_in_cookie_name, seeded.token)
        assert (await sam.get("/api/me")).status_code == 401

    # The directory, matching, the roster, the moderator console and the room.
    async with signed_in(app, settings, seeded.tokens["olga"]) as olga:
        pages = [
            await olga.get("/groups"),
            await olga.get("/groups/tuesday-talk"),
            await olga.get(f"/organise/groups/{talk}"),
            await olga.get(f"/organise/groups/{seeded.groups['full-circle']}"),
            await olga.get(f"/organise/groups/{seeded.groups['ask-first']}"),
            await olga.get(f"/organise/groups/{talk}/moderation"),
        ]
    for page in pages:
        assert page.status_code == 200, page.url
        assert NAME not in page.text, page.url
    index = await app.state.match_index.get()
    assert all(seeded.sam not in index.get(g).member_ids for g in seeded.groups.values())
    async with app.state.ctx.sessions() as db:
        queue = msgspec.to_builtins(await queue_of(db, talk, clock()))
    console = json.dumps(queue, ensure_ascii=False)
    assert NAME not in console
    # Only the append-only moderation log still holds the id, which leads to nobody.
    assert seeded.sam not in json.dumps({k: v for k, v in queue.items() if k != "audit"})
    assert all(
        (row["subject"] or {}).get("name") == "Someone"
        for row in queue["audit"]
        if (row["subject"] or {}).get("id") == seeded.sam
    )
    frames = await _room_frames(app, talk)
    history = json.dumps(frames, ensure_ascii=False)
    assert NAME not in history and seeded.sam not in history
    # The log keeps every seq (no gap for resume), and the rooms were told.
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    # Data, not a sentence: each reader's page words it in their language (room.js).
    assert frames[-1]["data"] == {"event": "member.erased"}
    by_seq = {f["seq"]: f for f in frames}
    if choice == "remove":
        assert not any(words in history for words in SAM_WORDS)
        assert by_seq[1]["status"] == "redacted" and by_seq[1]["reason"] == "Deleted by its writer"
        assert by_seq[3]["status"] == "rejected"  # held: never seen by members, still not
        assert by_seq[5]["data"]["message"]["body"] is None
    else:
        assert by_seq[1]["body"] == SAM_WORDS[0] and by_seq[1]["sender"] is None
        assert by_seq[6]["body"] == SAM_WORDS[2] and by_seq[6]["sender"] is None
        assert by_seq[5]["data"]["message"]["sender"] is None
    # The time-out event no longer names Sam; its moderator's id ("by") is kept.
    assert by_seq[4]["data"]["user"] is None and by_seq[4]["data"]["by"] == seeded.people["mo"]

    # And nowhere in the database: not the name, the e-mail, the first name, the
    # address Sam signed in from, the referral's note, nor (when removed) Sam's words.
    banned = [NAME.casefold(), EMAIL, FIRST_NAME, "198.51.100.23", "would like a group"]
    if choice == "remove":
        banned += list(SAM_WORDS)
    values = await every_value(app.state.ctx.sessions)
    leaks = [(t, c) for t, c, v in values if any(b.casefold() in v.casefold() for b in banned)]
    assert not leaks, f"traces of the erased person in {leaks}"
    # The id survives only in the audit trails, where it no longer leads to anyone.
    holders = {(t, c) for t, c, v in values if seeded.sam in v}
    assert holders <= {
        ("audit_events", "actor_id"),
        ("audit_events", "subject_id"),
        ("moderation_events", "subject_id"),
    }, holders


async def test_the_name_is_free_again_and_the_erasure_is_audited_without_personal_data(
    app: Any, settings: Settings, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        assert (await erase(sam, "keep")).status_code == 303
    async with app.state.ctx.sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "account.erased"))
    assert event is not None and event.client_ip is None
    assert event.detail["messages"] == "keep" and event.detail["sessions_ended"] == 1
    assert NAME not in json.dumps(event.detail)
    # Someone new may take the name; they inherit nothing of the old account.
    await sign_up(client, NAME)
    data = (await client.get("/account/export")).json()
    assert data["room_messages"] == [] and data["group_memberships"] == []


async def test_referrals_keep_the_professionals_record_without_the_person(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    async with signed_in(app, settings, seeded.token) as sam:
        assert (await erase(sam, "remove")).status_code == 303
    async with app.state.ctx.sessions() as db:
        referral = await db.get(Referral, seeded.referral_id)
        events = list(
            await db.scalars(
                select(ReferralEvent)
                .where(ReferralEvent.referral_id == seeded.referral_id)
                .order_by(ReferralEvent.id)
            )
        )
    assert referral is not None
    assert referral.professional_id == seeded.people["gp"]
    assert referral.person_user_id is None and referral.person_name == "Deleted account"
    assert referral.contact_value is None and referral.note == "" and not referral.share_progress
    assert referral.state == "withdrawn"
    assert [e.state for e in events] == ["sent", "joined", "withdrawn"]
    assert all(e.actor_id != seeded.sam for e in events)
    async with signed_in(app, settings, seeded.tokens["gp"]) as gp:
        made = (await gp.get("/account/export")).json()["referrals_you_made"]
    assert made[0]["state"] == "withdrawn" and made[0]["person_name"] == "Deleted account"


async def test_reports_and_alerts_about_the_person_follow_the_decisions(
    app: Any, settings: Settings, seeded: Seeded
) -> None:
    from peerhub.moderation.models import CrisisAlert, Report

    async with signed_in(app, settings, seeded.token) as sam:
        assert (await erase(sam, "keep")).status_code == 303
    async with app.state.ctx.sessions() as db:
        reports = list(await db.scalars(select(Report).order_by(Report.created_at)))
        alerts = await db.scalar(select(func.count()).select_from(CrisisAlert))
    # Sam's own report stays for the moderators, without Sam; the report about Sam's
    # message stays (the words are still there); the one about Sam as a person goes.
    assert len(reports) == 2
    assert {r.reporter_id for r in reports} == {None, seeded.people["ana"]}
    assert all(r.subject_id in (None, seeded.people["ben"]) for r in reports)
    assert alerts == 0


async def test_erasure_closes_the_persons_live_sockets_at_once(
    server: RTServer,
    world: World,
    connect_as: Any,
    sessions: Any,
    passwords: Passwords,
) -> None:
    async with sessions() as db, db.begin():
        ana = await db.get(User, world.users["ana"])
        assert ana is not None
        ana.password_hash = await passwords.hash(PASSWORD)
    ana_socket: Client = await connect_as("ana")
    await ana_socket.join(world.group_id)
    said = await ana_socket.say(world.group_id, "hello from ana", "erase-000001")
    ben_socket: Client = await connect_as("ben")
    await ben_socket.join(world.group_id)

    async with httpx.AsyncClient(base_url=server.base) as web:
        web.cookies.set(server.settings.sign_in_cookie_name, world.tokens["ana"])
        token = await csrf_token(web, "/account/erase")
        response = await web.post(
            "/account/erase",
            data={"messages": "remove", "password": PASSWORD, "csrf_token": token},
            headers={"Origin": server.base},
        )
        assert response.status_code == 303, response.text
    code, reason = await ana_socket.closed()
    assert (code, reason) == (1008, "This account has been deleted.")
    # Everyone else in the room learns of it through the log (which empties rings).
    notice = await ben_socket.expect(
        "message", where=lambda f: (f.get("data") or {}).get("event") == "member.erased"
    )
    assert notice["seq"] > said["seq"]
    async with sessions() as db:
        row = await db.get(RoomMessage, (world.group_id, said["seq"]))
    assert row is not None and row.body == "" and row.status == "redacted" and row.sender_id is None


# --- Issue 9, point 14: what remains on disk ---------------------------------------------

PLAN_WORDS = "Zebra orchard at midnight helps me breathe"


def _files(db_url: str) -> dict[str, bytes]:
    """The SQLite database file and its write-ahead log, as bytes."""
    path = Path(db_url.split("///", 1)[1])
    return {
        name: (path.parent / name).read_bytes()
        for name in (path.name, f"{path.name}-wal")
        if (path.parent / name).exists()
    }


async def _relation_bytes(sessions: Any, table: str) -> bytes | None:
    """PostgreSQL: the table's heap file (the test server's user may read it), or None."""
    from sqlalchemy import text

    try:
        async with sessions() as db:
            await db.execute(text("CHECKPOINT"))
            path = await db.scalar(text(f"SELECT pg_relation_filepath('{table}')"))
            data: bytes = await db.scalar(text("SELECT pg_read_binary_file(:p)"), {"p": path})
    except Exception:  # not a superuser: the bytes cannot be checked from here
        return None
    return data


async def _vacuums(sessions: Any, table: str) -> int:
    from sqlalchemy import text

    async with sessions() as db:
        found = await db.scalar(
            text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = :t"),
            {"t": table},
        )
    return int(found or 0)


async def test_erased_text_is_not_left_in_the_database_files(
    app: Any, settings: Settings, seeded: Seeded, db_url: str
) -> None:
    """After erasure the crisis plan and the messages are not readable from disk:
    SQLite zeroes deleted content (secure_delete) and the erasure empties the
    write-ahead log; on PostgreSQL `peerhub retention` vacuums what the erasure
    touched (VACUUM FULL removes the bytes from the tables' files)."""
    sessions = app.state.ctx.sessions
    async with signed_in(app, settings, seeded.token) as sam:
        saved = await post_form(sam, "/account/crisis-plan", {"what_helps": PLAN_WORDS})
        assert saved.status_code == 303
    secrets = [PLAN_WORDS.encode(), *(w.encode() for w in SAM_WORDS)]
    if db_url.startswith("sqlite"):
        before = b"".join(_files(db_url).values())
        assert [s for s in secrets if s in before], "the text is on disk before erasure"
    async with signed_in(app, settings, seeded.token) as sam:
        assert (await erase(sam, "remove")).status_code == 303
    if db_url.startswith("sqlite"):
        for name, data in _files(db_url).items():
            found = [s.decode() for s in secrets if s in data]
            assert not found, f"{name} still holds {found}"
        return
    from peerhub.privacy.retention import reclaim

    engine = app.state.ctx.engine
    before_count = await _vacuums(sessions, "crisis_plans")
    done = await reclaim(engine, sessions, [], datetime.now(UTC))
    assert done.erasures == 1 and done.checkpointed is None
    assert {"crisis_plans", "room_messages", "users", "person_profiles"} <= set(done.vacuumed)
    assert await _vacuums(sessions, "crisis_plans") > before_count
    # Noted as done: the next run has no erasure left to cover.
    again = await reclaim(engine, sessions, [], datetime.now(UTC))
    assert again.erasures == 0 and again.vacuumed == ()
    # VACUUM FULL (`peerhub retention --vacuum-full`) leaves no copy in the files.
    async with signed_in(app, settings, seeded.tokens["ana"]) as ana:
        await post_form(ana, "/account/crisis-plan", {"what_helps": "Ana's own plan"})
        assert (await erase(ana, "remove")).status_code == 303
    await reclaim(engine, sessions, [], datetime.now(UTC), full=True)
    for table in ("crisis_plans", "room_messages"):
        heap = await _relation_bytes(sessions, table)
        if heap is not None:
            assert not [s for s in secrets if s in heap], table


def test_every_reference_to_an_account_lets_go_when_the_account_is_deleted() -> None:
    """Erasure deletes the users row and relies on each reference to it: a foreign key
    must cascade or become NULL (or the delete would fail, or leave a link), and an id
    kept without a foreign key must be one the erasure knows what to do with."""
    from peerhub.models import Base
    from peerhub.privacy.erasure import PLAIN_ID_COLUMNS
    from peerhub.privacy.export import person_columns

    stuck = [
        f"{c.table.name}.{c.name}"
        for t in Base.metadata.sorted_tables
        for c in t.columns
        for fk in c.foreign_keys
        if fk.column.table.name == "users" and fk.ondelete not in ("CASCADE", "SET NULL")
    ]
    assert not stuck, f"references to users that would block or outlive an erasure: {stuck}"
    plain = {
        f"{c.table.name}.{c.name}"
        for c in person_columns()
        if not any(fk.column.table.name == "users" for fk in c.foreign_keys)
    }
    unknown = sorted(plain - PLAIN_ID_COLUMNS.keys())
    assert not unknown, f"ids without a foreign key that erasure does not handle: {unknown}"
