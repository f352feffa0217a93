"""The moderation toolkit's frames: the client frames' structs, the server frames'
structs and their builders. Both sides' JSON Schemas are generated from the structs
(docs/protocol-schema.json; the tests hold every received frame to them).
docs/protocol.md ("Moderation frames") is the contract."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, ClassVar, Final

from msgspec import UNSET, Meta, UnsetType

from peerhub.moderation.models import PHRASE_LIMIT, REASON_LIMIT, WORDS_LIMIT
from peerhub.realtime import protocol
from peerhub.realtime.protocol import (
    ID_RE,
    INT_MAX,
    MAX_BODY,
    TEXT_PATTERN,
    ClientFrame,
    Name,
    PublicPerson,
    RoomId,
    ServerFrame,
    Spec,
    Status,
    Wire,
    encode,
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


class ModAlertOpen(ClientFrame, tag="mod.alert_open"):
    """ "I'm on it": stops the alert's ladder (peerhub/duty/escalation.py)."""

    room: RoomId
    alert: ItemId


# One of check_in, signposted, emergency, supported, no_action (docs/protocol.md).
AlertOutcome = Annotated[str, Meta(min_length=1, max_length=20, pattern=NAME_RE.pattern)]


class ModAlertDone(ClientFrame, tag="mod.alert_done"):
    """Close the alert with what was done, and optional words for the record."""

    room: RoomId
    alert: ItemId
    outcome: AlertOutcome
    note: Reason = UNSET


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
                ModAlertOpen,
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


# --- server frames: one msgspec Struct each, as the core's (peerhub/realtime/protocol.py)
#
# encode() writes ``v`` and ``type`` first, then the struct's fields; fields left out
# when there is nothing to say default to UNSET (not sent); ``None`` is sent as null.
# Their schemas are generated into docs/protocol-schema.json (tools/protocol_schema.py).

Moment = str  # ISO 8601 UTC with milliseconds (protocol.iso)


# --- the console's contents (mod.queue): built by queries.queue_of --------------------
#
# Every key is always sent: what is not there is null (a person who left, a message no
# longer in the log, a crisis plan not shared with this audience).


class Excerpt(Wire):
    """A reported or alerting message as the log holds it now (redacted: no text)."""

    seq: MessageSeq
    body: Annotated[str, Meta(max_length=MAX_BODY)] | None
    status: Status


class QueuedReport(Wire):
    """An open report: who made it, about whom or which message, and their words."""

    id: str
    reporter: PublicPerson | None
    subject: PublicPerson | None
    message: Excerpt | None
    category: Category
    category_text: str  # the category in the moderator's language
    words: Annotated[str, Meta(max_length=WORDS_LIMIT)]
    at: Moment


class HeldMessage(Wire):
    """A message held for review: only its writer and the moderators see it."""

    seq: MessageSeq
    sender: PublicPerson | None
    body: Annotated[str, Meta(max_length=MAX_BODY)]
    at: Moment


class SharedCrisisPlan(Wire):
    """A person's crisis plan, in their words, as they shared it with this audience of
    the group (peerhub/sharing/rules.py: plan_dict, its PLAN_FIELDS in this order)."""

    early_signs: str
    what_helps: str
    what_does_not_help: str
    who_to_contact: str
    dependants: str


class QueuedAlert(Wire):
    """A crisis alert no moderator has marked seen; the plan only if it was shared."""

    id: str
    person: PublicPerson | None
    message: Excerpt | None
    crisis_plan: SharedCrisisPlan | None
    at: Moment
    # Who said "I'm on it" first (null: nobody yet), and how far up the ladder it has
    # gone: 0 the moderators, 1 the organisers, 2 the safeguarding leads.
    opened_by: PublicPerson | None
    level: Annotated[int, Meta(ge=0)]


class QueuedMember(Wire):
    """A member of the group, and until when they are timed out (null: they are not)."""

    id: str
    name: Name
    role: Annotated[str, Meta(extra_json_schema={"enum": ["member", "moderator"]})]
    timed_out_until: Moment | None


class QueueSettings(Wire):
    """The room's moderation settings, and how many first messages of a new member the
    group holds (set on the group's form; 0: none)."""

    slow_mode_seconds: Annotated[int, Meta(ge=0)]
    locked: bool
    pinned: str | None
    hold_words: list[str]
    newcomer_messages: Annotated[int, Meta(ge=0)]


class AuditEntry(Wire):
    """A line of the room's moderation log (also the organisers' audit page's rows)."""

    id: Annotated[int, Meta(ge=1)]
    at: Moment
    actor: PublicPerson | None
    action: str
    subject: PublicPerson | None
    seq: MessageSeq | None
    reason: str
    detail: dict[str, Any]


class DoneFrame(ServerFrame, kw_only=True):
    """A moderation action or personal control succeeded: what it was, and what it
    acted on (the fields its action has)."""

    TYPE: ClassVar[str] = "done"
    action: str
    ref: str | UnsetType = UNSET
    room: str | UnsetType = UNSET
    user: str | UnsetType = UNSET
    until: Moment | UnsetType = UNSET
    seq: MessageSeq | UnsetType = UNSET
    seconds: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    locked: bool | UnsetType = UNSET
    count: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    report: str | UnsetType = UNSET
    alert: str | UnsetType = UNSET


class QueueFrame(ServerFrame, kw_only=True):
    """The moderator console's contents for a room (peerhub/moderation/queries.py)."""

    TYPE: ClassVar[str] = "mod.queue"
    room: str
    reports: list[QueuedReport]
    held: list[HeldMessage]
    alerts: list[QueuedAlert]
    members: list[QueuedMember]
    banned: list[PublicPerson]
    settings: QueueSettings
    audit: list[AuditEntry]


class ChangedFrame(ServerFrame, kw_only=True):
    """To the room's moderators: the console's queue changed; read it again."""

    TYPE: ClassVar[str] = "mod.changed"
    room: str
    what: str


class ReportReceivedFrame(ServerFrame, kw_only=True):
    TYPE: ClassVar[str] = "report.received"
    room: str
    report: str
    ref: str | UnsetType = UNSET


class ReportHandledFrame(ServerFrame, kw_only=True):
    """To the reporter: a moderator resolved their report."""

    TYPE: ClassVar[str] = "report.handled"
    room: str
    report: str
    outcome: Annotated[str, Meta(extra_json_schema={"enum": ["action", "no_action"]})]
    at: Moment | None


class SanctionFrame(ServerFrame, kw_only=True):
    """To the person: they were timed out (or it was lifted: kind ``lifted``)."""

    TYPE: ClassVar[str] = "sanction"
    room: str
    kind: Annotated[str, Meta(extra_json_schema={"enum": ["timeout", "lifted"]})]
    until: Moment | None
    reason: str


class ControlsFrame(ServerFrame, kw_only=True):
    """The person's own mutes and blocks."""

    TYPE: ClassVar[str] = "me.controls"
    muted_words: list[str]
    muted_people: list[PublicPerson]
    blocked: list[PublicPerson]


SERVER: Final[dict[str, type[ServerFrame]]] = {
    cls.TYPE: cls
    for cls in (
        DoneFrame,
        QueueFrame,
        ChangedFrame,
        ReportReceivedFrame,
        ReportHandledFrame,
        SanctionFrame,
        ControlsFrame,
    )
}


def _people(items: list[dict[str, str]]) -> list[PublicPerson]:
    return [PublicPerson(item["id"], item["name"]) for item in items]


def done(action: str, *, ref: str | None, room: str | None, **more: Any) -> bytes:
    """``more``: the fields of the action's outcome (user, until, seq, ...)."""
    return encode(
        DoneFrame(
            action=action,
            ref=UNSET if ref is None else ref,
            room=UNSET if room is None else room,
            **more,
        )
    )


def queue(contents: QueueFrame) -> bytes:
    """The console's contents (queries.queue_of builds them)."""
    return encode(contents)


def changed(room: str, what: str) -> bytes:
    """To the room's moderators: the console's queue changed; read it again."""
    return encode(ChangedFrame(room=room, what=what))


def report_received(room: str, report_id: str, ref: str | None) -> bytes:
    return encode(ReportReceivedFrame(room=room, report=report_id, ref=ref or UNSET))


def report_handled(room: str, report_id: str, outcome: str, at: str | None) -> bytes:
    return encode(ReportHandledFrame(room=room, report=report_id, outcome=outcome, at=at))


def sanction(room: str, kind: str, until: str | None, reason: str) -> bytes:
    """To the person: they were timed out (or it was lifted: kind ``lifted``)."""
    return encode(SanctionFrame(room=room, kind=kind, until=until, reason=reason))


def controls(body: dict[str, Any]) -> bytes:
    return encode(
        ControlsFrame(
            muted_words=body["muted_words"],
            muted_people=_people(body["muted_people"]),
            blocked=_people(body["blocked"]),
        )
    )


@functools.cache
def server_schemas() -> dict[str, dict[str, Any]]:
    """Each of these server frames' JSON Schema, with the ``$defs`` it may use (the
    tests check every frame they receive against it)."""
    document = protocol.schemas(server=SERVER)
    every = protocol.validators_schemas(document, "server")
    return {name: every[name] for name in SERVER}
