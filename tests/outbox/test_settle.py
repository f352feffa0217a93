"""A transaction's own outbox rows are delivered before :func:`peerhub.db.transaction`
returns (peerhub.outbox.settle), so a route's effects have happened when it answers;
and every route tells the real-time rooms through the outbox, never directly."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from peerhub import outbox
from peerhub.db import make_engine, make_sessionmaker, transaction
from peerhub.outbox.dispatcher import Claimed, Dispatcher
from peerhub.outbox.models import OutboxEntry
from peerhub.realtime import after_commit, notify

DEADLINE = 10.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Ping:
    n: int


PING = outbox.kind("test.settle.ping", Ping)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    made = make_engine(db_url)
    try:
        yield made
    finally:
        await made.dispose()


async def entries(engine: AsyncEngine) -> list[OutboxEntry]:
    async with make_sessionmaker(engine)() as db:
        return list((await db.scalars(select(OutboxEntry).order_by(OutboxEntry.id))).all())


async def test_a_transactions_rows_are_delivered_before_it_returns(engine: AsyncEngine) -> None:
    got: list[int] = []

    async def handle(ping: Ping) -> None:
        got.append(ping.n)

    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(PING, handle)
    await dispatcher.start()
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            outbox.record(db, PING, Ping(1))
            outbox.record(db, PING, Ping(2))
            assert got == []  # nothing before the commit
        # No waiting: delivered by the time the transaction's block has returned.
        assert got == [1, 2]
        await asyncio.wait_for(dispatcher.idle(), DEADLINE)
    finally:
        await dispatcher.stop()
    assert got == [1, 2]  # and only once: the loop was not also given them
    assert [r.done_at is not None for r in await entries(engine)] == [True, True]


async def test_a_transaction_that_records_nothing_asks_the_outbox_nothing(
    engine: AsyncEngine,
) -> None:
    dispatcher = Dispatcher(engine, sweep_every=3600)

    async def handle(ping: Ping) -> None:
        raise AssertionError("nothing was recorded")

    dispatcher.register(PING, handle)
    calls: list[list[int]] = []
    real = dispatcher.settle

    async def counted(ids: list[int], wait: float | None = None) -> None:
        calls.append(ids)
        await real(ids, wait)

    dispatcher.settle = counted  # type: ignore[method-assign]
    await dispatcher.start()
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            await db.execute(select(1))
    finally:
        await dispatcher.stop()
    assert calls == []


async def test_rows_committed_with_no_dispatcher_running_wait_for_the_next_one(
    engine: AsyncEngine,
) -> None:
    """A process that dies between its commit and the delivery loses nothing: the rows
    are due, and the next dispatcher (after a restart, or another process) runs them."""
    async with transaction(make_sessionmaker(engine)) as db:
        outbox.record(db, PING, Ping(7))
    assert [r.done_at for r in await entries(engine)] == [None]
    got: list[int] = []
    arrived = asyncio.Event()

    async def handle(ping: Ping) -> None:
        got.append(ping.n)
        arrived.set()

    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(PING, handle)
    await dispatcher.start()
    try:
        await asyncio.wait_for(arrived.wait(), DEADLINE)
    finally:
        await dispatcher.stop()
    assert got == [7]


async def test_settle_waits_for_a_row_the_loop_already_has_in_hand(engine: AsyncEngine) -> None:
    began = asyncio.Event()
    release = asyncio.Event()
    finished: list[int] = []

    async def handle(ping: Ping) -> None:
        began.set()
        await release.wait()
        finished.append(ping.n)

    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(PING, handle)
    await dispatcher.start()
    try:
        # Committed outside peerhub.db.transaction: the loop is woken and takes it.
        async with make_sessionmaker(engine)() as db:
            async with db.begin():
                row = outbox.record(db, PING, Ping(3))
            ids = outbox.committed(db)
        assert ids == []  # only transaction()'s sessions keep their ids for settle
        await asyncio.wait_for(began.wait(), DEADLINE)
        looked = asyncio.Event()
        in_hand = dispatcher._in_hand

        async def look(ids: list[int]) -> list[int]:
            found = await in_hand(ids)
            looked.set()
            return found

        dispatcher._in_hand = look  # type: ignore[method-assign]
        settling = asyncio.ensure_future(dispatcher.settle([row.id]))
        await asyncio.wait_for(looked.wait(), DEADLINE)
        for _ in range(3):
            await asyncio.sleep(0)  # a settle that did not wait would be done by now
        assert not settling.done()
        release.set()
        await asyncio.wait_for(settling, DEADLINE)
        assert finished == [3]  # settle returned only after the handler had finished
    finally:
        release.set()
        await dispatcher.stop()


async def test_a_failing_handler_does_not_fail_the_request_and_is_retried(
    engine: AsyncEngine,
) -> None:
    tries: list[int] = []

    async def handle(ping: Ping) -> None:
        tries.append(ping.n)
        if len(tries) == 1:
            raise ConnectionError("the bus is down")

    dispatcher = Dispatcher(engine, sweep_every=3600, backoff=0.0)
    dispatcher.register(PING, handle)
    await dispatcher.start()
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            outbox.record(db, PING, Ping(4))
        assert tries[:1] == [4]  # tried once before returning, and the error not raised
        while len(tries) < 2:  # retried by the loop (backoff 0: due at once)
            dispatcher.wake()
            await asyncio.wait_for(dispatcher.idle(), DEADLINE)
    finally:
        await dispatcher.stop()
    assert tries == [4, 4]
    assert [r.done_at is not None for r in await entries(engine)] == [True]


async def test_a_database_error_after_the_commit_leaves_the_rows_to_the_loop(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request that committed does not fail (no 500 for a change that was made),
    and the rows are still delivered, by the loop, once the database answers."""
    arrived = asyncio.Event()
    got: list[int] = []

    async def handle(ping: Ping) -> None:
        got.append(ping.n)
        arrived.set()

    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(PING, handle)
    await dispatcher.start()
    real_claim = dispatcher.claim
    failed: list[list[int] | None] = []

    async def claim(ids: list[int] | None = None, in_request: bool = False) -> list[Claimed]:
        if ids is not None and not failed:  # settle's claim, the first time only
            failed.append(ids)
            raise OperationalError("UPDATE outbox", {}, ConnectionError("the database went away"))
        return await real_claim(ids, in_request)

    monkeypatch.setattr(dispatcher, "claim", claim)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            outbox.record(db, PING, Ping(6))
        assert len(failed) == 1 and got == []  # returned normally, nothing delivered yet
        await asyncio.wait_for(arrived.wait(), DEADLINE)  # the loop, woken, delivered it
    finally:
        await dispatcher.stop()
    assert got == [6]


async def test_a_delivered_rows_payload_is_dropped(engine: AsyncEngine) -> None:
    """An erased person's id in a "close their sockets" row is not kept once done."""
    dispatcher = Dispatcher(engine, sweep_every=3600)

    async def handle(ping: Ping) -> None:
        return None

    dispatcher.register(PING, handle)
    await dispatcher.start()
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            outbox.record(db, PING, Ping(5))
    finally:
        await dispatcher.stop()
    assert [(r.kind, r.payload) for r in await entries(engine)] == [("test.settle.ping", {})]


# --- the real-time kinds ---------------------------------------------------------------------


async def test_the_realtime_kinds_check_what_they_are_given(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as db:
        after_commit.disconnect_user(db, "u1", sign_in_id="s1")
        after_commit.revoke_membership(db, "g1", "u1", reason="You left the group.")
        after_commit.member_changed(db, "g1", "u1")
        after_commit.room_changed(db, "g1")
        after_commit.to_moderators(db, "g1", b'{"type":"mod.changed"}')
        with pytest.raises(TypeError):
            after_commit.member_changed(db, "g1", 42)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            after_commit.disconnect_user(object(), "u1")  # type: ignore[arg-type]
        await db.rollback()


async def test_the_direct_calls_refuse_what_is_not_a_running_service() -> None:
    """They used to do nothing, silently, when handed the wrong object."""
    with pytest.raises(TypeError):
        await notify.disconnect_user(object(), "u1")
    with pytest.raises(TypeError):
        await notify.member_changed(None, "g1", "u1")


DIRECT = {"disconnect_user", "revoke_membership", "member_changed", "room_changed"}
DIRECT |= {"notify_moderators"}


def test_no_code_outside_the_rooms_tells_them_directly() -> None:
    """Telling open sockets is recorded by the action (peerhub.realtime.after_commit),
    never called by a route after its commit: a forgotten call, or one made before the
    commit, is the class of bug this rules out."""
    found: list[str] = []
    for path in sorted((ROOT / "peerhub").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("peerhub/realtime/", "peerhub/moderation/")):
            continue  # the rooms themselves, and their extension's socket handlers
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "peerhub.realtime.notify":
                found.append(f"{rel}:{node.lineno} imports peerhub.realtime.notify")
            if isinstance(node, ast.Attribute) and node.attr in DIRECT:
                base = node.value
                if isinstance(base, ast.Name) and base.id in ("realtime", "notify"):
                    found.append(f"{rel}:{node.lineno} calls {base.id}.{node.attr}")
    assert not found, "tell the rooms through peerhub.realtime.after_commit:\n" + "\n".join(found)


@dataclass(frozen=True, slots=True)
class Letter:
    n: int


LETTER = outbox.kind("test.settle.letter", Letter)


async def test_a_kind_sent_to_the_outside_world_is_left_to_the_loop(engine: AsyncEngine) -> None:
    """``in_request=False`` (e-mail, push, SMS): the request that recorded the row does
    not wait for a slow mail server; the loop, woken by it, sends it at once."""
    release = asyncio.Event()
    sent: list[int] = []
    pinged: list[int] = []

    async def send(letter: Letter) -> None:
        await release.wait()  # a mail server that takes its time
        sent.append(letter.n)

    async def ping(p: Ping) -> None:
        pinged.append(p.n)

    dispatcher = Dispatcher(engine, sweep_every=3600)
    dispatcher.register(LETTER, send, in_request=False)
    dispatcher.register(PING, ping)
    await dispatcher.start()
    await asyncio.wait_for(dispatcher.idle(), DEADLINE)  # its first look is over
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            outbox.record(db, LETTER, Letter(1))
            outbox.record(db, PING, Ping(2))
        # Returned with the ping delivered in the request and the letter not yet sent.
        assert pinged == [2] and sent == []
        release.set()
        await asyncio.wait_for(dispatcher.idle(), DEADLINE)
        assert sent == [1]
    finally:
        await dispatcher.stop()
