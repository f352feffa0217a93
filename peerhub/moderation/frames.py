"""The moderation toolkit's frames: client frame specs, server frame builders and
their JSON Schemas (the tests hold every received frame to them). docs/protocol.md
("Moderation") is the contract."""

from __future__ import annotations

import re
from typing import Any

from peerhub.moderation.models import PHRASE_LIMIT, REASON_LIMIT, WORDS_LIMIT
from peerhub.realtime import protocol
from peerhub.realtime.protocol import ID_RE, ROOM, Bool, Int, Spec, Str, dumps

USER = Str(36, pattern=ID_RE)
SEQ = Int(lo=1)
REASON = Str(REASON_LIMIT, min_len=0, required=False)
NAME_RE = re.compile(r"^[a-z_]{1,20}$")

# type -> (field spec, minimum rank name, needs a room)
CLIENT: dict[str, tuple[Spec, str, bool]] = {
    "mod.queue": ({"room": ROOM}, "moderator", True),
    "mod.timeout": (
        {"room": ROOM, "user": USER, "minutes": Int(lo=1, hi=10080), "reason": REASON},
        "moderator",
        True,
    ),
    "mod.untimeout": ({"room": ROOM, "user": USER}, "moderator", True),
    "mod.remove": ({"room": ROOM, "user": USER, "reason": REASON}, "moderator", True),
    "mod.ban": ({"room": ROOM, "user": USER, "reason": REASON}, "moderator", True),
    "mod.unban": ({"room": ROOM, "user": USER}, "moderator", True),
    "mod.redact": ({"room": ROOM, "seq": SEQ, "reason": REASON}, "moderator", True),
    "mod.approve": ({"room": ROOM, "seq": SEQ}, "moderator", True),
    "mod.reject": ({"room": ROOM, "seq": SEQ, "reason": REASON}, "moderator", True),
    "mod.slow": ({"room": ROOM, "seconds": Int(lo=0, hi=3600)}, "moderator", True),
    "mod.lock": ({"room": ROOM, "locked": Bool(), "reason": REASON}, "moderator", True),
    "mod.pin": ({"room": ROOM, "text": Str(REASON_LIMIT, text=True)}, "moderator", True),
    "mod.unpin": ({"room": ROOM}, "moderator", True),
    "mod.hold_words": (
        {"room": ROOM, "words": Str(4000, min_len=0)},
        "moderator",
        True,
    ),
    "mod.resolve": (
        {
            "room": ROOM,
            "report": Str(36, pattern=ID_RE),
            "outcome": Str(12, pattern=NAME_RE),
            "note": REASON,
        },
        "moderator",
        True,
    ),
    "mod.alert_done": ({"room": ROOM, "alert": Str(36, pattern=ID_RE)}, "moderator", True),
    "report.create": (
        {
            "room": ROOM,
            "seq": Int(lo=1, required=False),
            "user": Str(36, pattern=ID_RE, required=False),
            "category": Str(20, pattern=NAME_RE),
            "words": Str(WORDS_LIMIT, min_len=0, required=False),
        },
        "member",
        True,
    ),
    "me.controls": ({}, "member", False),
    "me.mute": (
        {"kind": Str(8, pattern=NAME_RE), "value": Str(PHRASE_LIMIT)},
        "member",
        False,
    ),
    "me.unmute": (
        {"kind": Str(8, pattern=NAME_RE), "value": Str(PHRASE_LIMIT)},
        "member",
        False,
    ),
    "me.block": ({"user": USER}, "member", False),
    "me.unblock": ({"user": USER}, "member", False),
}


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
