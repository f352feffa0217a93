"""Issue 10, point 5: the docs and the behaviour say the same, and stay so.

The numbers in docs/protocol.md ("Limits", and the text around it) and docs/realtime.md
are read here and checked against the code; the error codes the core can send must be
in the protocol's table, each saying whether a retry can help. Then the behaviours the
docs promise, through real sockets: one code for a room this socket has not subscribed,
a resume from a seq the room never reached, presence that never tells a socket of
itself, and PEERHUB_ALLOWED_ORIGINS's default described alike everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peerhub.config import Settings, load_settings
from peerhub.moderation import frames as moderation_frames
from peerhub.realtime import protocol
from peerhub.realtime.config import RealtimeConfig
from tests.conftest import FakeClock
from tests.realtime.conftest import Client, RTServer, World

REPO = Path(__file__).resolve().parents[2]
PROTOCOL = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
REALTIME = (REPO / "docs" / "realtime.md").read_text(encoding="utf-8")
DEFAULTS = RealtimeConfig()


def flat(text: str) -> str:
    return " ".join(text.split())


def table(text: str, heading: str) -> list[dict[str, str]]:
    """The first Markdown table after ``heading``, as one dict per row."""
    start = text.index(heading)
    lines = text[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows: list[list[str]] = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append(cells)
    header, body = rows[0], rows[2:]
    return [dict(zip(header, row, strict=True)) for row in body]


def number(text: str) -> float:
    return float(text.replace(",", ""))


def n(value: float) -> str:
    """A number as the docs write it: 20,000; 1; 0.5."""
    return f"{int(value):,}" if float(value).is_integer() else str(value)


def code_value(ref: str) -> Any:
    namespace, name = ref.split(".")
    source: Any = {"RealtimeConfig": DEFAULTS, "protocol": protocol}[namespace]
    return getattr(source, name)


LIMITS = table(PROTOCOL, "### Limits")


def test_the_limits_table_matches_the_code() -> None:
    assert len(LIMITS) >= 15
    for row in LIMITS:
        refs = re.findall(r"`((?:RealtimeConfig|protocol)\.\w+)`", row["in the code"])
        assert refs, f"row without a code reference: {row}"
        for ref in refs:
            assert code_value(ref) == number(row["value"]), (ref, row["value"])


def documented_welcome_limits() -> dict[str, float]:
    return {
        row["`welcome.limits`"].strip("`"): number(row["value"])
        for row in LIMITS
        if row["`welcome.limits`"] != "—"
    }


async def test_welcome_sends_exactly_the_limits_the_table_names(
    rt_settings: Settings, rt_clock: FakeClock, world: World
) -> None:
    # The shipped defaults, not the tests' generous ones.
    with RTServer(rt_settings, clock=rt_clock, config=RealtimeConfig(freeze_gc=False)) as srv:
        client = await Client.open(srv, world.tokens["ana"])
        try:
            welcome = client.seen[0]
        finally:
            client.abort()
    assert welcome["type"] == "welcome"
    assert welcome["limits"] == documented_welcome_limits()
    keys = ", ".join(welcome["limits"])
    assert f"limits: {{{keys}}}" in PROTOCOL, "the welcome frame's description lists them"
    # The latest page and history's default are one number; history's maximum another.
    assert welcome["limits"]["history_page"] == DEFAULTS.page_size == 50
    assert welcome["limits"]["history_max"] == protocol.HISTORY_PAGE_MAX == 100


def test_the_numbers_in_the_text_match_the_code() -> None:
    c, p = DEFAULTS, protocol
    in_protocol = [
        f"a message (frame) over **{c.max_frame // 1024} KiB**",
        f"the server pings every {n(c.ping_interval)} s and closes a socket that does not "
        f"answer within {n(c.ping_timeout)} s",
        f"the person already has `sockets_per_user` ({c.sockets_per_user})",
        f'`"ref"` (a string of at most {p.REF_MAX} characters)',
        f"sends more than {c.error_burst} bad frames (then 1008) or more frames than the "
        f"per-socket rate allows ({c.frame_burst} at once, {n(c.frame_rate)} a second",
        f"`rooms`: `{{room: last_seq or null}}`, at most {p.MAX_ROOMS_PER_RESUME}",
        f"`body` (1–{p.MAX_BODY} characters",
        f"`limit` (1–{p.HISTORY_PAGE_MAX}, default {c.page_size})",
        f"a socket follows at most {c.rooms_per_socket} rooms",
        f"a bucket of {c.send_burst}, then {n(c.send_rate)} a second, per person per room",
        f"If more than **{c.resume_max}** were missed (`resume_max`), `subscribed.limited` is "
        f"true and only the latest page ({c.page_size}) follows",
        f"at most {p.HISTORY_PAGE_MAX} at a time",
        f"a frame over {c.max_frame // 1024} KiB",
    ]
    in_realtime = [
        f"{c.max_frame // 1024} KiB frames (1009 above)",
        f"pings every {n(c.ping_interval)} s ({n(c.ping_timeout)} s timeout), "
        f"{c.sockets_per_user} sockets per person per process, {n(c.max_sockets)} per process, "
        f"{c.rooms_per_socket} rooms per socket, {n(p.MAX_BODY)}-character messages, a send "
        f"queue of {c.queue_frames} frames or {c.queue_bytes // 2**20} MiB per socket, "
        f"{c.resume_max} messages per resume (beyond it, the latest page of {c.page_size}), "
        f"history pages of {c.page_size} by default and at most {p.HISTORY_PAGE_MAX}",
        f"a ring of the last {c.ring_size} events",
        f"Every {n(c.tail_check_every)} seconds a **tail check**",
        f"(up to {c.batch_bytes // 1024} KiB)",
        f"a bounded queue ({c.queue_frames} frames / {c.queue_bytes // 2**20} MiB)",
        f"at most every {n(c.presence_flush * 1000)} ms) and every {n(c.presence_every)} s; "
        f"others keep each process's snapshot for {n(c.presence_ttl)} s",
        f"a periodic re-check (every {n(c.revalidate_every)} s)",
        f"messages (a burst of {c.send_burst}, then {n(c.send_rate)} a second), typing "
        f"({c.typing_burst}, then one every {n(1 / c.typing_rate)} s, extra ones dropped "
        f"quietly), read positions ({c.read_burst}, then {n(c.read_rate)} a second). Per "
        f"socket: {n(c.frame_rate)} frames a second (burst {c.frame_burst}) and "
        f"{c.error_burst} bad frames, then 1008; {c.inflight_per_socket} messages waiting for "
        f"commit. Per process: the writer's queue ({n(c.write_queue)})",
    ]
    for doc, phrases, name in ((PROTOCOL, in_protocol, "protocol"), (REALTIME, in_realtime, "rt")):
        text = flat(doc)
        missing = [phrase for phrase in phrases if flat(phrase) not in text]
        assert not missing, f"docs/{name}.md no longer says: {missing}"


ERRORS = table(PROTOCOL, "### Error codes")


def documented_codes() -> dict[str, str]:
    out = {}
    for row in ERRORS:
        for code in re.findall(r"`([a-z_]+)`", row["code"]):
            out[code] = row["retry the same frame?"]
    return out


def test_every_error_code_the_core_sends_is_documented_with_its_retry_answer() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (REPO / "peerhub" / "realtime").glob("*.py")
    )
    patterns = [
        r'Refusal\(\s*"([a-z_]+)"',
        r'ProtocolError\(\s*"([a-z_]+)"',
        r'\.error\(\s*"([a-z_]+)"',
        r'(?:fail\(peer, frame|refuse\(|error\(code=)\s*,?\s*"([a-z_]+)"',
    ]
    sent = {code for pattern in patterns for code in re.findall(pattern, source)}
    assert {"bad_frame", "not_found", "not_subscribed", "internal", "not_storable"} <= sent
    documented = documented_codes()
    assert not sent - set(documented), f"undocumented codes: {sent - set(documented)}"
    for code, retry in documented.items():
        assert retry, f"{code} does not say whether to retry"
    # A permanent refusal is never "retry"; internal is kept for what a retry can fix.
    for code in ("bad_frame", "too_long", "not_storable", "not_found", "forbidden"):
        assert documented[code] == "no", code
    assert documented["internal"].startswith("retry")


# --- the behaviours the docs promise ------------------------------------------------------


async def test_sending_and_typing_to_an_unsubscribed_room_get_one_code(
    connect_as: Callable[..., Any], world: World
) -> None:
    """not_subscribed, whoever asks and whatever the room: it depends only on what this
    socket did, so it tells nobody whether a room exists or who is in it."""
    room = world.group_id
    ana, out = await connect_as("ana"), await connect_as("out")

    async def codes(client: Client, target: str, tag: str) -> tuple[str, str]:
        await client.send("send", room=target, client_id=f"nosub-{tag}", body="hi")
        sent = await client.expect("error", client_id=f"nosub-{tag}")
        await client.send("typing", room=target, ref=f"typing-{tag}")
        typed = await client.expect("error", ref=f"typing-{tag}")
        return sent["code"], typed["code"]

    both = ("not_subscribed", "not_subscribed")
    assert await codes(ana, room, "member01") == both  # her room, not subscribed yet
    assert await codes(out, room, "outside1") == both  # not her room
    assert await codes(out, "no-such-room", "nowhere1") == both  # no such room
    await ana.join(room)
    await ana.send("unsubscribe", room=room)
    await ana.expect("unsubscribed", room=room)
    assert await codes(ana, room, "member02") == both
    # Subscribing is where "not yours" is said.
    await out.send("subscribe", room=room)
    assert (await out.expect("error", room=room))["code"] == "not_found"


async def test_resuming_from_a_seq_the_room_never_reached_starts_again_from_the_latest_page(
    connect_as: Callable[..., Any], world: World
) -> None:
    room = world.group_id
    ana = await connect_as("ana")
    await ana.join(room)
    for i in range(3):
        await ana.say(room, f"message {i}", f"known-{i:07d}")
    ben = await connect_as("ben")
    await ben.send("resume", rooms={room: 1000})
    sub = await ben.expect("subscribed", room=room)
    assert sub["limited"] is True and sub["latest_seq"] == 3
    got = await ben.messages(room, 3)
    assert [m["seq"] for m in got] == [1, 2, 3]
    assert (await ben.synced(room))["seq"] == 3
    await ana.say(room, "and live", "known-0000003")
    assert (await ben.expect("message", room=room))["seq"] == 4
    # A seq the room has reached is resumed as ever: nothing missed, not limited.
    cat = await connect_as("cat")
    await cat.send("resume", rooms={room: 4})
    assert (await cat.expect("subscribed", room=room))["limited"] is False
    assert (await cat.synced(room))["seq"] == 4
    assert not [f for f in cat.seen if f["type"] == "message"]


async def test_a_subscriber_is_in_its_present_list_and_never_told_it_arrived(
    connect_as: Callable[..., Any], world: World
) -> None:
    room, ana_id, ben_id = world.group_id, world.users["ana"], world.users["ben"]
    ana = await connect_as("ana")
    first = await ana.join(room)
    assert [p["id"] for p in first["present"]] == [ana_id]
    ben = await connect_as("ben")
    second = await ben.join(room)
    assert {p["id"] for p in second["present"]} == {ana_id, ben_id}
    # Ana is told Ben came; once she has been, every flush before it is done.
    await ana.expect("presence", where=lambda f: any(p["id"] == ben_id for p in f["joined"]))
    for client in (ana, ben):
        await client.send("ping", ref="after-presence")
        await client.expect("pong", ref="after-presence")

    def told_of(client: Client, user: str) -> list[dict[str, Any]]:
        return [
            f
            for f in client.seen
            if f["type"] == "presence" and any(p["id"] == user for p in f["joined"])
        ]

    assert told_of(ana, ana_id) == [], "Ana was told of her own arrival"
    assert told_of(ben, ben_id) == [], "Ben was told of his own arrival"
    assert told_of(ben, ana_id) == [], "Ben was told again of Ana, who was in his list"
    # Ben leaving reaches Ana as a change; Ana's own list is right by upserts alone.
    await ben.close()
    gone = await ana.expect("presence", where=lambda f: ben_id in f["left"])
    assert gone["joined"] == []


def _row(doc: str, variable: str) -> list[str]:
    line = next(x for x in doc.splitlines() if x.startswith(f"| `{variable}`"))
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_the_allowed_origins_default_reads_the_same_in_readme_and_deployment(
    tmp_path: Path,
) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    deployment = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    ours, theirs = (
        _row(readme, "PEERHUB_ALLOWED_ORIGINS"),
        _row(deployment, "PEERHUB_ALLOWED_ORIGINS"),
    )
    assert ours[1] == theirs[1] == "none"
    for row in (ours, theirs):
        assert "The base URL is always allowed" in row[2]
    # And the code: unset means only the base URL (and, beside the default base URL,
    # its localhost twin); set, it adds exact origins.
    env = {"PEERHUB_DATA_DIR": str(tmp_path / "data")}
    assert load_settings(env).allowed_origins == ("http://127.0.0.1:8000", "http://localhost:8000")
    public = {**env, "PEERHUB_BASE_URL": "https://peers.example.org"}
    assert load_settings(public).allowed_origins == ("https://peers.example.org",)
    more = {**public, "PEERHUB_ALLOWED_ORIGINS": "https://www.example.org"}
    assert load_settings(more).allowed_origins == (
        "https://peers.example.org",
        "https://www.example.org",
    )


# --- the frames: docs/protocol.md and docs/protocol-schema.json against the structs ----------


def test_the_schema_file_is_the_one_the_structs_give() -> None:
    """docs/protocol-schema.json is generated (tools/protocol_schema.py): never edited."""
    from tools.protocol_schema import OUT, render

    assert OUT.read_text(encoding="utf-8") == render(), (
        "docs/protocol-schema.json is out of date: run python tools/protocol_schema.py"
    )


def _split_top(text: str) -> list[str]:
    """``a, b: {c, d}, e: [f, g]`` -> ``["a", "b: {c, d}", "e: [f, g]"]``."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _shape(text: str) -> dict[str, tuple[bool, str]]:
    """A documented object ``{room, seq?, kind: text|system, ...}``: each key, whether it
    is marked optional, and what is said of its value."""
    assert text.startswith("{") and text.endswith("}"), text
    out = {}
    for part in _split_top(text[1:-1]):
        key, _, value = part.partition(":")
        key = key.strip()
        out[key.rstrip("?")] = (key.endswith("?"), value.strip())
    return out


# The core's frames and the moderation toolkit's: $refs resolve in their $defs together.
SCHEMA_DOC = protocol.schemas(server=moderation_frames.SERVER)


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """An object's schema behind a $ref, a nullable anyOf, or an array's items."""
    if "$ref" in schema:
        return _resolve(SCHEMA_DOC["$defs"][schema["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in schema:
        (inner,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return _resolve(inner)
    if schema.get("type") == "array":
        return _resolve(schema.get("items", {}))
    return schema


def _agree(where: str, documented: dict[str, tuple[bool, str]], schema: dict[str, Any]) -> None:
    props = {k: v for k, v in schema["properties"].items() if k not in ("v", "type")}
    required = set(schema.get("required", [])) - {"v", "type"}
    assert set(documented) == set(props), f"{where}: the doc says {sorted(documented)}"
    for key, (optional, value) in documented.items():
        assert optional == (key not in required), f"{where}.{key}: optional is marked '?'"
        inner = _resolve(props[key])
        nested = re.match(r"^\[?(\{[^{}]*\})", value)
        if nested and "properties" in inner:
            _agree(f"{where}.{key}", _shape(nested.group(1)), inner)
        if re.fullmatch(r"[a-z_]+(\|[a-z_]+)+", value):
            assert set(value.split("|")) == set(inner["enum"]), f"{where}.{key}: {value}"


def test_every_server_frame_is_documented_with_exactly_its_fields() -> None:
    shapes = re.findall(r"\*\*`([a-z.]+)`\*\*\s+`(\{[^`]*\})`", PROTOCOL)
    documented: dict[str, str] = {}
    for kind, shape in shapes:
        if kind in protocol.SERVER_FRAMES:
            assert kind not in documented, f"{kind} is described twice"
            documented[kind] = shape
    assert set(documented) == set(protocol.SERVER_FRAMES), "server frames without a description"
    for kind, shape in documented.items():
        _agree(kind, _shape(shape), SCHEMA_DOC["server"][kind])
    # subscribed's state, described on its own.
    state = re.search(r"`state` is `(\{[^`]*\})`", PROTOCOL)
    assert state is not None
    _agree("subscribed.state", _shape(state.group(1)), SCHEMA_DOC["$defs"]["State"])


def test_every_client_frame_is_in_the_table_with_exactly_its_fields() -> None:
    rows = {row["type"].strip("`"): row["fields"] for row in table(PROTOCOL, "### Client → server")}
    assert set(rows) == set(protocol.CLIENT_FRAMES)
    for kind, cell in rows.items():
        schema = SCHEMA_DOC["client"][kind]
        fields = set(schema["properties"]) - {"v", "type", "ref"}
        named = set(re.findall(r"`([a-z_]+)`", cell))
        assert named == fields, f"{kind}: the table names {sorted(named)}, the frame has {fields}"
        for name in fields - set(schema["required"]):
            # Said once, in the words around the field (subscribe's after, history's limit).
            assert "optional" in cell or "default" in cell, f"{kind}.{name} is optional"


def test_every_moderation_server_frame_is_documented_with_exactly_its_fields() -> None:
    from peerhub.moderation import frames

    section = PROTOCOL[PROTOCOL.index("## Moderation frames") :]
    shapes = re.findall(r"\*{0,2}`([a-z.]+)`\*{0,2} `(\{[^`]*\})`", section)
    # done's fields are its action's (`{action, ref?, room?, ...}`): the struct lists them.
    documented = [(k, shape) for k, shape in shapes if k in frames.SERVER and k != "done"]
    assert {k for k, _ in documented} == set(frames.SERVER) - {"done"}, "frames without fields"
    schemas = protocol.schemas(server=frames.SERVER)["server"]
    for kind, shape in documented:  # each time it is described (mod.queue: twice)
        _agree(kind, _shape(" ".join(shape.split())), schemas[kind])
    # mod.queue's objects inside its items, described on their own.
    for key, name in (("message", "Excerpt"), ("crisis_plan", "SharedCrisisPlan")):
        found = re.search(rf"`{key}` is\s+`(\{{[^`]*\}})`", section)
        assert found is not None, key
        _agree(
            f"mod.queue.{key}", _shape(" ".join(found.group(1).split())), SCHEMA_DOC["$defs"][name]
        )


def test_every_moderation_frame_type_is_in_its_table_with_its_fields() -> None:
    from peerhub.moderation import frames

    rows = table(PROTOCOL, "## Moderation frames")
    cells: dict[str, str] = {}
    for row in rows:
        for kind in re.findall(r"`([a-z_.]+)`", row["type"]):
            cells[kind] = row["fields"]
    assert set(frames.CLIENT) <= set(cells), set(frames.CLIENT) - set(cells)
    for kind, (spec, _rank, _room) in frames.CLIENT.items():
        fields = set(spec.__struct_fields__) - {"v", "ref"}
        named = set(re.findall(r"`([a-z_]+)`", cells[kind]))
        # A row may cover two types (mod.pin / mod.unpin) and name values too (`word`).
        assert fields <= named, f"{kind}: {sorted(fields - named)} not in the table"
