"""Issue 10, point 1: one member can never make other people's messages fail.

Text no database can store (a lone surrogate from a ``"\\ud800"`` escape, NUL) is
refused at the protocol boundary, in every text field of every frame, with
``bad_frame``; and the writer isolates a command that fails inside a batch, so it fails
alone and everyone else's messages commit in order with no holes in ``seq``. A permanent
refusal is never ``internal``.

The writer is held (its first transaction waits on an event) while the frames arrive,
so every example puts the odd messages and the ordinary ones in ONE batch: the exact
situation in which one bad body used to fail everyone's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.config import Settings
from peerhub.db import make_engine, make_sessionmaker
from peerhub.moderation.extension import Moderation
from peerhub.realtime import protocol, writer
from peerhub.realtime.models import BODY_LIMIT, Room, RoomMessage
from peerhub.realtime.policy import Registry
from peerhub.realtime.protocol import CLIENT_FRAMES, ProtocolError, Spec
from peerhub.realtime.server import _fault
from tests.conftest import FakeClock, run_sync
from tests.realtime.conftest import TEST_CONFIG, Client, RTServer, World, in_server

Sessions = async_sessionmaker[AsyncSession]

# Generous limits: these tests are about storage, not rate limits.
LOOSE = TEST_CONFIG.with_overrides(send_rate=100_000.0, send_burst=100_000)

UNSTORABLE = ["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]


@pytest.fixture
def loose_server(rt_settings: Settings, rt_clock: FakeClock, world: World) -> Iterator[RTServer]:
    with RTServer(rt_settings, clock=rt_clock, config=LOOSE) as srv:
        yield srv


@pytest.fixture
async def open_as(loose_server: RTServer, world: World) -> AsyncIterator[Any]:
    opened: list[Client] = []

    async def open_client(name: str) -> Client:
        client = await Client.open(loose_server, world.tokens[name])
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.abort()


# --- holding the writer -------------------------------------------------------------


async def hold_writer(server: RTServer, room: str) -> asyncio.Event:
    """Make the writer's next transaction (a system "plug" event) wait until the
    returned event (of the server's loop) is set; everything queued meanwhile is then
    committed as one batch."""

    async def install() -> asyncio.Event:
        held_writer = server.rt.writer
        entered, gate = asyncio.Event(), asyncio.Event()
        original = held_writer._commit

        async def held(batch: list[writer.Command]) -> list[writer.Result]:
            held_writer._commit = original  # type: ignore[method-assign]
            entered.set()
            await gate.wait()
            return await original(batch)

        held_writer._commit = held  # type: ignore[method-assign]
        held_writer.submit(
            writer.Command(
                room=room,
                client_id=writer.system_client_id(),
                kind="system",
                data={"event": "test.plug"},
            )
        )
        await entered.wait()
        return gate

    gate: asyncio.Event = await in_server(server, install)
    return gate


async def release(server: RTServer, gate: asyncio.Event) -> None:
    async def open_gate() -> None:
        gate.set()

    await in_server(server, open_gate)


async def barrier(*clients: Client) -> None:
    """Every frame sent so far by these clients has been handled by the server."""
    for i, client in enumerate(clients):
        await client.send("ping", ref=f"barrier-{i}")
        await client.expect("pong", ref=f"barrier-{i}")


async def room_log(sessions: Sessions, room: str) -> list[tuple[int, str | None, str, str]]:
    async with sessions() as db:
        rows = await db.execute(
            select(RoomMessage.seq, RoomMessage.sender_id, RoomMessage.client_id, RoomMessage.kind)
            .where(RoomMessage.room_id == room)
            .order_by(RoomMessage.seq)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


async def next_seq(sessions: Sessions, room: str) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(Room.next_seq).where(Room.id == room)) or 1)


# --- one validator for every text field -----------------------------------------------


def _all_specs() -> dict[str, Spec]:
    """Every client frame the running application accepts: the core's and those the
    moderation toolkit registers (as create_app does)."""
    registry = Registry()
    Moderation().setup(registry)
    return {**CLIENT_FRAMES, **registry.specs}


def _fields(spec: Spec) -> dict[str, msgspec.inspect.Type]:
    """A frame struct's own fields (not v, type, ref), each without null (msgspec.inspect
    leaves UNSET out)."""
    info = msgspec.inspect.type_info(spec)
    assert isinstance(info, msgspec.inspect.StructType)
    out = {}
    for f in info.fields:
        kind = f.type
        if isinstance(kind, msgspec.inspect.UnionType):
            (kind,) = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        if f.name not in ("v", "ref"):
            out[f.name] = kind
    return out


def _valid(kind: msgspec.inspect.Type) -> Any:
    if isinstance(kind, msgspec.inspect.StrType):
        return "abcdefgh"  # matches every pattern in use (ids, client ids, names)
    if isinstance(kind, msgspec.inspect.IntType):
        return kind.ge or 0
    if isinstance(kind, msgspec.inspect.BoolType):
        return True
    assert isinstance(kind, msgspec.inspect.DictType)
    return {}


TEXT_FIELDS = [
    (frame_type, name)
    for frame_type, spec in _all_specs().items()
    for name, kind in _fields(spec).items()
    if isinstance(kind, msgspec.inspect.StrType)
]


def test_every_frame_type_with_text_is_covered() -> None:
    kinds = {frame_type for frame_type, _ in TEXT_FIELDS}
    for expected in ("send", "rules.accept", "mod.pin", "mod.resolve", "report.create", "me.mute"):
        assert expected in kinds
    assert len(TEXT_FIELDS) >= 40


@pytest.mark.parametrize(("frame_type", "name"), TEXT_FIELDS)
@pytest.mark.parametrize("bad", UNSTORABLE)
def test_every_text_field_of_every_frame_refuses_unstorable_text(
    frame_type: str, name: str, bad: str
) -> None:
    specs = _all_specs()
    frame = {n: _valid(f) for n, f in _fields(specs[frame_type]).items()}
    good = json.dumps({"v": 1, "type": frame_type, **frame})
    assert protocol.decode(good, specs).type == frame_type  # the frame is otherwise fine
    frame[name] = "abc" + bad + "def"
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(json.dumps({"v": 1, "type": frame_type, "ref": "r1", **frame}), specs)
    assert caught.value.code == "bad_frame"
    assert "cannot be saved" in caught.value.message and f"'{name}'" in caught.value.message
    assert caught.value.ref == "r1"


@pytest.mark.parametrize("bad", UNSTORABLE)
def test_ref_and_room_keys_refuse_unstorable_text(bad: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(json.dumps({"v": 1, "type": "ping", "ref": "a" + bad}))
    assert caught.value.code == "bad_frame" and caught.value.ref is None
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(json.dumps({"v": 1, "type": "resume", "rooms": {"r" + bad: 1}}))
    assert caught.value.code == "bad_frame"


def test_storable_text_from_all_of_unicode_passes() -> None:
    # Paired surrogates (an emoji written as two escapes), controls, non-characters,
    # the last code point: all storable, all accepted.
    body = "\ud83d\ude00 \x01\x1f\x7f\x85\u2028\ufeff\ufffe\uffff\U0010ffff é"
    frame = protocol.decode(
        json.dumps({"v": 1, "type": "send", "room": "r1", "client_id": "abcdefgh", "body": body})
    )
    assert frame.text("body") == body.replace("\ud83d\ude00", "\U0001f600")


# --- through real sockets ------------------------------------------------------------------


async def test_unstorable_text_is_refused_in_any_frame_and_the_socket_stays_usable(
    open_as: Any, world: World, sessions: Sessions
) -> None:
    room = world.group_id
    ana = await open_as("ana")
    await ana.join(room)
    for i, bad in enumerate(UNSTORABLE):
        cid = f"odd-{i:08d}"
        await ana.send("send", room=room, client_id=cid, body=f"hello {bad} there")
        error = await ana.expect("error", client_id=cid)
        # Echoes the message's room and client_id: a client can stop re-sending it.
        assert error["code"] == "bad_frame" and error["room"] == room, error
        await ana.send("report.create", room=room, category="unkind", words=bad, ref=f"rep{i}")
        assert (await ana.expect("error", ref=f"rep{i}"))["code"] == "bad_frame"
        await ana.send("me.mute", kind="word", value=f"x{bad}", ref=f"mute{i}")
        assert (await ana.expect("error", ref=f"mute{i}"))["code"] == "bad_frame"
        await ana.send("ping", ref=f"p{bad}")
        assert (await ana.expect("error", where=lambda f: "'ref'" in f["message"]))["code"] == (
            "bad_frame"
        )
        ana.drop("error")
    ack = await ana.say(room, "all good", "fine-0000001")
    assert ack["seq"] == 1
    assert not [f for f in ana.seen if f["type"] == "error" and f["code"] == "internal"]
    assert [r[2] for r in await room_log(sessions, room)] == ["fine-0000001"]


async def test_invalid_utf8_in_a_text_frame_closes_the_socket_with_1007(
    open_as: Any, world: World
) -> None:
    """Raw bytes that are not UTF-8 in a text frame: RFC 6455 (8.1) requires failing the
    connection, so the WebSocket layer closes with 1007 before any frame is decoded."""
    ana = await open_as("ana")
    await ana.ws.send(b'{"v":1,"type":"ping","ref":"\xff\xfe"}', text=True)
    assert (await ana.closed())[0] == 1007
    again = await open_as("ana")
    await again.send("ping", ref="alive")
    await again.expect("pong", ref="alive")


# --- the property: every ordinary message commits exactly once, in order -------------------

# All of Unicode (surrogates and unassigned code points included), with the characters
# that matter here drawn more often than chance would: lone surrogates, NUL, controls.
surrogate = st.characters(
    min_codepoint=0xD800, max_codepoint=0xDFFF, codec=None, exclude_categories=()
)
odd_char = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    surrogate,
    st.characters(codec=None, categories=["Cc", "Cf", "Co", "Cn", "Zl", "Zp"]),
    st.sampled_from(["\x00", "\x85", "\u2028", "\ufeff", "\ufffe", "\uffff", " "]),
)
unstorable = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(odd_char, max_size=12),
    surrogate | st.just("\x00"),
    st.text(odd_char, max_size=12),
)
odd_body = st.one_of(
    st.text(odd_char, max_size=30),
    unstorable,
    # Around the length limit.
    st.builds(
        lambda text, size: (text * size)[:size],
        st.text(odd_char, min_size=1, max_size=3),
        st.integers(BODY_LIMIT - 1, BODY_LIMIT + 1),
    ),
)
# ("ana", body): Ana's odd message; ("ben" | "cat", None): an ordinary one.
step = st.tuples(st.just("ana"), odd_body) | st.tuples(st.sampled_from(["ben", "cat"]), st.none())


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[str, str | None]]:
    """Interleaved steps, always with at least one unstorable body and one ordinary
    message from someone else."""
    plan = draw(st.lists(step, max_size=12))
    for extra in (("ana", draw(unstorable)), ("ben", None)):
        plan.insert(draw(st.integers(0, len(plan))), extra)
    return plan


def verdict(body: str) -> str:
    """What the server must answer, by an independent definition of storable text."""
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        return "refused"
    if "\x00" in body or len(body) > BODY_LIMIT or not body.strip():
        return "refused"
    return "ack"


async def one_example(
    server: RTServer, world: World, db_url: str, plan: list[tuple[str, str | None]], n: int
) -> None:
    room = world.group_id
    people = {name: await Client.open(server, world.tokens[name]) for name in ("ana", "ben", "cat")}
    watcher = await Client.open(server, world.tokens["mo"])
    try:
        for client in (*people.values(), watcher):
            await client.join(room)
        watcher.drop("message")  # the latest page of earlier examples
        gate = await hold_writer(server, room)
        expect_ack: dict[str, str] = {}  # client_id -> sender
        refused: list[str] = []
        ordinary: dict[str, list[str]] = {"ben": [], "cat": []}
        for i, (name, body) in enumerate(plan):
            cid = f"e{n:04d}-{i:03d}-{name}"
            if body is None:
                body = f"ordinary {name} {i}"
                ordinary[name].append(cid)
                expect_ack[cid] = name
            elif verdict(body) == "ack":
                expect_ack[cid] = name
            else:
                refused.append(cid)
            frame = {"v": 1, "type": "send", "room": room, "client_id": cid, "body": body}
            # Raw UTF-8 or \u escapes; a lone surrogate can only travel as an escape.
            escaped = bool(i % 2) or any("\ud800" <= c <= "\udfff" for c in body)
            await people[name].raw(json.dumps(frame, ensure_ascii=escaped))
        await barrier(*people.values())
        await release(server, gate)

        acks = {}
        # Other people's messages first: that they are never failed is the point.
        for cid, name in sorted(expect_ack.items(), key=lambda item: item[1] == "ana"):
            acks[cid] = await people[name].expect("ack", client_id=cid, within=10)
        for cid in refused:
            error = await people["ana"].expect("error", client_id=cid)
            assert error["code"] in ("bad_frame", "too_long"), error
        for client in people.values():
            codes = [f.get("code") for f in client.seen if f["type"] == "error"]
            assert "internal" not in codes and "not_storable" not in codes, codes

        # A moderator watching the room gets every new entry once, in seq order (and
        # once it has, everything is committed).
        got = await watcher.messages(room, len(expect_ack) + 1)  # + the plug
        seqs = [m["seq"] for m in got]
        assert seqs == list(range(seqs[0], seqs[0] + len(got)))
        assert {m["client_id"] for m in got[1:]} == set(expect_ack)

        engine = make_engine(db_url)
        try:
            sessions = make_sessionmaker(engine)
            log = await room_log(sessions, room)
            upto = await next_seq(sessions, room)
        finally:
            await engine.dispose()
        # The log has no holes, and the counter agrees with it.
        assert [r[0] for r in log] == list(range(1, upto))
        stored = [r[2] for r in log]
        for cid in expect_ack:
            assert stored.count(cid) == 1, f"{cid} stored {stored.count(cid)} times"
            assert acks[cid]["seq"] == stored.index(cid) + 1
        for cid in refused:
            assert cid not in stored
        for name, mine in ordinary.items():
            assert [c for c in stored if c in mine] == mine, f"{name}'s messages out of order"
        assert seqs[-1] == upto - 1
    finally:
        for client in (*people.values(), watcher):
            client.abort()


def test_odd_bodies_never_fail_ordinary_messages(
    loose_server: RTServer, world: World, db_url: str
) -> None:
    counter = itertools.count()
    ran: list[int] = []

    @settings(
        max_examples=25,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(plan=plans())
    def run(plan: list[tuple[str, str | None]]) -> None:
        run_sync(one_example, loose_server, world, db_url, plan, next(counter))
        ran.append(len(plan))

    run()
    assert len(ran) >= 20, "hypothesis ran the scenario"


# --- the writer isolates a failing command, whatever the cause --------------------------


def _system(room: str, data: dict[str, Any] | None = None, **changes: Any) -> writer.Command:
    return writer.Command(
        room=room,
        client_id=writer.system_client_id(),
        kind="system",
        data=data or {"event": "test.odd"},
        **changes,
    )


async def test_a_command_that_breaks_a_constraint_fails_alone_and_the_rest_commit_in_order(
    loose_server: RTServer, open_as: Any, world: World, sessions: Sessions
) -> None:
    """Past the protocol's checks, straight into the writer: a status and a length the
    table's CHECKs refuse and a lone surrogate, in one batch with people's messages."""
    room = world.group_id
    ben, cat = await open_as("ben"), await open_as("cat")
    await ben.join(room)
    await cat.join(room)
    gate = await hold_writer(loose_server, room)
    for i in range(3):
        await ben.send("send", room=room, client_id=f"ben-{i:08d}", body=f"ben {i}")
        await cat.send("send", room=room, client_id=f"cat-{i:08d}", body=f"cat {i}")
    await barrier(ben, cat)
    poison = [
        _system(room, status="bogus"),
        _system(room, body="half \ud800 a pair"),
        _system(room, body="x" * (BODY_LIMIT + 1)),
    ]
    # Interleaved with good events, so good work sits on both sides of each.
    injected = [c for i, bad in enumerate(poison) for c in (bad, _system(room, {"n": i}))]
    futures: list[asyncio.Future[writer.Result]] = []

    async def inject() -> None:
        for command in injected:
            command.future = asyncio.get_running_loop().create_future()
            futures.append(command.future)
            loose_server.rt.writer.submit(command)

    await in_server(loose_server, inject)
    isolations = loose_server.rt.writer.isolations
    await release(loose_server, gate)

    async def results() -> list[writer.Result]:
        return list(await asyncio.gather(*futures))

    answers = await in_server(loose_server, results)
    codes = [a.refused.code if a.refused else None for a in answers]
    assert codes == ["not_storable", None] * 3
    assert all(answers[i].seq > answers[i - 2].seq for i in (3, 5)), "good events in order"
    for client, name in ((ben, "ben"), (cat, "cat")):
        acks = [await client.expect("ack", client_id=f"{name}-{i:08d}") for i in range(3)]
        assert [a["seq"] for a in acks] == sorted(a["seq"] for a in acks)
        assert not [f for f in client.seen if f["type"] == "error"]
    assert loose_server.rt.writer.isolations > isolations, "the batch was split"
    log = await room_log(sessions, room)
    # plug + 6 messages + 3 good events; no holes, and the counter agrees.
    assert [r[0] for r in log] == list(range(1, 11))
    assert await next_seq(sessions, room) == 11
    people = [r[2] for r in log if r[3] == "text"]
    assert [c for c in people if c.startswith("ben")] == [f"ben-{i:08d}" for i in range(3)]
    assert [c for c in people if c.startswith("cat")] == [f"cat-{i:08d}" for i in range(3)]


def _listener(marker: str, error: Callable[[Any], Exception]) -> Callable[..., None]:
    def fail(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ROOM_MESSAGES") and (
            marker in repr(parameters)
        ):
            raise error(conn)

    return fail


async def test_an_unnamed_fault_fails_only_its_command_and_a_retry_cannot_loop(
    loose_server: RTServer, open_as: Any, world: World, sessions: Sessions
) -> None:
    """A fault the writer cannot name, caused by one message: that message fails alone,
    "internal" the first time (a retry may help), and for good when it fails alone again,
    so a client that retries as the protocol says stops."""
    room = world.group_id
    ana, ben = await open_as("ana"), await open_as("ben")
    await ana.join(room)
    await ben.join(room)
    engine = loose_server.rt.ctx.engine.sync_engine
    fail = _listener("poison-pill", lambda conn: RuntimeError("injected"))
    event.listen(engine, "before_cursor_execute", fail)
    try:
        gate = await hold_writer(loose_server, room)
        await ben.send("send", room=room, client_id="ben-00000001", body="before")
        await ana.send("send", room=room, client_id="ana-poison01", body="poison-pill")
        await ben.send("send", room=room, client_id="ben-00000002", body="after")
        await barrier(ana, ben)
        await release(loose_server, gate)
        first = await ana.expect("error", client_id="ana-poison01")
        assert first["code"] == "internal"
        assert (await ben.expect("ack", client_id="ben-00000001"))["seq"] == 2
        assert (await ben.expect("ack", client_id="ben-00000002"))["seq"] == 3
        ana.drop("error")
        await ana.send("send", room=room, client_id="ana-poison01", body="poison-pill")
        again = await ana.expect("error", client_id="ana-poison01")
        assert again["code"] == "not_storable"
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    ack = await ana.say(room, "something else", "ana-00000002")
    assert ack["seq"] == 4
    assert [r[0] for r in await room_log(sessions, room)] == [1, 2, 3, 4]


async def test_a_database_fault_fails_the_batch_as_internal_without_splitting_it(
    loose_server: RTServer, open_as: Any, world: World, sessions: Sessions
) -> None:
    """When the database itself fails (here: every insert, as if it went away), nothing
    can be stored now and everything can later: "internal" for all, no splitting."""
    room = world.group_id
    ana, ben = await open_as("ana"), await open_as("ben")
    await ana.join(room)
    await ben.join(room)
    engine = loose_server.rt.ctx.engine.sync_engine
    fail = _listener("", lambda conn: conn.dialect.loaded_dbapi.OperationalError("injected"))
    isolations = loose_server.rt.writer.isolations
    event.listen(engine, "before_cursor_execute", fail)
    try:
        gate = await hold_writer(loose_server, room)
        await ana.send("send", room=room, client_id="ana-00000001", body="one")
        await ben.send("send", room=room, client_id="ben-00000001", body="two")
        await barrier(ana, ben)
        await release(loose_server, gate)
        assert (await ana.expect("error", client_id="ana-00000001"))["code"] == "internal"
        assert (await ben.expect("error", client_id="ben-00000001"))["code"] == "internal"
    finally:
        event.remove(engine, "before_cursor_execute", fail)
    assert loose_server.rt.writer.isolations == isolations
    # Retries with the same client ids succeed, with no hole where the failure was.
    assert (await ana.say(room, "one", "ana-00000001"))["seq"] == 1
    assert (await ben.say(room, "two", "ben-00000001"))["seq"] == 2
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RoomMessage)) == 2


# --- which faults a retry can fix ---------------------------------------------------------


class _Orig(Exception):
    """A driver error carrying a SQLSTATE, as asyncpg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _dbapi(kind: type[DBAPIError], sqlstate: str | None = None) -> DBAPIError:
    orig = _Orig(sqlstate) if sqlstate else Exception("driver")
    return kind("INSERT ...", {}, orig)


def test_faults_are_told_apart_by_whether_a_retry_can_succeed() -> None:
    passing = [
        _dbapi(OperationalError),  # SQLite: database is locked
        _dbapi(DBAPIError, "40P01"),  # deadlock
        _dbapi(DBAPIError, "40001"),  # serialization failure
        _dbapi(DBAPIError, "57P01"),  # admin shutdown
        _dbapi(DBAPIError, "08006"),  # connection failure
        ConnectionResetError(),
        TimeoutError(),
    ]
    data = [
        _dbapi(IntegrityError, "23514"),  # check violation
        _dbapi(DBAPIError, "22021"),  # NUL: character not in repertoire
        _dbapi(DataError),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ]
    for exc in passing:
        assert writer.passing_fault(exc) and not writer.data_fault(exc), exc
    for exc in data:
        assert writer.data_fault(exc) and not writer.passing_fault(exc), exc
    unnamed = RuntimeError("something else")
    assert not writer.passing_fault(unnamed) and not writer.data_fault(unnamed)
    frame = protocol.decode('{"v":1,"type":"mod.queue","room":"r1","ref":"q1"}', _all_specs())
    answers = {
        "not_storable": _fault(frame, data[0]),
        "internal": _fault(frame, passing[0]),
    }
    for code, raw in answers.items():
        sent = json.loads(raw)
        assert sent["code"] == code and sent["ref"] == "q1" and sent["room"] == "r1"
    assert json.loads(_fault(frame, unnamed))["code"] == "internal"
