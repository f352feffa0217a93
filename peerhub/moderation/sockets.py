"""The moderation frames' socket adapters: decode the frame, run the action in a
transaction, and only after its commit reply and publish what it asks for.

The core has already validated the frame against its struct (:mod:`.frames`) and
re-checked the sender's session and rank; the action checks the rank again in its own
transaction (as it does for any caller). A :class:`~.policy.Refused` becomes an
``error`` frame to the sender, and nothing was stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.moderation import actions, frames, queries
from peerhub.moderation.actions import (
    Actor,
    AppendEvent,
    Control,
    Effect,
    Outcome,
    Private,
    Revoke,
    RulesChanged,
    ToModerators,
)
from peerhub.moderation.policy import Refused
from peerhub.realtime import protocol
from peerhub.realtime.policy import FrameContext, FrameHandler, RealtimeAPI

# The action a frame asks for, given the frame, the transaction's session and the actor.
Act = Callable[[FrameContext, AsyncSession, Actor], Awaitable[Outcome]]


async def publish(
    api: RealtimeAPI, actor_id: str, effects: Sequence[Effect], forget: Callable[[str], None]
) -> None:
    """Run an action's effects, in order, after its commit. ``forget(room)`` drops this
    process's cached rules at once (the ``mod.room`` control reaches the others)."""
    for effect in effects:
        match effect:
            case RulesChanged(room):
                forget(room)
                api.publish_control("mod.room", {"room": room})
            case AppendEvent(room, data):
                await api.append_event(room, data, sender_id=actor_id)
            case Private(user, frame):
                api.send_private(user, frame)
            case ToModerators(room, frame):
                api.send_to_moderators(room, frame)
            case Revoke(room, user, reason):
                await api.revoke_membership(room, user, reason=reason)
            case Control(op, payload):
                api.publish_control(op, payload)


def _room(ctx: FrameContext) -> str:
    assert ctx.room_id is not None  # noqa: S101 - room handlers always have one
    return ctx.room_id


def _actor(ctx: FrameContext) -> Actor:
    return Actor(ctx.socket.user_id, ctx.api.now())


def _fields(ctx: FrameContext, name: str) -> Any:
    return ctx.frame.fields.get(name)


def _reason(ctx: FrameContext, name: str = "reason") -> str:
    return str(_fields(ctx, name) or "")


class Sockets:
    """The frame handlers; ``forget(room)`` drops the room's cached rules here."""

    def __init__(self, forget: Callable[[str], None]) -> None:
        self._forget = forget

    def handlers(self) -> dict[str, FrameHandler]:
        """Frame type → handler, for every type in :data:`.frames.CLIENT`."""
        table: dict[str, FrameHandler] = {
            "mod.queue": self.on_queue,
            "me.controls": self.on_controls,
            "report.create": self.on_report,
        }
        acts: dict[str, Act] = {
            "mod.timeout": lambda c, db, a: actions.timeout(
                db, a, _room(c), c.frame.text("user"), c.frame.number("minutes") or 1, _reason(c)
            ),
            "mod.untimeout": lambda c, db, a: actions.untimeout(
                db, a, _room(c), c.frame.text("user")
            ),
            "mod.remove": lambda c, db, a: actions.remove(
                db, a, _room(c), c.frame.text("user"), _reason(c)
            ),
            "mod.ban": lambda c, db, a: actions.ban(
                db, a, _room(c), c.frame.text("user"), _reason(c)
            ),
            "mod.unban": lambda c, db, a: actions.unban(db, a, _room(c), c.frame.text("user")),
            "mod.redact": lambda c, db, a: actions.redact(
                db, a, _room(c), c.frame.number("seq") or 0, _reason(c)
            ),
            "mod.approve": lambda c, db, a: actions.decide_held(
                db, a, _room(c), c.frame.number("seq") or 0, approve=True, reason=_reason(c)
            ),
            "mod.reject": lambda c, db, a: actions.decide_held(
                db, a, _room(c), c.frame.number("seq") or 0, approve=False, reason=_reason(c)
            ),
            "mod.slow": lambda c, db, a: actions.slow(
                db, a, _room(c), c.frame.number("seconds") or 0
            ),
            "mod.lock": lambda c, db, a: actions.lock(
                db, a, _room(c), c.frame.flag("locked"), _reason(c)
            ),
            "mod.pin": lambda c, db, a: actions.pin(db, a, _room(c), c.frame.text("text")),
            "mod.unpin": lambda c, db, a: actions.unpin(db, a, _room(c)),
            "mod.hold_words": lambda c, db, a: actions.hold_words(
                db, a, _room(c), c.frame.text("words")
            ),
            "mod.resolve": lambda c, db, a: actions.resolve(
                db,
                a,
                _room(c),
                c.frame.text("report"),
                c.frame.text("outcome"),
                _reason(c, "note"),
                reporter_here=lambda user: any(s.in_room(_room(c)) for s in c.api.sockets_of(user)),
            ),
            "mod.alert_done": lambda c, db, a: actions.alert_done(
                db, a, _room(c), c.frame.text("alert")
            ),
            "me.mute": lambda c, db, a: actions.mute(
                db, a, c.frame.text("kind"), c.frame.text("value")
            ),
            "me.unmute": lambda c, db, a: actions.unmute(
                db, a, c.frame.text("kind"), c.frame.text("value")
            ),
            "me.block": lambda c, db, a: actions.block(db, a, c.frame.text("user")),
            "me.unblock": lambda c, db, a: actions.unblock(db, a, c.frame.text("user")),
        }
        for name, act in acts.items():
            table[name] = self._acting(act)
        return {name: _guard(handler) for name, handler in table.items()}

    def _acting(self, act: Act) -> FrameHandler:
        async def run(ctx: FrameContext) -> None:
            actor = _actor(ctx)
            async with ctx.api.sessions() as db, db.begin():
                outcome = await act(ctx, db, actor)
            # Committed: only now is anyone told.
            await publish(ctx.api, actor.user_id, outcome.after, self._forget)
            _done(ctx, outcome.done)

        return run

    async def on_queue(self, ctx: FrameContext) -> None:
        room = _room(ctx)
        async with ctx.api.sessions() as db:
            body = await actions.queue(db, _actor(ctx), room)
        ctx.reply(frames.queue(room, body))

    async def on_controls(self, ctx: FrameContext) -> None:
        async with ctx.api.sessions() as db:
            ctx.reply(frames.controls(await queries.controls(db, ctx.socket.user_id)))

    async def on_report(self, ctx: FrameContext) -> None:
        room, actor = _room(ctx), _actor(ctx)
        user = _fields(ctx, "user")
        async with ctx.api.sessions() as db, db.begin():
            outcome = await actions.report(
                db,
                actor,
                room,
                ctx.frame.text("category"),
                seq=ctx.frame.number("seq"),
                user=user if isinstance(user, str) else None,
                words=str(_fields(ctx, "words") or ""),
            )
        await publish(ctx.api, actor.user_id, outcome.after, self._forget)
        ctx.reply(frames.report_received(room, outcome.done["report"], ctx.frame.ref))


def _done(ctx: FrameContext, more: dict[str, Any]) -> None:
    ctx.reply(frames.done(ctx.frame.type, ref=ctx.frame.ref, room=ctx.room_id, **more))
    if ctx.room_id is not None and ctx.frame.type.startswith("mod."):
        ctx.api.send_to_moderators(ctx.room_id, frames.changed(ctx.room_id, ctx.frame.type))


def _guard(handler: FrameHandler) -> FrameHandler:
    async def run(ctx: FrameContext) -> None:
        try:
            await handler(ctx)
        except Refused as exc:
            ctx.reply(protocol.error(exc.code, exc.message, ref=ctx.frame.ref, room=ctx.room_id))

    return run
