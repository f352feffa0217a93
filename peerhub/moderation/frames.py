"""The moderation toolkit's frames: client frame specs, server frame builders and
their JSON Schemas (the tests hold every received frame to them). docs/protocol.md
("Moderation") is the contract."""

from __future__ import annotations

import re
from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from peerhub.moderation.models import PHRASE_LIMIT, REASON_LIMIT, WORDS_LIMIT
from peerhub.realtime import protocol
from peerhub.realtime.protocol import (
    ID_RE,
    INT_MAX,
    TEXT_PATTERN,
    ClientFrame,
    RoomId,
    Spec,
    dumps,
    frame_type_of,
)

NAME_RE = re.compile(r"^[a-z_]{1,20}$")
UserId = Annotated[str, Meta(min_length=1, max_length=36, pattern=ID_RE.pattern)]
ItemId = UserId  # a report's or an alert's id
MessageSeq = Annotated[int, Meta(ge=1, le=INT_MAX)]
Reason = Annotated[str, Meta(max_length=REASON_LIMIT)] | UnsetType
PinText = Annotated[str, Meta(max_length=REASON_LIMIT, pattern=TEXT_PATTERN)]
Outcome = Annotated[str, Meta(min_length=1, max_length=12, pattern=NAME_RE.pattern)]
Category = Annotated[str, Meta(min_length=1, max_length=20, pattern=NAME_RE.pattern)]
MuteKind = Annotated[str, Meta(min_length=1, max_length=8, pattern=NAME_RE.pattern)]
Phrase = Annotated[str, Meta(min_length=1, max_length=PHRASE_LIMIT)]


class ModQueue(ClientFrame, tag="mod.queue"):
    room: RoomId


class ModTimeout(ClientFrame, tag="mod.timeout"):
    room: RoomId
    user: UserId
    minutes: Annotated[int, Meta(ge=1, le=10080)]
    reason: Reason = UNSET


class ModUntimeout(ClientFrame, tag="mod.untimeout"):
    room: RoomId
    user: UserId


class ModRemove(ClientFrame, tag="mod.remove"):
    room: RoomId
    user: UserId
    reason: Reason = UNSET


class ModBan(ClientFrame, tag="mod.ban"):
    room: RoomId
    user: UserId
    reason: Reason = UNSET


class ModUnban(ClientFrame, tag="mod.unban"):
    room: RoomId
    user: UserId


class ModRedact(ClientFrame, tag="mod.redact"):
    room: RoomId
    seq: MessageSeq
    reason: Reason = UNSET


class ModApprove(ClientFrame, tag="mod.approve"):
    room: RoomId
    seq: MessageSeq


class ModReject(ClientFrame, tag="mod.reject"):
    room: RoomId
    seq: MessageSeq
    reason: Reason = UNSET


class ModSlow(ClientFrame, tag="mod.slow"):
    room: RoomId
    seconds: Annotated[int, Meta(ge=0, le=3600)]


class ModLock(ClientFrame, tag="mod.lock"):
    room: RoomId
    locked: bool
    reason: Reason = UNSET


class ModPin(ClientFrame, tag="mod.pin"):
    room: RoomId
    text: PinText


class ModUnpin(ClientFrame, tag="mod.unpin"):
    room: RoomId


class ModHoldWords(ClientFrame, tag="mod.hold_words"):
    room: RoomId
    words: Annotated[str, Meta(max_length=4000)]


class ModResolve(ClientFrame, tag="mod.resolve"):
    room: RoomId
    report: ItemId
    outcome: Outcome
    note: Reason = UNSET


class ModAlertDone(ClientFrame, tag="mod.alert_done"):
    room: RoomId
    alert: ItemId


class ReportCreate(ClientFrame, tag="report.create", kw_only=True):
    room: RoomId
    seq: MessageSeq | UnsetType = UNSET
    user: UserId | UnsetType = UNSET
    category: Category
    words: Annotated[str, Meta(max_length=WORDS_LIMIT)] | UnsetType = UNSET


class MeControls(ClientFrame, tag="me.controls"):
    pass


class MeMute(ClientFrame, tag="me.mute"):
    kind: MuteKind
    value: Phrase


class MeUnmute(ClientFrame, tag="me.unmute"):
    kind: MuteKind
    value: Phrase


class MeBlock(ClientFrame, tag="me.block"):
    user: UserId


class MeUnblock(ClientFrame, tag="me.unblock"):
    user: UserId


def _client(spec: Spec, rank: str, room: bool) -> tuple[str, tuple[Spec, str, bool]]:
    return frame_type_of(spec), (spec, rank, room)


# type -> (struct, minimum rank name, needs a room)
CLIENT: dict[str, tuple[Spec, str, bool]] = dict(
    [
        *(
            _client(spec, "moderator", True)
            for spec in (
                ModQueue,
                ModTimeout,
                ModUntimeout,
                ModRemove,
                ModBan,
                ModUnban,
                ModRedact,
                ModApprove,
                ModReject,
                ModSlow,
                ModLock,
                ModPin,
                ModUnpin,
                ModHoldWords,
                ModResolve,
                ModAlertDone,
            )
        ),
        _client(ReportCreate, "member", True),
        *(
            _client(spec, "member", False)
            for spec in (MeControls, MeMute, MeUnmute, MeBlock, MeUnblock)
        ),
    ]
)


def _f(frame_type: str, /, **fields: Any) -> bytes:
    return dumps({"v": protocol.VERSION, "type": frame_type, **fields})


def done(action: str, *, ref: str | None, room: str | None, **more: Any) -> bytes:
    fields: dict[str, Any] = {"action": action}
    if ref is not None:
        fields["ref"] = ref
    if room is not None:
        fields["room"] = room
    return _f("done", **fields, **more)


def queue(room: str, body: dict[str, Any]) -> bytes:
    return _f("mod.queue", room=room, **body)


def changed(room: str, what: str) -> bytes:
    """To the room's moderators: the console's queue changed; read it again."""
    return _f("mod.changed", room=room, what=what)


def report_received(room: str, report_id: str, ref: str | None) -> bytes:
    return _f("report.received", room=room, report=report_id, **({"ref": ref} if ref else {}))


def report_handled(room: str, report_id: str, outcome: str, at: str | None) -> bytes:
    return _f("report.handled", room=room, report=report_id, outcome=outcome, at=at)


def sanction(room: str, kind: str, until: str | None, reason: str) -> bytes:
    """To the person: they were timed out (or it was lifted: kind ``lifted``)."""
    return _f("sanction", room=room, kind=kind, until=until, reason=reason)


def controls(body: dict[str, Any]) -> bytes:
    return _f("me.controls", **body)


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}


def _schema(kind: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["v", "type", *required],
        "properties": {"v": {"const": protocol.VERSION}, "type": {"const": kind}, **props},
    }


_LIST = {"type": "array", "items": {"type": "object"}}
_STRINGS = {"type": "array", "items": _STR}

SCHEMAS: dict[str, dict[str, Any]] = {
    "done": {
        "type": "object",
        "required": ["v", "type", "action"],
        "properties": {
            "v": {"const": protocol.VERSION},
            "type": {"const": "done"},
            "action": _STR,
            "ref": _STR,
            "room": _STR,
        },
    },
    "mod.queue": _schema(
        "mod.queue",
        {
            "room": _STR,
            "reports": _LIST,
            "held": _LIST,
            "alerts": _LIST,
            "members": _LIST,
            "banned": _LIST,
            "settings": {"type": "object"},
            "audit": _LIST,
        },
        ["room", "reports", "held", "alerts", "members", "banned", "settings", "audit"],
    ),
    "mod.changed": _schema("mod.changed", {"room": _STR, "what": _STR}, ["room", "what"]),
    "report.received": _schema(
        "report.received", {"room": _STR, "report": _STR, "ref": _STR}, ["room", "report"]
    ),
    "report.handled": _schema(
        "report.handled",
        {
            "room": _STR,
            "report": _STR,
            "outcome": {"enum": ["action", "no_action"]},
            "at": _NSTR,
        },
        ["room", "report", "outcome", "at"],
    ),
    "sanction": _schema(
        "sanction",
        {
            "room": _STR,
            "kind": {"enum": ["timeout", "lifted"]},
            "until": _NSTR,
            "reason": _STR,
        },
        ["room", "kind", "until", "reason"],
    ),
    "me.controls": _schema(
        "me.controls",
        {
            "muted_words": _STRINGS,
            "muted_people": _LIST,
            "blocked": _LIST,
        },
        ["muted_words", "muted_people", "blocked"],
    ),
}
