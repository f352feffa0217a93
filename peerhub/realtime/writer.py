"""Every write to the room log and its tables; the one writer that gives out ``seq``.

Writes that take a ``seq`` (people's messages and system events) go through
:class:`Writer`: one task per process that takes every command waiting and
commits them in ONE transaction (group commit). In that transaction it

1. locks the rooms' counter rows, in id order (``SELECT ... FOR UPDATE`` on
   PostgreSQL; on SQLite a no-op ``UPDATE`` first, which takes the database's
   single write lock through the busy timeout instead of failing on upgrade);
2. re-checks, in the database, that each sender's sign-in is still live,
   that their account is not disabled, and their rank in the group — so a frame
   that races a logout, a removal or a ban is refused, whatever any cache says;
3. finds retries: an existing ``(room, sender, client_id)`` gets the ORIGINAL
   ``seq`` back and nothing is written (a system event too, by ``(room, client_id)``
   with no sender, when its caller gave a stable ``client_id``: ``Command.keyed``;
   the room's counter row, locked in step 1, makes this check-then-insert safe
   across processes);
4. adds the number of new messages to each room's ``next_seq`` (``UPDATE ...
   RETURNING``) and inserts the rows;
5. inserts the rows the room's policies add to a message (``Command.rows``, from
   ``RoomPolicy.rows_for``: a crisis alert), now that its ``seq`` is known — so a
   message is stored with its alert or not at all.

Only after the commit are the results handed on (acknowledgements, then fan-out),
in ``seq`` order. A failed transaction acknowledges nothing; the client retries
with the same ``client_id``. Because a room's counter row stays locked until
commit, ``seq`` order is commit order and a rollback leaves no hole.

One command never fails the others in its batch: when a transaction fails because
of a command (not because the database is away), the batch is halved and each half
committed in turn, until the command that fails is alone. It alone is refused
(``not_storable`` when it can never succeed); the rest commit in queue order.

The few writes that take no ``seq`` are here too (:func:`ensure_room`, the room's row
on first use, and so :func:`room_info`; :func:`set_read`; :func:`accept_rules`;
:func:`touch_sign_ins`). The reads are in :mod:`peerhub.realtime.queries`, which
writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from babel.support import LazyProxy
from sqlalchemy import (
    Insert,
    Integer,
    String,
    any_,
    bindparam,
    case,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from peerhub.config import Settings
from peerhub.context import Clock
from peerhub.i18n import lazy_gettext
from peerhub.models import GroupRole, GroupTag, SignIn
from peerhub.realtime import queries
from peerhub.realtime.models import Room, RoomMessage, RoomReadPosition, RoomRulesAcceptance
from peerhub.realtime.protocol import MessageView
from peerhub.realtime.queries import CRISIS_STAGE, Db, RoomInfo, among, dialect

# The name log filters know: this module was peerhub/realtime/store.py.
log = logging.getLogger("peerhub.realtime.store")


# What a retry finds of a command already stored: its key (room, sender or None for a
# system event, client_id) → (seq, status, created_at).
_STORED = (
    RoomMessage.room_id,
    RoomMessage.sender_id,
    RoomMessage.client_id,
    RoomMessage.seq,
    RoomMessage.status,
    RoomMessage.created_at,
)
Stored = dict[tuple[str, str | None, str], tuple[int, str, datetime]]


class _Pg:
    """The writer's statements for PostgreSQL, built once.

    Each takes arrays (``= ANY``, ``unnest``), so one prepared statement serves
    every batch, and SQLAlchemy does not rebuild and re-key a statement per batch
    (that was most of a small batch's CPU). (The access re-checks' are in
    :mod:`peerhub.realtime.queries`.)"""

    def __init__(self) -> None:
        ids = ARRAY(String())
        self.lock = (
            select(Room.id, Room.is_open, Room.moderator_only)
            .where(Room.id == any_(bindparam("rooms", type_=ids)))
            .order_by(Room.id)
            .with_for_update()
        )
        keys = select(
            func.unnest(bindparam("r", type_=ids)).label("r"),
            func.unnest(bindparam("s", type_=ids)).label("s"),
            func.unnest(bindparam("c", type_=ids)).label("c"),
        ).subquery("k")
        self.existing = select(*_STORED).join(
            keys,
            (RoomMessage.room_id == keys.c.r)
            & (RoomMessage.sender_id == keys.c.s)
            & (RoomMessage.client_id == keys.c.c),
        )
        system_keys = select(
            func.unnest(bindparam("r", type_=ids)).label("r"),
            func.unnest(bindparam("c", type_=ids)).label("c"),
        ).subquery("k")
        self.existing_system = (
            select(*_STORED)
            .join(
                system_keys,
                (RoomMessage.room_id == system_keys.c.r)
                & (RoomMessage.client_id == system_keys.c.c),
            )
            .where(RoomMessage.sender_id.is_(None))
        )
        counts = select(
            func.unnest(bindparam("ids", type_=ids)).label("id"),
            func.unnest(bindparam("ns", type_=ARRAY(Integer()))).label("n"),
        ).subquery("v")
        self.take = (
            update(Room)
            .where(Room.id == counts.c.id)
            .values(next_seq=Room.next_seq + counts.c.n)
            .returning(Room.id, Room.next_seq)
        )
        self.insert = insert(RoomMessage)


_PG = _Pg()


# --- writes that take no seq -------------------------------------------------------------


async def ensure_room(db: AsyncSession, room_id: str) -> None:
    """Make the group's room row if it has none (safe when two processes race).

    A new room of a group that welcomes people approaching crisis starts "open only
    while a moderator is present"; its moderators may change that in the room.
    """
    crisis = (
        select(GroupTag.group_id)
        .where(
            GroupTag.group_id == room_id,
            GroupTag.kind == "stage",
            GroupTag.value == CRISIS_STAGE,
        )
        .exists()
    )
    values = {"id": room_id, "moderator_only": crisis}
    if dialect(db) == "postgresql":
        await db.execute(pg_insert(Room).values(values).on_conflict_do_nothing())
    else:
        await db.execute(sqlite_insert(Room).values(values).on_conflict_do_nothing())


async def room_info(db: AsyncSession, room_id: str, user_id: str) -> RoomInfo | None:
    """The group, its room (its row made on first use: hence here, with the writes), and
    this person's rules and read position; None when there is no such group."""
    found = await queries.group_room(db, room_id, user_id)
    if found is None:
        return None
    group, room, last_read = found
    if room is None:
        await ensure_room(db, room_id)
        room = await queries.room_row(db, room_id)
        if room is None:  # pragma: no cover - just made
            return None
    accepted = await queries.accepted_rules(db, room_id, user_id, group.ground_rules)
    return RoomInfo(group, room, accepted, last_read)


async def set_read(db: AsyncSession, room_id: str, user_id: str, seq: int, now: datetime) -> int:
    """Move the read position forward (never back); returns the stored position."""
    row = await db.get(RoomReadPosition, (room_id, user_id), with_for_update=True)
    if row is None:
        db.add(
            RoomReadPosition(room_id=room_id, user_id=user_id, last_read_seq=seq, updated_at=now)
        )
        return seq
    if seq > row.last_read_seq:
        row.last_read_seq = seq
        row.updated_at = now
    return row.last_read_seq


async def accept_rules(
    db: AsyncSession, room_id: str, user_id: str, version: str, now: datetime
) -> None:
    values = {"room_id": room_id, "user_id": user_id, "version": version, "accepted_at": now}
    if dialect(db) == "postgresql":
        await db.execute(pg_insert(RoomRulesAcceptance).values(**values).on_conflict_do_nothing())
    else:
        await db.execute(
            sqlite_insert(RoomRulesAcceptance).values(**values).on_conflict_do_nothing()
        )


async def touch_sign_ins(
    db: AsyncSession, sign_in_ids: Iterable[str], now: datetime, every: timedelta
) -> None:
    """Chatting counts as activity: keep the sign-in from idling out."""
    ids = list(sign_in_ids)
    for start in range(0, len(ids), 500):
        await db.execute(
            update(SignIn)
            .where(
                among(db, SignIn.id, ids[start : start + 500]),
                SignIn.last_seen_at < now - every,
            )
            .values(last_seen_at=now)
        )


# --- the writer ----------------------------------------------------------------------


@dataclass(slots=True)
class Refusal:
    code: str
    # The words people read: ``lazy_gettext(...)`` (or a LazyProxy), put into words in
    # the language active where ``message`` is read: the socket's person's.
    text: str | LazyProxy
    close: bool = False  # the socket must be closed (1008): the sign-in or place is gone

    @property
    def message(self) -> str:
        return str(self.text)


@dataclass(slots=True)
class Command:
    """Something that takes a seq: a person's message, or a system event."""

    room: str
    client_id: str
    body: str = ""
    kind: str = "text"
    status: str = "visible"
    sender_id: str | None = None
    sender_name: str | None = None
    # A system event (no sender) whose client_id the caller made stable (an outbox
    # row's, delivered at least once): a second write of it finds the first and gets
    # its seq back, and nothing is written or fanned out again. People's messages are
    # always looked up by (room, sender, client_id); random system ids never are.
    keyed: bool = False
    # The sign-in to re-check in the transaction (None: a server-side event).
    sign_in_id: str | None = None
    min_rank: GroupRole = GroupRole.MEMBER
    data: dict[str, Any] | None = None
    # Columns of the room row to set in the same transaction (opening, closing...).
    room_changes: dict[str, Any] | None = None
    # Apply the room's gate (moderator-only rooms while they are not open).
    gated: bool = False
    # Rows to store in the SAME transaction as the message, once its seq is known (the
    # policies' rows_for: a crisis alert). If they fail, the message fails with them.
    rows: Callable[[MessageView], Sequence[Insert]] | None = None
    # Anything the caller wants back with the result (the socket, the policy context).
    context: Any = None
    future: asyncio.Future[Result] | None = None


@dataclass(slots=True)
class Result:
    seq: int = 0
    status: str = "visible"
    at: datetime | None = None
    duplicate: bool = False
    refused: Refusal | None = None
    view: MessageView | None = None
    rank: GroupRole = GroupRole.NONE


# gate(room row, rank) -> a refusal, or None to let the message through.
Gate = Callable[[str, bool, bool, GroupRole], Refusal | None]
OnCommit = Callable[[list[tuple[Command, Result]]], None]


class Busy(Exception):
    """The writer's queue is full: tell the client to retry shortly."""


class WriteRefused(LookupError):
    """A command the writer refused (an ``append_event`` whose room is gone, or one
    that can never be stored): ``code`` is the protocol's error code."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.code = refusal.code
        self.message = refusal.message


# --- why a write failed: can a retry succeed? ------------------------------------------

# SQLSTATE classes where the same statement can succeed later: connection exceptions,
# transaction rollbacks (serialization failure, deadlock), insufficient resources,
# lock not available / object in use, operator intervention (shutdown, cancel),
# system errors.
_PASSING_SQLSTATES = frozenset({"08", "40", "53", "55", "57", "58"})
# Data exceptions and integrity constraint violations: the command itself is wrong.
_DATA_SQLSTATES = frozenset({"22", "23"})


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state if isinstance(state, str) else None


def passing_fault(exc: BaseException) -> bool:
    """The database (not the command) failed: unreachable, locked, deadlocked, shutting
    down. Nothing in the batch could be stored; the same batch can succeed later."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
        return True
    state = _sqlstate(exc)
    return state is not None and state[:2] in _PASSING_SQLSTATES


def data_fault(exc: BaseException) -> bool:
    """The command's own data was refused (a constraint, a value the database cannot
    store): the same command can never succeed."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    state = _sqlstate(exc)
    if state is not None and state[:2] in _DATA_SQLSTATES:
        return True
    cause = exc.orig if isinstance(exc, StatementError) else exc
    return isinstance(cause, UnicodeError | ValueError | TypeError)


NOT_STORABLE = Refusal(
    "not_storable", lazy_gettext("This cannot be saved as it is. Change it and try again.")
)
NOT_SAVED = Refusal("internal", lazy_gettext("Not saved; try again."))
NOT_FOUND_TEXT = lazy_gettext("There is no such room, or you are not in it.")
SIGN_IN_ENDED_TEXT = lazy_gettext("Your session has ended. Sign in again.")


@dataclass
class Writer:
    engine: AsyncEngine
    settings: Settings
    clock: Clock
    on_commit: OnCommit
    gate: Gate
    max_queue: int = 10_000
    max_batch: int = 256
    _queue: asyncio.Queue[Command] = field(init=False)
    # Concurrent transactions. PostgreSQL: several (a room's counter row lock keeps
    # its writers in order, and rooms are locked in id order, so no deadlocks);
    # SQLite has one writer at a time anyway.
    concurrency: int = 1
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _conns: dict[int, AsyncConnection] = field(default_factory=dict, init=False)
    batches: int = field(default=0, init=False)
    written: int = field(default=0, init=False)
    # Batches split to find the command that made them fail, and commands refused alone.
    isolations: int = field(default=0, init=False)
    refused_alone: int = field(default=0, init=False)
    # Commands (room, sender, client_id) that already failed alone for a reason the
    # writer could not name: a second such failure is final (bounded, oldest first out).
    _failed_once: dict[tuple[str, str | None, str], None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._queue = asyncio.Queue(self.max_queue)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._run(), name=f"rt-writer-{i}") for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for conn in self._conns.values():
            with contextlib.suppress(Exception):
                await conn.close()
        self._conns.clear()
        while not self._queue.empty():
            command = self._queue.get_nowait()
            if command.future is not None and not command.future.done():
                command.future.set_exception(Busy())

    def submit(self, command: Command) -> None:
        """Queue a command; raises :class:`Busy` when the queue is full."""
        try:
            self._queue.put_nowait(command)
        except asyncio.QueueFull:
            raise Busy() from None

    async def write(self, command: Command) -> Result:
        """Queue a command and wait for its result."""
        command.future = asyncio.get_running_loop().create_future()
        self.submit(command)
        return await command.future

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch, attempts=4)

    async def _write(self, batch: list[Command], attempts: int) -> None:
        """Commit ``batch``; if it fails because of one of its commands, that command
        fails alone and the others commit, in order (their seqs stay contiguous)."""
        error: Exception | None = None
        for attempt in range(attempts):
            try:
                results = await self._commit(batch)
            except asyncio.CancelledError:
                for command in batch:
                    if command.future is not None and not command.future.done():
                        command.future.set_exception(Busy())
                raise
            except Exception as exc:
                error = exc
                # A retry racing its original in another process (unique violation),
                # a deadlock, a lock or a dropped connection: the next attempt sees the
                # other transaction's rows, or a new connection.
                log.warning(
                    "write batch of %d failed (attempt %d): %s",
                    len(batch),
                    attempt + 1,
                    exc.__class__.__name__,
                )
                if passing_fault(exc) or isinstance(exc, IntegrityError):
                    continue
                break
            else:
                self.batches += 1
                # Deliver from the event loop's queue, so the next transaction's round
                # trips overlap this batch's fan-out. Callbacks run in the order they
                # were scheduled, so batches are still delivered in commit order.
                asyncio.get_running_loop().call_soon(
                    self._deliver, list(zip(batch, results, strict=True))
                )
                return
        assert error is not None  # noqa: S101 - the loop ran and did not return
        if passing_fault(error):
            # The database is away, not a command: nothing here can be stored now, and
            # everything can be later. Splitting would only multiply the failures.
            self._fail(batch, NOT_SAVED)
            return
        if len(batch) > 1:
            # One command (or a few) made the whole transaction fail. Halve the batch
            # and commit each half in order: the culprit is found in log2(n) steps and
            # everyone else's messages commit, still in queue order, with no holes
            # (a failed half rolls its counter back with its rows).
            self.isolations += 1
            half = len(batch) // 2
            await self._write(batch[:half], attempts=2)
            await self._write(batch[half:], attempts=2)
            return
        self._fail(batch, self._alone(batch[0], error))

    def _alone(self, command: Command, error: Exception) -> Refusal:
        """The answer for one command that failed on its own."""
        self.refused_alone += 1
        log.warning("a %s command failed on its own: %s", command.kind, error.__class__.__name__)
        if data_fault(error):
            return NOT_STORABLE
        # A fault the writer cannot name: "internal" (a retry may succeed) the first
        # time; if the same command fails alone again, it is the command, and a client
        # that retries as the protocol says must not loop for ever.
        key = (command.room, command.sender_id, command.client_id)
        if key in self._failed_once:
            return NOT_STORABLE
        self._failed_once[key] = None
        while len(self._failed_once) > 1024:
            del self._failed_once[next(iter(self._failed_once))]
        return NOT_SAVED

    def _fail(self, batch: list[Command], refusal: Refusal) -> None:
        """Answer commands that were not stored, after any batch committed before them."""
        asyncio.get_running_loop().call_soon(
            self._deliver, [(command, Result(refused=refusal)) for command in batch]
        )

    def _deliver(self, pairs: list[tuple[Command, Result]]) -> None:
        try:
            self.on_commit(pairs)
        except Exception:  # never let a delivery bug stop the writer
            log.exception("delivering a committed batch failed")
        for command, result in pairs:
            if command.future is None or command.future.done():
                continue
            if result.refused is not None and result.refused.code == "internal":
                # Not stored, for a reason a retry can fix: the caller's "busy".
                command.future.set_exception(Busy())
            else:
                command.future.set_result(result)

    async def _commit(self, batch: list[Command]) -> list[Result]:
        # Each writer task keeps its own connection: no pool checkout (and no
        # pre-ping round trip) and no ORM session per batch.
        conn = self._conns.get(id(asyncio.current_task()))
        if conn is None or conn.closed or conn.invalidated:
            conn = await self.engine.connect()
            self._conns[id(asyncio.current_task())] = conn
        try:
            return await self._transaction(conn, batch)
        except BaseException:
            self._conns.pop(id(asyncio.current_task()), None)
            with contextlib.suppress(Exception):
                await conn.close()
            raise

    async def _transaction(self, db: AsyncConnection, batch: list[Command]) -> list[Result]:
        now = self.clock()
        room_ids = sorted({c.room for c in batch})
        results: list[Result] = [Result() for _ in batch]
        async with db.begin():
            if dialect(db) == "sqlite":
                # Take SQLite's write lock first (waits on the busy timeout).
                await db.execute(
                    update(Room).where(Room.id.in_(room_ids)).values(next_seq=Room.next_seq)
                )
            if dialect(db) == "postgresql":
                locked = await db.execute(_PG.lock, {"rooms": room_ids})
            else:
                locked = await db.execute(
                    select(Room.id, Room.is_open, Room.moderator_only)
                    .where(Room.id.in_(room_ids))
                    .order_by(Room.id)
                )
            rooms = {rid: (bool(is_open), bool(mo)) for rid, is_open, mo in locked}
            sign_in_ids = {c.sign_in_id for c in batch if c.sign_in_id is not None}
            live = await queries.live_sign_ins(db, self.settings, sign_in_ids, now)
            pairs = {(c.room, c.sender_id) for c in batch if c.sender_id is not None}
            rank_of = await queries.ranks(db, [(r, u) for r, u in pairs if u is not None])
            existing = await self._existing(db, batch)

            new: list[tuple[int, Command]] = []
            first_in_batch: dict[tuple[str, str | None, str], int] = {}
            for i, command in enumerate(batch):
                result = results[i]
                key = (command.room, command.sender_id, command.client_id)
                if command.sender_id is not None:
                    result.rank = rank_of.get((command.room, command.sender_id), GroupRole.NONE)
                if key in existing:
                    seq, status, at = existing[key]
                    results[i] = Result(seq, status, at, duplicate=True, rank=result.rank)
                    continue
                if key in first_in_batch:
                    continue  # answered below, once the first copy has its seq
                refusal = self._refusal(command, rooms, live, result.rank)
                if refusal is not None:
                    result.refused = refusal
                    continue
                first_in_batch[key] = i
                new.append((i, command))

            if new:
                counts = Counter(c.room for _, c in new)
                next_of = await self._take_seqs(db, counts)
                rows: list[dict[str, Any]] = []
                for i, command in new:
                    seq = next_of[command.room]
                    next_of[command.room] = seq + 1
                    results[i].seq, results[i].status, results[i].at = seq, command.status, now
                    results[i].view = MessageView(
                        room=command.room,
                        seq=seq,
                        kind=command.kind,
                        sender_id=command.sender_id,
                        sender_name=command.sender_name,
                        client_id=command.client_id,
                        body=command.body,
                        status=command.status,
                        at=now,
                        data=command.data,
                    )
                    rows.append(
                        {
                            "room_id": command.room,
                            "seq": seq,
                            "kind": command.kind,
                            "sender_id": command.sender_id,
                            "client_id": command.client_id,
                            "body": command.body,
                            "data": command.data,
                            "status": command.status,
                            "created_at": now,
                        }
                    )
                await db.execute(_PG.insert, rows)
                for i, command in new:
                    if command.room_changes:
                        await db.execute(
                            update(Room)
                            .where(Room.id == command.room)
                            .values(**command.room_changes)
                        )
                    if command.rows is not None:
                        view = results[i].view
                        assert view is not None  # noqa: S101 - set above for every new one
                        # In this transaction: the message and its rows, or neither.
                        for statement in command.rows(view):
                            await db.execute(statement)
            # Copies of a message sent twice in one batch get the first one's ack.
            for i, command in enumerate(batch):
                key = (command.room, command.sender_id, command.client_id)
                first = first_in_batch.get(key)
                if first is not None and first != i:
                    original = results[first]
                    results[i] = Result(
                        original.seq,
                        original.status,
                        original.at,
                        duplicate=True,
                        rank=results[i].rank,
                    )
        self.written += len(new)
        return results

    async def _take_seqs(self, db: Db, counts: Counter[str]) -> dict[str, int]:
        """Add each room's count to its counter; the first new seq of each room."""
        if dialect(db) == "postgresql":
            # unnest() of two arrays: one statement whatever the batch holds.
            params = {"ids": list(counts), "ns": list(counts.values())}
            returned = await db.execute(_PG.take, params)
            return {rid: int(nxt) - counts[rid] for rid, nxt in returned}
        statement = (
            update(Room)
            .where(Room.id.in_(list(counts)))
            .values(next_seq=Room.next_seq + case(dict(counts), value=Room.id))
            .returning(Room.id, Room.next_seq)
        )
        returned = await db.execute(statement)
        return {rid: int(nxt) - counts[rid] for rid, nxt in returned}

    def _refusal(
        self,
        command: Command,
        rooms: dict[str, tuple[bool, bool]],
        live: dict[str, str],
        rank: GroupRole,
    ) -> Refusal | None:
        if command.room not in rooms:
            return Refusal("not_found", NOT_FOUND_TEXT)
        if command.sign_in_id is not None and live.get(command.sign_in_id) != command.sender_id:
            return Refusal("session_ended", SIGN_IN_ENDED_TEXT, close=True)
        if command.sender_id is not None and rank < command.min_rank:
            if rank == GroupRole.NONE:
                return Refusal("not_found", NOT_FOUND_TEXT, close=True)
            return Refusal("forbidden", lazy_gettext("Only the group's moderators can do that."))
        if command.gated:
            is_open, moderator_only = rooms[command.room]
            return self.gate(command.room, is_open, moderator_only, rank)
        return None

    async def _existing(self, db: Db, batch: list[Command]) -> Stored:
        """The commands of ``batch`` already stored: people's messages by (room, sender,
        client_id), keyed system events by (room, client_id) with no sender."""
        found: Stored = {}
        keyed = [c for c in batch if c.sender_id is not None]
        if keyed:
            found |= await self._existing_sent(db, keyed)
        system = [c for c in batch if c.sender_id is None and c.keyed]
        if system:  # only outbox deliveries: the hot path never comes here
            found |= await self._existing_system(db, system)
        return found

    async def _existing_sent(self, db: Db, keyed: list[Command]) -> Stored:
        wanted = sorted({(c.room, c.sender_id or "", c.client_id) for c in keyed})
        if dialect(db) == "postgresql":
            # Join the unique index with the exact triples (unnest of three arrays):
            # one probe per message. (Three "= ANY" lists would make PostgreSQL
            # probe their whole cross product.)
            params = {
                "r": [w[0] for w in wanted],
                "s": [w[1] for w in wanted],
                "c": [w[2] for w in wanted],
            }
            rows = await db.execute(_PG.existing, params)
        else:
            rows = await db.execute(
                select(*_STORED).where(
                    tuple_(RoomMessage.room_id, RoomMessage.sender_id, RoomMessage.client_id).in_(
                        wanted
                    )
                )
            )
        found: Stored = {}
        for rid, sid, cid, seq, status, at in rows:
            found[rid, sid, cid] = (seq, status, at)
        return found

    async def _existing_system(self, db: Db, system: list[Command]) -> Stored:
        """Keyed system events already stored, by (room, None, client_id): one batched
        probe of the unique index (room, sender NULL, client_id)."""
        wanted = sorted({(c.room, c.client_id) for c in system})
        if dialect(db) == "postgresql":
            params = {"r": [w[0] for w in wanted], "c": [w[1] for w in wanted]}
            rows = await db.execute(_PG.existing_system, params)
        else:
            rows = await db.execute(
                select(*_STORED).where(
                    RoomMessage.sender_id.is_(None),
                    tuple_(RoomMessage.room_id, RoomMessage.client_id).in_(wanted),
                )
            )
        return {(rid, None, cid): (seq, status, at) for rid, _sid, cid, seq, status, at in rows}


def system_client_id() -> str:
    return "sys-" + uuid.uuid4().hex
