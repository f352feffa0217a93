"""A new member's first messages in a group wait for a moderator (docs/moderation.md).

A seconds-old account should not be able to post at once in a room where people may be
in crisis. Each group has a setting (:class:`~peerhub.moderation.models.NewcomerReview`,
on the group's form, read and stored by :mod:`peerhub.groups.newcomer_review`):
``auto`` (the default: on when the group welcomes people approaching crisis), ``on`` or
``off``, and how many messages (3 unless the group says otherwise). While it is on, a
member whose count is below that number has each message held for review, and is told
why, kindly, in words only they see.

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

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.i18n import _, ngettext
from peerhub.moderation.models import MAX_NEWCOMER_MESSAGES, NewcomerProgress
from peerhub.realtime.models import RoomMessage


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
