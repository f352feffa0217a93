"""Frames: versioned JSON, validated on the way in, built by typed functions on the way out.

Every frame is one JSON object ``{"v": 1, "type": ..., ...}`` in one WebSocket text
message (docs/protocol.md). Each frame type is defined once, as a msgspec Struct:
incoming frames are decoded into theirs (unknown fields, missing fields, wrong types
and values out of range are refused with an error naming the problem, and nothing
is done), outgoing frames are encoded from theirs, here and nowhere else, and the
JSON Schemas (:func:`schemas`) are generated from them: the tests check every
received frame against those, and docs/protocol.md and docs/protocol-schema.json
against them too.

Message frames are encoded once, as UTF-8 bytes, and the same bytes go to every
socket (see :mod:`peerhub.realtime.hub`).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar, Union

import msgspec
from msgspec import UNSET, Meta, UnsetType

from peerhub.inputs import JSONProblem, parse_json
from peerhub.realtime.models import BODY_LIMIT, REASON_LIMIT

VERSION: Final = 1
MAX_FRAME_BYTES: Final = 64 * 1024
MAX_BODY: Final = BODY_LIMIT
MAX_ROOMS_PER_RESUME: Final = 50
HISTORY_PAGE_MAX: Final = 100
REF_MAX: Final = 64

ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FRAME_TYPE_RE = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")
_T = TypeVar("_T")


# Text no database here can store, whatever field it is in: NUL (PostgreSQL refuses
# it in text) and lone surrogates. JSON's "\ud800" escape is valid JSON but decodes to
# half of a surrogate pair, which is not Unicode text and has no UTF-8 form, so
# neither SQLite nor PostgreSQL can take it. (Invalid UTF-8 in the frame itself never
# gets this far: the WebSocket layer closes the socket with 1007, as RFC 6455 requires.)
UNSTORABLE_RE: Final = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> bool:
    """Whether the databases can store this text (see :data:`UNSTORABLE_RE`)."""
    if value.isascii():  # most frames: no surrogate possible, one scan for NUL
        return "\x00" not in value
    return UNSTORABLE_RE.search(value) is None


class ProtocolError(Exception):
    """A frame that cannot be acted on. ``code`` goes to the client as the error code.

    ``room`` and ``client_id`` are echoed when the refused frame carried valid ones, so
    a client can tell which of its messages was refused (and stop re-sending it)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        ref: str | None = None,
        room: str | None = None,
        client_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.room = room
        self.client_id = client_id


# --- incoming frames: one msgspec Struct each ------------------------------------------
#
# A client frame's type is its tag ("type"); ``v`` and ``ref`` are common to all. The
# constraints (lengths, ranges, patterns) are the struct's, and so is its JSON Schema
# (:func:`client_schemas`); docs/protocol.md is checked against those schemas
# (tests/realtime/test_docs_agree.py).

INT_MAX: Final = 2**31 - 1
# A text field (a message body): not only whitespace (msgspec patterns are searched for,
# not matched), and "too_long" (not "bad_frame") when over its length.
TEXT_PATTERN: Final = r"\S"

RoomId = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID_RE.pattern)]
ClientId = Annotated[str, Meta(min_length=1, max_length=64, pattern=CLIENT_ID_RE.pattern)]
Seq = Annotated[int, Meta(ge=0, le=INT_MAX)]
PositiveSeq = Annotated[int, Meta(ge=1, le=INT_MAX)]
Body = Annotated[str, Meta(max_length=MAX_BODY, pattern=TEXT_PATTERN)]
Ref = Annotated[str, Meta(max_length=REF_MAX)]


class ClientFrame(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="type"):
    """What every client frame carries. Subclasses name their type with ``tag=``."""

    v: Literal[1]
    ref: Ref | UnsetType = UNSET


class Ping(ClientFrame, tag="ping"):
    pass


class Subscribe(ClientFrame, tag="subscribe"):
    room: RoomId
    after: Seq | UnsetType | None = UNSET


class Resume(ClientFrame, tag="resume"):
    rooms: Annotated[
        dict[Annotated[str, Meta(pattern=ID_RE.pattern)], Seq | None],
        Meta(max_length=MAX_ROOMS_PER_RESUME),
    ]


class Unsubscribe(ClientFrame, tag="unsubscribe"):
    room: RoomId


class Send(ClientFrame, tag="send"):
    room: RoomId
    client_id: ClientId
    body: Body


class History(ClientFrame, tag="history"):
    room: RoomId
    before_seq: PositiveSeq
    limit: Annotated[int, Meta(ge=1, le=HISTORY_PAGE_MAX)] | UnsetType = UNSET


class Typing(ClientFrame, tag="typing"):
    room: RoomId


class Read(ClientFrame, tag="read"):
    room: RoomId
    seq: Seq


class RulesAccept(ClientFrame, tag="rules.accept"):
    room: RoomId
    version: Annotated[str, Meta(min_length=1, max_length=16, pattern=ID_RE.pattern)]


# A moderator opens or closes the room (``Room.is_open``). The frames, and these structs
# (their names are the schema's titles), keep their first names (docs/architecture.md,
# "Names").
class SessionOpen(ClientFrame, tag="session.open"):
    room: RoomId


class SessionClose(ClientFrame, tag="session.close"):
    room: RoomId


class RoomSettings(ClientFrame, tag="room.settings"):
    room: RoomId
    moderator_only: bool


Spec = type[ClientFrame]


def frame_type_of(spec: Spec) -> str:
    tag = spec.__struct_config__.tag
    assert isinstance(tag, str)  # noqa: S101 - every frame class names its type
    return tag


CLIENT_FRAMES: Final[dict[str, Spec]] = {
    frame_type_of(spec): spec
    for spec in (
        Ping,
        Subscribe,
        Resume,
        Unsubscribe,
        Send,
        History,
        Typing,
        Read,
        RulesAccept,
        SessionOpen,
        SessionClose,
        RoomSettings,
    )
}
_ENVELOPE: Final = frozenset({"v", "type", "ref"})


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to make, per frame
class Frame:
    """A validated incoming frame: its type, its fields (those it carried, without
    ``v``, ``type`` and ``ref``) and the struct they were decoded into."""

    type: str
    fields: dict[str, Any]
    ref: str | None = None
    data: ClientFrame | None = None

    def text(self, name: str) -> str:
        value = self.fields[name]
        assert isinstance(value, str)  # noqa: S101 - guaranteed by the struct
        return value

    def number(self, name: str, default: int | None = None) -> int | None:
        value = self.fields.get(name, default)
        assert value is None or isinstance(value, int)  # noqa: S101 - by the struct
        return value

    def flag(self, name: str) -> bool:
        return bool(self.fields[name])

    @property
    def room(self) -> str | None:
        value = self.fields.get("room")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class _Echo:
    """What a refusal of this frame echoes back: its ref, and its room and client_id
    when they are valid ones (looked at only when there is a refusal to make)."""

    ref: str | None
    data: Mapping[str, Any]

    def error(self, code: str, message: str) -> ProtocolError:
        room, client_id = self.data.get("room"), self.data.get("client_id")
        return ProtocolError(
            code,
            message,
            ref=self.ref,
            room=room if isinstance(room, str) and ID_RE.match(room) else None,
            client_id=(
                client_id if isinstance(client_id, str) and CLIENT_ID_RE.match(client_id) else None
            ),
        )

    def bad(self, message: str, code: str = "bad_frame") -> ProtocolError:
        return self.error(code, message)


@dataclass(frozen=True, slots=True)
class _Field:
    """What a refusal needs to know of one field (from msgspec.inspect)."""

    lo: int | None = None
    hi: int | None = None
    text: bool = False  # a body: "too_long" when over, "is empty" when only whitespace


def _field_info(kind: msgspec.inspect.Type) -> _Field:
    if isinstance(kind, msgspec.inspect.UnionType):
        for member in kind.types:
            info = _field_info(member)
            if info != _Field():
                return info
        return _Field()
    if isinstance(kind, msgspec.inspect.Metadata):
        return _field_info(kind.type)
    if isinstance(kind, msgspec.inspect.IntType):
        return _Field(lo=kind.ge, hi=kind.le)
    if isinstance(kind, msgspec.inspect.StrType):
        return _Field(text=kind.pattern == TEXT_PATTERN)
    if isinstance(kind, msgspec.inspect.DictType):
        return _field_info(kind.value_type)
    return _Field()


@functools.cache
def _fields_of(spec: Spec) -> dict[str, _Field]:
    info = msgspec.inspect.type_info(spec)
    assert isinstance(info, msgspec.inspect.StructType)  # noqa: S101
    return {f.encode_name: _field_info(f.type) for f in info.fields}


@functools.cache
def _layout(spec: Spec) -> tuple[str, tuple[str, ...]]:
    """A frame struct's type and its own fields (not ``v``, ``type``, ``ref``)."""
    return frame_type_of(spec), tuple(n for n in spec.__struct_fields__ if n not in _ENVELOPE)


# "Expected `int` >= 1 - at `$.before_seq`", "... - at `key` in `$.rooms`"
_MSGSPEC_ERROR: Final = re.compile(
    r"^(?P<what>.*?)(?: - at `(?P<path>[^`]*)`(?: in `\$\.(?P<outer>\w+)`)?)?$", re.S
)


def _shown(name: str) -> str:
    """A name from the input, shown only if it looks like one of ours."""
    return name[:40] if FRAME_TYPE_RE.match(name[:40]) else "?"


def _explain(error: msgspec.ValidationError, spec: Spec, echo: _Echo) -> ProtocolError:
    """A msgspec refusal in the words (and codes) clients have always been given.

    msgspec's message names what was expected and where, never what was found beyond
    its JSON type; the unknown-field and missing-field cases name a field of ours or
    one checked with :func:`_shown`."""
    found = _MSGSPEC_ERROR.match(str(error))
    what, path, outer = (found["what"], found["path"], found["outer"]) if found else ("", "", "")
    if what.startswith("Object missing required field `"):
        return echo.bad(f"missing field '{_shown(what.split('`')[1])}'")
    if what.startswith("Object contains unknown field `"):
        return echo.bad(f"unexpected field '{_shown(what.split('`')[1])}'")
    key = outer is not None and path == "key"
    name = outer if outer is not None else (path or "").removeprefix("$.").split("[")[0]
    value = (path or "").endswith("[...]")
    info = _fields_of(spec).get(name, _Field())
    if key:  # a room id of resume's rooms
        return echo.bad(f"'{name}' has a room id that is not valid")
    if what.startswith(("Expected `int`", "Expected `int | null`", "Number out of range")):
        if ", got `" in what:
            return echo.bad(f"'{name}' must be a whole number" + (" or null" if value else ""))
        return echo.bad(f"'{name}' must be between {info.lo} and {info.hi}")
    if what.startswith("Expected `bool`"):
        return echo.bad(f"'{name}' must be true or false")
    if what.startswith("Expected `object`"):
        if ", got `" in what:
            return echo.bad(f"'{name}' must be an object of room ids to seq numbers")
        limit = what.rsplit(" ", 1)[-1]
        return echo.bad(f"'{name}' names more than {limit} rooms")
    if what.startswith("Expected `str` of length <= "):
        limit = what.rsplit(" ", 1)[-1]
        message = f"'{name}' is longer than {limit} characters"
        return echo.bad(message, "too_long" if info.text else "bad_frame")
    if what.startswith("Expected `str` of length >= "):
        return echo.bad(f"'{name}' is too short")
    if what.startswith("Expected `str` matching regex "):
        if info.text:
            return echo.bad(f"'{name}' is empty")
        return echo.bad(f"'{name}' has characters that are not allowed")
    if what.startswith("Expected `str`"):
        return echo.bad(f"'{name}' must be a string")
    return echo.bad(f"'{_shown(name)}' is not valid" if name else "the frame is not valid")


def _unstorable(name: str, echo: _Echo) -> ProtocolError:
    return echo.bad(f"'{name}' has a character that cannot be saved (NUL or a lone surrogate)")


def _refusal(raw: str, specs: Mapping[str, Spec]) -> ClientFrame:
    """The slow path, for a frame msgspec refused: read it with the one JSON reader
    and say what is wrong in the words clients have always been given (or return the
    frame, if it is fine after all)."""
    try:
        # The one JSON reader (peerhub/inputs.py): no NaN, no 1e400, no deep nesting.
        data = parse_json(raw, max_bytes=MAX_FRAME_BYTES, what="the frame", check_text=False)
    except JSONProblem as exc:
        if exc.syntax:
            raise ProtocolError("bad_json", "the frame is not valid JSON") from None
        code = "too_long" if exc.status == 413 else "bad_frame"
        raise ProtocolError(code, exc.message) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "a frame must be a JSON object")
    ref_raw = data.get("ref")
    ref = (
        ref_raw
        if isinstance(ref_raw, str) and len(ref_raw) <= REF_MAX and storable(ref_raw)
        else None
    )
    if "ref" in data and ref is None:
        raise ProtocolError(
            "bad_frame", f"'ref' must be a string of at most {REF_MAX} characters that can be saved"
        )
    version = data.get("v")
    if type(version) is not int or version != VERSION:
        if "v" not in data:
            raise ProtocolError("bad_frame", "missing field 'v' (the protocol version)", ref=ref)
        raise ProtocolError("unsupported_version", f"this server speaks version {VERSION}", ref=ref)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_frame", "missing field 'type'", ref=ref)
    spec = specs.get(kind)
    if spec is None:
        raise ProtocolError("unknown_type", f"unknown frame type '{_shown(kind)}'", ref=ref)
    echo = _Echo(ref, data)
    known = spec.__struct_fields__
    for name, value in data.items():
        if name not in known and name != "type":
            raise echo.bad(f"unexpected field '{_shown(name)}'")
        # One check for every text field of every frame (extensions' included): text
        # that cannot be stored is refused here, never by the database inside a batch
        # of other people's messages.
        if isinstance(value, str) and not storable(value):
            raise _unstorable(name, echo)
    try:
        return msgspec.convert(data, spec)
    except msgspec.ValidationError as exc:
        raise _explain(exc, spec, echo) from None


class Reader:
    """Decodes the client frames of the core and of the given extensions' types."""

    __slots__ = ("_decoder", "specs")

    def __init__(self, extra: Mapping[str, Spec] | None = None) -> None:
        specs = dict(CLIENT_FRAMES)
        for name, spec in (extra or {}).items():
            if frame_type_of(spec) != name:
                raise ValueError(f"the struct for {name!r} is tagged {frame_type_of(spec)!r}")
            specs[name] = spec
        self.specs: Mapping[str, Spec] = specs
        union: Any = Union[tuple(specs.values())]  # noqa: UP007 - a Union built at run time
        self._decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(union)

    def decode(self, raw: str | bytes) -> Frame:
        """Parse and validate one incoming frame, or raise :class:`ProtocolError`."""
        if isinstance(raw, bytes):
            raise ProtocolError("bad_frame", "send frames as text, not binary")
        try:
            if len(raw) > MAX_FRAME_BYTES // 4 and len(raw.encode()) > MAX_FRAME_BYTES:
                raise msgspec.ValidationError  # too large: said by the slow path
            frame = self._decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError, UnicodeEncodeError):
            frame = _refusal(raw, self.specs)
        kind, names = _layout(type(frame))
        ref = _ref(frame)
        fields: dict[str, Any] = {}
        for name in names:
            value = getattr(frame, name)
            if value is UNSET:
                continue
            # One check for every text field of every frame (extensions' included).
            if type(value) is str and not storable(value):
                raise _unstorable(name, _Echo(ref, {n: getattr(frame, n) for n in names}))
            fields[name] = value
        return Frame(kind, fields, ref, frame)


def _ref(frame: ClientFrame) -> str | None:
    ref = frame.ref
    if ref is UNSET:
        return None
    assert isinstance(ref, str)  # noqa: S101 - by the struct
    if not storable(ref):
        raise ProtocolError(
            "bad_frame", f"'ref' must be a string of at most {REF_MAX} characters that can be saved"
        )
    return ref


@functools.lru_cache(maxsize=8)
def _reader(extra: tuple[tuple[str, Spec], ...]) -> Reader:
    return Reader(dict(extra))


def reader(extra: Mapping[str, Spec] | None = None) -> Reader:
    """The (cached) reader of the core's frames and ``extra``'s."""
    return _reader(tuple(sorted((extra or {}).items())))


def decode(raw: str | bytes, extra: Mapping[str, Spec] | None = None) -> Frame:
    """Parse and validate one incoming frame, or raise :class:`ProtocolError`.

    ``extra`` holds the structs of frame types registered by extensions.
    """
    return reader(extra).decode(raw)


# --- outgoing frames: one msgspec Struct each ------------------------------------------
#
# A server frame's struct holds its fields without ``v`` and ``type``: :func:`encode`
# writes those two first and then the struct's fields, so every frame reads
# ``{"v":1,"type":...,...}`` as it always has, and a ``message``'s fields are also the
# entries of a ``history`` page. Fields that are left out when there is nothing to say
# default to UNSET (msgspec omits them); ``None`` is sent as ``null``.


def _enc_hook(value: Any) -> Any:
    if isinstance(value, str):  # a str subclass (Markup, a translated string)
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} in a frame")


_ENCODER: Final = msgspec.json.Encoder(enc_hook=_enc_hook)


def dumps(frame: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; non-ASCII stays as is (smaller than \\u escapes)."""
    return _ENCODER.encode(frame)


def _enum(*values: str) -> Meta:
    return Meta(extra_json_schema={"enum": list(values)})


Name = Annotated[str, Meta(max_length=40)]
Role = Annotated[str, _enum("member", "moderator", "organiser")]
Status = Annotated[str, _enum("visible", "held", "rejected", "redacted")]
Count = Annotated[int, Meta(ge=0)]
MessageSeq = Annotated[int, Meta(ge=1)]
Moment = str  # ISO 8601 UTC with milliseconds (:func:`iso`)


class Wire(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An object inside a server frame (forbid_unknown_fields: its schema says so)."""


class ServerFrame(Wire, kw_only=True):
    """A server frame's fields; ``TYPE`` is its type."""

    TYPE: ClassVar[str]


_HEADS: dict[type[ServerFrame], bytes] = {}


def encode(frame: ServerFrame) -> bytes:
    """The frame as UTF-8 JSON: ``{"v":1,"type":TYPE,...its fields}``."""
    head = _HEADS.get(type(frame))
    if head is None:
        head = _HEADS[type(frame)] = b'{"v":%d,"type":%s' % (VERSION, dumps_str(frame.TYPE))
    body = _ENCODER.encode(frame)
    return head + b"}" if len(body) == 2 else head + b"," + body[1:]


def dumps_str(value: str) -> bytes:
    return _ENCODER.encode(value)


class PublicPerson(Wire, kw_only=False):
    id: str
    name: Name


class Member(Wire, kw_only=False):
    id: str
    name: Name
    role: Role


class MessageFrame(ServerFrame, kw_only=True):
    """One entry of a room's log (also the entries of a ``history`` page)."""

    TYPE: ClassVar[str] = "message"
    room: str
    seq: MessageSeq
    kind: Annotated[str, _enum("text", "system")]
    sender: PublicPerson | None
    client_id: Annotated[str, Meta(max_length=64)]
    body: Annotated[str, Meta(max_length=MAX_BODY)] | None
    status: Status
    at: Moment
    data: dict[str, Any] | UnsetType = UNSET
    reason: Annotated[str, Meta(max_length=REASON_LIMIT)] | UnsetType | None = UNSET


class WelcomeFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "welcome"
    user: PublicPerson
    limits: dict[str, int | float]


class AckFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "ack"
    room: str
    client_id: str
    seq: MessageSeq
    status: Status
    at: Moment
    duplicate: bool
    note: Annotated[str, Meta(max_length=300)] | UnsetType = UNSET


class ErrorFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "error"
    code: Annotated[str, Meta(pattern="^[a-z_]+$")]
    message: Annotated[str, Meta(max_length=300)]
    ref: str | UnsetType = UNSET
    room: str | UnsetType = UNSET
    client_id: str | UnsetType = UNSET
    retry_after: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    # When the group's next meeting starts. The wire keeps its first name (clients
    # read it; docs/architecture.md, "Names"), as in State below.
    next_session: str | UnsetType = UNSET


class State(Wire):
    # Whether a moderator opened the room (``RoomState.is_open``). The wire keeps its
    # first name (browsers read it; docs/architecture.md, "Names").
    session_open: bool
    opened_at: Moment | None
    moderator_only: bool
    moderator_present: bool
    writable: bool
    reason: str | None
    next_session: Moment | None
    next_session_text: str | None


class Group(Wire, kw_only=False):
    slug: str
    name: str


class RulesShown(Wire):
    """The rules in the person's language where the group gave them; else the own
    text with its lang, dir and a note of its language."""

    text: str
    lang: str | None
    dir: Annotated[str, _enum("ltr", "rtl")] | None
    note: str | None


class Rules(Wire):
    version: str
    text: str
    accepted: bool
    shown: RulesShown | UnsetType = UNSET


class SubscribedFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "subscribed"
    room: str
    group: Group
    role: Role
    state: State
    rules: Rules
    present: list[Member]
    last_read: Count
    latest_seq: Count
    limited: bool
    extra: dict[str, Any] | UnsetType = UNSET


class SyncedFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "synced"
    room: str
    seq: Count


class UnsubscribedFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "unsubscribed"
    room: str


class HistoryFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "history"
    room: str
    before_seq: Count
    messages: Annotated[list[MessageFrame], Meta(max_length=HISTORY_PAGE_MAX)]
    more: bool


class PresenceFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "presence"
    room: str
    joined: list[Member]
    left: list[str]


class TypingFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "typing"
    room: str
    user: PublicPerson


class RoomFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "room"
    room: str
    state: State


class RulesAcceptedFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "rules.accepted"
    room: str
    version: str


class ReadFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "read"
    room: str
    seq: Count


class PongFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "pong"
    ref: str | UnsetType = UNSET


class SupportFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "support"
    room: str
    seq: Count
    message: str
    contacts: list[dict[str, str | None]]


class AlertFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "alert"
    room: str
    kind: str
    seq: Count
    sender: PublicPerson


class BatchFrame(ServerFrame, kw_only=True):
    """Several queued frames in one WebSocket message (see :func:`batch`)."""

    TYPE: ClassVar[str] = "batch"
    frames: Annotated[list[dict[str, Any]], Meta(min_length=1)]


SERVER_FRAMES: Final[dict[str, type[ServerFrame]]] = {
    cls.TYPE: cls
    for cls in (
        WelcomeFrame,
        MessageFrame,
        AckFrame,
        ErrorFrame,
        SubscribedFrame,
        SyncedFrame,
        UnsubscribedFrame,
        HistoryFrame,
        PresenceFrame,
        TypingFrame,
        RoomFrame,
        RulesAcceptedFrame,
        ReadFrame,
        PongFrame,
        SupportFrame,
        AlertFrame,
        BatchFrame,
    )
}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unset(value: _T | None) -> _T | UnsetType:
    return UNSET if value is None else value


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    role: str = "member"

    def public(self) -> PublicPerson:
        return PublicPerson(self.id, self.name)

    def member(self) -> Member:
        return Member(self.id, self.name, self.role)


@dataclass(slots=True)
class MessageView:
    """A message as the protocol shows it (one row of the log)."""

    room: str
    seq: int
    kind: str
    sender_id: str | None
    sender_name: str | None
    client_id: str
    body: str
    status: str
    at: datetime
    data: dict[str, Any] | None = None
    redaction_reason: str | None = None

    def entry(self) -> MessageFrame:
        redacted = self.status == "redacted"
        return MessageFrame(
            room=self.room,
            seq=self.seq,
            kind=self.kind,
            # A writer whose name is gone (their account was deleted) is null: the
            # frame is shared by every reader, so each page shows its own word for
            # "Someone" in its reader's language rather than one language's here.
            sender=(
                PublicPerson(self.sender_id, self.sender_name)
                if self.sender_id is not None and self.sender_name
                else None
            ),
            client_id=self.client_id,
            # A redacted message's text is gone for everyone; the notice stays.
            body=None if redacted else self.body,
            status=self.status,
            at=iso(self.at) or "",
            data=_unset(self.data),
            reason=self.redaction_reason if redacted else UNSET,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self.entry(), enc_hook=_enc_hook)
        return out


def message(view: MessageView) -> bytes:
    return encode(view.entry())


def welcome(user: Person, limits: Mapping[str, int | float]) -> bytes:
    return encode(WelcomeFrame(user=user.public(), limits=dict(limits)))


_CODE_RE: Final = re.compile(r"[a-z_]{1,40}")


def error(
    code: str,
    text: str,
    *,
    ref: str | None = None,
    room: str | None = None,
    client_id: str | None = None,
    retry_after: float | None = None,
    next_meeting: str | None = None,
) -> bytes:
    # Bounded on the way out too (extensions supply their own codes and words).
    return encode(
        ErrorFrame(
            code=code if _CODE_RE.fullmatch(code) else "refused",
            message=str(text)[:300],
            ref=_unset(ref),
            room=_unset(room),
            client_id=_unset(client_id),
            retry_after=UNSET if retry_after is None else math.ceil(retry_after * 10) / 10,
            next_session=_unset(next_meeting),
        )
    )


def ack(
    room: str,
    client_id: str,
    seq: int,
    status: str,
    at: datetime,
    *,
    duplicate: bool,
    note: str | None = None,
) -> bytes:
    """``note``: for a held message, why it waits, in words for its writer only."""
    return encode(
        AckFrame(
            room=room,
            client_id=client_id,
            seq=seq,
            status=status,
            at=iso(at) or "",
            duplicate=duplicate,
            note=note or UNSET,
        )
    )


@dataclass(slots=True)
class RoomState:
    is_open: bool
    opened_at: datetime | None
    moderator_only: bool
    moderator_present: bool
    writable: bool
    reason: str | None
    next_meeting: datetime | None
    next_meeting_text: str | None

    def wire(self) -> State:
        return State(
            session_open=self.is_open,
            opened_at=iso(self.opened_at),
            moderator_only=self.moderator_only,
            moderator_present=self.moderator_present,
            writable=self.writable,
            reason=self.reason,
            next_session=iso(self.next_meeting),
            next_session_text=self.next_meeting_text,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(self.wire(), enc_hook=_enc_hook)
        return out


@dataclass(slots=True)
class Subscribed:
    room: str
    group_slug: str
    group_name: str
    role: str
    state: RoomState
    rules_text: str
    rules_version: str
    rules_accepted: bool
    present: list[Person]
    last_read: int
    latest_seq: int
    limited: bool
    extra: dict[str, Any] = field(default_factory=dict)
    # The rules as this person is shown them (peerhub/groups/texts.py, rules_frame).
    rules_shown: dict[str, str | None] | None = None


def subscribed(info: Subscribed) -> bytes:
    shown = info.rules_shown
    return encode(
        SubscribedFrame(
            room=info.room,
            group=Group(info.group_slug, info.group_name),
            role=info.role,
            state=info.state.wire(),
            rules=Rules(
                version=info.rules_version,
                text=info.rules_text,
                accepted=info.rules_accepted,
                shown=UNSET if shown is None else msgspec.convert(shown, RulesShown),
            ),
            present=[p.member() for p in info.present],
            last_read=info.last_read,
            latest_seq=info.latest_seq,
            limited=info.limited,
            extra=info.extra or UNSET,
        )
    )


def synced(room: str, seq: int) -> bytes:
    return encode(SyncedFrame(room=room, seq=seq))


def unsubscribed(room: str) -> bytes:
    return encode(UnsubscribedFrame(room=room))


def history(room: str, before_seq: int, messages: list[MessageView], more: bool) -> bytes:
    return encode(
        HistoryFrame(
            room=room, before_seq=before_seq, messages=[m.entry() for m in messages], more=more
        )
    )


def presence(room: str, joined: list[Person], left: list[str]) -> bytes:
    return encode(PresenceFrame(room=room, joined=[p.member() for p in joined], left=left))


def typing(room: str, user: Person) -> bytes:
    return encode(TypingFrame(room=room, user=user.public()))


def room_state(room: str, state: RoomState) -> bytes:
    return encode(RoomFrame(room=room, state=state.wire()))


def rules_accepted(room: str, version: str) -> bytes:
    return encode(RulesAcceptedFrame(room=room, version=version))


def read_ok(room: str, seq: int) -> bytes:
    return encode(ReadFrame(room=room, seq=seq))


def pong(ref: str | None) -> bytes:
    return encode(PongFrame(ref=_unset(ref)))


def support(room: str, seq: int, text: str, contacts: list[dict[str, str | None]]) -> bytes:
    return encode(SupportFrame(room=room, seq=seq, message=text, contacts=contacts))


def alert(room: str, kind: str, seq: int, sender: Person) -> bytes:
    return encode(AlertFrame(room=room, kind=kind, seq=seq, sender=sender.public()))


def batch(frames: list[bytes]) -> bytes:
    """Several queued frames in one WebSocket message (joined without re-encoding)."""
    return b'{"v":1,"type":"batch","frames":[' + b",".join(frames) + b"]}"


# --- JSON Schemas, generated from the structs above --------------------------------------

SCHEMA_REF: Final = "#/$defs/{name}"


def _frame_schema(name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A server frame's schema: its struct's, with ``v`` and ``type`` first."""
    return {
        **({"title": body["title"]} if "title" in body else {}),
        **({"description": body["description"]} if "description" in body else {}),
        "type": "object",
        "properties": {
            "v": {"const": VERSION},
            "type": {"const": name},
            **body.get("properties", {}),
        },
        "required": ["v", "type", *body.get("required", [])],
        "additionalProperties": False,
    }


def schemas(
    client: Mapping[str, Spec] | None = None, server: Mapping[str, type[ServerFrame]] | None = None
) -> dict[str, Any]:
    """The JSON Schema (2020-12) of every frame: ``{"client": {type: schema}, "server":
    {type: schema}, "$defs": {...}}``, the core's and those of ``client``/``server``
    (extensions'). Frames refer to shared parts as ``#/$defs/Name``."""
    clients = {**CLIENT_FRAMES, **(client or {})}
    servers = {**SERVER_FRAMES, **(server or {})}
    _, defs = msgspec.json.schema_components(
        [*clients.values(), *servers.values()], ref_template=SCHEMA_REF
    )
    out: dict[str, Any] = {
        "client": {name: defs.pop(spec.__name__) for name, spec in sorted(clients.items())},
        "server": {
            name: _frame_schema(name, defs[cls.__name__]) for name, cls in sorted(servers.items())
        },
    }
    referred = json.dumps(out["server"]) + json.dumps(defs)
    out["$defs"] = {
        name: schema
        for name, schema in sorted(defs.items())
        if f'"{SCHEMA_REF.format(name=name)}"' in referred
    }
    return out


def validators_schemas(document: Mapping[str, Any], side: str) -> dict[str, dict[str, Any]]:
    """Each frame of one side as a schema of its own (with the ``$defs`` it may use)."""
    return {name: {**schema, "$defs": document["$defs"]} for name, schema in document[side].items()}


@functools.cache
def server_schemas() -> dict[str, dict[str, Any]]:
    """Every core server frame's schema (the tests check each frame they receive)."""
    return validators_schemas(schemas(), "server")
