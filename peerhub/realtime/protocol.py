"""Frames: versioned JSON, validated on the way in, built by typed functions on the way out.

Every frame is one JSON object ``{"v": 1, "type": ..., ...}`` in one WebSocket text
message (docs/protocol.md). Incoming frames are checked against a field spec:
unknown fields, missing fields, wrong types and values out of range are refused
with an error naming the problem, and nothing is done. Outgoing frames are built
here and nowhere else, and each has a JSON Schema in :data:`SERVER_SCHEMAS` that
the tests check every received frame against.

Message frames are encoded once, as UTF-8 bytes, and the same bytes go to every
socket (see :mod:`peerhub.realtime.hub`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

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


# --- field specs for incoming frames -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Str:
    max_len: int
    min_len: int = 1
    pattern: re.Pattern[str] | None = None
    required: bool = True
    # A body: not only whitespace, and "too_long" (not "bad_frame") when over.
    text: bool = False


@dataclass(frozen=True, slots=True)
class Int:
    lo: int = 0
    hi: int = 2**31 - 1
    required: bool = True
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class Bool:
    required: bool = True


@dataclass(frozen=True, slots=True)
class SeqMap:
    """``{room_id: last_seq or null}``, at most ``max_items`` rooms."""

    max_items: int = MAX_ROOMS_PER_RESUME


FieldSpec = Str | Int | Bool | SeqMap
Spec = Mapping[str, FieldSpec]

ROOM: Final = Str(64, pattern=ID_RE)

CLIENT_FRAMES: dict[str, Spec] = {
    "ping": {},
    "subscribe": {"room": ROOM, "after": Int(nullable=True, required=False)},
    "resume": {"rooms": SeqMap()},
    "unsubscribe": {"room": ROOM},
    "send": {
        "room": ROOM,
        "client_id": Str(64, pattern=CLIENT_ID_RE),
        "body": Str(MAX_BODY, text=True),
    },
    "history": {
        "room": ROOM,
        "before_seq": Int(lo=1),
        "limit": Int(lo=1, hi=HISTORY_PAGE_MAX, required=False),
    },
    "typing": {"room": ROOM},
    "read": {"room": ROOM, "seq": Int(lo=0)},
    "rules.accept": {"room": ROOM, "version": Str(16, pattern=ID_RE)},
    "session.open": {"room": ROOM},
    "session.close": {"room": ROOM},
    "room.settings": {"room": ROOM, "moderator_only": Bool()},
}


@dataclass(frozen=True, slots=True)
class Frame:
    """A validated incoming frame."""

    type: str
    fields: dict[str, Any]
    ref: str | None = None

    def text(self, name: str) -> str:
        value = self.fields[name]
        assert isinstance(value, str)  # noqa: S101 - guaranteed by the spec
        return value

    def number(self, name: str, default: int | None = None) -> int | None:
        value = self.fields.get(name, default)
        assert value is None or isinstance(value, int)  # noqa: S101 - by the spec
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


def _check(name: str, spec: FieldSpec, value: Any, echo: _Echo) -> Any:
    bad = echo.bad
    if isinstance(spec, Str):
        if not isinstance(value, str):
            raise bad(f"'{name}' must be a string")
        # One check for every text field of every frame (extensions' included): text
        # that cannot be stored is refused here, never by the database inside a batch
        # of other people's messages.
        if not storable(value):
            raise bad(f"'{name}' has a character that cannot be saved (NUL or a lone surrogate)")
        if len(value) > spec.max_len:
            if spec.text:
                raise bad(f"'{name}' is longer than {spec.max_len} characters", "too_long")
            raise bad(f"'{name}' is longer than {spec.max_len} characters")
        if spec.text and not value.strip():
            raise bad(f"'{name}' is empty")
        if len(value) < spec.min_len:
            raise bad(f"'{name}' is too short")
        if spec.pattern is not None and not spec.pattern.match(value):
            raise bad(f"'{name}' has characters that are not allowed")
        return value
    if isinstance(spec, Bool):
        if not isinstance(value, bool):
            raise bad(f"'{name}' must be true or false")
        return value
    if isinstance(spec, Int):
        if value is None and spec.nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"'{name}' must be a whole number")
        if not spec.lo <= value <= spec.hi:
            raise bad(f"'{name}' must be between {spec.lo} and {spec.hi}")
        return value
    # SeqMap
    if not isinstance(value, dict):
        raise bad(f"'{name}' must be an object of room ids to seq numbers")
    if len(value) > spec.max_items:
        raise bad(f"'{name}' names more than {spec.max_items} rooms")
    checked: dict[str, int | None] = {}
    for key, seq in value.items():
        if not ID_RE.match(key):
            raise bad(f"'{name}' has a room id that is not valid")
        checked[key] = _check(f"{name}.{key}", Int(nullable=True), seq, echo)
    return checked


def decode(raw: str | bytes, extra: Mapping[str, Spec] | None = None) -> Frame:
    """Parse and validate one incoming frame, or raise :class:`ProtocolError`.

    ``extra`` holds the specs of frame types registered by extensions.
    """
    if isinstance(raw, bytes):
        raise ProtocolError("bad_frame", "send frames as text, not binary")
    try:
        # The one JSON reader (peerhub/inputs.py): no NaN, no 1e400, no deep nesting.
        # Text no database can store (NUL, an unpaired surrogate) is refused field by
        # field below (_check, storable), so the refusal names the frame's room and
        # client_id and the client stops re-sending that message.
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
    if data.get("v") != VERSION or isinstance(data.get("v"), bool):
        if "v" not in data:
            raise ProtocolError("bad_frame", "missing field 'v' (the protocol version)", ref=ref)
        raise ProtocolError("unsupported_version", f"this server speaks version {VERSION}", ref=ref)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("bad_frame", "missing field 'type'", ref=ref)
    spec = CLIENT_FRAMES.get(kind)
    if spec is None and extra is not None:
        spec = extra.get(kind)
    if spec is None:
        shown = kind[:40] if FRAME_TYPE_RE.match(kind[:40]) else "?"
        raise ProtocolError("unknown_type", f"unknown frame type '{shown}'", ref=ref)
    echo = _Echo(ref, data)
    fields: dict[str, Any] = {}
    for name, value in data.items():
        if name in ("v", "type", "ref"):
            continue
        fspec = spec.get(name)
        if fspec is None:
            shown = name[:40] if FRAME_TYPE_RE.match(name[:40]) else "?"
            raise echo.error("bad_frame", f"unexpected field '{shown}'")
        fields[name] = _check(name, fspec, value, echo)
    for name, fspec in spec.items():
        if name not in fields and getattr(fspec, "required", True):
            raise echo.error("bad_frame", f"missing field '{name}'")
    return Frame(kind, fields, ref)


# --- outgoing frames -----------------------------------------------------------------


def dumps(frame: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; non-ASCII stays as is (smaller than \\u escapes)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()


def _frame(frame_type: str, /, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "type": frame_type, **fields}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    role: str = "member"

    def public(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


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

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "room": self.room,
            "seq": self.seq,
            "kind": self.kind,
            # A writer whose name is gone (their account was deleted) is null: the
            # frame is shared by every reader, so each page shows its own word for
            # "Someone" in its reader's language rather than one language's here.
            "sender": (
                {"id": self.sender_id, "name": self.sender_name}
                if self.sender_id is not None and self.sender_name
                else None
            ),
            "client_id": self.client_id,
            # A redacted message's text is gone for everyone; the notice stays.
            "body": None if self.status == "redacted" else self.body,
            "status": self.status,
            "at": iso(self.at),
        }
        if self.data is not None:
            out["data"] = self.data
        if self.status == "redacted":
            out["reason"] = self.redaction_reason
        return out


def message(view: MessageView) -> bytes:
    return dumps(_frame("message", **view.as_dict()))


def welcome(user: Person, limits: Mapping[str, int | float]) -> bytes:
    return dumps(_frame("welcome", user=user.public(), limits=dict(limits)))


def error(
    code: str,
    text: str,
    *,
    ref: str | None = None,
    room: str | None = None,
    client_id: str | None = None,
    retry_after: float | None = None,
    next_session: str | None = None,
) -> bytes:
    # Bounded on the way out too (extensions supply their own codes and words).
    if not re.fullmatch(r"[a-z_]{1,40}", code):
        code = "refused"
    out = _frame("error", code=code, message=text[:300])
    if ref is not None:
        out["ref"] = ref
    if room is not None:
        out["room"] = room
    if client_id is not None:
        out["client_id"] = client_id
    if retry_after is not None:
        out["retry_after"] = math.ceil(retry_after * 10) / 10
    if next_session is not None:
        out["next_session"] = next_session
    return dumps(out)


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
    return dumps(
        _frame(
            "ack",
            room=room,
            client_id=client_id,
            seq=seq,
            status=status,
            at=iso(at),
            duplicate=duplicate,
            **({"note": note} if note else {}),
        )
    )


@dataclass(slots=True)
class RoomState:
    session_open: bool
    opened_at: datetime | None
    moderator_only: bool
    moderator_present: bool
    writable: bool
    reason: str | None
    next_session: datetime | None
    next_session_text: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_open": self.session_open,
            "opened_at": iso(self.opened_at),
            "moderator_only": self.moderator_only,
            "moderator_present": self.moderator_present,
            "writable": self.writable,
            "reason": self.reason,
            "next_session": iso(self.next_session),
            "next_session_text": self.next_session_text,
        }


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
    return dumps(
        _frame(
            "subscribed",
            room=info.room,
            group={"slug": info.group_slug, "name": info.group_name},
            role=info.role,
            state=info.state.as_dict(),
            rules={
                "version": info.rules_version,
                "text": info.rules_text,
                "accepted": info.rules_accepted,
                **({"shown": info.rules_shown} if info.rules_shown is not None else {}),
            },
            present=[{"id": p.id, "name": p.name, "role": p.role} for p in info.present],
            last_read=info.last_read,
            latest_seq=info.latest_seq,
            limited=info.limited,
            **({"extra": info.extra} if info.extra else {}),
        )
    )


def synced(room: str, seq: int) -> bytes:
    return dumps(_frame("synced", room=room, seq=seq))


def unsubscribed(room: str) -> bytes:
    return dumps(_frame("unsubscribed", room=room))


def history(room: str, before_seq: int, messages: list[MessageView], more: bool) -> bytes:
    return dumps(
        _frame(
            "history",
            room=room,
            before_seq=before_seq,
            messages=[m.as_dict() for m in messages],
            more=more,
        )
    )


def presence(room: str, joined: list[Person], left: list[str]) -> bytes:
    return dumps(
        _frame(
            "presence",
            room=room,
            joined=[{"id": p.id, "name": p.name, "role": p.role} for p in joined],
            left=left,
        )
    )


def typing(room: str, user: Person) -> bytes:
    return dumps(_frame("typing", room=room, user=user.public()))


def room_state(room: str, state: RoomState) -> bytes:
    return dumps(_frame("room", room=room, state=state.as_dict()))


def rules_accepted(room: str, version: str) -> bytes:
    return dumps(_frame("rules.accepted", room=room, version=version))


def read_ok(room: str, seq: int) -> bytes:
    return dumps(_frame("read", room=room, seq=seq))


def pong(ref: str | None) -> bytes:
    return dumps(_frame("pong", **({"ref": ref} if ref is not None else {})))


def support(room: str, seq: int, text: str, contacts: list[dict[str, str | None]]) -> bytes:
    return dumps(_frame("support", room=room, seq=seq, message=text, contacts=contacts))


def alert(room: str, kind: str, seq: int, sender: Person) -> bytes:
    return dumps(_frame("alert", room=room, kind=kind, seq=seq, sender=sender.public()))


def batch(frames: list[bytes]) -> bytes:
    """Several queued frames in one WebSocket message (joined without re-encoding)."""
    return b'{"v":1,"type":"batch","frames":[' + b",".join(frames) + b"]}"


# --- JSON Schemas of every server frame (the tests hold each received frame to them) --

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer", "minimum": 0}
_PERSON = {
    "type": "object",
    "required": ["id", "name"],
    "additionalProperties": False,
    "properties": {"id": _STR, "name": {"type": "string", "maxLength": 40}},
}
_MEMBER = {
    "type": "object",
    "required": ["id", "name", "role"],
    "additionalProperties": False,
    "properties": {
        "id": _STR,
        "name": {"type": "string", "maxLength": 40},
        "role": {"enum": ["member", "moderator", "organiser"]},
    },
}
_MESSAGE_BODY: dict[str, Any] = {
    "room": _STR,
    "seq": {"type": "integer", "minimum": 1},
    "kind": {"enum": ["text", "system"]},
    "sender": {"oneOf": [_PERSON, {"type": "null"}]},
    "client_id": {"type": "string", "maxLength": 64},
    "body": {"type": ["string", "null"], "maxLength": MAX_BODY},
    "status": {"enum": ["visible", "held", "rejected", "redacted"]},
    "at": _STR,
    "data": {"type": "object"},
    "reason": {"type": ["string", "null"], "maxLength": REASON_LIMIT},
}
_MESSAGE_REQUIRED = ["room", "seq", "kind", "sender", "client_id", "body", "status", "at"]
_STATE = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "session_open",
        "opened_at",
        "moderator_only",
        "moderator_present",
        "writable",
        "reason",
        "next_session",
        "next_session_text",
    ],
    "properties": {
        "session_open": {"type": "boolean"},
        "opened_at": _NSTR,
        "moderator_only": {"type": "boolean"},
        "moderator_present": {"type": "boolean"},
        "writable": {"type": "boolean"},
        "reason": _NSTR,
        "next_session": _NSTR,
        "next_session_text": _NSTR,
    },
}


def _schema(kind: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["v", "type", *required],
        "properties": {"v": {"const": VERSION}, "type": {"const": kind}, **props},
    }


SERVER_SCHEMAS: dict[str, dict[str, Any]] = {
    "welcome": _schema(
        "welcome", {"user": _PERSON, "limits": {"type": "object"}}, ["user", "limits"]
    ),
    "message": _schema("message", _MESSAGE_BODY, _MESSAGE_REQUIRED),
    "ack": _schema(
        "ack",
        {
            "room": _STR,
            "client_id": _STR,
            "seq": {"type": "integer", "minimum": 1},
            "status": {"enum": ["visible", "held", "rejected", "redacted"]},
            "at": _STR,
            "duplicate": {"type": "boolean"},
            "note": {"type": "string", "maxLength": 300},
        },
        ["room", "client_id", "seq", "status", "at", "duplicate"],
    ),
    "error": _schema(
        "error",
        {
            "code": {"type": "string", "pattern": "^[a-z_]+$"},
            "message": {"type": "string", "maxLength": 300},
            "ref": _STR,
            "room": _STR,
            "client_id": _STR,
            "retry_after": {"type": "number", "minimum": 0},
            "next_session": _STR,
        },
        ["code", "message"],
    ),
    "subscribed": _schema(
        "subscribed",
        {
            "room": _STR,
            "group": {
                "type": "object",
                "required": ["slug", "name"],
                "additionalProperties": False,
                "properties": {"slug": _STR, "name": _STR},
            },
            "role": {"enum": ["member", "moderator", "organiser"]},
            "state": _STATE,
            "rules": {
                "type": "object",
                "required": ["version", "text", "accepted"],
                "additionalProperties": False,
                "properties": {
                    "version": _STR,
                    "text": _STR,
                    "accepted": {"type": "boolean"},
                    # The rules in the person's language where the group gave them;
                    # else the own text with its lang, dir and a note of its language.
                    "shown": {
                        "type": "object",
                        "required": ["text", "lang", "dir", "note"],
                        "additionalProperties": False,
                        "properties": {
                            "text": _STR,
                            "lang": _NSTR,
                            "dir": {"enum": ["ltr", "rtl", None]},
                            "note": _NSTR,
                        },
                    },
                },
            },
            "present": {"type": "array", "items": _MEMBER},
            "last_read": _INT,
            "latest_seq": _INT,
            "limited": {"type": "boolean"},
            "extra": {"type": "object"},
        },
        [
            "room",
            "group",
            "role",
            "state",
            "rules",
            "present",
            "last_read",
            "latest_seq",
            "limited",
        ],
    ),
    "synced": _schema("synced", {"room": _STR, "seq": _INT}, ["room", "seq"]),
    "unsubscribed": _schema("unsubscribed", {"room": _STR}, ["room"]),
    "history": _schema(
        "history",
        {
            "room": _STR,
            "before_seq": _INT,
            "messages": {
                "type": "array",
                "maxItems": HISTORY_PAGE_MAX,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": _MESSAGE_REQUIRED,
                    "properties": _MESSAGE_BODY,
                },
            },
            "more": {"type": "boolean"},
        },
        ["room", "before_seq", "messages", "more"],
    ),
    "presence": _schema(
        "presence",
        {
            "room": _STR,
            "joined": {"type": "array", "items": _MEMBER},
            "left": {"type": "array", "items": _STR},
        },
        ["room", "joined", "left"],
    ),
    "typing": _schema("typing", {"room": _STR, "user": _PERSON}, ["room", "user"]),
    "room": _schema("room", {"room": _STR, "state": _STATE}, ["room", "state"]),
    "rules.accepted": _schema(
        "rules.accepted", {"room": _STR, "version": _STR}, ["room", "version"]
    ),
    "read": _schema("read", {"room": _STR, "seq": _INT}, ["room", "seq"]),
    "pong": _schema("pong", {"ref": _STR}, []),
    "support": _schema(
        "support",
        {
            "room": _STR,
            "seq": _INT,
            "message": _STR,
            "contacts": {"type": "array", "items": {"type": "object"}},
        },
        ["room", "seq", "message", "contacts"],
    ),
    "alert": _schema(
        "alert",
        {"room": _STR, "kind": _STR, "seq": _INT, "sender": _PERSON},
        ["room", "kind", "seq", "sender"],
    ),
    "batch": _schema(
        "batch",
        {"frames": {"type": "array", "minItems": 1, "items": {"type": "object"}}},
        ["frames"],
    ),
}
