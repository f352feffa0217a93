"""The moderator console's ``mod.queue`` frame: one item of every kind, built by
queue_of, is exactly the JSON the console reads, decodes into its struct and is valid
against the generated JSON Schema (docs/protocol-schema.json)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.models import Group, GroupMember, Organisation, User
from peerhub.moderation import frames
from peerhub.moderation.models import (
    CrisisAlert,
    ModerationEvent,
    Report,
    RoomModeration,
    Sanction,
)
from peerhub.moderation.queries import queue_of
from peerhub.realtime import writer
from peerhub.realtime.models import RoomMessage
from peerhub.sharing import rules as sharing
from peerhub.sharing.models import CrisisPlan
from peerhub.sharing.rules import PLAN_FIELDS
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]

Sessions = async_sessionmaker[AsyncSession]


async def _console(sessions: Sessions, clock: FakeClock) -> tuple[str, dict[str, str]]:
    """A room with an open report on a message, a held message, an unseen crisis alert
    whose author shared their crisis plan with the moderators, a member under a
    time-out, a banned person and an audit line."""
    now = clock()
    ids: dict[str, str] = {}
    async with sessions() as db, db.begin():
        org = Organisation(slug="valley", name="Valley Peers", verified_at=now)
        db.add(org)
        await db.flush()
        group = Group(
            slug="sunday-circle",
            name="Sunday Circle",
            organisation_id=org.id,
            format="online",
            dtstart_local="2026-11-01T10:00:00",
            rrule="FREQ=WEEKLY;BYDAY=SU",
            time_zone="Europe/London",
        )
        db.add(group)
        await db.flush()
        room = group.id
        for name in ("ana", "ben", "cat", "mo"):
            user = User(pseudonym=name.title(), pseudonym_key=name, password_hash="x")
            db.add(user)
            await db.flush()
            ids[name] = user.id
        for name, role in (("ana", "member"), ("ben", "member"), ("mo", "moderator")):
            db.add(GroupMember(group_id=room, user_id=ids[name], role=role))
        await writer.ensure_room(db, room)
        for seq, sender, body, status in (
            (1, "ben", "you are all useless", "visible"),
            (2, "ana", "I cannot go on", "visible"),
            (3, "ana", "here is my number", "held"),
        ):
            db.add(
                RoomMessage(
                    room_id=room,
                    seq=seq,
                    sender_id=ids[sender],
                    client_id=f"client-{seq:04d}",
                    body=body,
                    status=status,
                    created_at=now,
                )
            )
        db.add(
            Report(
                group_id=room,
                reporter_id=ids["ana"],
                subject_id=ids["ben"],
                message_seq=1,
                category="unkind",
                words="Not the first time",
                created_at=now,
            )
        )
        db.add(CrisisAlert(group_id=room, user_id=ids["ana"], message_seq=2, created_at=now))
        db.add(
            CrisisPlan(
                user_id=ids["ana"],
                early_signs="I stop answering texts",
                what_helps="A walk and a cup of tea",
            )
        )
        ana = await db.get(User, ids["ana"])
        assert ana is not None
        await sharing.set_group_choices(db, ana, room, {("moderators", "crisis_plan")}, now)
        db.add(
            Sanction(
                group_id=room,
                user_id=ids["ben"],
                kind="timeout",
                until=now + timedelta(minutes=10),
                reason="Cool off",
                created_by=ids["mo"],
            )
        )
        db.add(Sanction(group_id=room, user_id=ids["cat"], kind="ban", created_by=ids["mo"]))
        db.add(
            ModerationEvent(
                group_id=room,
                at=now,
                actor_id=ids["mo"],
                action="timeout",
                subject_id=ids["ben"],
                reason="Cool off",
                detail={"minutes": 10},
            )
        )
        db.add(RoomModeration(room_id=room, slow_mode_seconds=30, hold_phrases=["my number"]))
    return room, ids


async def test_a_queue_with_every_kind_of_item_is_the_wire_its_struct_and_schema_say(
    sessions: Sessions, clock: FakeClock
) -> None:
    room, ids = await _console(sessions, clock)
    async with sessions() as db:
        contents = await queue_of(db, room, clock())
    raw = frames.queue(contents)
    wire = json.loads(raw)

    def person(name: str) -> dict[str, str]:
        return {"id": ids[name], "name": name.title()}

    at = "2026-11-02T09:00:00.000Z"
    # What moderator.js reads: every key always there, null where there is nothing.
    assert wire == {
        "v": 1,
        "type": "mod.queue",
        "room": room,
        "reports": [
            {
                "id": contents.reports[0].id,
                "reporter": person("ana"),
                "subject": person("ben"),
                "message": {"seq": 1, "body": "you are all useless", "status": "visible"},
                "category": "unkind",
                "category_text": "Unkind, bullying or harassing",
                "words": "Not the first time",
                "at": at,
            }
        ],
        "held": [{"seq": 3, "sender": person("ana"), "body": "here is my number", "at": at}],
        "alerts": [
            {
                "id": contents.alerts[0].id,
                "person": person("ana"),
                "message": {"seq": 2, "body": "I cannot go on", "status": "visible"},
                "crisis_plan": {
                    "early_signs": "I stop answering texts",
                    "what_helps": "A walk and a cup of tea",
                    "what_does_not_help": "",
                    "who_to_contact": "",
                    "dependants": "",
                },
                "at": at,
                "opened_by": None,
                "level": 0,
            }
        ],
        "members": [
            {**person("ana"), "role": "member", "timed_out_until": None},
            {**person("ben"), "role": "member", "timed_out_until": "2026-11-02T09:10:00.000Z"},
            {**person("mo"), "role": "moderator", "timed_out_until": None},
        ],
        "banned": [person("cat")],
        "settings": {
            "slow_mode_seconds": 30,
            "locked": False,
            "pinned": None,
            "hold_words": ["my number"],
            "newcomer_messages": 0,
        },
        "audit": [
            {
                "id": 1,
                "at": at,
                "actor": person("mo"),
                "action": "timeout",
                "subject": person("ben"),
                "seq": None,
                "reason": "Cool off",
                "detail": {"minutes": 10},
            }
        ],
    }
    # Decoded by its struct (which refuses unknown and missing fields) it is the same
    # frame again, and valid against the schema generated from that struct.
    fields = {k: v for k, v in wire.items() if k not in ("v", "type")}
    decoded = msgspec.convert(fields, frames.QueueFrame)
    assert decoded == contents
    assert frames.queue(decoded) == raw
    schema = frames.server_schemas()["mod.queue"]
    jsonschema.Draft202012Validator(schema).validate(wire)
    # ... and as docs/protocol-schema.json has it.
    document = json.loads((ROOT / "docs" / "protocol-schema.json").read_text(encoding="utf-8"))
    on_file = {**document["server"]["mod.queue"], "$defs": document["$defs"]}
    jsonschema.Draft202012Validator(on_file).validate(wire)


def test_the_schema_refuses_a_queue_item_with_a_key_too_many_or_missing() -> None:
    validator = jsonschema.Draft202012Validator(frames.server_schemas()["mod.queue"])
    settings: dict[str, Any] = {
        "slow_mode_seconds": 0,
        "locked": False,
        "pinned": None,
        "hold_words": [],
        "newcomer_messages": 0,
    }
    empty = {"v": 1, "type": "mod.queue", "room": "r1", "reports": [], "held": [], "alerts": []}
    empty |= {"members": [], "banned": [], "settings": settings, "audit": []}
    validator.validate(empty)
    assert not validator.is_valid({**empty, "settings": {**settings, "extra": 1}})
    held = {"seq": 1, "sender": None, "body": "hi", "at": "2026-11-02T09:00:00.000Z"}
    validator.validate({**empty, "held": [held]})
    assert not validator.is_valid({**empty, "held": [{k: v for k, v in held.items() if k != "at"}]})
    plan = dict.fromkeys(("early_signs", "what_helps"), "x")
    alert = {
        "id": "a1",
        "person": None,
        "message": None,
        "crisis_plan": plan,
        "at": "x",
        "opened_by": None,
        "level": 0,
    }
    assert not validator.is_valid({**empty, "alerts": [alert]})  # a plan has all its parts


def test_a_shared_crisis_plan_has_the_parts_the_sharing_code_gives() -> None:
    assert frames.SharedCrisisPlan.__struct_fields__ == tuple(PLAN_FIELDS)
