"""The moderation toolkit, plugged into the real-time rooms through their seam.

:class:`Moderation` is a :class:`~peerhub.realtime.policy.RoomPolicy` (time-outs,
locks and slow mode refuse messages; hold-for-review lists hold them; the crisis
lexicon flags them, and :meth:`Moderation.rows_for` stores the crisis alert in the
message's own transaction) and registers the moderators' and members' frame types. Every
action is checked against the actor's rank *in the database* (by the core, on every
frame) and the target's rank (nobody acts on an equal or higher rank), committed
with its line in the append-only :class:`ModerationEvent` log, and only then made
visible: an event in the room's ordered log (so it replays on resume), a control
event so every process drops its cached state, and private frames.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Insert, and_, delete, insert, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import i18n
from peerhub.groups.actions import end_place
from peerhub.groups.models import ModeratorInvitation
from peerhub.i18n import _, lazy_gettext, ngettext
from peerhub.models import Block, GroupMember, GroupRole, User, new_id
from peerhub.moderation import frames, newcomers
from peerhub.moderation.lexicon import Matcher, clean_phrases, load_crisis_lexicon
from peerhub.moderation.models import (
    MAX_MUTES,
    MAX_PHRASES,
    PHRASE_LIMIT,
    REPORT_CATEGORIES,
    CrisisAlert,
    ModerationEvent,
    PersonalMute,
    Report,
    RoomModeration,
    Sanction,
    active_ban,
)
from peerhub.realtime import protocol, queries, writer
from peerhub.realtime.models import RoomMessage
from peerhub.realtime.policy import (
    ALLOW,
    Classification,
    FrameContext,
    RealtimeAPI,
    Registry,
    SendContext,
    SubscribeContext,
    Verdict,
)
from peerhub.realtime.protocol import MessageView, iso
from peerhub.sharing.rules import view_for

log = logging.getLogger("peerhub.moderation")

CACHE_SECONDS = 30.0
HELD_NOTE = lazy_gettext(
    "Waiting for a moderator to look at it. Only you and the moderators can see it."
)
RANK_NAMES = {"member": GroupRole.MEMBER, "moderator": GroupRole.MODERATOR}


class Refused(Exception):
    """An action that cannot be done; ``code`` and ``message`` go to the actor."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class RoomRules:
    slow: int = 0
    locked: bool = False
    pinned: dict[str, Any] | None = None
    hold: Matcher = field(default_factory=lambda: Matcher(()))
    hold_words: list[str] = field(default_factory=list)
    timeouts: dict[str, datetime] = field(default_factory=dict)
    # How many of a new member's first messages are held (0: the group does not hold
    # them), and the members this process has seen pass that number (counts only grow).
    newcomer_messages: int = 0
    cleared: set[str] = field(default_factory=set)
    loaded: float = 0.0


def _hhmm(moment: datetime) -> str:
    """ "18:40 UTC on 4 November", in the language of the socket's person."""
    return _(
        "%(time)s UTC on %(day)s",
        time=i18n.format_time(moment, tz=UTC),
        day=i18n.format_skeleton(moment, "dMMMM", tz=UTC),
    )


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
        handlers = {
            "mod.queue": self.on_queue,
            "mod.timeout": self.on_timeout,
            "mod.untimeout": self.on_untimeout,
            "mod.remove": self.on_remove,
            "mod.ban": self.on_ban,
            "mod.unban": self.on_unban,
            "mod.redact": self.on_redact,
            "mod.approve": self.on_approve,
            "mod.reject": self.on_reject,
            "mod.slow": self.on_slow,
            "mod.lock": self.on_lock,
            "mod.pin": self.on_pin,
            "mod.unpin": self.on_unpin,
            "mod.hold_words": self.on_hold_words,
            "mod.resolve": self.on_resolve,
            "mod.alert_done": self.on_alert_done,
            "report.create": self.on_report,
            "me.controls": self.on_controls,
            "me.mute": self.on_mute,
            "me.unmute": self.on_unmute,
            "me.block": self.on_block,
            "me.unblock": self.on_unblock,
        }
        for name, (spec, rank, room) in frames.CLIENT.items():
            registry.register_handler(
                name,
                self._guard(handlers[name]),
                spec,
                room=room,
                min_rank=RANK_NAMES[rank],
            )
        registry.register_control("mod.room", self._forget_room)
        # The group's form changed a setting the toolkit caches (new members' holds).
        registry.register_control("room.changed", self._forget_room)
        registry.register_control("mod.hide", self._hide)
        registry.register_event_listener(self.on_core_event)
        registry.register_start(self._bind)

    def _bind(self, api: RealtimeAPI) -> None:
        self._api = api

    def _guard(self, handler: Any) -> Any:
        async def run(ctx: FrameContext) -> None:
            try:
                await handler(ctx)
            except Refused as exc:
                ctx.reply(
                    protocol.error(exc.code, exc.message, ref=ctx.frame.ref, room=ctx.room_id)
                )

        return run

    # --- cached room rules -----------------------------------------------------------

    def _forget_room(self, payload: dict[str, Any]) -> None:
        room = payload.get("room")
        if isinstance(room, str):
            self._generation[room] = self._generation.get(room, 0) + 1
            self.rules.pop(room, None)

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
        now = api.now()
        async with api.sessions() as db:
            row = await db.get(RoomModeration, room)
            review = await newcomers.review_of(db, room)
            timeouts = (
                await db.execute(
                    select(Sanction.user_id, Sanction.until).where(
                        Sanction.group_id == room,
                        Sanction.kind == "timeout",
                        Sanction.lifted_at.is_(None),
                        Sanction.until > now,
                    )
                )
            ).all()
        # Jittered, so rooms read together do not all age together.
        rules = RoomRules(
            newcomer_messages=review.held_messages,
            loaded=time.monotonic() - random.uniform(0, CACHE_SECONDS / 3),  # noqa: S311
        )
        if row is not None:
            rules.slow = row.slow_mode_seconds
            rules.locked = row.locked
            rules.hold_words = list(row.hold_phrases or [])
            rules.hold = Matcher(rules.hold_words)
            if row.pinned_text:
                rules.pinned = {
                    "text": row.pinned_text,
                    "at": iso(row.pinned_at),
                }
        for uid, until in timeouts:
            if until is not None and (uid not in rules.timeouts or until > rules.timeouts[uid]):
                rules.timeouts[uid] = until
        # A change while this was being read wins: keep this copy only if none came.
        if self._generation.get(room, 0) == generation:
            self.rules[room] = rules
        return rules

    def _changed(self, api: RealtimeAPI, room: str) -> None:
        self._generation[room] = self._generation.get(room, 0) + 1
        self.rules.pop(room, None)
        api.publish_control("mod.room", {"room": room})

    # --- the policy --------------------------------------------------------------------

    async def check_send(self, ctx: SendContext) -> Verdict:
        if ctx.rank >= GroupRole.MODERATOR:
            return ALLOW
        rules = await self.room_rules(ctx.api, ctx.room_id)
        user = ctx.socket.user_id
        until = rules.timeouts.get(user)
        if until is not None and until > ctx.now:
            wait = (until - ctx.now).total_seconds()
            return Verdict.refuse(
                "timed_out",
                _("A moderator has paused your messages until %(when)s.", when=_hhmm(until)),
                retry_after=round(wait, 1),
            )
        if rules.locked:
            return Verdict.refuse(
                "locked", _("A moderator has locked the room for now: you can read but not write.")
            )
        if rules.slow:
            last = self.last_sent.get((ctx.room_id, user))
            if last is not None:
                wait = rules.slow - (ctx.now - last).total_seconds()
                if wait > 0:
                    return Verdict.refuse(
                        "slow_mode",
                        ngettext(
                            "Slow mode is on: one message every %(num)s second.",
                            "Slow mode is on: one message every %(num)s seconds.",
                            rules.slow,
                        ),
                        retry_after=round(wait, 1),
                    )
            if len(self.last_sent) > 100_000:
                self.last_sent.clear()
            self.last_sent[ctx.room_id, user] = ctx.now
        return ALLOW

    async def classify(self, ctx: SendContext, body: str) -> Classification:
        # The verdict travels with the message (its Classification) to rows_for and
        # on_committed, so a message is searched once.
        crisis = self.crisis.search(body) is not None
        if ctx.rank < GroupRole.MODERATOR:
            rules = await self.room_rules(ctx.api, ctx.room_id)
            if await self._still_new(ctx.api, ctx.room_id, ctx.socket.user_id, rules) is not None:
                return Classification("held", crisis, newcomers.note(rules.newcomer_messages))
            if rules.hold and rules.hold.search(body) is not None:
                return Classification("held", crisis, str(HELD_NOTE))
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
        return [
            insert(CrisisAlert).values(
                id=new_id(),
                group_id=message.room,
                user_id=message.sender_id,
                message_seq=message.seq,
                created_at=message.at,
            )
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
        moderation: dict[str, Any] = {
            "slow_mode_seconds": rules.slow,
            "locked": rules.locked,
            "pinned": rules.pinned,
        }
        until = rules.timeouts.get(user)
        if until is not None and until > ctx.api.now():
            moderation["timed_out_until"] = iso(until)
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
            rows = await db.execute(_controls_query(user, ctx.room_id))
            mine, handled = _split_controls(rows)
            if handled:
                await db.execute(
                    update(Report)
                    .where(Report.id.in_([h["report"] for h in handled]))
                    .values(reporter_told_at=ctx.api.now())
                )
                await db.commit()
        ctx.extra["personal"] = mine
        if handled:
            ctx.extra["reports_handled"] = handled
        ctx.socket.hidden_senders.update(p["id"] for p in mine["muted_people"])
        ctx.socket.hidden_senders.update(p["id"] for p in mine["blocked"])

    async def on_core_event(self, room: str, actor_id: str | None, data: dict[str, Any]) -> None:
        """Sessions opened and closed and room settings changed by the core: audited."""
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

    # --- helpers for handlers ------------------------------------------------------------

    @staticmethod
    def _room(ctx: FrameContext) -> str:
        assert ctx.room_id is not None  # noqa: S101 - room handlers always have one
        return ctx.room_id

    @staticmethod
    async def _target(
        db: AsyncSession, ctx: FrameContext, room: str, user_id: str, *, allow_self: bool = False
    ) -> tuple[User, GroupRole]:
        """The person acted on, who must rank strictly below the actor."""
        target = await db.get(User, user_id)
        if target is None:
            raise Refused("not_found", _("There is no such person in this group."))
        if user_id == ctx.socket.user_id and not allow_self:
            raise Refused("forbidden", _("You cannot do that to yourself."))
        rank = (await queries.ranks(db, [(room, user_id)]))[room, user_id]
        if rank >= ctx.rank and user_id != ctx.socket.user_id:
            raise Refused(
                "forbidden", _("You cannot act on someone of the same or a higher rank than you.")
            )
        return target, rank

    @staticmethod
    def _audit(
        db: AsyncSession,
        ctx: FrameContext,
        room: str,
        action: str,
        *,
        subject: str | None = None,
        seq: int | None = None,
        reason: str = "",
        **detail: Any,
    ) -> None:
        db.add(
            ModerationEvent(
                group_id=room,
                at=ctx.api.now(),
                actor_id=ctx.socket.user_id,
                action=action,
                subject_id=subject,
                message_seq=seq,
                reason=reason,
                detail=detail,
            )
        )

    @staticmethod
    def _reason(ctx: FrameContext) -> str:
        value = ctx.frame.fields.get("reason") or ""
        return " ".join(str(value).split())

    def _done(self, ctx: FrameContext, **more: Any) -> None:
        ctx.reply(frames.done(ctx.frame.type, ref=ctx.frame.ref, room=ctx.room_id, **more))
        if ctx.room_id is not None and ctx.frame.type.startswith("mod."):
            ctx.api.send_to_moderators(ctx.room_id, frames.changed(ctx.room_id, ctx.frame.type))

    @staticmethod
    def _person(user: User) -> dict[str, str]:
        return {"id": user.id, "name": user.pseudonym}

    async def _settings_row(self, db: AsyncSession, room: str) -> RoomModeration:
        await writer.ensure_room(db, room)
        row = await db.get(RoomModeration, room, with_for_update=True)
        if row is None:
            row = RoomModeration(room_id=room, hold_phrases=[])
            db.add(row)
        return row

    # --- the console --------------------------------------------------------------------

    async def on_queue(self, ctx: FrameContext) -> None:
        room = self._room(ctx)
        async with ctx.api.sessions() as db:
            audience = "organisers" if ctx.rank >= GroupRole.ORGANISER else "moderators"
            body = await queue_of(db, room, ctx.api.now(), audience=audience)
        ctx.reply(frames.queue(room, body))

    # --- sanctions ----------------------------------------------------------------------

    async def on_timeout(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        minutes = ctx.frame.number("minutes") or 1
        reason = self._reason(ctx)
        until = now + timedelta(minutes=minutes)
        async with ctx.api.sessions() as db, db.begin():
            target, _rank = await self._target(db, ctx, room, ctx.frame.text("user"))
            await db.execute(
                update(Sanction)
                .where(
                    Sanction.group_id == room,
                    Sanction.user_id == target.id,
                    Sanction.kind == "timeout",
                    Sanction.lifted_at.is_(None),
                )
                .values(lifted_at=now, lifted_by=ctx.socket.user_id)
            )
            db.add(
                Sanction(
                    group_id=room,
                    user_id=target.id,
                    kind="timeout",
                    until=until,
                    reason=reason,
                    created_by=ctx.socket.user_id,
                    created_at=now,
                )
            )
            self._audit(db, ctx, room, "timeout", subject=target.id, reason=reason, minutes=minutes)
            person = self._person(target)
        self._changed(ctx.api, room)
        await ctx.api.append_event(
            room,
            {"event": "member.timed_out", "user": person, "until": iso(until)},
            sender_id=ctx.socket.user_id,
        )
        ctx.api.send_private(person["id"], frames.sanction(room, "timeout", iso(until), reason))
        self._done(ctx, user=person["id"], until=iso(until))

    async def on_untimeout(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        async with ctx.api.sessions() as db, db.begin():
            target, _rank = await self._target(db, ctx, room, ctx.frame.text("user"))
            lifted = await db.execute(
                update(Sanction)
                .where(
                    Sanction.group_id == room,
                    Sanction.user_id == target.id,
                    Sanction.kind == "timeout",
                    Sanction.lifted_at.is_(None),
                    Sanction.until > now,
                )
                .values(lifted_at=now, lifted_by=ctx.socket.user_id)
            )
            if not getattr(lifted, "rowcount", 0):
                raise Refused(
                    "not_timed_out", _("%(name)s is not timed out.", name=target.pseudonym)
                )
            self._audit(db, ctx, room, "timeout.lifted", subject=target.id)
            person = self._person(target)
        self._changed(ctx.api, room)
        await ctx.api.append_event(
            room, {"event": "member.timeout_lifted", "user": person}, sender_id=ctx.socket.user_id
        )
        ctx.api.send_private(person["id"], frames.sanction(room, "lifted", None, ""))
        self._done(ctx, user=person["id"])

    async def _out_of_group(self, ctx: FrameContext, *, ban: bool) -> None:
        room, now = self._room(ctx), ctx.api.now()
        reason = self._reason(ctx)
        async with ctx.api.sessions() as db, db.begin():
            target, rank = await self._target(db, ctx, room, ctx.frame.text("user"))
            if rank == GroupRole.NONE and not ban:
                raise Refused(
                    "not_member", _("%(name)s is not in this group.", name=target.pseudonym)
                )
            # Their place (or request, or waiting-list place) ends, and what they had
            # shared with the group is withdrawn on record, as when they leave.
            await end_place(db, target.id, room, now)
            # An invitation to moderate the group dies with it.
            await db.execute(
                delete(ModeratorInvitation).where(
                    ModeratorInvitation.group_id == room,
                    ModeratorInvitation.user_id == target.id,
                )
            )
            if ban:
                if await active_ban(db, room, target.id) is not None:
                    raise Refused(
                        "already_banned", _("%(name)s is already banned.", name=target.pseudonym)
                    )
                db.add(
                    Sanction(
                        group_id=room,
                        user_id=target.id,
                        kind="ban",
                        reason=reason,
                        created_by=ctx.socket.user_id,
                        created_at=now,
                    )
                )
            self._audit(db, ctx, room, "ban" if ban else "remove", subject=target.id, reason=reason)
            person = self._person(target)
        what = "banned" if ban else "removed"
        await ctx.api.revoke_membership(
            room,
            person["id"],
            reason="You have been banned from this group."
            if ban
            else "A moderator has removed you from this group.",
        )
        await ctx.api.append_event(
            room, {"event": f"member.{what}", "user": person}, sender_id=ctx.socket.user_id
        )
        self._done(ctx, user=person["id"])

    async def on_remove(self, ctx: FrameContext) -> None:
        await self._out_of_group(ctx, ban=False)

    async def on_ban(self, ctx: FrameContext) -> None:
        await self._out_of_group(ctx, ban=True)

    async def on_unban(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        async with ctx.api.sessions() as db, db.begin():
            target, _rank = await self._target(db, ctx, room, ctx.frame.text("user"))
            ban = await active_ban(db, room, target.id)
            if ban is None:
                raise Refused("not_banned", _("%(name)s is not banned.", name=target.pseudonym))
            ban.lifted_at, ban.lifted_by = now, ctx.socket.user_id
            self._audit(db, ctx, room, "ban.lifted", subject=target.id)
        self._done(ctx, user=target.id)

    # --- messages -----------------------------------------------------------------------

    async def _message(self, db: AsyncSession, room: str, seq: int) -> RoomMessage:
        message = await db.get(RoomMessage, (room, seq), with_for_update=True)
        if message is None or message.kind != "text":
            raise Refused("not_found", _("There is no such message in this room."))
        return message

    async def on_redact(self, ctx: FrameContext) -> None:
        room, now, seq = self._room(ctx), ctx.api.now(), ctx.frame.number("seq") or 0
        reason = self._reason(ctx) or "Removed by a moderator."
        async with ctx.api.sessions() as db, db.begin():
            message = await self._message(db, room, seq)
            if message.status == "redacted":
                raise Refused("already_redacted", _("That message is already redacted."))
            if message.sender_id is not None:
                await self._target(db, ctx, room, message.sender_id, allow_self=True)
            message.status, message.body = "redacted", ""
            message.redacted_at, message.redaction_reason = now, reason
            self._audit(db, ctx, room, "redact", subject=message.sender_id, seq=seq, reason=reason)
        await ctx.api.append_event(
            room,
            {"event": "message.redacted", "seq": seq, "reason": reason},
            sender_id=ctx.socket.user_id,
        )
        self._done(ctx, seq=seq)

    async def _decide_held(self, ctx: FrameContext, approve: bool) -> None:
        room, seq = self._room(ctx), ctx.frame.number("seq") or 0
        reason = self._reason(ctx)
        async with ctx.api.sessions() as db, db.begin():
            message = await self._message(db, room, seq)
            if message.status != "held":
                raise Refused("not_held", _("That message is not waiting for review."))
            sender = await db.get(User, message.sender_id) if message.sender_id else None
            message.status = "visible" if approve else "rejected"
            if approve and sender is not None:
                # Approvals count towards a new member's first messages (durably).
                await newcomers.note_approved(db, room, sender.id, ctx.api.now())
            self._audit(
                db,
                ctx,
                room,
                "approve" if approve else "reject",
                subject=message.sender_id,
                seq=seq,
                reason=reason,
            )
            writer = {"id": sender.id, "name": sender.pseudonym} if sender is not None else None
        # The event names the message, not its text: clients read it with ``history``,
        # which leaves it out for people who muted or blocked its writer.
        data: dict[str, Any] = {
            "event": "message.approved" if approve else "message.rejected",
            "seq": seq,
        }
        if writer is not None:
            data["sender"] = writer
        await ctx.api.append_event(room, data, sender_id=ctx.socket.user_id)
        self._done(ctx, seq=seq)

    async def on_approve(self, ctx: FrameContext) -> None:
        await self._decide_held(ctx, True)

    async def on_reject(self, ctx: FrameContext) -> None:
        await self._decide_held(ctx, False)

    # --- room settings --------------------------------------------------------------------

    async def on_slow(self, ctx: FrameContext) -> None:
        room, seconds = self._room(ctx), ctx.frame.number("seconds") or 0
        async with ctx.api.sessions() as db, db.begin():
            row = await self._settings_row(db, room)
            row.slow_mode_seconds, row.updated_at = seconds, ctx.api.now()
            self._audit(db, ctx, room, "slow_mode", seconds=seconds)
        self._changed(ctx.api, room)
        await ctx.api.append_event(
            room, {"event": "room.slow_mode", "seconds": seconds}, sender_id=ctx.socket.user_id
        )
        self._done(ctx, seconds=seconds)

    async def on_lock(self, ctx: FrameContext) -> None:
        room, locked = self._room(ctx), ctx.frame.flag("locked")
        reason = self._reason(ctx)
        async with ctx.api.sessions() as db, db.begin():
            row = await self._settings_row(db, room)
            if row.locked == locked:
                raise Refused(
                    "unchanged",
                    _("The room is already locked.") if locked else _("It is not locked."),
                )
            row.locked, row.updated_at = locked, ctx.api.now()
            self._audit(db, ctx, room, "lock" if locked else "unlock", reason=reason)
        self._changed(ctx.api, room)
        await ctx.api.append_event(
            room, {"event": "room.locked", "locked": locked}, sender_id=ctx.socket.user_id
        )
        self._done(ctx, locked=locked)

    async def on_pin(self, ctx: FrameContext) -> None:
        room, text, now = self._room(ctx), ctx.frame.text("text").strip(), ctx.api.now()
        async with ctx.api.sessions() as db, db.begin():
            row = await self._settings_row(db, room)
            row.pinned_text, row.pinned_by, row.pinned_at = text, ctx.socket.user_id, now
            row.updated_at = now
            self._audit(db, ctx, room, "pin", text=text)
        self._changed(ctx.api, room)
        await ctx.api.append_event(
            room, {"event": "room.pinned", "text": text}, sender_id=ctx.socket.user_id
        )
        self._done(ctx)

    async def on_unpin(self, ctx: FrameContext) -> None:
        room = self._room(ctx)
        async with ctx.api.sessions() as db, db.begin():
            row = await self._settings_row(db, room)
            if not row.pinned_text:
                raise Refused("unchanged", _("Nothing is pinned."))
            row.pinned_text, row.pinned_by, row.pinned_at = None, None, None
            self._audit(db, ctx, room, "unpin")
        self._changed(ctx.api, room)
        await ctx.api.append_event(room, {"event": "room.unpinned"}, sender_id=ctx.socket.user_id)
        self._done(ctx)

    async def on_hold_words(self, ctx: FrameContext) -> None:
        room = self._room(ctx)
        words = clean_phrases(
            ctx.frame.text("words").splitlines(), limit=MAX_PHRASES, length=PHRASE_LIMIT
        )
        async with ctx.api.sessions() as db, db.begin():
            row = await self._settings_row(db, room)
            row.hold_phrases, row.updated_at = words, ctx.api.now()
            # The words themselves stay out of the log's detail: only how many.
            self._audit(db, ctx, room, "hold_words", count=len(words))
        self._changed(ctx.api, room)
        self._done(ctx, count=len(words))

    # --- reports and alerts ----------------------------------------------------------------

    async def on_report(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        seq = ctx.frame.number("seq")
        subject = ctx.frame.fields.get("user")
        category = ctx.frame.text("category")
        words = " ".join(str(ctx.frame.fields.get("words") or "").split())
        if category not in REPORT_CATEGORIES:
            raise Refused("bad_category", _("Choose one of the kinds of report offered."))
        if seq is None and subject is None:
            raise Refused("bad_frame", _("Say which message or which person you are reporting."))
        async with ctx.api.sessions() as db, db.begin():
            if seq is not None:
                message = await db.get(RoomMessage, (room, seq))
                if message is None or message.kind != "text":
                    raise Refused("not_found", _("There is no such message in this room."))
                subject = message.sender_id
            elif subject is not None and await db.get(User, subject) is None:
                raise Refused("not_found", _("There is no such person."))
            if subject == ctx.socket.user_id:
                raise Refused("forbidden", _("You cannot report yourself."))
            report = Report(
                group_id=room,
                reporter_id=ctx.socket.user_id,
                subject_id=subject,
                message_seq=seq,
                category=category,
                words=words,
                created_at=now,
            )
            db.add(report)
            await db.flush()
            report_id = report.id
        # Stored first: it waits in the console if no moderator is online now.
        ctx.api.send_to_moderators(room, frames.changed(room, "report"))
        ctx.reply(frames.report_received(room, report_id, ctx.frame.ref))

    async def on_resolve(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        outcome = ctx.frame.text("outcome")
        if outcome not in ("action", "no_action"):
            raise Refused("bad_outcome", _("Say whether you took action or no action."))
        note = " ".join(str(ctx.frame.fields.get("note") or "").split())
        async with ctx.api.sessions() as db, db.begin():
            report = await db.get(Report, ctx.frame.text("report"), with_for_update=True)
            if report is None or report.group_id != room:
                raise Refused("not_found", _("There is no such report for this room."))
            if report.status == "resolved":
                raise Refused("already_resolved", _("That report has already been resolved."))
            report.status, report.outcome, report.note = "resolved", outcome, note
            report.resolved_by, report.resolved_at = ctx.socket.user_id, now
            self._audit(
                db,
                ctx,
                room,
                "report.resolved",
                subject=report.subject_id,
                seq=report.message_seq,
                reason=note,
                outcome=outcome,
                report=report.id,
            )
            reporter = report.reporter_id
            # Told live if they are in the room on this process; otherwise also on their
            # next visit (a reporter on another process may be told twice, never not at all).
            if reporter is not None and any(s.in_room(room) for s in ctx.api.sockets_of(reporter)):
                report.reporter_told_at = now
        if reporter is not None:
            ctx.api.send_private(
                reporter, frames.report_handled(room, report.id, outcome, iso(now))
            )
        self._done(ctx, report=report.id)

    async def on_alert_done(self, ctx: FrameContext) -> None:
        room, now = self._room(ctx), ctx.api.now()
        async with ctx.api.sessions() as db, db.begin():
            alert = await db.get(CrisisAlert, ctx.frame.text("alert"), with_for_update=True)
            if alert is None or alert.group_id != room:
                raise Refused("not_found", _("There is no such alert for this room."))
            if alert.handled_at is not None:
                raise Refused("already_resolved", _("Someone has already seen to that alert."))
            alert.handled_by, alert.handled_at = ctx.socket.user_id, now
            self._audit(db, ctx, room, "alert.seen", subject=alert.user_id, seq=alert.message_seq)
        self._done(ctx, alert=alert.id)

    # --- personal controls -----------------------------------------------------------------

    async def _send_controls(self, ctx: FrameContext, db: AsyncSession) -> None:
        mine = await _controls(db, ctx.socket.user_id)
        ctx.api.send_private(ctx.socket.user_id, frames.controls(mine))

    async def on_controls(self, ctx: FrameContext) -> None:
        async with ctx.api.sessions() as db:
            ctx.reply(frames.controls(await _controls(db, ctx.socket.user_id)))

    async def _other(self, db: AsyncSession, ctx: FrameContext, user_id: str) -> User:
        other = await db.get(User, user_id)
        if other is None:
            raise Refused("not_found", _("There is no such person."))
        if other.id == ctx.socket.user_id:
            raise Refused("forbidden", _("You cannot do that to yourself."))
        return other

    async def on_mute(self, ctx: FrameContext) -> None:
        kind, value = ctx.frame.text("kind"), " ".join(ctx.frame.text("value").split())
        if kind not in ("word", "person") or not value:
            raise Refused("bad_frame", _("Mute a word or a person."))
        user = ctx.socket.user_id
        async with ctx.api.sessions() as db, db.begin():
            if kind == "person":
                value = (await self._other(db, ctx, value)).id
            existing = await db.get(PersonalMute, (user, kind, value))
            if existing is None:
                count = len(
                    (
                        await db.execute(
                            select(PersonalMute.value).where(PersonalMute.user_id == user)
                        )
                    ).all()
                )
                if count >= MAX_MUTES:
                    raise Refused(
                        "too_many", _("You can mute up to %(max)s things.", max=MAX_MUTES)
                    )
                db.add(PersonalMute(user_id=user, kind=kind, value=value, created_at=ctx.api.now()))
            await db.flush()
            await self._send_controls(ctx, db)
        if kind == "person":
            ctx.api.publish_control("mod.hide", {"user": user, "other": value, "hide": True})
        self._done(ctx)

    async def on_unmute(self, ctx: FrameContext) -> None:
        kind, value = ctx.frame.text("kind"), " ".join(ctx.frame.text("value").split())
        user = ctx.socket.user_id
        async with ctx.api.sessions() as db, db.begin():
            await db.execute(
                delete(PersonalMute).where(
                    PersonalMute.user_id == user,
                    PersonalMute.kind == kind,
                    PersonalMute.value == value,
                )
            )
            blocked = await db.get(Block, (user, value)) if kind == "person" else None
            await db.flush()
            await self._send_controls(ctx, db)
        if kind == "person" and blocked is None:
            ctx.api.publish_control("mod.hide", {"user": user, "other": value, "hide": False})
        self._done(ctx)

    async def on_block(self, ctx: FrameContext) -> None:
        user = ctx.socket.user_id
        async with ctx.api.sessions() as db, db.begin():
            other = await self._other(db, ctx, ctx.frame.text("user"))
            if await db.get(Block, (user, other.id)) is None:
                db.add(Block(user_id=user, blocked_user_id=other.id, created_at=ctx.api.now()))
            await db.flush()
            await self._send_controls(ctx, db)
        ctx.api.publish_control("mod.hide", {"user": user, "other": other.id, "hide": True})
        self._done(ctx, user=other.id)

    async def on_unblock(self, ctx: FrameContext) -> None:
        user, other = ctx.socket.user_id, ctx.frame.text("user")
        async with ctx.api.sessions() as db, db.begin():
            await db.execute(
                delete(Block).where(Block.user_id == user, Block.blocked_user_id == other)
            )
            muted = await db.get(PersonalMute, (user, "person", other))
            await db.flush()
            await self._send_controls(ctx, db)
        if muted is None:
            ctx.api.publish_control("mod.hide", {"user": user, "other": other, "hide": False})
        self._done(ctx, user=other)


# --- reads shared with the pages ------------------------------------------------------------


def _controls_query(user_id: str, room_for_reports: str | None = None) -> Any:
    """One round trip: the person's mutes and blocks (with names) and, for a room, the
    resolved reports they have not yet been told about. Rows: (kind, value, name, at)."""
    mutes = (
        select(PersonalMute.kind, PersonalMute.value, User.pseudonym, PersonalMute.created_at)
        .outerjoin(User, and_(PersonalMute.kind == "person", User.id == PersonalMute.value))
        .where(PersonalMute.user_id == user_id)
    )
    blocks = (
        select(literal("block"), Block.blocked_user_id, User.pseudonym, Block.created_at)
        .join(User, User.id == Block.blocked_user_id)
        .where(Block.user_id == user_id)
    )
    parts: list[Any] = [mutes, blocks]
    if room_for_reports is not None:
        parts.append(
            select(literal("report"), Report.id, Report.outcome, Report.resolved_at).where(
                Report.group_id == room_for_reports,
                Report.reporter_id == user_id,
                Report.status == "resolved",
                Report.reporter_told_at.is_(None),
            )
        )
    union = union_all(*parts).subquery()
    return select(union).order_by(union.c[3])


def _split_controls(rows: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    words: list[str] = []
    muted: list[dict[str, str]] = []
    blocked: list[dict[str, str]] = []
    handled: list[dict[str, Any]] = []
    for kind, value, name, at in rows:
        if kind == "word":
            words.append(value)
        elif kind == "person":
            muted.append({"id": value, "name": name or _("Someone")})
        elif kind == "block":
            blocked.append({"id": value, "name": name or _("Someone")})
        elif kind == "report":
            handled.append({"report": value, "outcome": name, "at": iso(at)})
    return {"muted_words": words, "muted_people": muted, "blocked": blocked}, handled


async def _controls(db: AsyncSession, user_id: str) -> dict[str, Any]:
    mine, _handled = _split_controls(await db.execute(_controls_query(user_id)))
    return mine


async def _names(db: AsyncSession, ids: list[str]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


async def queue_of(
    db: AsyncSession, room: str, now: datetime, *, audience: str = "moderators"
) -> dict[str, Any]:
    """Everything the moderator console shows for a room.

    A crisis alert carries the person's crisis plan only if they shared it with this
    audience (the moderators, or the organisers) *of this group*, read now:
    withdrawing the choice hides it from the next read, and what they shared with
    another group's moderators never shows here (peerhub/sharing/rules.py).
    """
    reports = list(
        (
            await db.execute(
                select(Report)
                .where(Report.group_id == room, Report.status == "open")
                .order_by(Report.created_at)
                .limit(200)
            )
        ).scalars()
    )
    held = list(
        (
            await db.execute(
                select(RoomMessage)
                .where(RoomMessage.room_id == room, RoomMessage.status == "held")
                .order_by(RoomMessage.seq)
                .limit(200)
            )
        ).scalars()
    )
    alerts = list(
        (
            await db.execute(
                select(CrisisAlert)
                .where(CrisisAlert.group_id == room, CrisisAlert.handled_at.is_(None))
                .order_by(CrisisAlert.created_at)
                .limit(200)
            )
        ).scalars()
    )
    seqs = {r.message_seq for r in reports if r.message_seq} | {a.message_seq for a in alerts}
    bodies: dict[int, tuple[str, str]] = {}
    if seqs:
        rows = await db.execute(
            select(RoomMessage.seq, RoomMessage.body, RoomMessage.status).where(
                RoomMessage.room_id == room, RoomMessage.seq.in_(sorted(seqs))
            )
        )
        bodies = {seq: (body, status) for seq, body, status in rows}
    members = (
        await db.execute(
            select(User.id, User.pseudonym, GroupMember.role)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == room, GroupMember.status == "active")
            .order_by(User.pseudonym)
        )
    ).all()
    sanctions = (
        await db.execute(
            select(Sanction).where(
                Sanction.group_id == room,
                Sanction.lifted_at.is_(None),
            )
        )
    ).scalars()
    timeouts: dict[str, datetime] = {}
    banned: list[Sanction] = []
    for s in sanctions:
        if s.kind == "timeout" and s.until is not None and s.until > now:
            timeouts[s.user_id] = s.until
        elif s.kind == "ban":
            banned.append(s)
    events = list(
        (
            await db.execute(
                select(ModerationEvent)
                .where(ModerationEvent.group_id == room)
                .order_by(ModerationEvent.id.desc())
                .limit(100)
            )
        ).scalars()
    )
    settings = await db.get(RoomModeration, room)
    review = await newcomers.review_of(db, room)
    people = {uid for uid, _name, _role in members}
    people |= {r.reporter_id or "" for r in reports} | {r.subject_id or "" for r in reports}
    people |= {m.sender_id or "" for m in held} | {a.user_id or "" for a in alerts}
    people |= {e.actor_id or "" for e in events} | {e.subject_id or "" for e in events}
    people |= {b.user_id for b in banned}
    names = await _names(db, list(people))

    def who(uid: str | None) -> dict[str, str] | None:
        return {"id": uid, "name": names.get(uid) or _("Someone")} if uid else None

    plans: dict[str, dict[str, str] | None] = {}
    for a in alerts:
        if a.user_id and a.user_id not in plans:
            person = await db.get(User, a.user_id)
            view = await view_for(db, person, audience, room) if person is not None else {}
            plans[a.user_id] = view.get("crisis_plan")

    def excerpt(seq: int | None) -> dict[str, Any] | None:
        if seq is None or seq not in bodies:
            return None
        body, status = bodies[seq]
        return {"seq": seq, "body": None if status == "redacted" else body, "status": status}

    return {
        "reports": [
            {
                "id": r.id,
                "reporter": who(r.reporter_id),
                "subject": who(r.subject_id),
                "message": excerpt(r.message_seq),
                "category": r.category,
                "category_text": str(REPORT_CATEGORIES.get(r.category, r.category)),
                "words": r.words,
                "at": iso(r.created_at),
            }
            for r in reports
        ],
        "held": [
            {
                "seq": m.seq,
                "sender": who(m.sender_id),
                "body": m.body,
                "at": iso(m.created_at),
            }
            for m in held
        ],
        "alerts": [
            {
                "id": a.id,
                "person": who(a.user_id),
                "message": excerpt(a.message_seq),
                "crisis_plan": plans.get(a.user_id or ""),
                "at": iso(a.created_at),
            }
            for a in alerts
        ],
        "members": [
            {
                "id": uid,
                "name": name,
                "role": "moderator" if role == "moderator" else "member",
                "timed_out_until": iso(timeouts.get(uid)),
            }
            for uid, name, role in members
        ],
        "banned": [{"id": b.user_id, "name": names.get(b.user_id) or _("Someone")} for b in banned],
        "settings": {
            "slow_mode_seconds": settings.slow_mode_seconds if settings else 0,
            "locked": bool(settings and settings.locked),
            "pinned": settings.pinned_text if settings else None,
            "hold_words": list(settings.hold_phrases or []) if settings else [],
            # Set on the group's form; shown in the console so a hold is never a mystery.
            "newcomer_messages": review.held_messages,
        },
        "audit": [audit_row(e, names) for e in events],
    }


def audit_row(event: ModerationEvent, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "actor": {"id": event.actor_id, "name": names.get(event.actor_id or "") or _("Someone")}
        if event.actor_id
        else None,
        "action": event.action,
        "subject": {
            "id": event.subject_id,
            "name": names.get(event.subject_id or "") or _("Someone"),
        }
        if event.subject_id
        else None,
        "seq": event.message_seq,
        "reason": event.reason,
        "detail": event.detail,
    }
