"""Private check-ins (issue 14, hazard H28): a moderator's two-person conversation with
a member, started from a crisis alert or a report. Check, write; the caller commits.

The conversation is a room like any other, so it has the rooms' delivery, moderation
and audit unchanged: its room is the room of a hidden group (``Group.kind ==
"check_in"``) in the same organisation, with two members: the moderator who asked
(role ``moderator``) and the member, once they accept (role ``member``). The
organisation's organisers have no rank there (peerhub/realtime/queries.py ``ranks``,
peerhub/security/permissions.py ``group_rank``); its safeguarding leads read it on a
read-only page. A hidden group is never listed, searched, matched or published
(every listing filters ``Group.kind == "group"``).

- :func:`start`: a moderator or organiser of the alert's or report's group asks. The
  member is told by a notice in generic words, linking to ``/check-ins/{id}``.
- :func:`accept` / :func:`decline`: the member answers.
- :func:`leave`: the member leaves at any time; :func:`close`: the moderator closes
  it. Both end the two places and close their sockets after the commit.
- :func:`quiet_check`: the durable job (:data:`QUIET`) that closes a check-in after
  the organisation's quiet period without a message, or reschedules itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import audit, notify, outbox
from peerhub.checkins.models import (
    DEFAULT_QUIET_MINUTES,
    MAX_QUIET_MINUTES,
    CheckIn,
    CheckInSettings,
)
from peerhub.errors import FieldError, NotFound
from peerhub.i18n import _, lazy_gettext
from peerhub.models import Block, Group, GroupMember, GroupRole, User, new_id
from peerhub.moderation.models import CrisisAlert, ModerationEvent, Report
from peerhub.realtime import after_commit
from peerhub.realtime.models import Room, RoomMessage
from peerhub.security.permissions import group_rank, organisation_checked

if TYPE_CHECKING:
    from peerhub.outbox.dispatcher import Dispatcher

#: The hidden group's name (the room's title); its slug is random.
ROOM_NAME = "Private check-in"
#: Why the sockets close when a check-in ends (one of the rooms' CLOSE_REASONS).
ENDED = "This private conversation has ended."
MIN_QUIET_MINUTES = 5
#: After the member says no or leaves, the same moderator cannot ask again for this long.
ASK_AGAIN_AFTER = timedelta(hours=24)

ASKED_TOPIC = notify.topic(
    "checkins.asked",
    lazy_gettext("A moderator would like to check in with you"),
    lazy_gettext(
        "A moderator would like to check in with you privately on PeerHub. You can say yes or no."
    ),
)
ANSWERED_TOPIC = notify.topic(
    "checkins.changed",
    lazy_gettext("Your private check-in has changed"),
    lazy_gettext("There is news about a private check-in you started on PeerHub."),
)


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    kind: str  # alert | report
    id: str
    group: Group
    member_id: str


async def source_of(db: AsyncSession, kind: str, source_id: str, person: str) -> Source:
    """The alert or report and the member it is about (``person``: for a report,
    ``subject`` or ``reporter``). NotFound for anything else."""
    if len(source_id) > 36:
        raise NotFound(source_id)
    member_id: str | None = None
    group_id: str | None = None
    if kind == "alert":
        alert = await db.get(CrisisAlert, source_id)
        if alert is not None:
            group_id, member_id = alert.group_id, alert.user_id
    elif kind == "report":
        report = await db.get(Report, source_id)
        if report is not None:
            group_id = report.group_id
            member_id = report.reporter_id if person == "reporter" else report.subject_id
    group = await db.get(Group, group_id) if group_id else None
    if group is None:
        raise NotFound(source_id)
    if not member_id:
        raise FieldError("check_in", _("There is nobody to check in with here."))
    return Source(kind, source_id, group, member_id)


async def quiet_minutes(db: AsyncSession, organisation_id: str) -> int:
    row = await db.get(CheckInSettings, organisation_id)
    return row.quiet_minutes if row is not None else DEFAULT_QUIET_MINUTES


async def set_quiet_minutes(
    db: AsyncSession, actor: User, organisation_id: str, minutes: int, now: datetime
) -> None:
    """Store the organisation's quiet period; the caller checked ``actor`` organises it."""
    if not MIN_QUIET_MINUTES <= minutes <= MAX_QUIET_MINUTES:
        raise FieldError(
            "quiet_minutes",
            _(
                "Choose between %(low)d and %(high)d minutes.",
                low=MIN_QUIET_MINUTES,
                high=MAX_QUIET_MINUTES,
            ),
        )
    row = await db.get(CheckInSettings, organisation_id)
    if row is None:
        db.add(
            CheckInSettings(organisation_id=organisation_id, quiet_minutes=minutes, updated_at=now)
        )
    else:
        row.quiet_minutes, row.updated_at = minutes, now
    audit.record(
        db,
        now,
        "organisation.check_in_quiet_changed",
        actor_id=actor.id,
        subject_id=organisation_id,
        minutes=minutes,
    )


def _log(
    db: AsyncSession,
    group_id: str,
    check_in: CheckIn,
    actor: str | None,
    action: str,
    now: datetime,
) -> None:
    db.add(
        ModerationEvent(
            group_id=group_id,
            at=now,
            actor_id=actor,
            action=action,
            subject_id=check_in.member_id,
            detail={"check_in": check_in.id},
        )
    )


async def _schedule(db: AsyncSession, check_in: CheckIn, due: datetime) -> None:
    check_in.quiet_check_at = due
    outbox.record(db, QUIET, Quiet(check_in.id, due.isoformat()), run_at=due)


async def start(db: AsyncSession, actor: User, source: Source, now: datetime) -> CheckIn:
    """Ask the member for a private check-in; the one already asked or open between
    the two about this group is returned instead of a second."""
    rank = await group_rank(db, actor, source.group.id)
    if rank < GroupRole.MODERATOR or source.group.kind != "group":
        raise NotFound(source.id)
    if not await organisation_checked(db, source.group.id):
        # Its rooms are closed to everyone until PeerHub has checked the organisation.
        raise FieldError("check_in", _("This group’s organisation has not been checked yet."))
    member = await db.get(User, source.member_id)
    if member is None or member.disabled_at is not None:
        raise FieldError("check_in", _("This person’s account is closed."))
    if member.id == actor.id:
        raise FieldError("check_in", _("You cannot check in with yourself."))
    # Not someone the member has blocked, and not again soon after the member said no
    # or left: asking must never become pressure (hazard H28). The words do not say
    # which, so a block stays the member's private choice.
    blocked = await db.get(Block, (member.id, actor.id))
    recent = await db.scalar(
        select(CheckIn.id).where(
            CheckIn.asked_by == actor.id,
            CheckIn.member_id == member.id,
            CheckIn.closed_reason.in_(("declined", "left")),
            CheckIn.closed_at > now - ASK_AGAIN_AFTER,
        )
    )
    if blocked is not None or recent is not None:
        raise FieldError(
            "check_in",
            _(
                "You cannot ask this person for a private check-in now. If you are "
                "worried about them, please tell the organisation’s safeguarding leads."
            ),
        )
    existing = await db.scalar(
        select(CheckIn).where(
            CheckIn.source_group_id == source.group.id,
            CheckIn.asked_by == actor.id,
            CheckIn.member_id == member.id,
            CheckIn.status.in_(("asked", "open")),
        )
    )
    if existing is not None:
        return existing
    hidden = Group(
        id=new_id(),
        organisation_id=source.group.organisation_id,
        kind="check_in",
        slug=f"check-in-{new_id()}",
        name=ROOM_NAME,
        format="online",
        join_policy="request",
        status="active",
        capacity=0,
        time_zone=source.group.time_zone,
        # No meetings: a conversation, not a group that meets.
        dtstart_local="2000-01-01T00:00:00",
        rrule="FREQ=DAILY;COUNT=1",
        exdates=[],
        created_at=now,
        updated_at=now,
    )
    db.add(hidden)
    await db.flush()
    db.add(
        GroupMember(
            group_id=hidden.id, user_id=actor.id, role="moderator", status="active", joined_at=now
        )
    )
    # Open from the start: it is a conversation, not a sitting a moderator opens.
    db.add(
        Room(id=hidden.id, is_open=True, opened_at=now, opened_by=actor.id, moderator_only=False)
    )
    check_in = CheckIn(
        group_id=hidden.id,
        organisation_id=source.group.organisation_id,
        source_group_id=source.group.id,
        source=source.kind,
        source_id=source.id,
        asked_by=actor.id,
        member_id=member.id,
        status="asked",
        created_at=now,
        last_activity_at=now,
    )
    db.add(check_in)
    await db.flush()
    # Both groups' logs: the source group's says a check-in was asked (never where).
    _log(db, source.group.id, check_in, actor.id, "check_in.asked", now)
    _log(db, hidden.id, check_in, actor.id, "check_in.asked", now)
    await notify.tell(
        db,
        member.id,
        ASKED_TOPIC,
        url=f"/check-ins/{check_in.id}",
        ref=f"check_in:{check_in.id}",
        now=now,
    )
    await _schedule(
        db, check_in, now + timedelta(minutes=await quiet_minutes(db, check_in.organisation_id))
    )
    return check_in


async def find(db: AsyncSession, user: User, check_in_id: str, *, lock: bool = False) -> CheckIn:
    """The check-in, for one of its two people only; NotFound for anyone else."""
    found = (
        await db.get(CheckIn, check_in_id, with_for_update=lock) if len(check_in_id) <= 36 else None
    )
    if found is None or user.id not in (found.member_id, found.asked_by):
        raise NotFound(check_in_id)
    return found


async def accept(db: AsyncSession, user: User, check_in: CheckIn, now: datetime) -> None:
    if check_in.member_id != user.id:
        raise NotFound(check_in.id)
    if check_in.status != "asked":
        raise FieldError("answer", _("This check-in is no longer waiting for an answer."))
    check_in.status, check_in.answered_at, check_in.last_activity_at = "open", now, now
    db.add(
        GroupMember(
            group_id=check_in.group_id,
            user_id=user.id,
            role="member",
            status="active",
            joined_at=now,
        )
    )
    _log(db, check_in.group_id, check_in, user.id, "check_in.accepted", now)
    await _tell_asker(db, check_in, now, "accepted")


async def decline(db: AsyncSession, user: User, check_in: CheckIn, now: datetime) -> None:
    if check_in.member_id != user.id:
        raise NotFound(check_in.id)
    if check_in.status != "asked":
        raise FieldError("answer", _("This check-in is no longer waiting for an answer."))
    check_in.answered_at = now
    await _end(db, check_in, user.id, "declined", now)
    check_in.status = "declined"
    await _tell_asker(db, check_in, now, "declined")


async def leave(db: AsyncSession, user: User, check_in: CheckIn, now: datetime) -> bool:
    """The member leaves (at any time); False when it had ended already."""
    if check_in.member_id != user.id:
        raise NotFound(check_in.id)
    if check_in.status not in ("asked", "open"):
        return False
    await _end(db, check_in, user.id, "left", now)
    await _tell_asker(db, check_in, now, "left")
    return True


async def close(db: AsyncSession, user: User, check_in: CheckIn, now: datetime) -> bool:
    """The moderator who asked closes it; False when it had ended already."""
    if check_in.asked_by != user.id:
        raise NotFound(check_in.id)
    if check_in.status not in ("asked", "open"):
        return False
    await _end(db, check_in, user.id, "closed", now)
    return True


async def _end(
    db: AsyncSession, check_in: CheckIn, actor: str | None, reason: str, now: datetime
) -> None:
    """Both places end, the room closes, and once this commits both people's sockets in
    it close. The messages stay, for the organisation's safeguarding leads."""
    people = set(
        await db.scalars(
            select(GroupMember.user_id).where(GroupMember.group_id == check_in.group_id)
        )
    )
    await db.execute(delete(GroupMember).where(GroupMember.group_id == check_in.group_id))
    room = await db.get(Room, check_in.group_id)
    if room is not None:
        room.is_open, room.opened_at, room.opened_by = False, None, None
    group = await db.get(Group, check_in.group_id)
    if group is not None:
        group.status = "closed"
    check_in.status = "closed"
    check_in.closed_at, check_in.closed_reason, check_in.closed_by = now, reason, actor
    check_in.quiet_check_at = None
    _log(db, check_in.group_id, check_in, actor, f"check_in.{reason}", now)
    for person in sorted(people):
        after_commit.revoke_membership(db, check_in.group_id, person, reason=ENDED)


async def _tell_asker(db: AsyncSession, check_in: CheckIn, now: datetime, what: str) -> None:
    if check_in.asked_by:
        await notify.tell(
            db,
            check_in.asked_by,
            ANSWERED_TOPIC,
            url=f"/check-ins/{check_in.id}",
            ref=f"check_in:{check_in.id}:{what}",
            now=now,
        )


async def last_activity(db: AsyncSession, check_in: CheckIn) -> datetime:
    """The later of the check-in's own changes and the room's last message."""
    said = await db.scalar(
        select(func.max(RoomMessage.created_at)).where(
            RoomMessage.room_id == check_in.group_id, RoomMessage.kind == "text"
        )
    )
    return max(check_in.last_activity_at, said) if said is not None else check_in.last_activity_at


# --- the quiet close ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Quiet:
    check_in: str
    due: str  # when this job was due (ISO 8601): a job due at another time is stale


QUIET = outbox.kind("checkins.quiet", Quiet)


async def quiet_check(db: AsyncSession, job: Quiet, now: datetime) -> str:
    """Close the check-in if it has been quiet for the organisation's period, else
    reschedule for when it will have been. Returns what it did: ``closed``,
    ``rescheduled`` or ``nothing`` (ended already, or a stale or repeated job)."""
    check_in = await db.get(CheckIn, job.check_in, with_for_update=True)
    if check_in is None or check_in.status not in ("asked", "open"):
        return "nothing"
    if check_in.quiet_check_at is None or check_in.quiet_check_at != datetime.fromisoformat(
        job.due
    ):
        return "nothing"  # a second delivery, or a job replaced by a later one
    quiet = timedelta(minutes=await quiet_minutes(db, check_in.organisation_id))
    due = await last_activity(db, check_in) + quiet
    if now < due:
        await _schedule(db, check_in, due)
        return "rescheduled"
    await _end(db, check_in, None, "quiet", now)
    return "closed"


def register(
    dispatcher: Dispatcher,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
) -> None:
    """Run the quiet-close jobs when the outbox delivers them (the application)."""

    async def handle(job: Quiet) -> None:
        # A plain transaction, as the duty ladder's: what it records (the rooms' revoke
        # events, the next job) is delivered by the dispatcher's loop.
        async with sessions() as db, db.begin():
            await quiet_check(db, job, clock())

    dispatcher.register(QUIET, handle, max_attempts=20)
