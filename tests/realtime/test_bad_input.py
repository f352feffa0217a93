"""Bad input: each problem gets an error frame naming it; the socket stays usable; nothing
is half-written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.realtime import protocol
from peerhub.realtime.models import Room, RoomMessage
from peerhub.realtime.protocol import ProtocolError
from tests.realtime.conftest import TEST_CONFIG, World

Sessions = async_sessionmaker[AsyncSession]

CASES: list[tuple[str | bytes, str, str]] = [
    ("{not json", "bad_json", "not valid JSON"),
    ("[1, 2, 3]", "bad_frame", "JSON object"),
    ('{"type": "ping"}', "bad_frame", "'v'"),
    ('{"v": 2, "type": "ping"}', "unsupported_version", "version 1"),
    ('{"v": 1}', "bad_frame", "'type'"),
    ('{"v": 1, "type": "teleport"}', "unknown_type", "'teleport'"),
    ('{"v": 1, "type": "send", "room": "r", "client_id": "abcdefgh"}', "bad_frame", "'body'"),
    ('{"v": 1, "type": "ping", "admin": true}', "bad_frame", "unexpected field 'admin'"),
    ('{"v": 1, "type": "history", "room": "r", "before_seq": "9"}', "bad_frame", "whole number"),
    ('{"v": 1, "type": "history", "room": "r", "before_seq": 0}', "bad_frame", "between"),
    ('{"v": 1, "type": "subscribe", "room": "../etc"}', "bad_frame", "not allowed"),
    (
        '{"v": 1, "type": "send", "room": "r", "client_id": "short", "body": "x"}',
        "bad_frame",
        "'client_id'",
    ),
    (b"\x00\x01binary", "bad_frame", "text"),
    # Nothing a database cannot store (the field is named), and, through the one JSON
    # reader (peerhub/inputs.py), no NaN.
    (
        '{"v": 1, "type": "send", "room": "r", "client_id": "abcdefgh", "body": "hi \\ud800"}',
        "bad_frame",
        "'body' has a character that cannot be saved",
    ),
    ('{"v": 1, "type": "history", "room": "r", "before_seq": NaN}', "bad_frame", "NaN"),
    ('{"v": 1, "type": "ping", "x": ' + "[" * 30 + "]" * 30 + "}", "bad_frame", "nested"),
]


@pytest.mark.parametrize(("raw", "code", "names"), CASES)
def test_decode_names_the_problem(raw: str | bytes, code: str, names: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(raw)
    assert caught.value.code == code
    assert names in caught.value.message


def test_decode_accepts_a_good_frame_and_keeps_ref() -> None:
    frame = protocol.decode(
        '{"v":1,"type":"send","room":"r1","client_id":"abcdefgh","body":"hi","ref":"7"}'
    )
    assert frame.type == "send" and frame.ref == "7"
    assert frame.fields == {"room": "r1", "client_id": "abcdefgh", "body": "hi"}


def test_oversized_and_empty_text_are_named() -> None:
    body = "é" * (protocol.MAX_BODY + 1)
    with pytest.raises(ProtocolError) as caught:
        protocol.decode(
            json.dumps({"v": 1, "type": "send", "room": "r", "client_id": "abcdefgh", "body": body})
        )
    assert caught.value.code == "too_long"
    with pytest.raises(ProtocolError) as caught:
        protocol.decode('{"v":1,"type":"send","room":"r","client_id":"abcdefgh","body":" \\n "}')
    assert caught.value.code == "bad_frame" and "empty" in caught.value.message
    ok = protocol.decode(
        json.dumps(
            {"v": 1, "type": "send", "room": "r", "client_id": "abcdefgh", "body": "é" * 4000}
        )
    )
    assert len(ok.text("body")) == 4000


async def test_every_bad_frame_gets_an_error_and_the_socket_stays_usable(
    connect_as: Any, world: World, sessions: Sessions
) -> None:
    ana = await connect_as("ana")
    await ana.join(world.group_id)
    for raw, code, _ in CASES:
        await ana.raw(raw)
        error = await ana.expect("error")
        assert error["code"] == code, (raw, error)
    too_long = json.dumps(
        {
            "v": 1,
            "type": "send",
            "room": world.group_id,
            "client_id": "toolong-0001",
            "body": "x" * 4001,
            "ref": "big",
        }
    )
    await ana.raw(too_long)
    assert (await ana.expect("error", ref="big"))["code"] == "too_long"
    await ana.send("send", room=world.group_id, client_id="extra-000001", body="hi", seq=5)
    assert (await ana.expect("error"))["code"] == "bad_frame"
    # Still usable, and nothing above was written.
    ack = await ana.say(world.group_id, "all good", "good-0000001")
    assert ack["seq"] == 1
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RoomMessage)) == 1
        assert await db.scalar(select(Room.next_seq)) == 2


async def test_a_flood_of_bad_frames_closes_the_socket(connect_as: Any, world: World) -> None:
    ana = await connect_as("ana")
    for _ in range(TEST_CONFIG.error_burst + 2):
        await ana.raw("nope")
    assert (await ana.closed())[0] == 1008


async def test_sending_to_an_unsubscribed_room_names_the_problem(
    connect_as: Any, world: World
) -> None:
    ana = await connect_as("ana")
    await ana.send("send", room=world.group_id, client_id="nosub-000001", body="hi")
    # Ana is a member, but this socket has not subscribed: the same answer as after
    # unsubscribing (and as for typing), whatever the room.
    error = await ana.expect("error", client_id="nosub-000001")
    assert error["code"] == "not_subscribed"
    await ana.join(world.group_id)
    await ana.send("unsubscribe", room=world.group_id)
    await ana.expect("unsubscribed", room=world.group_id)
    await ana.send("send", room=world.group_id, client_id="nosub-000002", body="hi")
    assert (await ana.expect("error", client_id="nosub-000002"))["code"] == "not_subscribed"
