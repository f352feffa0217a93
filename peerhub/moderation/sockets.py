"""The moderation frames' socket adapters: decode the frame, run the action in a
transaction that also records what it asks to publish, and reply once it is committed.

The core has already validated the frame against its struct (:mod:`.frames`) and
re-checked the sender's sign-in and rank; the action checks the rank again in its own
transaction (as it does for any caller). A :class:`~.policy.Refused` becomes an
``error`` frame to the sender, and nothing was stored or published. The effects are an
outbox row in the action's transaction (:mod:`.after_commit`), delivered before the
transaction's block returns: effects, then the reply, then ``mod.changed``.
:data:`ACTIONS` (frame → action) and :func:`act` are shared with the console's HTTP
routes (:mod:`.api`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.db import transaction
from peerhub.moderation import actions, after_commit, frames, queries
from peerhub.moderation.actions import Actor, Outcome
from peerhub.moderation.policy import Refused
from peerhub.realtime import protocol
from peerhub.realtime.policy import FrameContext, FrameHandler, RealtimeAPI
from peerhub.realtime.protocol import Frame

# The action a frame asks for: given the validated frame, the transaction's session, the
# actor and the running rooms (only to ask who is in a room on this process).
Act = Callable[[Frame, AsyncSession, Actor, RealtimeAPI], Awaitable[Outcome]]


def _room(frame: Frame) -> str:
    room = frame.room
    assert room is not None  # noqa: S101 - a room frame's struct requires one
    return room


def _text(frame: Frame, name: str) -> str:
    """An optional free-text field (a reason, a note, a report's words), or ""."""
    return str(frame.fields.get(name) or "")


def _optional(frame: Frame, name: str) -> str | None:
    value = frame.fields.get(name)
    return value if isinstance(value, str) else None


def _here(api: RealtimeAPI, room: str) -> Callable[[str], bool]:
    """Whether the person has a socket in the room on this process."""
    return lambda user: any(s.in_room(room) for s in api.sockets_of(user))


# Frame type → its action, for every frame that changes something (the two reads,
# mod.queue and me.controls, are :func:`actions.queue` and :func:`queries.controls`).
ACTIONS: dict[str, Act] = {
    "mod.timeout": lambda f, db, a, _api: actions.timeout(
        db, a, _room(f), f.text("user"), f.number("minutes") or 1, _text(f, "reason")
    ),
    "mod.untimeout": lambda f, db, a, _api: actions.untimeout(db, a, _room(f), f.text("user")),
    "mod.remove": lambda f, db, a, _api: actions.remove(
        db, a, _room(f), f.text("user"), _text(f, "reason")
    ),
    "mod.ban": lambda f, db, a, _api: actions.ban(
        db, a, _room(f), f.text("user"), _text(f, "reason")
    ),
    "mod.unban": lambda f, db, a, _api: actions.unban(db, a, _room(f), f.text("user")),
    "mod.redact": lambda f, db, a, _api: actions.redact(
        db, a, _room(f), f.number("seq") or 0, _text(f, "reason")
    ),
    "mod.approve": lambda f, db, a, _api: actions.decide_held(
        db, a, _room(f), f.number("seq") or 0, approve=True, reason=_text(f, "reason")
    ),
    "mod.reject": lambda f, db, a, _api: actions.decide_held(
        db, a, _room(f), f.number("seq") or 0, approve=False, reason=_text(f, "reason")
    ),
    "mod.slow": lambda f, db, a, _api: actions.slow(db, a, _room(f), f.number("seconds") or 0),
    "mod.lock": lambda f, db, a, _api: actions.lock(
        db, a, _room(f), f.flag("locked"), _text(f, "reason")
    ),
    "mod.pin": lambda f, db, a, _api: actions.pin(db, a, _room(f), f.text("text")),
    "mod.unpin": lambda f, db, a, _api: actions.unpin(db, a, _room(f)),
    "mod.hold_words": lambda f, db, a, _api: actions.hold_words(db, a, _room(f), f.text("words")),
    "mod.resolve": lambda f, db, a, api: actions.resolve(
        db,
        a,
        _room(f),
        f.text("report"),
        f.text("outcome"),
        _text(f, "note"),
        reporter_here=_here(api, _room(f)),
    ),
    "mod.alert_open": lambda f, db, a, _api: actions.alert_open(db, a, _room(f), f.text("alert")),
    "mod.alert_done": lambda f, db, a, _api: actions.alert_done(
        db, a, _room(f), f.text("alert"), f.text("outcome"), _text(f, "note")
    ),
    "report.create": lambda f, db, a, _api: actions.report(
        db,
        a,
        _room(f),
        f.text("category"),
        seq=f.number("seq"),
        user=_optional(f, "user"),
        words=_text(f, "words"),
    ),
    "me.mute": lambda f, db, a, _api: actions.mute(db, a, f.text("kind"), f.text("value")),
    "me.unmute": lambda f, db, a, _api: actions.unmute(db, a, f.text("kind"), f.text("value")),
    "me.block": lambda f, db, a, _api: actions.block(db, a, f.text("user")),
    "me.unblock": lambda f, db, a, _api: actions.unblock(db, a, f.text("user")),
}


async def act(api: RealtimeAPI, frame: Frame, actor: Actor) -> Outcome:
    """Run the frame's action in a transaction of its own that records its effects
    (:func:`.after_commit.record`); they have run when this returns (the outbox's
    settle, after the commit). A refusal (:class:`Refused`) rolls it back: nothing is
    stored, recorded or published."""
    async with transaction(api.sessions) as db:
        outcome = await ACTIONS[frame.type](frame, db, actor, api)
        after_commit.record(db, actor.user_id, outcome.after)
    return outcome


def console_changed(api: RealtimeAPI, frame: Frame) -> None:
    """After a moderator's action: the room's moderators read their console again."""
    room = frame.room
    if room is not None and frame.type.startswith("mod."):
        api.send_to_moderators(room, frames.changed(room, frame.type))


class Sockets:
    """The frame handlers."""

    def handlers(self) -> dict[str, FrameHandler]:
        """Frame type → handler, for every type in :data:`.frames.CLIENT`."""
        table: dict[str, FrameHandler] = dict.fromkeys(ACTIONS, self.on_action)
        table |= {
            "mod.queue": self.on_queue,
            "me.controls": self.on_controls,
            "report.create": self.on_report,
        }
        return {name: _guard(handler) for name, handler in table.items()}

    async def on_action(self, ctx: FrameContext) -> None:
        outcome = await act(ctx.api, ctx.frame, _actor(ctx))
        ctx.reply(frames.done(ctx.frame.type, ref=ctx.frame.ref, room=ctx.room_id, **outcome.done))
        console_changed(ctx.api, ctx.frame)

    async def on_queue(self, ctx: FrameContext) -> None:
        room = _room(ctx.frame)
        async with ctx.api.sessions() as db:
            contents = await actions.queue(db, _actor(ctx), room)
        ctx.reply(frames.queue(contents))

    async def on_controls(self, ctx: FrameContext) -> None:
        async with ctx.api.sessions() as db:
            ctx.reply(frames.controls(await queries.controls(db, ctx.socket.user_id)))

    async def on_report(self, ctx: FrameContext) -> None:
        outcome = await act(ctx.api, ctx.frame, _actor(ctx))
        room = _room(ctx.frame)
        ctx.reply(frames.report_received(room, outcome.done["report"], ctx.frame.ref))


def _actor(ctx: FrameContext) -> Actor:
    return Actor(ctx.socket.user_id, ctx.api.now())


def _guard(handler: FrameHandler) -> FrameHandler:
    async def run(ctx: FrameContext) -> None:
        try:
            await handler(ctx)
        except Refused as exc:
            ctx.reply(protocol.error(exc.code, exc.message, ref=ctx.frame.ref, room=ctx.room_id))

    return run
