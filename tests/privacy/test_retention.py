"""Message retention: the group setting, `peerhub retention`, and resume over a log that
no longer starts at seq 1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import AuditEvent, User
from peerhub.moderation.models import CrisisAlert, Report
from peerhub.privacy import retention
from peerhub.privacy.retention import purge
from peerhub.realtime.models import Room, RoomMessage
from tests.conftest import FakeClock
from tests.groups.helpers import group_form, post
from tests.privacy.helpers import SAM_WORDS, Seeded, signed_in
from tests.realtime.conftest import Client, RTServer, World
from tests.test_cli import run


async def _log(sessions: async_sessionmaker[AsyncSession], room: str) -> list[int]:
    async with sessions() as db:
        return list(
            await db.scalars(
                select(RoomMessage.seq).where(RoomMessage.room_id == room).order_by(RoomMessage.seq)
            )
        )


async def _next_seq(sessions: async_sessionmaker[AsyncSession], room: str) -> int:
    async with sessions() as db:
        value = await db.scalar(select(Room.next_seq).where(Room.id == room))
    assert value is not None
    return int(value)


async def _set(sessions: async_sessionmaker[AsyncSession], group: str, days: int | None) -> None:
    async with sessions() as db, db.begin():
        actor = await db.scalar(select(User).limit(1))
        assert actor is not None
        await retention.set_retention(db, actor, group, days, datetime.now(UTC))


async def test_organisers_choose_how_long_their_room_keeps_messages(
    app: Any, settings: Any, seeded: Seeded, sessions: async_sessionmaker[AsyncSession]
) -> None:
    talk = seeded.groups["tuesday-talk"]
    async with signed_in(app, settings, seeded.tokens["olga"]) as olga:
        form = await olga.get(f"/organise/groups/{talk}/edit")
        assert form.status_code == 200 and 'name="message_retention_days"' in form.text
        for bad in ("0", "abc", "4000"):
            refused = await post(
                olga, f"/organise/groups/{talk}/edit", group_form(message_retention_days=bad)
            )
            assert refused.status_code == 422, bad
            assert 'id="message_retention_days-error"' in refused.text
        saved = await post(
            olga, f"/organise/groups/{talk}/edit", group_form(message_retention_days="30")
        )
        assert saved.status_code == 303, saved.text
        async with sessions() as db:
            assert await retention.retention_days(db, talk) == 30
        form = await olga.get(f"/organise/groups/{talk}/edit")
        assert 'value="30"' in form.text
        cleared = await post(
            olga, f"/organise/groups/{talk}/edit", group_form(message_retention_days="")
        )
        assert cleared.status_code == 303
        created = await post(
            olga,
            f"/organise/organisations/{(await _org_of(sessions, talk))}/groups/new",
            group_form(name="Short Memory", message_retention_days="7"),
        )
        assert created.status_code == 303, created.text
        new_id = created.headers["location"].split("/")[3].split("?")[0]
    async with sessions() as db:
        assert await retention.retention_days(db, talk) is None
        assert await retention.retention_days(db, new_id) == 7
        changes = list(
            await db.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "group.retention_changed")
            )
        )
    assert changes == [{"days": 30}, {"days": None}, {"days": 7}]


async def _org_of(sessions: async_sessionmaker[AsyncSession], group_id: str) -> str:
    from peerhub.models import Group

    async with sessions() as db:
        group = await db.get(Group, group_id)
    assert group is not None
    return group.organisation_id


async def test_old_messages_go_in_batches_and_the_counter_stays(
    seeded: Seeded, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    talk, asks = seeded.groups["tuesday-talk"], seeded.groups["ask-first"]
    now = clock()
    async with sessions() as db, db.begin():
        # A room without a setting keeps everything, however old.
        db.add(Room(id=asks, next_seq=2))
        await db.flush()
        db.add(
            RoomMessage(
                room_id=asks,
                seq=1,
                client_id="ancient-1",
                body="old",
                created_at=now - timedelta(days=900),
            )
        )
        # A resolved report and a handled alert, long ago; and a recent resolved one.
        db.add_all(
            [
                Report(
                    group_id=talk,
                    reporter_id=seeded.people["ana"],
                    message_seq=2,
                    category="spam",
                    status="resolved",
                    outcome="no_action",
                    resolved_at=now - timedelta(days=10),
                ),
                Report(
                    group_id=talk,
                    reporter_id=seeded.people["ana"],
                    message_seq=2,
                    category="other",
                    status="resolved",
                    outcome="action",
                    resolved_at=now - timedelta(hours=1),
                ),
                CrisisAlert(
                    group_id=talk,
                    user_id=seeded.sam,
                    message_seq=1,
                    handled_at=now - timedelta(days=10),
                ),
            ]
        )
    await _set(sessions, talk, 2)
    assert await _next_seq(sessions, talk) == 8

    results = await purge(sessions, now, batch_size=2)
    assert [(r.slug, r.messages, r.reports) for r in results] == [("tuesday-talk", 7, 1)]
    # Seqs 1-7 are gone; a notice took seq 8 from the counter (the log was short
    # enough for a live ring to hold deleted messages). The counter went on, never back.
    assert results[0].marked
    assert await _log(sessions, talk) == [8]
    assert await _next_seq(sessions, talk) == 9
    assert await _log(sessions, asks) == [1]
    async with sessions() as db:
        reports = list(await db.scalars(select(Report.status).where(Report.group_id == talk)))
        alerts = list(await db.scalars(select(CrisisAlert.handled_at)))
    # Open reports stay whatever their age; the recent resolved one stays. Crisis
    # alerts all stay: the safeguarding record of what was done (docs/duty.md).
    assert sorted(reports) == ["open", "open", "open", "resolved"]
    assert sorted(alerts, key=lambda a: a is not None) == [None, now - timedelta(days=10)]

    # Running again changes nothing; once the notice itself is old, it goes quietly,
    # without a new notice taking its place.
    assert [r.messages for r in await purge(sessions, now)] == [0]
    later = await purge(sessions, now + timedelta(days=3))
    assert [(r.messages, r.marked) for r in later] == [(1, False)]
    assert await _log(sessions, talk) == []
    assert await _next_seq(sessions, talk) == 9


async def test_no_notice_when_the_deleted_messages_are_far_below_any_ring(
    seeded: Seeded, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    talk = seeded.groups["tuesday-talk"]
    now = clock()
    async with sessions() as db, db.begin():
        # 300 recent messages after the seven old ones.
        db.add_all(
            RoomMessage(
                room_id=talk, seq=seq, client_id=f"recent-{seq:05d}", body="hi", created_at=now
            )
            for seq in range(8, 308)
        )
        await db.execute(update(Room).where(Room.id == talk).values(next_seq=308))
    await _set(sessions, talk, 1)
    [result] = await purge(sessions, now)
    assert result.messages == 7 and not result.marked
    assert (await _log(sessions, talk))[0] == 8
    assert await _next_seq(sessions, talk) == 308


async def test_the_retention_command_prints_what_it_deleted(
    seeded: Seeded, sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path
) -> None:
    talk = seeded.groups["tuesday-talk"]
    # The command uses the real clock.
    async with sessions() as db, db.begin():
        await db.execute(
            update(RoomMessage).values(created_at=datetime.now(UTC) - timedelta(days=10))
        )
    await _set(sessions, talk, 5)
    # In a thread: the app's own tasks run on this loop, and one may be inside a write
    # transaction; blocking the loop would keep SQLite's write lock from the command
    # until its busy timeout ran out ("database is locked", once in a parallel run).
    result = await asyncio.to_thread(
        run, ["retention", "--batch-size", "3"], tmp_path, PEERHUB_DATABASE_URL=db_url
    )
    assert result.returncode == 0, result.stderr
    assert "tuesday-talk: 7 messages older than 5 days deleted" in result.stdout
    assert "7 messages deleted in 1 group with a retention setting" in result.stdout
    assert await _log(sessions, talk) == [8]
    # Then the storage forgets them too (docs/privacy.md, "What remains on disk").
    if db_url.startswith("sqlite"):
        assert "SQLite write-ahead log emptied" in result.stdout
        path = Path(db_url.split("///", 1)[1])
        for name in (path.name, f"{path.name}-wal"):
            if (path.parent / name).exists():
                data = (path.parent / name).read_bytes()
                assert not [w for w in SAM_WORDS if w.encode() in data], name
    else:
        assert "VACUUM: room_messages" in result.stdout
    assert (await asyncio.to_thread(run, ["retention", "--help"], tmp_path)).returncode == 0
    bad = await asyncio.to_thread(
        run, ["retention", "--batch-size", "0"], tmp_path, PEERHUB_DATABASE_URL=db_url
    )
    assert bad.returncode == 1 and "batch-size" in bad.stderr


async def test_resume_and_history_after_old_messages_are_deleted(
    server: RTServer,
    world: World,
    connect_as: Any,
    rt_clock: FakeClock,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A real server: the log starts above seq 1 and every way of reading it copes."""
    room = world.group_id
    ana: Client = await connect_as("ana")
    await ana.join(room)
    for i in range(5):
        await ana.say(room, f"old message {i}", f"old-msg-{i:04d}")
    for i in range(2):
        await ana.say(room, f"new message {i}", f"new-msg-{i:04d}")
    await ana.messages(room, 7)
    # The first five were written three days ago (the sessions' clock stays put, so
    # nobody's sign-in times out).
    async with sessions() as db, db.begin():
        await db.execute(
            update(RoomMessage)
            .where(RoomMessage.room_id == room, RoomMessage.seq <= 5)
            .values(created_at=rt_clock() - timedelta(days=3))
        )
    await _set(sessions, room, 2)

    results = await purge(sessions, rt_clock())  # as `peerhub retention` would, elsewhere
    assert [(r.messages, r.marked) for r in results] == [(5, True)]
    # The notice reaches the live room through the log's tail check; passing
    # through the feed, it empties the feed's ring of cached frames.
    notice = await ana.expect("message", within=10, seq=8)
    # Data, not a sentence: each reader's page words it in their language (room.js).
    assert notice["data"] == {"event": "room.retention", "days": 2}

    ben: Client = await connect_as("ben")
    fresh = await ben.join(room)
    assert fresh["latest_seq"] == 8 and not fresh["limited"]
    first = [m["seq"] for m in await ben.messages(room, 3)]
    assert first == [6, 7, 8]
    assert not any(f["type"] == "message" and f["seq"] < 6 for f in ben.seen), (
        "a deleted message was served"
    )

    # Resuming from a seq that no longer exists gets what is left, in order.
    cat: Client = await connect_as("cat")
    resumed = await cat.join(room, after=2)
    assert not resumed["limited"]
    assert [m["seq"] for m in await cat.messages(room, 3)] == [6, 7, 8]
    assert [f["seq"] for f in cat.seen if f["type"] == "synced"] == [8]

    # History ends where the log starts.
    await cat.send("history", room=room, before_seq=6, limit=50)
    page = await cat.expect("history", room=room)
    assert page["messages"] == [] and page["more"] is False

    # The counter went on: the next message is seq 9, and everyone gets it.
    ack = await cat.say(room, "still here", "after-purge-1")
    assert ack["seq"] == 9
    assert (await ben.expect("message", seq=9))["body"] == "still here"
