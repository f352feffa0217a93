"""The outbox's dispatcher: claims due rows, runs their handlers, marks them done.

One per process, started and stopped with the application (peerhub/app.py). It wakes

- at once after a commit in this process that recorded rows (``peerhub.outbox``'s
  after-commit hook),
- on PostgreSQL, when another process commits rows (``LISTEN peerhub_outbox``; the
  recording transaction sends ``NOTIFY``, delivered only if it commits),
- when a delayed or retried row falls due, and at least every ``sweep_every``
  seconds, which catches a wake-up that was missed (a lost ``LISTEN`` connection, a
  row committed while this process was starting).

Claiming sets ``claimant`` and a lease (``claimed_until``) in one UPDATE; on
PostgreSQL the rows are chosen ``FOR UPDATE SKIP LOCKED``, so several processes
never claim the same row, and on SQLite the database's single writer does the same.
Delivery is at least once: a process that dies between running a handler and
marking the row done leaves a claim whose lease runs out, and the row is delivered
again. A handler that raises is retried with exponential backoff, up to the kind's
limit; then the row is marked failed, kept, and logged by id, kind and exception
class (never the payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from peerhub import outbox
from peerhub.outbox import CHANNEL, Kind
from peerhub.outbox.models import ERROR_LIMIT, OutboxEntry

log = logging.getLogger("peerhub.outbox")

P = TypeVar("P")
Clock = Callable[[], datetime]
PRUNE_EVERY = 600.0  # seconds between deletions of old done rows


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Handler(Generic[P]):
    kind: Kind[P]
    run: Callable[[P], Awaitable[None]]
    max_attempts: int
    # Delivered by settle() in the request that recorded it (False: by the loop, at once
    # after the commit, so a slow mail server or push service never holds a response).
    in_request: bool = True


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class Dispatcher:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock = _system_clock,
        name: str | None = None,
        lease: float = 60.0,
        handler_timeout: float = 30.0,
        sweep_every: float = 5.0,
        batch: int = 100,
        backoff: float = 1.0,
        backoff_cap: float = 600.0,
        keep_done: timedelta = timedelta(days=1),
        listen: bool = True,
    ) -> None:
        if handler_timeout >= lease:
            raise ValueError("a handler's time-out must be shorter than the claim's lease")
        self.engine = engine
        self.clock = clock
        self.name = (name or f"outbox-{uuid.uuid4().hex[:12]}")[:64]
        self.lease = timedelta(seconds=lease)
        self.handler_timeout = handler_timeout
        self.sweep_every = sweep_every
        self.batch = batch
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.keep_done = keep_done
        self.listen = listen and engine.dialect.name == "postgresql"
        self.handlers: dict[str, _Handler[Any]] = {}
        self.delivered = 0  # handlers that succeeded
        self.failed = 0  # handler runs that raised
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listening = asyncio.Event()
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pruned_at = float("-inf")  # the event loop's time of the last pruning
        # Rows a request waits for (settle), resolved when this dispatcher has run them.
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        # One claim at a time in this process: settle then sees each of its rows either
        # claimed by its loop (and waits for it) or free (and claims it), never half
        # claimed by a loop's transaction that has not committed yet.
        self._claiming = asyncio.Lock()

    # --- set-up ---------------------------------------------------------------------------

    def register(
        self,
        kind: Kind[P],
        handler: Callable[[P], Awaitable[None]],
        *,
        max_attempts: int = 8,
        in_request: bool = True,
    ) -> None:
        """Run ``handler`` (idempotent: it may run more than once) for rows of ``kind``.

        ``in_request=False``: a row of this kind is not delivered by :meth:`settle` in
        the request that recorded it, but by this dispatcher's loop, woken at once (for
        sending to the outside world: e-mail, push, SMS)."""
        if kind.name in self.handlers:
            raise ValueError(f"outbox {kind.name}: a handler is registered already")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.handlers[kind.name] = _Handler(kind, handler, max_attempts, in_request)

    async def start(self) -> None:
        """Deliver what is due, then keep doing so in the background until :meth:`stop`."""
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        outbox.add_waker(self.engine.sync_engine, self.wake)
        outbox.add_settler(self.engine.sync_engine, self)
        self._wake.set()  # deliver what was left at once (a restart)
        self._tasks = [self._loop.create_task(self._run(), name=f"{self.name}-run")]
        if self.listen:
            self._tasks.append(self._loop.create_task(self._listen(), name=f"{self.name}-listen"))

    async def stop(self, grace: float = 5.0) -> None:
        """Stop: the delivery loop finishes the row in hand (at most ``grace`` seconds),
        then every task ends with its connection given back.

        The loop is never cancelled in the middle of a database statement when it can
        be helped: a connection cut off there could be left open inside a transaction,
        holding its locks. A handler still running after ``grace`` is cancelled; its row
        stays claimed and is delivered again when the lease runs out (here after a
        restart, or by another process)."""
        self.request_stop()
        tasks, self._tasks = self._tasks, []
        if tasks:  # the delivery loop is the first task started
            await asyncio.wait(tasks[:1], timeout=grace)
        for task in tasks:
            task.cancel()  # the LISTEN task waits on its connection; the rest overran
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def request_stop(self) -> None:
        """Ask the loop to stop after the row in hand; :meth:`stop` waits for it."""
        outbox.remove_waker(self.engine.sync_engine, self.wake)
        outbox.remove_settler(self.engine.sync_engine, self)
        self._stopping.set()

    def wake(self) -> None:
        """Look for due rows now (safe to call from any code in this event loop)."""
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Wait until nothing is due and no wake-up is pending (for tests and shutdown)."""
        await self._idle.wait()

    async def listening(self) -> None:
        """Wait until this dispatcher hears other processes' commits (PostgreSQL)."""
        await self._listening.wait()

    # --- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._idle.clear()
            try:
                while await self.run_once() >= self.batch and not self._stopping.is_set():
                    pass  # a full batch: there may be more
                if self._stopping.is_set():
                    return
                if self._loop is not None and self._loop.time() - self._pruned_at > PRUNE_EVERY:
                    self._pruned_at = self._loop.time()
                    await self.prune()
                wait = await self._until_next_due()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("outbox: the database is not answering (%s)", type(exc).__name__)
                wait = self.sweep_every
            if not self._wake.is_set():
                self._idle.set()
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        """Until woken, stopped or ``seconds`` have passed."""
        waits = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _until_next_due(self) -> float:
        """Seconds to the next delayed or retried row, at most ``sweep_every``."""
        if not self.handlers:
            return self.sweep_every
        async with self.engine.connect() as conn:
            soonest = await conn.scalar(
                select(func.min(OutboxEntry.run_at)).where(*self._pending())
            )
        if soonest is None:
            return self.sweep_every
        if soonest.tzinfo is None:
            soonest = soonest.replace(tzinfo=UTC)
        return max(0.0, min(self.sweep_every, (soonest - self.clock()).total_seconds()))

    def _pending(self) -> list[Any]:
        return [
            OutboxEntry.kind.in_(sorted(self.handlers)),
            OutboxEntry.done_at.is_(None),
            OutboxEntry.failed_at.is_(None),
        ]

    def _due(
        self, now: datetime, ids: list[int] | None = None, in_request: bool = False
    ) -> list[Any]:
        request_kinds = sorted(k for k, h in self.handlers.items() if h.in_request)
        return [
            *self._pending(),
            *([OutboxEntry.id.in_(ids)] if ids is not None else []),
            *([OutboxEntry.kind.in_(request_kinds)] if in_request else []),
            or_(OutboxEntry.run_at.is_(None), OutboxEntry.run_at <= now),
            or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until < now),
        ]

    async def claim(self, ids: list[int] | None = None, in_request: bool = False) -> list[Claimed]:
        """Claim up to ``batch`` due rows for this dispatcher (with a lease); only rows
        among ``ids`` when given, and only of kinds delivered in a request when
        ``in_request``."""
        if not self.handlers or ids == []:
            return []
        now = self.clock()
        due = select(OutboxEntry.id).where(*self._due(now, ids, in_request))
        due = due.order_by(OutboxEntry.id)
        due = due.limit(self.batch)
        claim = update(OutboxEntry).values(
            claimant=self.name,
            claimed_until=now + self.lease,
            attempts=OutboxEntry.attempts + 1,
        )
        claim = claim.returning(
            OutboxEntry.id, OutboxEntry.kind, OutboxEntry.payload, OutboxEntry.attempts
        )
        async with self._claiming, self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                # Two statements: lock the rows first (other dispatchers skip them), then
                # claim exactly those. A single UPDATE ... WHERE id IN (SELECT ... SKIP
                # LOCKED) was seen to claim nothing at all while another dispatcher's
                # claim committed (tests/outbox: about one run in five).
                ids = list((await conn.scalars(due.with_for_update(skip_locked=True))).all())
                if not ids:
                    return []
                claim = claim.where(OutboxEntry.id.in_(ids))
            else:
                # SQLite has one writer: the statement runs alone. (Two statements would
                # hold a read lock while waiting to write, and two dispatchers would
                # refuse each other.)
                claim = claim.where(OutboxEntry.id.in_(due.scalar_subquery()))
            # The conditions again: a row may have changed since it was chosen.
            rows = (await conn.execute(claim.where(*self._due(now, ids, in_request)))).all()
        return sorted((Claimed(r[0], r[1], r[2], r[3]) for r in rows), key=lambda c: c.id)

    async def run_once(self) -> int:
        """Claim due rows and deliver them; the number claimed."""
        claimed = await self.claim()
        # Rows a request may be waiting for first, then those sent to the outside world.
        claimed.sort(key=lambda r: (not self._in_request(r.kind), r.id))
        for i, row in enumerate(claimed):
            if self._stopping.is_set():
                await self._release(claimed[i:])
                break
            await self._deliver(row)
        return len(claimed)

    def _in_request(self, kind: str) -> bool:
        found = self.handlers.get(kind)
        return found is None or found.in_request

    async def _release(self, rows: list[Claimed]) -> None:
        """Give back claims not started before stopping: due again at once, elsewhere."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_([r.id for r in rows]), OutboxEntry.claimant == self.name)
                .values(claimant=None, claimed_until=None, attempts=OutboxEntry.attempts - 1)
            )

    async def _deliver(self, row: Claimed) -> None:
        try:
            await self._run_handler(row)
        finally:
            for waiter in self._waiters.pop(row.id, []):
                if not waiter.done():
                    waiter.set_result(None)

    async def _run_handler(self, row: Claimed) -> None:
        handler = self.handlers[row.kind]
        try:
            payload = handler.kind.decode(row.payload)
            await asyncio.wait_for(handler.run(payload), self.handler_timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed += 1
            await self._failed(row, handler, exc)
            return
        self.delivered += 1
        async with self.engine.begin() as conn:
            await conn.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == row.id, OutboxEntry.claimant == self.name)
                # The payload goes once delivered: the ids in it (a person erased in the
                # same transaction, say) are kept no longer than they are needed.
                .values(done_at=self.clock(), claimed_until=None, last_error=None, payload={})
            )

    async def settle(self, ids: list[int], wait: float | None = None) -> None:
        """Deliver the rows ``ids`` now, in the caller's task, and return once each has
        been run once here (done, or failed and due again later).

        A row this dispatcher's loop has already claimed is waited for (at most
        ``wait`` seconds, the handler's time-out by default); one claimed by another
        process, not yet due, or of a kind nobody here handles is left to its
        dispatcher. A row of a kind registered with ``in_request=False`` (sending
        to the outside world) is left to this dispatcher's loop, woken now. Called by
        :func:`peerhub.outbox.settle` after a transaction commits.

        The commit stands whatever happens here: if the database does not answer, the
        loop is woken to deliver the rows once it does, and this returns normally (the
        request that committed them must not fail for it).
        """
        if not ids or self._stopping.is_set():
            return
        loop = asyncio.get_running_loop()
        mine = {i: loop.create_future() for i in ids}
        for i, waiter in mine.items():
            self._waiters.setdefault(i, []).append(waiter)
        try:
            for row in await self.claim(ids, in_request=True):
                await self._deliver(row)
            if any(not h.in_request for h in self.handlers.values()):
                self.wake()  # rows of kinds the loop sends (the commit did not wake it)
            rest = [i for i, waiter in mine.items() if not waiter.done()]
            if rest:
                in_hand = await self._in_hand(rest)
                if in_hand:
                    await asyncio.wait(
                        [mine[i] for i in in_hand],
                        timeout=self.handler_timeout if wait is None else wait,
                    )
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "outbox: delivery after a commit failed (%s); left to the loop", type(exc).__name__
            )
            self.wake()
        finally:
            for i, waiter in mine.items():
                waiter.cancel()
                left = [w for w in self._waiters.get(i, []) if w is not waiter]
                if left:
                    self._waiters[i] = left
                else:
                    self._waiters.pop(i, None)

    async def _in_hand(self, ids: list[int]) -> list[int]:
        """Which of ``ids`` this dispatcher has claimed and not finished (its loop's)."""
        async with self.engine.connect() as conn:
            found = await conn.scalars(
                select(OutboxEntry.id).where(
                    OutboxEntry.id.in_(ids),
                    OutboxEntry.kind.in_(
                        sorted(k for k, h in self.handlers.items() if h.in_request)
                    ),
                    OutboxEntry.claimant == self.name,
                    OutboxEntry.done_at.is_(None),
                    OutboxEntry.failed_at.is_(None),
                    OutboxEntry.claimed_until.is_not(None),
                )
            )
            return list(found.all())

    async def _failed(self, row: Claimed, handler: _Handler[Any], exc: Exception) -> None:
        now = self.clock()
        error = type(exc).__name__[:ERROR_LIMIT]
        values: dict[str, Any] = {"claimed_until": None, "claimant": None, "last_error": error}
        if row.attempts >= handler.max_attempts:
            values["failed_at"] = now
            log.error(
                "outbox: %s #%s failed %s times (%s); left marked failed",
                row.kind,
                row.id,
                row.attempts,
                error,
            )
        else:
            delay = min(self.backoff_cap, self.backoff * 2 ** (row.attempts - 1))
            values["run_at"] = now + timedelta(seconds=delay)
            log.warning(
                "outbox: %s #%s failed (%s), attempt %s of %s; again in %.0f s",
                row.kind,
                row.id,
                error,
                row.attempts,
                handler.max_attempts,
                delay,
            )
        async with self.engine.begin() as conn:
            await conn.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == row.id, OutboxEntry.claimant == self.name)
                .values(**values)
            )

    async def prune(self) -> None:
        """Forget rows done more than ``keep_done`` ago (failed ones stay)."""
        now = self.clock()
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(OutboxEntry).where(
                    OutboxEntry.done_at.is_not(None), OutboxEntry.done_at < now - self.keep_done
                )
            )

    # --- PostgreSQL: other processes' commits ---------------------------------------------

    async def _listen(self) -> None:
        delay = 1.0
        while True:
            lost = asyncio.Event()
            try:
                async with self.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection

                    def heard(*_args: Any) -> None:
                        self.wake()

                    def terminated(*_args: Any, lost: asyncio.Event = lost) -> None:
                        lost.set()

                    driver.add_termination_listener(terminated)
                    await driver.add_listener(CHANNEL, heard)
                    try:
                        self._listening.set()
                        delay = 1.0
                        self.wake()  # anything committed while not listening
                        await lost.wait()
                    finally:
                        self._listening.clear()
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(driver.remove_listener(CHANNEL, heard), 1.0)
                        driver.remove_termination_listener(terminated)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # asyncpg's errors are not all OSError
                log.warning("outbox: LISTEN connection lost (%s)", type(exc).__name__)
            await asyncio.sleep(delay)  # reconnect backoff, not synchronisation
            delay = min(delay * 2, 30.0)
