"""A moderation action's effects, recorded in its own transaction (the outbox).

The caller of an action (:func:`.sockets.act`, for a frame or the console's HTTP route)
records the :class:`~.actions.Outcome`'s effects with :func:`record` beside the action's
writes, as one outbox row (:mod:`peerhub.outbox`) of kind ``moderation.effects``::

    async with transaction(api.sessions) as db:
        outcome = await actions.ban(db, actor, room, user, reason)
        after_commit.record(db, actor.user_id, outcome.after)

Nothing is published unless the transaction commits, and once it commits the outbox
delivers the row at least once, after a crash or a restart too (a ban closes the
banned person's sockets even if the process died right after the commit).
:func:`peerhub.db.transaction` delivers it before it returns, so the effects have
happened before the action's ``done`` reply, as when the caller published them itself.

The handler (:func:`register`, at start-up) runs the effects in their order through the
running rooms, and may run them twice:

- ``AppendEvent`` is written with a ``client_id`` fixed when the row was recorded
  (``mod-`` and 32 hex digits): a second delivery finds the first event in the room's
  log and gets its seq back, so the log holds it once and it is fanned out once;
- ``Revoke``, ``Control`` (``mod.hide`` adds or removes a name) and ``RulesChanged``
  (this process's cached rules dropped, ``mod.room`` to the others) are idempotent;
- ``OwnControls`` is read from the database when it runs (the newest state);
- ``Private`` and ``ToModerators`` frames are ephemeral and may reach a socket twice
  on a redelivery; they are notices the client shows again or re-reads (a sanction,
  a report handled, "the console changed"), never entries of the log.

What the payload holds: ids, a person's id and pseudonym, settings (slow mode, lock),
and the moderator's own words where the room's log shows them anyway (a redaction's
reason, a pinned text) or the sanctioned person is told them (a timeout's reason). No
message body a person wrote, and not a person's muted words (``OwnControls`` carries
only the id). The outbox empties a delivered row's payload.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import outbox
from peerhub.moderation import frames, queries
from peerhub.moderation.actions import (
    AppendEvent,
    Control,
    Effect,
    OwnControls,
    Private,
    Revoke,
    RulesChanged,
    ToModerators,
)
from peerhub.realtime import writer

if TYPE_CHECKING:
    from peerhub.outbox.dispatcher import Dispatcher
    from peerhub.realtime.policy import RealtimeAPI

log = logging.getLogger("peerhub.moderation")

#: A system event's client_id from the outbox: this prefix and 32 hex digits (the
#: column holds 64).
CLIENT_ID_PREFIX = "mod-"


@dataclass(frozen=True, slots=True)
class Effects:
    """Who acted, and the action's effects in order, each as plain data (``t`` names
    its kind; frames are JSON text)."""

    actor: str
    effects: tuple[dict[str, Any], ...]


EFFECTS = outbox.kind("moderation.effects", Effects)


def _encode(effect: Effect) -> dict[str, Any]:
    match effect:
        case RulesChanged(room):
            return {"t": "rules", "room": room}
        case AppendEvent(room, data):
            client_id = CLIENT_ID_PREFIX + uuid.uuid4().hex
            return {"t": "event", "room": room, "data": data, "client_id": client_id}
        case Private(user, frame):
            return {"t": "private", "user": user, "frame": frame.decode()}
        case ToModerators(room, frame):
            return {"t": "moderators", "room": room, "frame": frame.decode()}
        case Revoke(room, user, reason):
            return {"t": "revoke", "room": room, "user": user, "reason": reason}
        case Control(op, payload):
            return {"t": "control", "op": op, "payload": payload}
        case OwnControls(user):
            return {"t": "controls", "user": user}
    raise TypeError(f"not a moderation effect: {type(effect).__name__}")


def record(db: AsyncSession, actor_id: str, effects: Sequence[Effect]) -> None:
    """Record the effects (if any) in ``db``'s transaction, to run once it commits."""
    if effects:
        payload = Effects(actor_id, tuple(_encode(effect) for effect in effects))
        outbox.record(db, EFFECTS, payload)


async def run(
    api: RealtimeAPI,
    actor_id: str,
    effects: Sequence[dict[str, Any]],
    forget: Callable[[str], None],
) -> None:
    """Run recorded effects, in order, through the running rooms. ``forget(room)`` drops
    this process's cached rules at once (the ``mod.room`` control reaches the others)."""
    for effect in effects:
        match effect:
            case {"t": "rules", "room": str(room)}:
                forget(room)
                api.publish_control("mod.room", {"room": room})
            case {"t": "event", "room": str(room), "data": dict(data), "client_id": str(cid)}:
                try:
                    await api.append_event(room, data, sender_id=actor_id, client_id=cid)
                except writer.WriteRefused as exc:
                    # The room is gone (or the event can never be stored): a retry
                    # cannot help, and the effects after it still run.
                    log.warning("a moderation event was refused by the room log: %s", exc.code)
            case {"t": "private", "user": str(user), "frame": str(frame)}:
                api.send_private(user, frame.encode())
            case {"t": "moderators", "room": str(room), "frame": str(frame)}:
                api.send_to_moderators(room, frame.encode())
            case {"t": "revoke", "room": str(room), "user": str(user), "reason": str(reason)}:
                await api.revoke_membership(room, user, reason=reason)
            case {"t": "control", "op": str(op), "payload": dict(payload)}:
                api.publish_control(op, payload)
            case {"t": "controls", "user": str(user)}:
                async with api.sessions() as db:
                    body = await queries.controls(db, user)
                api.send_private(user, frames.controls(body))
            case _:
                log.warning("an unknown moderation effect was skipped: %.40s", effect.get("t"))


def register(dispatcher: Dispatcher, api: RealtimeAPI, forget: Callable[[str], None]) -> None:
    """Deliver ``moderation.effects`` through ``api`` (the application does, at start-up)."""

    async def deliver(event: Effects) -> None:
        await run(api, event.actor, event.effects, forget)

    dispatcher.register(EFFECTS, deliver)


__all__ = ["EFFECTS", "Effects", "record", "register", "run"]
