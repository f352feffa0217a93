"""A new member's first messages in a group wait for a moderator (docs/moderation.md).

A seconds-old account should not be able to post at once in a room where people may be
in crisis. Each group has a setting (:class:`~peerhub.moderation.models.NewcomerReview`,
on the group's form): ``auto`` (the default: on when the group welcomes people
approaching crisis), ``on`` or ``off``, and how many messages (3 unless the group says
otherwise). While it is on, a member whose count is below that number has each message
held for review, and is told why, kindly, in words only they see.

The count is per member per group, read from the database, so every process and every
restart agree:

- messages posted without a hold are counted from the room's log (visible text
  messages of the member), so people who were talking before the setting was turned on
  are not treated as new;
- approvals are also counted in :class:`~peerhub.moderation.models.NewcomerProgress`,
  in the approval's own transaction, so a count that came from approvals survives the
  group's message retention deleting the messages themselves.

The person's count is the larger of the two. Rejected messages do not count.
Moderators and organisers are never held. Counts only grow (except when retention
deletes messages that were never held), so a process may remember who has passed; it
forgets when the setting changes (the ``mod.room`` control event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.i18n import _, ngettext
from peerhub.models import GroupTag, User
from peerhub.moderation.models import (
    DEFAULT_NEWCOMER_MESSAGES,
    MAX_NEWCOMER_MESSAGES,
    NEWCOMER_MODES,
    NewcomerProgress,
    NewcomerReview,
)
from peerhub.realtime.models import RoomMessage
from peerhub.realtime.queries import CRISIS_STAGE


def note(messages: int) -> str:
    """What the writer of a held first message reads (private, and calm on purpose). One
    message is a sentence of its own, so that every plural form can carry the number."""
    if messages == 1:
        return _(
            "Thanks for writing. Because you are new here, a moderator reads your first message "
            "before everyone sees it. This one will appear as soon as a moderator has read it."
        )
    return ngettext(
        "Thanks for writing. Because you are new here, a moderator reads your first %(num)s "
        "message before everyone sees it. This one will appear as soon as a moderator has "
        "read it.",
        "Thanks for writing. Because you are new here, a moderator reads your first %(num)s "
        "messages before everyone sees them. This one will appear as soon as a moderator has "
        "read it.",
        messages,
    )


@dataclass(frozen=True, slots=True)
class Review:
    mode: str = "auto"
    messages: int = DEFAULT_NEWCOMER_MESSAGES
    crisis_stage: bool = False

    @property
    def active(self) -> bool:
        return self.mode == "on" or (self.mode == "auto" and self.crisis_stage)

    @property
    def held_messages(self) -> int:
        """How many first messages are held now (0 when the setting is off)."""
        return self.messages if self.active else 0


def welcomes_crisis(stages: list[str] | tuple[str, ...]) -> bool:
    return CRISIS_STAGE in stages


async def review_of(db: AsyncSession, group_id: str) -> Review:
    row = await db.get(NewcomerReview, group_id)
    crisis = bool(
        await db.scalar(
            select(
                exists().where(
                    GroupTag.group_id == group_id,
                    GroupTag.kind == "stage",
                    GroupTag.value == CRISIS_STAGE,
                )
            )
        )
    )
    if row is None:
        return Review(crisis_stage=crisis)
    return Review(row.mode, row.messages, crisis)


async def set_review(
    db: AsyncSession, actor: User, group_id: str, mode: str, messages: int, now: datetime
) -> bool:
    """Store the group's choice; True if it changed. The caller has checked that
    ``actor`` organises the group (the group form's action does)."""
    if mode not in NEWCOMER_MODES or not 1 <= messages <= MAX_NEWCOMER_MESSAGES:
        raise ValueError((mode, messages))
    row = await db.get(NewcomerReview, group_id)
    if row is None:
        if mode == "auto" and messages == DEFAULT_NEWCOMER_MESSAGES:
            return False  # the defaults need no row
        db.add(NewcomerReview(group_id=group_id, mode=mode, messages=messages, updated_at=now))
    elif (row.mode, row.messages) == (mode, messages):
        return False
    else:
        row.mode, row.messages, row.updated_at = mode, messages, now
    audit.record(
        db,
        now,
        "group.newcomer_review_changed",
        actor_id=actor.id,
        subject_id=group_id,
        mode=mode,
        messages=messages,
    )
    return True


async def seen_count(db: AsyncSession, group_id: str, user_id: str) -> int:
    """How many of the person's messages in the group everyone has seen (at most
    :data:`MAX_NEWCOMER_MESSAGES`): the larger of the log's count and the approvals."""
    posted = (
        select(RoomMessage.seq)
        .where(
            RoomMessage.room_id == group_id,
            RoomMessage.sender_id == user_id,
            RoomMessage.kind == "text",
            RoomMessage.status == "visible",
        )
        .limit(MAX_NEWCOMER_MESSAGES)
        .subquery()
    )
    in_log = await db.scalar(select(func.count()).select_from(posted))
    approved = await db.scalar(
        select(NewcomerProgress.approved).where(
            NewcomerProgress.group_id == group_id, NewcomerProgress.user_id == user_id
        )
    )
    return min(MAX_NEWCOMER_MESSAGES, max(int(in_log or 0), int(approved or 0)))


async def note_approved(db: AsyncSession, group_id: str, user_id: str, now: datetime) -> None:
    """Count an approval, in the approval's transaction (safe when two moderators
    approve at once: the database adds, nobody reads and writes back)."""
    bind = db.bind
    assert bind is not None  # noqa: S101 - sessions come from a bound sessionmaker
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    row = NewcomerProgress
    statement = insert(row).values(group_id=group_id, user_id=user_id, approved=1, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[row.group_id, row.user_id],
        set_={
            "approved": case(
                (row.approved < MAX_NEWCOMER_MESSAGES, row.approved + 1),
                else_=row.approved,
            ),
            "updated_at": now,
        },
    )
    await db.execute(statement)
