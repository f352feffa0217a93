"""The seam for moderation: a test extension that refuses, holds, flags, hides, and adds
its own frame type and control op, all without touching the core."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
from msgspec import Meta
from sqlalchemy import Insert

from peerhub.config import Settings
from peerhub.models import GroupRole
from peerhub.realtime import protocol
from peerhub.realtime.policy import (
    Classification,
    FrameContext,
    Registry,
    SendContext,
    SubscribeContext,
    Verdict,
)
from peerhub.realtime.protocol import TEXT_PATTERN, ClientFrame, MessageView, RoomId
from tests.conftest import FakeClock
from tests.realtime.conftest import RTServer, World, in_server


class Announce(ClientFrame, tag="test.announce"):
    room: RoomId
    text: Annotated[str, Meta(max_length=200, pattern=TEXT_PATTERN)]


class NoRoom(ClientFrame, tag="mod.x"):
    pass


@dataclass
class FakeModeration:
    """Stands in for the moderation toolkit."""

    timed_out: set[str] = field(default_factory=set)
    committed: list[tuple[str, int, str]] = field(default_factory=list)
    hidden: dict[str, set[str]] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)

    def setup(self, registry: Registry) -> None:
        registry.register_policy(self)
        registry.register_handler(
            "test.announce",
            self.announce,
            Announce,
            min_rank=GroupRole.MODERATOR,
        )
        registry.register_control("test.flag", self.flags.append)

    async def check_send(self, ctx: SendContext) -> Verdict:
        if ctx.socket.user_id in self.timed_out:
            return Verdict.refuse("timed_out", "You are timed out for a while.", retry_after=30)
        return Verdict.allow()

    async def classify(self, ctx: SendContext, body: str) -> Classification:
        return Classification(
            status="held" if "[hold]" in body else "visible",
            crisis="[crisis]" in body,
            note="A moderator will look at this first." if "[hold]" in body else None,
        )

    def rows_for(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> Sequence[Insert]:
        return ()

    async def on_committed(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> None:
        self.committed.append((message.room, message.seq, message.status))

    async def on_subscribe(self, ctx: SubscribeContext) -> None:
        ctx.extra["pinned"] = "Welcome to the room."
        ctx.socket.hidden_senders.update(self.hidden.get(ctx.socket.user_id, set()))

    async def announce(self, ctx: FrameContext) -> None:
        assert ctx.room_id is not None and ctx.rank >= GroupRole.MODERATOR
        seq = await ctx.api.append_event(
            ctx.room_id, {"event": "announcement", "text": ctx.frame.text("text")}
        )
        ctx.api.send_to_moderators(
            ctx.room_id, protocol.alert(ctx.room_id, "announced", seq, protocol.Person("x", "X"))
        )
        ctx.api.publish_control("test.flag", {"seq": seq})


@pytest.fixture
def moderation() -> FakeModeration:
    return FakeModeration()


@pytest.fixture
def mod_server(
    rt_settings: Settings, rt_clock: FakeClock, world: World, moderation: FakeModeration
) -> Iterator[RTServer]:
    with RTServer(rt_settings, clock=rt_clock, extensions=(moderation,)) as srv:
        yield srv


async def open_all(server: RTServer, world: World, *names: str) -> list[Any]:
    from tests.realtime.conftest import Client

    out = []
    for name in names:
        client = await Client.open(server, world.tokens[name])
        await client.join(world.group_id)
        out.append(client)
    return out


async def test_check_send_refuses_with_its_own_code_and_retry_after(
    mod_server: RTServer, world: World, moderation: FakeModeration
) -> None:
    (ana,) = await open_all(mod_server, world, "ana")
    moderation.timed_out.add(world.users["ana"])
    await ana.send("send", room=world.group_id, client_id="timeout-0001", body="hi")
    error = await ana.expect("error", client_id="timeout-0001")
    assert error["code"] == "timed_out" and error["retry_after"] == 30
    moderation.timed_out.clear()
    await ana.say(world.group_id, "hi", "timeout-0001")
    # A retry of a message that was committed before a time-out still gets its ack.
    moderation.timed_out.add(world.users["ana"])
    again = await ana.say(world.group_id, "hi", "timeout-0001")
    assert again["duplicate"] is True
    await ana.close()


async def test_held_messages_reach_only_the_writer_and_moderators(
    mod_server: RTServer, world: World, moderation: FakeModeration
) -> None:
    ana, ben, mo = await open_all(mod_server, world, "ana", "ben", "mo")
    ack = await ana.say(world.group_id, "[hold] is this ok?", "held-0000001")
    assert ack["status"] == "held"
    assert (await ana.expect("message", client_id="held-0000001"))["status"] == "held"
    assert (await mo.expect("message", client_id="held-0000001"))["status"] == "held"
    await ana.say(world.group_id, "visible one", "held-0000002")
    after = await ben.expect("message", client_id="held-0000002")
    assert after["seq"] == ack["seq"] + 1
    assert not [f for f in ben.seen if f.get("client_id") == "held-0000001"]
    # Not in Ben's history or resume either, but in the moderator's.
    await ben.send("history", room=world.group_id, before_seq=10)
    assert [m["client_id"] for m in (await ben.expect("history"))["messages"]] == ["held-0000002"]
    await mo.send("history", room=world.group_id, before_seq=10)
    assert len((await mo.expect("history"))["messages"]) == 2
    assert (world.group_id, ack["seq"], "held") in moderation.committed
    for client in (ana, ben, mo):
        await client.close()


async def test_a_crisis_message_is_posted_and_gets_support_and_an_alert(
    mod_server: RTServer, world: World
) -> None:
    ana, ben, mo = await open_all(mod_server, world, "ana", "ben", "mo")
    ack = await ana.say(world.group_id, "[crisis] I can't go on", "crisis-00001")
    assert ack["status"] == "visible"
    support = await ana.expect("support", room=world.group_id)
    assert support["seq"] == ack["seq"]
    assert any("116 123" in c["how"] for c in support["contacts"])
    alert = await mo.expect("alert", room=world.group_id, kind="crisis")
    assert alert["sender"]["id"] == world.users["ana"] and alert["seq"] == ack["seq"]
    assert (await ben.expect("message", client_id="crisis-00001"))["status"] == "visible"
    assert not [f for f in ben.seen if f["type"] in ("alert", "support")]
    for client in (ana, ben, mo):
        await client.close()


async def test_subscribe_hook_adds_extra_and_hides_senders(
    mod_server: RTServer, world: World, moderation: FakeModeration
) -> None:
    moderation.hidden[world.users["ben"]] = {world.users["ana"]}
    ana, ben, cat = await open_all(mod_server, world, "ana", "ben", "cat")
    sub = next(f for f in ben.seen if f["type"] == "subscribed")
    assert sub["extra"]["pinned"] == "Welcome to the room."  # beside the real toolkit's
    await ana.say(world.group_id, "ben has muted me", "muted-000001")
    await cat.say(world.group_id, "but not me", "muted-000002")
    await ben.expect("message", client_id="muted-000002")
    assert not [f for f in ben.seen if f.get("client_id") == "muted-000001"]
    await cat.expect("message", client_id="muted-000001")
    for client in (ana, ben, cat):
        await client.close()


async def test_registered_frames_are_validated_and_rank_checked(
    mod_server: RTServer, world: World, moderation: FakeModeration
) -> None:
    ana, mo = await open_all(mod_server, world, "ana", "mo")
    await ana.send("test.announce", room=world.group_id, text="hello")
    assert (await ana.expect("error", room=world.group_id))["code"] == "forbidden"
    await mo.send("test.announce", room=world.group_id, text="x" * 201)
    assert (await mo.expect("error"))["code"] == "too_long"
    await mo.send("test.announce", room=world.group_id, text="Session starts soon")
    event = await ana.expect("message", kind="system")
    assert event["data"] == {"event": "announcement", "text": "Session starts soon"}
    await mo.expect("alert", kind="announced")
    assert moderation.flags == [{"seq": event["seq"]}]
    assert not [f for f in ana.seen if f["type"] == "alert"]
    out = await in_server(mod_server, lambda: _rank_of(mod_server, world))
    assert out == GroupRole.MEMBER
    for client in (ana, mo):
        await client.close()


async def _rank_of(server: RTServer, world: World) -> GroupRole:
    peer = next(iter(server.rt.hub.peers_of(world.users["ana"])))
    return peer.rank(world.group_id)


def test_core_frame_types_cannot_be_taken_over() -> None:
    registry = Registry()
    with pytest.raises(ValueError, match="already handled"):
        registry.register_handler("send", _noop, protocol.Send)
    with pytest.raises(ValueError, match="'room'"):
        registry.register_handler("mod.x", _noop, NoRoom)
    with pytest.raises(ValueError, match="core"):
        registry.register_control("core.close_user", lambda p: None)


async def _noop(ctx: FrameContext) -> None:
    return None
