"""The room log's modules stay split as docs/architecture.md says, and each frame
handler is typed with the narrow view of the service it uses (peerhub/realtime/ports.py).

- queries.py writes nothing: it imports no statement that writes and nothing of the
  writer, and calls no session method that writes (read from its source); and, run
  against each database, every one of its functions sends only SELECTs.
- Every handler declares a port (or ``object``), never the whole service, and the
  running service is an instance of every port.
"""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from peerhub.config import Settings
from peerhub.db import make_engine, make_sessionmaker
from peerhub.models import GroupRole
from peerhub.realtime import handlers, ports, queries, writer
from peerhub.realtime.models import Room, RoomMessage
from peerhub.realtime.service import Realtime
from tests.conftest import FakeClock
from tests.realtime.conftest import RTServer, World

QUERIES = Path(queries.__file__)

# Names whose import would let queries.py build a write.
WRITING_NAMES = frozenset({"insert", "update", "delete", "text", "Insert", "Update", "Delete"})
# Session or connection methods that write (or commit what was written).
WRITING_CALLS = frozenset(
    {"add", "add_all", "delete", "merge", "flush", "commit", "execute_many", "bulk_save_objects"}
)


def _imports(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(module, name) of every import in the module, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.module or "", alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ""


def writes_found(source: str) -> list[str]:
    """What in this source could write: imports of writing statements or of the writer,
    and calls of writing session methods."""
    tree = ast.parse(source)
    found = []
    for module, name in _imports(tree):
        if name in WRITING_NAMES:
            found.append(f"imports {name} from {module}")
        if module.endswith("realtime.writer") or (
            module == "peerhub.realtime" and name == "writer"
        ):
            found.append("imports the writer")
        if module.startswith("sqlalchemy.dialects.") and name == "insert":
            found.append(f"imports {module}.insert")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITING_CALLS
        ):
            found.append(f"calls .{node.func.attr}() on line {node.lineno}")
    return found


def test_queries_source_has_nothing_that_writes() -> None:
    assert writes_found(QUERIES.read_text()) == []


def test_the_source_check_finds_writes() -> None:
    """The check above is not blind: the writer's module, and small samples, fail it."""
    assert any("imports update" in f for f in writes_found(Path(writer.__file__).read_text()))
    assert writes_found("from peerhub.realtime import writer") == ["imports the writer"]
    assert writes_found("from sqlalchemy.dialects.sqlite import insert") != []
    assert writes_found("async def f(db):\n    db.add(object())\n") == ["calls .add() on line 2"]


async def test_every_query_only_selects(
    db_url: str, world: World, rt_clock: FakeClock, rt_settings: Settings
) -> None:
    """Each public function of queries.py, run against the database, sends SELECTs only;
    and this test calls every one of them (a new query must be added here)."""
    now = rt_clock()
    engine: AsyncEngine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    room, ana = world.group_id, world.users["ana"]
    try:
        async with sessions() as db, db.begin():
            await writer.ensure_room(db, room)
            for seq in (1, 2):
                db.add(
                    RoomMessage(
                        room_id=room,
                        seq=seq,
                        sender_id=ana,
                        client_id=f"split-{seq}",
                        body="hello",
                        created_at=now,
                    )
                )
            row = await db.get(Room, room)
            assert row is not None
            row.next_seq = 3

        sent: list[str] = []

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _record(*args: Any) -> None:
            sent.append(args[2])

        called: set[str] = set()
        async with sessions() as db, db.begin():
            live = await queries.live_sign_ins(db, rt_settings, [world.sign_in_ids["ana"]], now)
            assert live == {world.sign_in_ids["ana"]: ana}
            called.add("live_sign_ins")
            assert (await queries.ranks(db, [(room, ana)]))[room, ana] == GroupRole.MEMBER
            called.add("ranks")
            rank = await queries.check_access(
                db, rt_settings, world.sign_in_ids["ana"], ana, room, now
            )
            assert rank == GroupRole.MEMBER
            called.add("check_access")
            found = await queries.group_room(db, room, ana)
            assert found is not None and found[1] is not None
            called.add("group_room")
            assert await queries.room_row(db, room) is not None
            called.add("room_row")
            assert not await queries.accepted_rules(db, room, ana, found[0].ground_rules)
            called.add("accepted_rules")
            assert await queries.latest_seq(db, room) == 2
            called.add("latest_seq")
            assert await queries.tails(db, [room]) == {room: 2}
            called.add("tails")
            assert [v.seq for v in await queries.fetch_after(db, room, 0, 2, 10)] == [1, 2]
            called.add("fetch_after")
            assert [v.seq for v in await queries.fetch_before(db, room, 3, 1)] == [2]
            called.add("fetch_before")
            assert (await queries.committed(db, room, ana, "split-2")) is not None
            called.add("committed")
        query_verbs = {statement.lstrip().split(None, 1)[0].upper() for statement in sent}
        # The recording is not blind: a write through the same engine shows as one.
        sent.clear()
        async with sessions() as db, db.begin():
            await writer.set_read(db, room, ana, 2, now)
        write_verbs = {statement.lstrip().split(None, 1)[0].upper() for statement in sent}
        event.remove(engine.sync_engine, "before_cursor_execute", _record)
    finally:
        await engine.dispose()

    public = {
        name
        for name, fn in inspect.getmembers(queries, inspect.iscoroutinefunction)
        if not name.startswith("_") and fn.__module__ == queries.__name__
    }
    assert called == public
    assert query_verbs == {"SELECT"}
    assert "INSERT" in write_verbs


def test_each_handler_is_typed_with_a_port_not_the_service() -> None:
    typed = {"extension": handlers.extension, **handlers.HANDLERS}
    for name, handler in typed.items():
        rt = typing.get_type_hints(handler)["rt"]
        assert rt is object or rt in ports.HANDLER_PORTS, f"{name} takes {rt}"
        assert rt is not Realtime


def test_the_running_service_is_every_port(server: RTServer) -> None:
    for port in ports.HANDLER_PORTS:
        assert isinstance(server.rt, port), port.__name__
    # And the check is not blind: something that lacks a port's members is not one.
    assert not isinstance(object(), ports.Reads)
    assert not isinstance(server.rt.hub, ports.Sends)
