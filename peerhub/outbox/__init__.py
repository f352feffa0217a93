"""A durable outbox: what must happen after a commit, recorded in the same transaction.

An action records its events with :func:`record` beside its writes (an illustration:
``SIGNED_OUT`` stands for a kind declared with :func:`kind`)::

    SIGNED_OUT = kind("account.signed_out", SignedOut)  # once, at import time

    async with transaction(app.sessions) as db:
        await actions.logout(db, user.id, now, address)
        record(db, SIGNED_OUT, SignedOut(user_id=user.id))

The row is part of the transaction: if it rolls back, nothing is published; once it
commits, the :class:`~peerhub.outbox.dispatcher.Dispatcher` delivers it at least once
(it is woken in this process by the commit, in other processes by PostgreSQL's
``NOTIFY``, and a periodic sweep catches anything else). Handlers must therefore be
idempotent. The same table holds delayed jobs (``run_at``) with retries.

Each kind of event is declared once with :func:`kind`, with a frozen dataclass for its
payload; :func:`record` checks the payload against it when it is recorded, so a wrong
object is an error in the action (a ``TypeError``), never a silent no-op later.
Payloads carry ids and short settings, never what a person wrote.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, Union

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from peerhub import db
from peerhub.outbox.models import OutboxEntry

P = TypeVar("P")

#: PostgreSQL's channel: a commit with outbox rows notifies it, dispatchers listen.
CHANNEL = "peerhub_outbox"
#: The largest payload, as JSON: ids and settings fit many times over.
PAYLOAD_LIMIT = 8192

_RECORDED = "peerhub.outbox.recorded"  # session.info: rows recorded in this transaction
_COMMITTED = "peerhub.outbox.committed"  # session.info: their ids, once committed


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Kind(Generic[P]):
    """A kind of outbox event: its name (stored in the row) and its payload's type."""

    name: str
    payload: type[P]

    def encode(self, value: P) -> dict[str, Any]:
        """The payload as a JSON object, after checking every field against its type."""
        if type(value) is not self.payload:
            raise TypeError(
                f"outbox {self.name}: the payload must be a {self.payload.__name__}, "
                f"not a {type(value).__name__}"
            )
        hints = typing.get_type_hints(self.payload)
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self.payload):  # type: ignore[arg-type]
            item = getattr(value, f.name)
            if not _fits(item, hints[f.name]):
                raise TypeError(
                    f"outbox {self.name}: {f.name} must be {hints[f.name]}, "
                    f"not a {type(item).__name__}"
                )
            data[f.name] = list(item) if isinstance(item, tuple) else item
        if len(json.dumps(data)) > PAYLOAD_LIMIT:
            raise ValueError(f"outbox {self.name}: the payload is over {PAYLOAD_LIMIT} bytes")
        return data

    def decode(self, data: dict[str, Any]) -> P:
        """The payload a row holds, checked again (a row may predate a change of type)."""
        if not isinstance(data, dict):
            raise TypeError(f"outbox {self.name}: the stored payload is not an object")
        hints = typing.get_type_hints(self.payload)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(self.payload):  # type: ignore[arg-type]
            if f.name not in data:
                continue  # its default applies (or the constructor says what is missing)
            item = data[f.name]
            if isinstance(item, list) and _is_tuple(hints[f.name]):
                item = tuple(item)
            if not _fits(item, hints[f.name]):
                raise TypeError(f"outbox {self.name}: the stored {f.name} has the wrong type")
            values[f.name] = item
        return self.payload(**values)


KINDS: dict[str, Kind[Any]] = {}


def kind(name: str, payload: type[P]) -> Kind[P]:
    """Declare a kind of event (once per name, at import time)."""
    if not dataclasses.is_dataclass(payload) or not isinstance(payload, type):
        raise TypeError(f"outbox {name}: the payload type must be a dataclass")
    if not 0 < len(name) <= 80 or name in KINDS:
        raise ValueError(f"outbox {name!r}: a kind needs a new name of at most 80 characters")
    declared: Kind[P] = Kind(name, payload)
    KINDS[name] = declared
    return declared


def _is_tuple(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple


def _fits(value: Any, tp: Any) -> bool:
    """Whether ``value`` has the (JSON-shaped) type ``tp``: str, int, bool, float, None,
    unions of them, ``tuple[X, ...]``, ``list[X]`` and ``dict[str, X]``."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return _jsonable(value)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(tp))
    if tp is type(None) or tp is None:
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        args: list[Any] = [a for a in typing.get_args(tp) if a is not Ellipsis] or [Any]
        return isinstance(value, origin) and all(_fits(v, args[0]) for v in value)
    if origin is dict:
        pair: tuple[Any, ...] = typing.get_args(tp) or (str, Any)
        return isinstance(value, dict) and all(
            isinstance(k, str) and _fits(v, pair[1]) for k, v in value.items()
        )
    return False


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def record(
    db: AsyncSession, kind: Kind[P], payload: P, run_at: datetime | None = None
) -> OutboxEntry:
    """Add an outbox row for ``payload`` to ``db``'s transaction; nothing more.

    It is published (its handler run) only if the transaction commits; ``run_at``
    (aware) delays it. Raises ``TypeError`` for anything but an async session, a
    declared kind and its payload type.
    """
    if not isinstance(db, AsyncSession):
        raise TypeError(f"outbox.record needs the action's AsyncSession, not {type(db).__name__}")
    if not isinstance(kind, Kind) or KINDS.get(kind.name) is not kind:
        raise TypeError(f"outbox.record: {kind!r} is not a declared outbox kind")
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("outbox.record: run_at must be an aware datetime")
    row = OutboxEntry(
        kind=kind.name,
        payload=kind.encode(payload),
        created_at=datetime.now(UTC),
        run_at=run_at,
        attempts=0,
    )
    db.add(row)
    db.sync_session.info.setdefault(_RECORDED, []).append(row)
    return row


# --- waking dispatchers after a commit ---------------------------------------------------

# The running dispatchers of this process, by the engine they read: a commit through
# that engine with outbox rows in it wakes them at once.
_wakers: weakref.WeakKeyDictionary[Engine, set[Callable[[], None]]] = weakref.WeakKeyDictionary()


def add_waker(engine: Engine, wake: Callable[[], None]) -> None:
    _wakers.setdefault(engine, set()).add(wake)


def remove_waker(engine: Engine, wake: Callable[[], None]) -> None:
    _wakers.get(engine, set()).discard(wake)


def _engine_of(session: Session) -> Engine | None:
    bind = session.bind
    if isinstance(bind, Connection):
        return bind.engine
    return bind if isinstance(bind, Engine) else None


def _settled_here(session: Session) -> bool:
    """Whether this commit's rows will be delivered by this process's dispatcher through
    :func:`settle` (a :func:`peerhub.db.transaction` with a dispatcher running): then
    neither this process's loop nor other processes are woken for them, and nobody
    races the request for its own rows. (Should the process die first, the rows are
    unclaimed and due: the next sweep, here or elsewhere, delivers them.)"""
    engine = _engine_of(session)
    return bool(session.info.get(db.HOOKED)) and bool(engine and _settlers.get(engine))


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    # In the transaction: PostgreSQL delivers the notification only if it commits.
    if (
        session.info.get(_RECORDED)
        and session.get_bind().dialect.name == "postgresql"
        and not _settled_here(session)
    ):
        session.connection().exec_driver_sql(f"NOTIFY {CHANNEL}")


@event.listens_for(Session, "after_commit")
def _wake_this_process(session: Session) -> None:
    rows: list[OutboxEntry] = session.info.pop(_RECORDED, [])
    if not rows:
        return
    # Each row's id, read from its identity (set by the commit's flush; nothing loaded).
    ids = [key[0] for key in (inspect(row).identity for row in rows) if key]
    if session.info.get(db.HOOKED):  # for settle, after peerhub.db.transaction's commit
        session.info.setdefault(_COMMITTED, []).extend(ids)
    if _settled_here(session):
        return
    engine = _engine_of(session)
    for wake in list(_wakers.get(engine, ())) if engine is not None else []:
        wake()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_RECORDED, None)


# --- delivering a request's own rows before it answers -----------------------------------

# The running dispatchers of this process, by engine: :func:`settle` hands them the rows
# a transaction committed.
_settlers: weakref.WeakKeyDictionary[Engine, list[Settler]] = weakref.WeakKeyDictionary()


class Settler(typing.Protocol):
    async def settle(self, ids: list[int]) -> None: ...


def add_settler(engine: Engine, settler: Settler) -> None:
    _settlers.setdefault(engine, []).append(settler)


def remove_settler(engine: Engine, settler: Settler) -> None:
    found = _settlers.get(engine, [])
    if settler in found:
        found.remove(settler)


def committed(db: AsyncSession) -> list[int]:
    """The ids of the rows ``db``'s committed transactions recorded (and forget them)."""
    ids: list[int] = db.sync_session.info.pop(_COMMITTED, [])
    return ids


async def settle(db: AsyncSession) -> None:
    """Deliver the rows ``db`` committed now, through this process's dispatcher, and
    return once their handlers have run (or their claim is another process's).

    :func:`peerhub.db.transaction` calls it after its commit, so a route's effects
    (sockets closed, moderators told) have happened when it answers, as they did when
    routes called the real-time rooms themselves. Without a running dispatcher (a
    command-line tool, a test without the app) the rows wait for one: nothing is lost.
    A transaction that recorded nothing costs nothing here.
    """
    ids = committed(db)
    if not ids:
        return
    engine = _engine_of(db.sync_session)
    found = _settlers.get(engine, []) if engine is not None else []
    if found:
        await found[0].settle(ids)


db.AFTER_COMMIT.append(settle)

__all__ = ["CHANNEL", "KINDS", "Kind", "OutboxEntry", "committed", "kind", "record", "settle"]
