"""The outbox (peerhub/outbox): recorded in the writer's transaction, delivered at least
once after it commits, retried, re-delivered after a lost claim; on PostgreSQL shared
safely by several dispatchers and woken across connections by LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from peerhub import outbox
from peerhub.db import make_engine, make_sessionmaker, transaction
from peerhub.outbox.dispatcher import Dispatcher
from peerhub.outbox.models import OutboxEntry

DEADLINE = 10.0  # seconds: only for waits that cross a real database connection


@dataclass(frozen=True, slots=True)
class Note:
    n: int
    tag: str = ""
    rooms: tuple[str, ...] = ()
    by: str | None = None


NOTE = outbox.kind("test.note", Note)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Seen:
    """What a handler was given, and an event once ``want`` notes have come."""

    def __init__(self, want: int = 1) -> None:
        self.notes: list[Note] = []
        self.want = want
        self.enough = asyncio.Event()

    async def __call__(self, note: Note) -> None:
        self.notes.append(note)
        await asyncio.sleep(0)  # let another dispatcher run in between
        if len({n.n for n in self.notes}) >= self.want:
            self.enough.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self.enough.wait(), DEADLINE)


@pytest.fixture
async def engines(db_url: str) -> AsyncIterator[Callable[[], AsyncEngine]]:
    made: list[AsyncEngine] = []

    def new() -> AsyncEngine:
        made.append(make_engine(db_url))
        return made[-1]

    try:
        yield new
    finally:
        for engine in made:
            await engine.dispose()


async def commit_notes(engine: AsyncEngine, *numbers: int, run_at: datetime | None = None) -> None:
    async with transaction(make_sessionmaker(engine)) as db:
        for n in numbers:
            outbox.record(db, NOTE, Note(n, tag="secret words"), run_at=run_at)


async def rows(engine: AsyncEngine) -> list[OutboxEntry]:
    async with make_sessionmaker(engine)() as db:
        return list((await db.scalars(select(OutboxEntry).order_by(OutboxEntry.id))).all())


# --- recording ------------------------------------------------------------------------------


async def test_a_rolled_back_record_is_never_delivered(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    seen = Seen()
    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(NOTE, seen)
    await dispatcher.start()
    try:

        async def failing_action() -> None:
            async with transaction(make_sessionmaker(engine)) as db:
                outbox.record(db, NOTE, Note(1))
                raise LookupError("the action failed after recording")

        with pytest.raises(LookupError):
            await failing_action()
        await commit_notes(engine, 2)
        await seen.wait()  # delivered in order: the first would have come first
    finally:
        await dispatcher.stop()
    assert [n.n for n in seen.notes] == [2]
    # One row: the delivered one (its payload dropped once delivered).
    assert [(r.payload, r.done_at is not None) for r in await rows(engine)] == [({}, True)]


async def test_a_committed_record_is_delivered_once_at_once(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    seen = Seen()
    # No sweep within the test's deadline: only the commit's wake-up can deliver it.
    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(NOTE, seen)
    await dispatcher.start()
    try:
        await commit_notes(engine, 7)
        await seen.wait()
        await asyncio.wait_for(dispatcher.idle(), DEADLINE)  # and marked done
        assert await dispatcher.run_once() == 0
    finally:
        await dispatcher.stop()
    assert seen.notes == [Note(7, tag="secret words")]
    [row] = await rows(engine)
    assert row.done_at is not None and row.attempts == 1 and row.claimed_until is None


async def test_wrong_objects_are_refused_when_recorded(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()

    @dataclass(frozen=True)
    class Other:
        n: int

    async with make_sessionmaker(engine)() as db:
        with pytest.raises(TypeError, match="AsyncSession"):
            outbox.record(db.sync_session, NOTE, Note(1))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="must be a Note"):
            outbox.record(db, NOTE, Other(1))  # type: ignore[misc]  # the wrong payload type, on purpose
        with pytest.raises(TypeError, match="n must be"):
            outbox.record(db, NOTE, Note("1"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="rooms must be"):
            outbox.record(db, NOTE, Note(1, rooms=("a", 2)))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not a declared"):
            outbox.record(db, outbox.Kind("test.undeclared", Note), Note(1))
        with pytest.raises(ValueError, match="aware"):
            outbox.record(db, NOTE, Note(1), run_at=datetime(2026, 12, 5))  # noqa: DTZ001
        with pytest.raises(ValueError, match="over"):
            outbox.record(db, NOTE, Note(1, tag="x" * 9000))
        assert not db.new
    with pytest.raises(ValueError, match="new name"):
        outbox.kind("test.note", Note)
    with pytest.raises(TypeError, match="dataclass"):
        outbox.kind("test.not_a_dataclass", int)


async def test_the_payload_comes_back_as_it_was_recorded(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    seen = Seen()
    dispatcher = Dispatcher(engine)
    dispatcher.register(NOTE, seen)
    async with transaction(make_sessionmaker(engine)) as db:
        outbox.record(db, NOTE, Note(3, tag="t", rooms=("r1", "r2"), by="u"))
    assert await dispatcher.run_once() == 1
    assert seen.notes == [Note(3, tag="t", rooms=("r1", "r2"), by="u")]


# --- retries, leases, delays -----------------------------------------------------------------


async def test_a_failing_handler_is_retried_with_backoff_then_marked_failed(
    engines: Callable[[], AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="peerhub.outbox")
    engine = engines()
    clock = Clock()
    calls: list[Note] = []

    async def broken(note: Note) -> None:
        calls.append(note)
        raise RuntimeError(f"boom: {note.tag}")

    dispatcher = Dispatcher(engine, clock=clock, backoff=1.0)
    dispatcher.register(NOTE, broken, max_attempts=3)
    await commit_notes(engine, 1)
    assert await dispatcher.run_once() == 1  # attempt 1 fails: again in 1 s
    assert await dispatcher.run_once() == 0
    clock.advance(1)
    assert await dispatcher.run_once() == 1  # attempt 2 fails: again in 2 s
    clock.advance(1)
    assert await dispatcher.run_once() == 0
    clock.advance(1)
    assert await dispatcher.run_once() == 1  # attempt 3 fails: the last
    clock.advance(3600)
    assert await dispatcher.run_once() == 0
    assert len(calls) == 3 and dispatcher.failed == 3 and dispatcher.delivered == 0
    [row] = await rows(engine)
    assert row.failed_at == clock.now - timedelta(seconds=3600)
    assert row.done_at is None and row.attempts == 3 and row.last_error == "RuntimeError"
    assert row.claimant is None and row.claimed_until is None
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failed) == 1 and "test.note" in failed[0].getMessage()
    assert "secret" not in caplog.text and "boom" not in caplog.text


async def test_a_claim_whose_lease_ran_out_is_delivered_again(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    clock = Clock()
    await commit_notes(engine, 1)
    # A dispatcher claims the row and dies before marking it done.
    crashed = Dispatcher(engine, clock=clock, name="crashed", lease=60, handler_timeout=5)
    crashed.register(NOTE, Seen())
    assert [c.attempts for c in await crashed.claim()] == [1]

    seen = Seen()
    other = Dispatcher(engine, clock=clock, name="other")
    other.register(NOTE, seen)
    assert await other.run_once() == 0  # the lease still holds
    clock.advance(59)
    assert await other.run_once() == 0
    clock.advance(2)
    assert await other.run_once() == 1
    assert [n.n for n in seen.notes] == [1]
    [row] = await rows(engine)
    assert row.done_at is not None and row.attempts == 2 and row.claimant == "other"


async def test_a_late_done_mark_from_a_lost_claim_changes_nothing(
    engines: Callable[[], AsyncEngine],
) -> None:
    """The first claimant is slow, not dead: once its lease ran out and another took the
    row, its success or failure no longer touches the row."""
    engine = engines()
    clock = Clock()
    await commit_notes(engine, 1)
    slow = Dispatcher(engine, clock=clock, name="slow")
    slow.register(NOTE, Seen())
    [claimed] = await slow.claim()
    clock.advance(61)
    taker = Dispatcher(engine, clock=clock, name="taker")
    taker.register(NOTE, Seen())
    [again] = await taker.claim()
    await slow._failed(claimed, slow.handlers["test.note"], RuntimeError())
    [row] = await rows(engine)
    assert row.claimant == "taker" and row.last_error is None and row.attempts == 2
    assert again.id == claimed.id


async def test_a_delayed_job_runs_when_it_falls_due(engines: Callable[[], AsyncEngine]) -> None:
    engine = engines()
    clock = Clock()
    seen = Seen()
    dispatcher = Dispatcher(engine, clock=clock)
    dispatcher.register(NOTE, seen)
    await commit_notes(engine, 1, run_at=clock.now + timedelta(minutes=30))
    assert await dispatcher.run_once() == 0
    assert 0 < await dispatcher._until_next_due() <= dispatcher.sweep_every
    clock.advance(30 * 60)
    assert await dispatcher._until_next_due() == 0
    assert await dispatcher.run_once() == 1 and [n.n for n in seen.notes] == [1]


async def test_rows_of_kinds_without_a_handler_are_left_alone(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    await commit_notes(engine, 1)
    assert await Dispatcher(engine).run_once() == 0
    [row] = await rows(engine)
    assert row.attempts == 0 and row.claimant is None


async def test_old_done_rows_are_pruned_and_failed_ones_kept(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    clock = Clock()

    async def fail(note: Note) -> None:
        if note.n == 2:
            raise ValueError

    dispatcher = Dispatcher(engine, clock=clock, keep_done=timedelta(hours=1))
    dispatcher.register(NOTE, fail, max_attempts=1)
    await commit_notes(engine, 1, 2)
    assert await dispatcher.run_once() == 2
    await dispatcher.prune()
    assert len(await rows(engine)) == 2
    clock.advance(3601)
    await dispatcher.prune()
    assert [(r.payload["n"], r.failed_at is not None) for r in await rows(engine)] == [(2, True)]


# --- waking and restarting ---------------------------------------------------------------------


async def test_a_restarted_dispatcher_delivers_what_was_left(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    first = Dispatcher(engine, sweep_every=3600)
    first.register(NOTE, Seen(want=99))
    await first.start()
    await first.stop()
    await commit_notes(engine, 1, 2, 3)  # while no dispatcher runs

    seen = Seen(want=3)
    second = Dispatcher(engine, sweep_every=3600)
    second.register(NOTE, seen)
    await second.start()
    try:
        await seen.wait()
    finally:
        await second.stop()
    assert [n.n for n in seen.notes] == [1, 2, 3]


async def test_the_sweep_finds_rows_nobody_announced(engines: Callable[[], AsyncEngine]) -> None:
    engine = engines()
    seen = Seen()
    dispatcher = Dispatcher(engine, sweep_every=0.05, listen=False)
    dispatcher.register(NOTE, seen)
    await dispatcher.start()
    try:
        async with engine.begin() as conn:  # not through record(): nothing wakes anyone
            await conn.execute(
                insert(OutboxEntry).values(
                    kind="test.note", payload={"n": 5}, created_at=datetime.now(UTC), attempts=0
                )
            )
        await seen.wait()
    finally:
        await dispatcher.stop()
    assert [n.n for n in seen.notes] == [5]


async def test_stopping_finishes_the_row_in_hand_and_gives_back_the_rest(
    engines: Callable[[], AsyncEngine],
) -> None:
    engine = engines()
    handled: list[int] = []
    began = asyncio.Event()
    dispatcher = Dispatcher(engine, sweep_every=3600)

    async def handle(note: Note) -> None:
        handled.append(note.n)
        dispatcher.request_stop()  # asked to stop while this row is in hand
        began.set()

    dispatcher.register(NOTE, handle)
    await commit_notes(engine, 1, 2, 3)
    await dispatcher.start()
    await asyncio.wait_for(began.wait(), DEADLINE)
    await asyncio.wait_for(dispatcher.stop(), DEADLINE)
    assert handled == [1]
    left = dict(zip((1, 2, 3), await rows(engine), strict=True))  # in the order recorded
    assert left[1].done_at is not None and left[1].attempts == 1
    for n in (2, 3):  # claimed in the same batch, never started: given back, due at once
        assert left[n].done_at is None and left[n].claimant is None
        assert left[n].claimed_until is None and left[n].attempts == 0


async def test_a_stopped_dispatcher_holds_no_connection(
    engines: Callable[[], AsyncEngine],
) -> None:
    """A connection kept past stop() could sit inside a transaction holding locks
    (a later TRUNCATE or migration would wait for ever): every one is given back."""
    engine = engines()
    seen = Seen()
    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(NOTE, seen)
    await dispatcher.start()
    if engine.dialect.name == "postgresql":
        await asyncio.wait_for(dispatcher.listening(), DEADLINE)
    await commit_notes(engine, 1)
    await seen.wait()
    await asyncio.wait_for(dispatcher.stop(), DEADLINE)
    checked_out = getattr(engine.pool, "checkedout", lambda: 0)()
    assert checked_out == 0


@pytest.mark.postgres_only
async def test_listen_notify_wakes_a_dispatcher_on_another_connection(
    engines: Callable[[], AsyncEngine],
) -> None:
    writer, elsewhere = engines(), engines()
    seen = Seen()
    dispatcher = Dispatcher(elsewhere, sweep_every=3600)  # only NOTIFY can wake it in time
    dispatcher.register(NOTE, seen)
    await dispatcher.start()
    try:
        await asyncio.wait_for(dispatcher.listening(), DEADLINE)
        await asyncio.wait_for(dispatcher.idle(), DEADLINE)  # done with what it found
        await commit_notes(writer, 11)  # no dispatcher on this engine: no in-process wake
        await seen.wait()
    finally:
        await dispatcher.stop()
    assert [n.n for n in seen.notes] == [11]


@pytest.mark.postgres_only
async def test_two_dispatchers_never_handle_the_same_row(
    engines: Callable[[], AsyncEngine],
) -> None:
    one, two = engines(), engines()
    await commit_notes(one, *range(300))
    handled: list[tuple[str, int]] = []
    b_started = asyncio.Event()

    def handler(name: str) -> Callable[[Note], Any]:
        async def handle(note: Note) -> None:
            handled.append((name, note.n))
            if name == "b":
                b_started.set()
            elif len(handled) == 1:  # a holds its first claim until b has claimed rows too
                await asyncio.wait_for(b_started.wait(), DEADLINE)

        return handle

    a = Dispatcher(one, name="a", batch=7)
    b = Dispatcher(two, name="b", batch=7)
    a.register(NOTE, handler("a"))
    b.register(NOTE, handler("b"))

    async def drain(dispatcher: Dispatcher) -> None:
        while await dispatcher.run_once():
            pass

    await asyncio.wait_for(asyncio.gather(drain(a), drain(b)), 3 * DEADLINE)
    assert sorted(n for _name, n in handled) == list(range(300))  # each exactly once
    assert {name for name, _n in handled} == {"a", "b"}
    async with one.connect() as conn:
        once = await conn.scalar(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.attempts == 1, OutboxEntry.done_at.is_not(None))
        )
    assert once == 300


@pytest.mark.postgres_only
async def test_concurrent_claims_on_two_connections_are_disjoint(
    engines: Callable[[], AsyncEngine],
) -> None:
    one, two = engines(), engines()
    await commit_notes(one, *range(200))
    a = Dispatcher(one, name="a", batch=9)
    b = Dispatcher(two, name="b", batch=9)
    for d in (a, b):
        d.register(NOTE, Seen())
    claims = await asyncio.gather(*(d.claim() for _ in range(6) for d in (a, b)))
    ids = [c.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) > 9  # none twice; a locked row is skipped, not waited for
