"""The moderation toolkit, plugged into the real-time rooms through their seam.

:class:`Moderation` is a :class:`~peerhub.realtime.policy.RoomPolicy` (time-outs,
locks and slow mode refuse messages; hold-for-review lists hold them; the crisis
lexicon flags them, and :meth:`Moderation.rows_for` stores the crisis alert in the
message's own transaction) and registers the moderators' and members' frame types. It
only wires the parts together:

- :mod:`.policy`: the pure checks (may this message be sent, given the cached rules;
  rank comparisons; input that needs nothing stored);
- :mod:`.actions`: each action, checked against the actor's rank *in the database* and
  the target's (nobody acts on an equal or higher rank), written with its line in the
  append-only :class:`~.models.ModerationEvent` log, returning what to publish;
- :mod:`.sockets`: the frame handlers, which record an action's effects in its own
  transaction (:mod:`.after_commit`, an outbox row run once it commits, at least
  once): an event in the room's ordered log (so it replays on resume), a control event
  so every process drops its cached state, and private frames;
- :mod:`.queries`: the console's queue, a person's controls, a room's stored rules.

Per process, a room's settings and its active time-outs are cached (read from the
database on first use, dropped on the ``mod.room`` control event and after
``CACHE_SECONDS`` in case a bus message was lost), so checking a message costs no
query. Stored expiries make a time-out survive a restart.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Insert, insert

from peerhub.duty import escalation
from peerhub.duty.models import DEFAULT_ALERT_MINUTES
from peerhub.models import GroupRole, new_id
from peerhub.moderation import actions, after_commit, frames, newcomers, policy, queries
from peerhub.moderation.lexicon import Matcher, load_crisis_lexicon
from peerhub.moderation.models import CrisisAlert, ModerationEvent
from peerhub.moderation.policy import RANK_NAMES, RoomRules
from peerhub.moderation.sockets import Sockets
from peerhub.realtime.policy import (
    ALLOW,
    Classification,
    RealtimeAPI,
    Registry,
    SendContext,
    SubscribeContext,
    Verdict,
)
from peerhub.realtime.protocol import MessageView

if TYPE_CHECKING:
    from peerhub.outbox.dispatcher import Dispatcher

log = logging.getLogger("peerhub.moderation")

CACHE_SECONDS = 30.0


class Moderation:
    """Register with :meth:`setup` before the real-time service starts."""

    def __init__(self, crisis: Matcher | None = None) -> None:
        self.crisis = crisis if crisis is not None else load_crisis_lexicon()
        self.rules: dict[str, RoomRules] = {}
        # The running service, given at start-up (control handlers reach sockets by it).
        self._api: RealtimeAPI | None = None
        # (room, user) -> when their last message was accepted (slow mode), this process.
        self.last_sent: dict[tuple[str, str], datetime] = {}
        self._reloading: set[str] = set()
        self._generation: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- set-up --------------------------------------------------------------------

    def setup(self, registry: Registry) -> None:
        registry.register_policy(self)
        handlers = Sockets().handlers()
        for name, (spec, rank, room) in frames.CLIENT.items():
            registry.register_handler(
                name, handlers[name], spec, room=room, min_rank=RANK_NAMES[rank]
            )
        registry.register_control("mod.room", self._forget_room)
        # The group's form changed a setting the toolkit caches (new members' holds).
        registry.register_control("room.changed", self._forget_room)
        registry.register_control("mod.hide", self._hide)
        registry.register_event_listener(self.on_core_event)
        registry.register_start(self._bind)

    def _bind(self, api: RealtimeAPI) -> None:
        self._api = api

    def deliver_effects(self, dispatcher: Dispatcher, api: RealtimeAPI) -> None:
        """Run the effects the actions record (:mod:`.after_commit`) through ``api``, the
        running rooms, when ``dispatcher`` delivers them (the application, at start-up)."""
        after_commit.register(dispatcher, api, self.forget)

    # --- cached room rules -----------------------------------------------------------

    def forget(self, room: str) -> None:
        """This process's copy of the room's rules is stale (a copy being read now too)."""
        self._generation[room] = self._generation.get(room, 0) + 1
        self.rules.pop(room, None)

    def _forget_room(self, payload: dict[str, Any]) -> None:
        room = payload.get("room")
        if isinstance(room, str):
            self.forget(room)

    def _hide(self, payload: dict[str, Any]) -> None:
        """Runs in every process: a person muted or blocked someone (or undid it)."""
        # Sockets are reached through the API stored at first use.
        api = self._api
        user, other, hide = payload.get("user"), payload.get("other"), payload.get("hide")
        if api is None or not isinstance(user, str) or not isinstance(other, str):
            return
        for socket in api.sockets_of(user):
            if hide:
                socket.hidden_senders.add(other)
            else:
                socket.hidden_senders.discard(other)

    async def room_rules(self, api: RealtimeAPI, room: str) -> RoomRules:
        """The room's cached rules. A room never read (or changed: ``mod.room``) is read
        now; one whose copy is only old is served as it is while a fresh copy is read
        in the background, so no message waits on the database for it (with a thousand
        rooms, their copies would otherwise all expire together, mid-conversation)."""
        found = self.rules.get(room)
        if found is None:
            return await self._load_rules(api, room)
        if time.monotonic() - found.loaded >= CACHE_SECONDS and room not in self._reloading:
            self._reloading.add(room)
            task = asyncio.get_running_loop().create_task(self._reload_rules(api, room))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return found

    async def _reload_rules(self, api: RealtimeAPI, room: str) -> None:
        try:
            await self._load_rules(api, room)
        except Exception:  # the copy stays; the next message after the age asks again
            log.warning("moderation: could not re-read a room's rules")
        finally:
            self._reloading.discard(room)

    async def _load_rules(self, api: RealtimeAPI, room: str) -> RoomRules:
        generation = self._generation.get(room, 0)
        async with api.sessions() as db:
            rules = await queries.room_rules(db, room, api.now())
        # Jittered, so rooms read together do not all age together.
        rules.loaded = time.monotonic() - random.uniform(0, CACHE_SECONDS / 3)  # noqa: S311
        # A change while this was being read wins: keep this copy only if none came.
        if self._generation.get(room, 0) == generation:
            self.rules[room] = rules
        return rules

    # --- the policy --------------------------------------------------------------------

    async def check_send(self, ctx: SendContext) -> Verdict:
        if ctx.rank >= GroupRole.MODERATOR:
            return ALLOW
        rules = await self.room_rules(ctx.api, ctx.room_id)
        user = ctx.socket.user_id
        verdict = policy.send_verdict(
            rules, user, ctx.rank, ctx.now, self.last_sent.get((ctx.room_id, user))
        )
        if verdict.allowed and rules.slow:
            if len(self.last_sent) > 100_000:
                self.last_sent.clear()
            self.last_sent[ctx.room_id, user] = ctx.now
        return verdict

    async def classify(self, ctx: SendContext, body: str) -> Classification:
        # The verdict travels with the message (its Classification) to rows_for and
        # on_committed, so a message is searched once.
        crisis = self.crisis.search(body) is not None
        if ctx.rank < GroupRole.MODERATOR:
            rules = await self.room_rules(ctx.api, ctx.room_id)
            if await self._still_new(ctx.api, ctx.room_id, ctx.socket.user_id, rules) is not None:
                return Classification("held", crisis, newcomers.note(rules.newcomer_messages))
            if policy.held_by_words(rules, body):
                return Classification("held", crisis, str(policy.HELD_NOTE))
        return Classification("visible", crisis) if crisis else Classification()

    async def _still_new(
        self, api: RealtimeAPI, room: str, user: str, rules: RoomRules
    ) -> int | None:
        """The member's count if their messages are still held as a newcomer's, else None.
        A member seen to have passed is remembered (until the room's rules are re-read)."""
        if not rules.newcomer_messages or user in rules.cleared:
            return None
        async with api.sessions() as db:
            count = await newcomers.seen_count(db, room, user)
        if count >= rules.newcomer_messages:
            if len(rules.cleared) > 100_000:
                rules.cleared.clear()
            rules.cleared.add(user)
            return None
        return count

    def rows_for(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> Sequence[Insert]:
        """A possible crisis: its alert, stored in the message's own transaction, so
        there is never a message without its alert (it waits in the console for a
        moderator who is not online; hazard H3)."""
        if not classification.crisis:
            return ()
        alert = new_id()
        # Its first step up the ladder, in the same transaction: if nobody on duty opens
        # it in the group's time, the organisers are told (peerhub/duty/escalation.py).
        rules = self.rules.get(message.room)
        minutes = rules.alert_minutes if rules is not None else DEFAULT_ALERT_MINUTES
        return [
            insert(CrisisAlert).values(
                id=alert,
                group_id=message.room,
                user_id=message.sender_id,
                message_seq=message.seq,
                created_at=message.at,
            ),
            escalation.first_step(alert, message.at, timedelta(minutes=minutes)),
        ]

    async def on_committed(
        self, ctx: SendContext, message: MessageView, classification: Classification
    ) -> None:
        # After the commit, as for the message itself: what the console reads is stored.
        if message.status == "held":
            ctx.api.send_to_moderators(ctx.room_id, frames.changed(ctx.room_id, "held"))
        if classification.crisis:
            ctx.api.send_to_moderators(ctx.room_id, frames.changed(ctx.room_id, "alert"))

    async def on_subscribe(self, ctx: SubscribeContext) -> None:
        rules = await self.room_rules(ctx.api, ctx.room_id)
        user = ctx.socket.user_id
        moderation = policy.room_state(rules, user, ctx.api.now())
        if ctx.rank < GroupRole.MODERATOR:
            count = await self._still_new(ctx.api, ctx.room_id, user, rules)
            if count is not None:
                # The page says so before the first message, so the hold is no surprise.
                moderation["newcomer"] = {
                    "messages": rules.newcomer_messages,
                    "seen": count,
                    "note": newcomers.note(rules.newcomer_messages),
                }
        ctx.extra["moderation"] = moderation
        async with ctx.api.sessions() as db:
            rows = await db.execute(queries.controls_query(user, ctx.room_id))
            mine, handled = queries.split_controls(rows)
            if handled:
                await actions.tell_reporters(db, [h["report"] for h in handled], ctx.api.now())
                await db.commit()
        ctx.extra["personal"] = mine
        if handled:
            ctx.extra["reports_handled"] = handled
        ctx.socket.hidden_senders.update(p["id"] for p in mine["muted_people"])
        ctx.socket.hidden_senders.update(p["id"] for p in mine["blocked"])

    async def on_core_event(self, room: str, actor_id: str | None, data: dict[str, Any]) -> None:
        """Rooms opened and closed and room settings changed by the core: audited."""
        event = str(data.get("event", "core"))
        detail = {k: v for k, v in data.items() if k != "event"}
        if self._api is None:
            return
        async with self._api.sessions() as db, db.begin():
            db.add(
                ModerationEvent(
                    group_id=room,
                    at=self._api.now(),
                    actor_id=actor_id,
                    action=event,
                    detail=detail,
                )
            )
