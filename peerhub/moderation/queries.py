"""The moderation toolkit's reads: what the console, the pages and a person's own
controls show, and a room's rules as the policy caches them. Reads only; nothing is
encoded here (the console's contents are built as their frame's struct,
frames.QueueFrame, so they are what the wire and its schema say)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.duty.models import DutySettings
from peerhub.groups import newcomer_review
from peerhub.i18n import _
from peerhub.models import Block, GroupMember, User
from peerhub.moderation.frames import (
    AuditEntry,
    Excerpt,
    HeldMessage,
    QueuedAlert,
    QueuedMember,
    QueuedReport,
    QueueFrame,
    QueueSettings,
    SharedCrisisPlan,
)
from peerhub.moderation.lexicon import Matcher
from peerhub.moderation.models import (
    REPORT_CATEGORIES,
    CrisisAlert,
    ModerationEvent,
    PersonalMute,
    Report,
    RoomModeration,
    Sanction,
)
from peerhub.moderation.policy import RoomRules
from peerhub.realtime.models import RoomMessage
from peerhub.realtime.protocol import PublicPerson, iso


async def room_rules(db: AsyncSession, room: str, now: datetime) -> RoomRules:
    """The room's settings, its newcomers' hold and its active time-outs, as stored."""
    row = await db.get(RoomModeration, room)
    review = await newcomer_review.review_of(db, room)
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
    rules = RoomRules(newcomer_messages=review.held_messages)
    duty = await db.get(DutySettings, room)
    if duty is not None:
        rules.alert_minutes = duty.alert_minutes
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
    return rules


def controls_query(user_id: str, room_for_reports: str | None = None) -> Any:
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


def split_controls(rows: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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


async def controls(db: AsyncSession, user_id: str) -> dict[str, Any]:
    mine, _handled = split_controls(await db.execute(controls_query(user_id)))
    return mine


async def names_of(db: AsyncSession, ids: list[str]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.pseudonym).where(User.id.in_(wanted)))
    return {uid: name for uid, name in rows}


async def queue_of(
    db: AsyncSession, room: str, now: datetime, *, audience: str = "moderators"
) -> QueueFrame:
    """Everything the moderator console shows for a room.

    A crisis alert carries the person's crisis plan only if they shared it with this
    audience (the moderators, or the organisers) *of this group*, read now:
    withdrawing the choice hides it from the next read, and what they shared with
    another group's moderators never shows here (peerhub/sharing/rules.py).
    """
    from peerhub.sharing.rules import view_for

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
    review = await newcomer_review.review_of(db, room)
    people = {uid for uid, _name, _role in members}
    people |= {r.reporter_id or "" for r in reports} | {r.subject_id or "" for r in reports}
    people |= {m.sender_id or "" for m in held} | {a.user_id or "" for a in alerts}
    people |= {a.opened_by or "" for a in alerts}
    people |= {e.actor_id or "" for e in events} | {e.subject_id or "" for e in events}
    people |= {b.user_id for b in banned}
    names = await names_of(db, list(people))

    def who(uid: str | None) -> PublicPerson | None:
        return person_of(uid, names)

    plans: dict[str, SharedCrisisPlan | None] = {}
    for a in alerts:
        if a.user_id and a.user_id not in plans:
            person = await db.get(User, a.user_id)
            view = await view_for(db, person, audience, room) if person is not None else {}
            plan: dict[str, str] | None = view.get("crisis_plan")
            plans[a.user_id] = None if plan is None else SharedCrisisPlan(**plan)

    def excerpt(seq: int | None) -> Excerpt | None:
        if seq is None or seq not in bodies:
            return None
        body, status = bodies[seq]
        return Excerpt(seq=seq, body=None if status == "redacted" else body, status=status)

    return QueueFrame(
        room=room,
        reports=[
            QueuedReport(
                id=r.id,
                reporter=who(r.reporter_id),
                subject=who(r.subject_id),
                message=excerpt(r.message_seq),
                category=r.category,
                category_text=str(REPORT_CATEGORIES.get(r.category, r.category)),
                words=r.words,
                at=iso(r.created_at) or "",
            )
            for r in reports
        ],
        held=[
            HeldMessage(
                seq=m.seq,
                sender=who(m.sender_id),
                body=m.body,
                at=iso(m.created_at) or "",
            )
            for m in held
        ],
        alerts=[
            QueuedAlert(
                id=a.id,
                person=who(a.user_id),
                message=excerpt(a.message_seq),
                crisis_plan=plans.get(a.user_id or ""),
                at=iso(a.created_at) or "",
                opened_by=who(a.opened_by),
                level=a.level,
            )
            for a in alerts
        ],
        members=[
            QueuedMember(
                id=uid,
                name=name,
                role="moderator" if role == "moderator" else "member",
                timed_out_until=iso(timeouts.get(uid)),
            )
            for uid, name, role in members
        ],
        banned=[PublicPerson(b.user_id, names.get(b.user_id) or _("Someone")) for b in banned],
        settings=QueueSettings(
            slow_mode_seconds=settings.slow_mode_seconds if settings else 0,
            locked=bool(settings and settings.locked),
            pinned=settings.pinned_text if settings else None,
            hold_words=list(settings.hold_phrases or []) if settings else [],
            # Set on the group's form; shown in the console so a hold is never a mystery.
            newcomer_messages=review.held_messages,
        ),
        audit=[audit_row(e, names) for e in events],
    )


def person_of(uid: str | None, names: dict[str, str]) -> PublicPerson | None:
    """The person by id as the console names them (null: nobody, or an account gone)."""
    return PublicPerson(uid, names.get(uid) or _("Someone")) if uid else None


def audit_row(event: ModerationEvent, names: dict[str, str]) -> AuditEntry:
    return AuditEntry(
        id=event.id,
        at=iso(event.at) or "",
        actor=person_of(event.actor_id, names),
        action=event.action,
        subject=person_of(event.subject_id, names),
        seq=event.message_seq,
        reason=event.reason,
        detail=event.detail,
    )
