"""Issue 13: a crisis alert is stored in its message's own transaction (hazard H3).

The moderation toolkit gives the writer the alert's row through the seam
(``RoomPolicy.rows_for``); the writer inserts it after the message's row, in the same
transaction. Whatever step of that transaction fails (any statement, the alert's
insert, the message's insert, the commit), the database holds either neither row or
both: never a message without its alert. The sender is told with an ``error`` (never
an ``ack``) when nothing was stored, nobody receives the message or an alert for it,
and a retry with the same ``client_id`` stores both.

Faults are injected with SQLAlchemy events on the running server's engine, only on the
writer's own connections, so reads and other writes elsewhere are untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.moderation.models import CrisisAlert
from peerhub.realtime.models import Room, RoomMessage
from tests.realtime.conftest import Client, RTServer, World, joined
from tests.realtime.test_unstorable import barrier, hold_writer, release

Sessions = async_sessionmaker[AsyncSession]

# A phrase of the default crisis lexicon, and words that can be told apart in the logs.
CRISIS = "I can't go on like this, said the heron"
ORDINARY = "Lovely weather for herons"


@dataclass
class Faults:
    """Counts the statements of each of the writer's transactions (from its BEGIN) and,
    while armed, fails one step: the ``step``-th statement, or ``"commit"``."""

    server: RTServer
    step: int | str | None = None
    error: Callable[[], BaseException] = lambda: RuntimeError("injected")
    # The statements of each writer transaction, in order, and whether it committed.
    transactions: list[list[str]] = field(default_factory=list)
    committed: list[bool] = field(default_factory=list)
    raised: int = 0

    def _writer(self, conn: Any) -> bool:
        # Runs in the server's event loop thread, where the writer keeps its connections.
        return any(c.sync_connection is conn for c in self.server.rt.writer._conns.values())

    def begin(self, conn: Any) -> None:
        if self._writer(conn):
            self.transactions.append([])
            self.committed.append(False)

    def statement(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any
    ) -> None:
        if not self._writer(conn) or not self.transactions:
            return
        self.transactions[-1].append(" ".join(statement.split()[:3]))
        if self.step == len(self.transactions[-1]):
            self.raised += 1
            raise self.error()

    def commit(self, conn: Any) -> None:
        if not self._writer(conn) or not self.transactions:
            return
        if self.step == "commit":
            self.raised += 1
            raise self.error()
        self.committed[-1] = True

    def arm(self, step: int | str, error: Callable[[], BaseException] | None = None) -> None:
        self.step, self.raised = step, 0
        if error is not None:
            self.error = error

    def disarm(self) -> None:
        self.step = None
        self.error = lambda: RuntimeError("injected")


@pytest.fixture
def faults(server: RTServer) -> Iterator[Faults]:
    found = Faults(server)
    engine = server.rt.ctx.engine.sync_engine
    hooks: list[tuple[str, Callable[..., None]]] = [
        ("begin", found.begin),
        ("before_cursor_execute", found.statement),
        ("commit", found.commit),
    ]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    try:
        yield found
    finally:
        for name, fn in hooks:
            event.remove(engine, name, fn)


@dataclass
class Stored:
    messages: dict[str, int]  # client_id -> seq (people's messages)
    alerts: list[tuple[str | None, int]]  # (user, message seq)
    next_seq: int


async def stored(sessions: Sessions, room: str) -> Stored:
    async with sessions() as db:
        rows = await db.execute(
            select(RoomMessage.client_id, RoomMessage.seq).where(
                RoomMessage.room_id == room, RoomMessage.kind == "text"
            )
        )
        messages = {cid: seq for cid, seq in rows}
        alerts = [
            (user, seq)
            for user, seq in await db.execute(
                select(CrisisAlert.user_id, CrisisAlert.message_seq)
                .where(CrisisAlert.group_id == room)
                .order_by(CrisisAlert.message_seq)
            )
        ]
        upto = int(await db.scalar(select(Room.next_seq).where(Room.id == room)) or 1)
    return Stored(messages, alerts, upto)


def assert_both_or_neither(state: Stored, crisis: dict[str, str]) -> None:
    """Every crisis message stored has exactly one alert, and every alert its message
    (``crisis``: client_id -> sender's user id)."""
    expected = sorted(
        (user, state.messages[cid]) for cid, user in crisis.items() if cid in state.messages
    )
    assert state.alerts == expected, (state.alerts, expected)


def alerts_for(mo: Client, seq: int) -> list[dict[str, Any]]:
    return [f for f in mo.seen if f["type"] == "alert" and f["seq"] == seq]


async def test_the_alert_is_written_in_the_messages_own_transaction(
    connect_as: Any, world: World, sessions: Sessions, faults: Faults
) -> None:
    room = world.group_id
    ana, mo = await joined(connect_as, room, "ana", "mo")
    before = len(faults.transactions)
    ack = await ana.say(room, CRISIS, "calm-0000001")
    await mo.expect("alert", kind="crisis", seq=ack["seq"])
    ours = [
        (statements, done)
        for statements, done in zip(
            faults.transactions[before:], faults.committed[before:], strict=True
        )
        if "INSERT INTO crisis_alerts" in statements
    ]
    [(statements, committed)] = ours
    assert committed
    message = statements.index("INSERT INTO room_messages")
    assert statements.index("INSERT INTO crisis_alerts") > message, statements
    state = await stored(sessions, room)
    assert state.alerts == [(world.users["ana"], ack["seq"])]
    # An ordinary message adds no row.
    await ana.say(room, ORDINARY, "calm-0000002")
    assert len((await stored(sessions, room)).alerts) == 1


async def test_a_failure_at_any_step_stores_neither_the_message_nor_its_alert(
    connect_as: Any,
    world: World,
    sessions: Sessions,
    faults: Faults,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every statement of the crisis message's transaction, and its commit, fails in
    turn: each time nothing is stored and the writer is told so; the retry stores both."""
    caplog.set_level(logging.WARNING)
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    crisis: dict[str, str] = {}
    # A good crisis message first: how many statements its transaction runs.
    before = len(faults.transactions)
    ack = await ana.say(room, CRISIS, "step-base001")
    crisis["step-base001"] = world.users["ana"]
    await mo.expect("alert", kind="crisis", seq=ack["seq"])
    [steps] = [s for s in faults.transactions[before:] if "INSERT INTO crisis_alerts" in s]
    plan: list[int | str] = [*range(1, len(steps) + 1), "commit"]
    assert len(plan) >= 7, steps

    for n, step in enumerate(plan):
        cid = f"step-{n:07d}"
        body = f"{CRISIS} ({n})"
        was = await stored(sessions, room)
        faults.arm(step)
        try:
            await ana.send("send", room=room, client_id=cid, body=body)
            error = await ana.expect("error", client_id=cid)
        finally:
            faults.disarm()
        assert faults.raised == 1, (step, steps)
        # Not saved, for a reason a retry can fix; never acknowledged.
        assert error["code"] == "internal" and error["room"] == room, (step, error)
        assert not [f for f in ana.seen if f["type"] == "ack" and f["client_id"] == cid]
        now = await stored(sessions, room)
        assert cid not in now.messages, step
        assert now.alerts == was.alerts and now.next_seq == was.next_seq, step
        assert_both_or_neither(now, crisis)

        # The retry, as the protocol says: the same client_id stores both.
        retry = await ana.say(room, body, cid)
        assert retry["duplicate"] is False and retry["seq"] == was.next_seq
        crisis[cid] = world.users["ana"]
        await mo.expect("alert", kind="crisis", seq=retry["seq"])
        assert (await ben.expect("message", client_id=cid))["seq"] == retry["seq"]
        assert_both_or_neither(await stored(sessions, room), crisis)

    # Each message reached the others once and raised one alert, after its commit.
    state = await stored(sessions, room)
    for cid in crisis:
        seq = state.messages[cid]
        assert len(alerts_for(mo, seq)) == 1, cid
        assert len([f for f in ben.seen if f["type"] == "message" and f["client_id"] == cid]) == 1
    assert len(state.alerts) == len(plan) + 1
    # The failures were logged, without what anyone wrote.
    assert "write batch of 1 failed" in caplog.text
    assert "heron" not in caplog.text


async def test_a_failing_alert_fails_its_message_alone_and_others_commit(
    server: RTServer,
    connect_as: Any,
    world: World,
    sessions: Sessions,
    faults: Faults,
) -> None:
    """The alert's insert is refused (as by a constraint) while other people's messages
    share the batch: the crisis message fails alone, with its alert; theirs commit."""
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")

    def refuse_alerts(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CRISIS_ALERTS"):
            raise conn.dialect.loaded_dbapi.IntegrityError("injected")

    engine = server.rt.ctx.engine.sync_engine
    event.listen(engine, "before_cursor_execute", refuse_alerts)
    try:
        gate = await hold_writer(server, room)
        await ben.send("send", room=room, client_id="ben-00000001", body=ORDINARY)
        await ana.send("send", room=room, client_id="ana-crisis01", body=CRISIS)
        await ben.send("send", room=room, client_id="ben-00000002", body=ORDINARY)
        await barrier(ana, ben)
        await release(server, gate)
        error = await ana.expect("error", client_id="ana-crisis01")
        first = await ben.expect("ack", client_id="ben-00000001")
        second = await ben.expect("ack", client_id="ben-00000002")
    finally:
        event.remove(engine, "before_cursor_execute", refuse_alerts)
    # The constraint refused it: a retry of the same could never succeed, so say so.
    assert error["code"] == "not_storable"
    assert not [f for f in ana.seen if f["type"] in ("ack", "support")]
    assert (first["seq"], second["seq"]) == (2, 3)  # after the writer's plug, no hole
    state = await stored(sessions, room)
    assert set(state.messages) == {"ben-00000001", "ben-00000002"}
    assert state.alerts == [] and state.next_seq == 4
    crisis = {"ana-crisis01": world.users["ana"]}
    assert_both_or_neither(state, crisis)

    # Once the alert can be stored, so can the message: both, and the moderator is told.
    ack = await ana.say(room, CRISIS, "ana-crisis01")
    assert ack["seq"] == 4
    await mo.expect("alert", kind="crisis", seq=4)
    await mo.expect("mod.changed", what="alert")
    assert alerts_for(mo, 4) and not [f for f in mo.seen if f["type"] == "alert" and f["seq"] < 4]
    assert_both_or_neither(await stored(sessions, room), crisis)
    assert (await stored(sessions, room)).alerts == [(world.users["ana"], 4)]


async def test_a_failing_message_insert_stores_no_alert(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana, mo = await joined(connect_as, room, "ana", "mo")

    def refuse_message(conn: Any, cursor: Any, statement: str, parameters: Any, *a: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ROOM_MESSAGES") and (
            "ana-crisis02" in repr(parameters)
        ):
            raise RuntimeError("injected")

    engine = server.rt.ctx.engine.sync_engine
    event.listen(engine, "before_cursor_execute", refuse_message)
    try:
        await ana.send("send", room=room, client_id="ana-crisis02", body=CRISIS)
        error = await ana.expect("error", client_id="ana-crisis02")
    finally:
        event.remove(engine, "before_cursor_execute", refuse_message)
    assert error["code"] == "internal"
    state = await stored(sessions, room)
    assert state.messages == {} and state.alerts == [] and state.next_seq == 1
    ack = await ana.say(room, CRISIS, "ana-crisis02")
    await mo.expect("alert", kind="crisis", seq=ack["seq"])
    assert ack["seq"] == 1 and len(alerts_for(mo, 1)) == 1
    assert_both_or_neither(await stored(sessions, room), {"ana-crisis02": world.users["ana"]})


async def test_a_commit_that_fails_as_the_database_goes_away_stores_neither(
    server: RTServer, connect_as: Any, world: World, sessions: Sessions, faults: Faults
) -> None:
    """The commit fails as when the database goes away: nothing in the batch is stored
    (the writer does not split it), everyone is told "internal", and retries store the
    message with its alert."""
    room = world.group_id
    ana, ben, mo = await joined(connect_as, room, "ana", "ben", "mo")
    gate = await hold_writer(server, room)
    faults.arm("commit", lambda: OperationalError("COMMIT", {}, Exception("injected")))
    isolations = server.rt.writer.isolations
    try:
        await ana.send("send", room=room, client_id="ana-crisis03", body=CRISIS)
        await ben.send("send", room=room, client_id="ben-00000003", body=ORDINARY)
        await barrier(ana, ben)
        await release(server, gate)
        assert (await ana.expect("error", client_id="ana-crisis03"))["code"] == "internal"
        assert (await ben.expect("error", client_id="ben-00000003"))["code"] == "internal"
    finally:
        faults.disarm()
    assert faults.raised >= 2, "the commit was tried again before giving up"
    assert server.rt.writer.isolations == isolations
    state = await stored(sessions, room)
    assert state.messages == {} and state.alerts == []
    assert (await ana.say(room, CRISIS, "ana-crisis03"))["seq"] == state.next_seq
    assert (await ben.say(room, ORDINARY, "ben-00000003"))["seq"] == state.next_seq + 1
    await mo.expect("alert", kind="crisis", seq=state.next_seq)
    final = await stored(sessions, room)
    assert final.alerts == [(world.users["ana"], state.next_seq)]
    assert_both_or_neither(final, {"ana-crisis03": world.users["ana"]})
