"""The moderation actions: check, write, and say what to publish once committed.

Each action is an ``async`` function given the caller's database session (inside a
transaction the caller commits), the :class:`Actor` and its validated input. It reads
the actor's rank *in the database* (``queries.ranks``: nobody has a rank in an unverified
organisation's group), checks the input and the target's rank
(:mod:`peerhub.moderation.policy`), writes, adds its line to the append-only
:class:`~peerhub.moderation.models.ModerationEvent` log, and returns an :class:`Outcome`:
the fields of the ``done`` reply and the :data:`Effect` list that makes it visible.
Nothing is published here: the caller records the effects in the same transaction
(:func:`peerhub.moderation.after_commit.record`, an outbox row) and they run only once
it commits, so nobody hears of a change that was rolled back, and a change that was
committed is heard of even if the process dies before telling anyone. A refusal
raises :class:`~peerhub.moderation.policy.Refused` and the caller's transaction rolls
back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.duty import actions as duty
from peerhub.duty import escalation
from peerhub.errors import FieldError
from peerhub.groups.actions import end_place
from peerhub.groups.models import ModeratorInvitation
from peerhub.i18n import _
from peerhub.models import Block, Group, GroupRole, User
from peerhub.moderation import frames, newcomers, policy, queries
from peerhub.moderation.lexicon import clean_phrases
from peerhub.moderation.models import (
    MAX_MUTES,
    MAX_PHRASES,
    PHRASE_LIMIT,
    CrisisAlert,
    ModerationEvent,
    PersonalMute,
    Report,
    RoomModeration,
    Sanction,
    active_ban,
)
from peerhub.moderation.policy import Refused
from peerhub.realtime import queries as realtime_queries
from peerhub.realtime import writer
from peerhub.realtime.models import RoomMessage
from peerhub.realtime.protocol import iso


# --- what an action asks to be published after its commit ---------------------------------
@dataclass(frozen=True, slots=True)
class RulesChanged:
    """The room's cached rules are stale in every process (control ``mod.room``)."""

    room: str


@dataclass(frozen=True, slots=True)
class AppendEvent:
    """An event in the room's ordered log (it replays on resume), sent by the actor."""

    room: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Private:
    """A frame to every live socket of one person."""

    user: str
    frame: bytes


@dataclass(frozen=True, slots=True)
class ToModerators:
    """A frame to the room's moderators and organisers."""

    room: str
    frame: bytes


@dataclass(frozen=True, slots=True)
class Revoke:
    """The person is no longer in the room: their sockets there are closed."""

    room: str
    user: str
    reason: str


@dataclass(frozen=True, slots=True)
class Control:
    """A control event run in every process."""

    op: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OwnControls:
    """The person's own controls (muted words and people, blocked people), read when
    the effect runs and sent to their sockets as ``me.controls``: the muted words are
    theirs, and are not copied into the outbox."""

    user: str


Effect = RulesChanged | AppendEvent | Private | ToModerators | Revoke | Control | OwnControls


@dataclass(slots=True)
class Outcome:
    """The fields the ``done`` reply adds, and what to publish, in order, after the
    commit. The caller also tells the room's moderators their console changed (a
    ``mod.*`` action's ``mod.changed``) after the effects."""

    done: dict[str, Any] = field(default_factory=dict)
    after: list[Effect] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, and the time the action is stamped with."""

    user_id: str
    now: datetime


# --- shared steps -------------------------------------------------------------------------
async def actor_rank(
    db: AsyncSession, actor: Actor, room: str, minimum: GroupRole = GroupRole.MODERATOR
) -> GroupRole:
    """The actor's rank in the room's group, read now; refused below ``minimum``. Someone
    outside the group is told there is no such room, as the core tells them."""
    rank = (await realtime_queries.ranks(db, [(room, actor.user_id)]))[room, actor.user_id]
    if rank == GroupRole.NONE:
        raise Refused("not_found", str(writer.NOT_FOUND_TEXT))
    policy.require_rank(rank, minimum)
    return rank


async def _target(
    db: AsyncSession,
    actor: Actor,
    rank: GroupRole,
    room: str,
    user_id: str,
    *,
    allow_self: bool = False,
) -> tuple[User, GroupRole]:
    """The person acted on, who must rank strictly below the actor."""
    target = await db.get(User, user_id)
    if target is None:
        raise Refused("not_found", _("There is no such person in this group."))
    target_rank = (await realtime_queries.ranks(db, [(room, user_id)]))[room, user_id]
    policy.check_target(actor.user_id, rank, user_id, target_rank, allow_self=allow_self)
    return target, target_rank


def _audit(
    db: AsyncSession,
    actor: Actor,
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
            at=actor.now,
            actor_id=actor.user_id,
            action=action,
            subject_id=subject,
            message_seq=seq,
            reason=reason,
            detail=detail,
        )
    )


def _person(user: User) -> dict[str, str]:
    return {"id": user.id, "name": user.pseudonym}


async def _settings_row(db: AsyncSession, room: str) -> RoomModeration:
    await writer.ensure_room(db, room)
    row = await db.get(RoomModeration, room, with_for_update=True)
    if row is None:
        row = RoomModeration(room_id=room, hold_phrases=[])
        db.add(row)
    return row


async def _message(db: AsyncSession, room: str, seq: int) -> RoomMessage:
    message = await db.get(RoomMessage, (room, seq), with_for_update=True)
    if message is None or message.kind != "text":
        raise Refused("not_found", _("There is no such message in this room."))
    return message


# --- the console --------------------------------------------------------------------------
async def queue(db: AsyncSession, actor: Actor, room: str) -> frames.QueueFrame:
    """The console's contents for the room (organisers see what was shared with them)."""
    rank = await actor_rank(db, actor, room)
    audience = "organisers" if rank >= GroupRole.ORGANISER else "moderators"
    return await queries.queue_of(db, room, actor.now, audience=audience)


# --- sanctions ----------------------------------------------------------------------------
async def timeout(
    db: AsyncSession, actor: Actor, room: str, user: str, minutes: int, reason: str = ""
) -> Outcome:
    rank = await actor_rank(db, actor, room)
    reason = policy.clean(reason)
    until = actor.now + timedelta(minutes=minutes)
    target, _rank = await _target(db, actor, rank, room, user)
    await db.execute(
        update(Sanction)
        .where(
            Sanction.group_id == room,
            Sanction.user_id == target.id,
            Sanction.kind == "timeout",
            Sanction.lifted_at.is_(None),
        )
        .values(lifted_at=actor.now, lifted_by=actor.user_id)
    )
    db.add(
        Sanction(
            group_id=room,
            user_id=target.id,
            kind="timeout",
            until=until,
            reason=reason,
            created_by=actor.user_id,
            created_at=actor.now,
        )
    )
    _audit(db, actor, room, "timeout", subject=target.id, reason=reason, minutes=minutes)
    person = _person(target)
    return Outcome(
        {"user": person["id"], "until": iso(until)},
        [
            RulesChanged(room),
            AppendEvent(room, {"event": "member.timed_out", "user": person, "until": iso(until)}),
            Private(person["id"], frames.sanction(room, "timeout", iso(until), reason)),
        ],
    )


async def untimeout(db: AsyncSession, actor: Actor, room: str, user: str) -> Outcome:
    rank = await actor_rank(db, actor, room)
    target, _rank = await _target(db, actor, rank, room, user)
    lifted = await db.execute(
        update(Sanction)
        .where(
            Sanction.group_id == room,
            Sanction.user_id == target.id,
            Sanction.kind == "timeout",
            Sanction.lifted_at.is_(None),
            Sanction.until > actor.now,
        )
        .values(lifted_at=actor.now, lifted_by=actor.user_id)
    )
    if not getattr(lifted, "rowcount", 0):
        raise Refused("not_timed_out", _("%(name)s is not timed out.", name=target.pseudonym))
    _audit(db, actor, room, "timeout.lifted", subject=target.id)
    person = _person(target)
    return Outcome(
        {"user": person["id"]},
        [
            RulesChanged(room),
            AppendEvent(room, {"event": "member.timeout_lifted", "user": person}),
            Private(person["id"], frames.sanction(room, "lifted", None, "")),
        ],
    )


async def _out_of_group(
    db: AsyncSession, actor: Actor, room: str, user: str, reason: str, *, ban: bool
) -> Outcome:
    rank = await actor_rank(db, actor, room)
    reason = policy.clean(reason)
    target, target_rank = await _target(db, actor, rank, room, user)
    if target_rank == GroupRole.NONE and not ban:
        raise Refused("not_member", _("%(name)s is not in this group.", name=target.pseudonym))
    # Their place (or request, or waiting-list place) ends, and what they had shared
    # with the group is withdrawn on record, as when they leave.
    await end_place(db, target.id, room, actor.now)
    # An invitation to moderate the group dies with it.
    await db.execute(
        delete(ModeratorInvitation).where(
            ModeratorInvitation.group_id == room,
            ModeratorInvitation.user_id == target.id,
        )
    )
    if ban:
        if await active_ban(db, room, target.id) is not None:
            raise Refused("already_banned", _("%(name)s is already banned.", name=target.pseudonym))
        db.add(
            Sanction(
                group_id=room,
                user_id=target.id,
                kind="ban",
                reason=reason,
                created_by=actor.user_id,
                created_at=actor.now,
            )
        )
    _audit(db, actor, room, "ban" if ban else "remove", subject=target.id, reason=reason)
    person = _person(target)
    what = "banned" if ban else "removed"
    return Outcome(
        {"user": person["id"]},
        [
            Revoke(
                room,
                person["id"],
                "You have been banned from this group."
                if ban
                else "A moderator has removed you from this group.",
            ),
            AppendEvent(room, {"event": f"member.{what}", "user": person}),
        ],
    )


async def remove(db: AsyncSession, actor: Actor, room: str, user: str, reason: str = "") -> Outcome:
    return await _out_of_group(db, actor, room, user, reason, ban=False)


async def ban(db: AsyncSession, actor: Actor, room: str, user: str, reason: str = "") -> Outcome:
    return await _out_of_group(db, actor, room, user, reason, ban=True)


async def unban(db: AsyncSession, actor: Actor, room: str, user: str) -> Outcome:
    rank = await actor_rank(db, actor, room)
    target, _rank = await _target(db, actor, rank, room, user)
    found = await active_ban(db, room, target.id)
    if found is None:
        raise Refused("not_banned", _("%(name)s is not banned.", name=target.pseudonym))
    found.lifted_at, found.lifted_by = actor.now, actor.user_id
    _audit(db, actor, room, "ban.lifted", subject=target.id)
    return Outcome({"user": target.id})


# --- messages -----------------------------------------------------------------------------
async def redact(db: AsyncSession, actor: Actor, room: str, seq: int, reason: str = "") -> Outcome:
    rank = await actor_rank(db, actor, room)
    reason = policy.clean(reason) or "Removed by a moderator."
    message = await _message(db, room, seq)
    if message.status == "redacted":
        raise Refused("already_redacted", _("That message is already redacted."))
    if message.sender_id is not None:
        await _target(db, actor, rank, room, message.sender_id, allow_self=True)
    message.status, message.body = "redacted", ""
    message.redacted_at, message.redaction_reason = actor.now, reason
    _audit(db, actor, room, "redact", subject=message.sender_id, seq=seq, reason=reason)
    return Outcome(
        {"seq": seq},
        [AppendEvent(room, {"event": "message.redacted", "seq": seq, "reason": reason})],
    )


async def decide_held(
    db: AsyncSession, actor: Actor, room: str, seq: int, *, approve: bool, reason: str = ""
) -> Outcome:
    await actor_rank(db, actor, room)
    reason = policy.clean(reason)
    message = await _message(db, room, seq)
    if message.status != "held":
        raise Refused("not_held", _("That message is not waiting for review."))
    sender = await db.get(User, message.sender_id) if message.sender_id else None
    message.status = "visible" if approve else "rejected"
    if approve and sender is not None:
        # Approvals count towards a new member's first messages (durably).
        await newcomers.note_approved(db, room, sender.id, actor.now)
    _audit(
        db,
        actor,
        room,
        "approve" if approve else "reject",
        subject=message.sender_id,
        seq=seq,
        reason=reason,
    )
    # The event names the message, not its text: clients read it with ``history``,
    # which leaves it out for people who muted or blocked its writer.
    data: dict[str, Any] = {
        "event": "message.approved" if approve else "message.rejected",
        "seq": seq,
    }
    if sender is not None:
        data["sender"] = _person(sender)
    return Outcome({"seq": seq}, [AppendEvent(room, data)])


# --- room settings ------------------------------------------------------------------------
async def slow(db: AsyncSession, actor: Actor, room: str, seconds: int) -> Outcome:
    await actor_rank(db, actor, room)
    row = await _settings_row(db, room)
    row.slow_mode_seconds, row.updated_at = seconds, actor.now
    _audit(db, actor, room, "slow_mode", seconds=seconds)
    return Outcome(
        {"seconds": seconds},
        [RulesChanged(room), AppendEvent(room, {"event": "room.slow_mode", "seconds": seconds})],
    )


async def lock(
    db: AsyncSession, actor: Actor, room: str, locked: bool, reason: str = ""
) -> Outcome:
    await actor_rank(db, actor, room)
    reason = policy.clean(reason)
    row = await _settings_row(db, room)
    if row.locked == locked:
        raise Refused(
            "unchanged",
            _("The room is already locked.") if locked else _("It is not locked."),
        )
    row.locked, row.updated_at = locked, actor.now
    _audit(db, actor, room, "lock" if locked else "unlock", reason=reason)
    return Outcome(
        {"locked": locked},
        [RulesChanged(room), AppendEvent(room, {"event": "room.locked", "locked": locked})],
    )


async def pin(db: AsyncSession, actor: Actor, room: str, text: str) -> Outcome:
    await actor_rank(db, actor, room)
    text = text.strip()
    row = await _settings_row(db, room)
    row.pinned_text, row.pinned_by, row.pinned_at = text, actor.user_id, actor.now
    row.updated_at = actor.now
    _audit(db, actor, room, "pin", text=text)
    return Outcome(
        {}, [RulesChanged(room), AppendEvent(room, {"event": "room.pinned", "text": text})]
    )


async def unpin(db: AsyncSession, actor: Actor, room: str) -> Outcome:
    await actor_rank(db, actor, room)
    row = await _settings_row(db, room)
    if not row.pinned_text:
        raise Refused("unchanged", _("Nothing is pinned."))
    row.pinned_text, row.pinned_by, row.pinned_at = None, None, None
    _audit(db, actor, room, "unpin")
    return Outcome({}, [RulesChanged(room), AppendEvent(room, {"event": "room.unpinned"})])


async def hold_words(db: AsyncSession, actor: Actor, room: str, words: str) -> Outcome:
    await actor_rank(db, actor, room)
    phrases = clean_phrases(words.splitlines(), limit=MAX_PHRASES, length=PHRASE_LIMIT)
    row = await _settings_row(db, room)
    row.hold_phrases, row.updated_at = phrases, actor.now
    # The words themselves stay out of the log's detail: only how many.
    _audit(db, actor, room, "hold_words", count=len(phrases))
    return Outcome({"count": len(phrases)}, [RulesChanged(room)])


# --- reports and alerts -------------------------------------------------------------------
async def report(
    db: AsyncSession,
    actor: Actor,
    room: str,
    category: str,
    *,
    seq: int | None = None,
    user: str | None = None,
    words: str = "",
) -> Outcome:
    """A member reports a message or a person; ``done`` carries the report's id."""
    policy.check_report(category, seq, user)
    await actor_rank(db, actor, room, GroupRole.MEMBER)
    words = policy.clean(words)
    subject = user
    if seq is not None:
        message = await db.get(RoomMessage, (room, seq))
        if message is None or message.kind != "text":
            raise Refused("not_found", _("There is no such message in this room."))
        subject = message.sender_id
    elif subject is not None and await db.get(User, subject) is None:
        raise Refused("not_found", _("There is no such person."))
    if subject == actor.user_id:
        raise Refused("forbidden", _("You cannot report yourself."))
    created = Report(
        group_id=room,
        reporter_id=actor.user_id,
        subject_id=subject,
        message_seq=seq,
        category=category,
        words=words,
        created_at=actor.now,
    )
    db.add(created)
    await db.flush()
    # Its first step up the ladder, should nobody handle it in the group's time.
    await escalation.schedule_report(db, created, actor.now)
    # Stored first: it waits in the console if no moderator is online now.
    return Outcome({"report": created.id}, [ToModerators(room, frames.changed(room, "report"))])


async def resolve(
    db: AsyncSession,
    actor: Actor,
    room: str,
    report_id: str,
    outcome: str,
    note: str = "",
    *,
    reporter_here: Callable[[str], bool] = lambda _user: False,
) -> Outcome:
    """``reporter_here(user)``: the reporter is in the room on this process, so is told
    live now (otherwise also on their next visit: told twice, perhaps, never not at all)."""
    policy.check_outcome(outcome)
    await actor_rank(db, actor, room)
    note = policy.clean(note)
    found = await db.get(Report, report_id, with_for_update=True)
    if found is None or found.group_id != room:
        raise Refused("not_found", _("There is no such report for this room."))
    if found.status == "resolved":
        raise Refused("already_resolved", _("That report has already been resolved."))
    found.status, found.outcome, found.note = "resolved", outcome, note
    found.resolved_by, found.resolved_at = actor.user_id, actor.now
    _audit(
        db,
        actor,
        room,
        "report.resolved",
        subject=found.subject_id,
        seq=found.message_seq,
        reason=note,
        outcome=outcome,
        report=found.id,
    )
    reporter = found.reporter_id
    after: list[Effect] = []
    if reporter is not None:
        if reporter_here(reporter):
            found.reporter_told_at = actor.now
        after.append(
            Private(reporter, frames.report_handled(room, found.id, outcome, iso(actor.now)))
        )
    return Outcome({"report": found.id}, after)


async def _alert_of(db: AsyncSession, room: str, alert_id: str) -> CrisisAlert:
    alert = await db.get(CrisisAlert, alert_id, with_for_update=True)
    if alert is None or alert.group_id != room:
        raise Refused("not_found", _("There is no such alert for this room."))
    return alert


async def alert_open(db: AsyncSession, actor: Actor, room: str, alert_id: str) -> Outcome:
    """ "I'm on it": the first moderator to open the alert stops its ladder
    (peerhub/duty/)."""
    await actor_rank(db, actor, room)
    alert = await _alert_of(db, room, alert_id)
    if alert.handled_at is not None:
        raise Refused("already_resolved", _("Someone has already seen to that alert."))
    duty.open_alert(db, alert, actor.user_id, actor.now)
    return Outcome({"alert": alert.id})


async def alert_done(
    db: AsyncSession, actor: Actor, room: str, alert_id: str, outcome: str, note: str = ""
) -> Outcome:
    """Close the alert with what was done (peerhub/duty/actions.py)."""
    await actor_rank(db, actor, room)
    alert = await _alert_of(db, room, alert_id)
    if alert.handled_at is not None:
        raise Refused("already_resolved", _("Someone has already seen to that alert."))
    group = await db.get(Group, room)
    if group is None:
        raise Refused("not_found", _("There is no such alert for this room."))
    try:
        await duty.close_alert(db, alert, group, actor.user_id, outcome, note, actor.now)
    except FieldError as exc:
        raise Refused("bad_outcome", exc.message) from exc
    return Outcome({"alert": alert.id})


# --- personal controls --------------------------------------------------------------------
async def _other(db: AsyncSession, actor: Actor, user_id: str) -> User:
    other = await db.get(User, user_id)
    if other is None:
        raise Refused("not_found", _("There is no such person."))
    if other.id == actor.user_id:
        raise Refused("forbidden", _("You cannot do that to yourself."))
    return other


def _my_controls(actor: Actor) -> OwnControls:
    """The person's controls as they stand once the action is committed."""
    return OwnControls(actor.user_id)


def _hide(actor: Actor, other: str, hide: bool) -> Control:
    return Control("mod.hide", {"user": actor.user_id, "other": other, "hide": hide})


async def mute(db: AsyncSession, actor: Actor, kind: str, value: str) -> Outcome:
    value = " ".join(value.split())
    policy.check_mute(kind, value)
    user = actor.user_id
    if kind == "person":
        value = (await _other(db, actor, value)).id
    existing = await db.get(PersonalMute, (user, kind, value))
    if existing is None:
        count = len(
            (await db.execute(select(PersonalMute.value).where(PersonalMute.user_id == user))).all()
        )
        if count >= MAX_MUTES:
            raise Refused("too_many", _("You can mute up to %(max)s things.", max=MAX_MUTES))
        db.add(PersonalMute(user_id=user, kind=kind, value=value, created_at=actor.now))
    after: list[Effect] = [_my_controls(actor)]
    if kind == "person":
        after.append(_hide(actor, value, True))
    return Outcome({}, after)


async def unmute(db: AsyncSession, actor: Actor, kind: str, value: str) -> Outcome:
    value = " ".join(value.split())
    user = actor.user_id
    await db.execute(
        delete(PersonalMute).where(
            PersonalMute.user_id == user,
            PersonalMute.kind == kind,
            PersonalMute.value == value,
        )
    )
    blocked = await db.get(Block, (user, value)) if kind == "person" else None
    after: list[Effect] = [_my_controls(actor)]
    if kind == "person" and blocked is None:
        after.append(_hide(actor, value, False))
    return Outcome({}, after)


async def block(db: AsyncSession, actor: Actor, user: str) -> Outcome:
    other = await _other(db, actor, user)
    if await db.get(Block, (actor.user_id, other.id)) is None:
        db.add(Block(user_id=actor.user_id, blocked_user_id=other.id, created_at=actor.now))
    return Outcome({"user": other.id}, [_my_controls(actor), _hide(actor, other.id, True)])


async def unblock(db: AsyncSession, actor: Actor, user: str) -> Outcome:
    await db.execute(
        delete(Block).where(Block.user_id == actor.user_id, Block.blocked_user_id == user)
    )
    muted = await db.get(PersonalMute, (actor.user_id, "person", user))
    after: list[Effect] = [_my_controls(actor)]
    if muted is None:
        after.append(_hide(actor, user, False))
    return Outcome({"user": user}, after)


async def tell_reporters(db: AsyncSession, reports: list[str], now: datetime) -> None:
    """The reporters were told (on joining the room) how their reports were handled."""
    await db.execute(update(Report).where(Report.id.in_(reports)).values(reporter_told_at=now))
