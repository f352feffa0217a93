"""Where the answer to a join request (accepted or declined, and the message) is kept.

Answers live in the ``join_answers`` table: the person sees the newest one per group on
their pages. The security audit log records only that a request was answered, never
the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.models import JoinAnswer as JoinAnswerRow

ANSWER_ACTION = "group.join_answered"
MESSAGE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class JoinAnswer:
    group_id: str
    accepted: bool
    message: str
    at: datetime


def save(
    db: AsyncSession,
    now: datetime,
    *,
    actor_id: str,
    user_id: str,
    group_id: str,
    accepted: bool,
    message: str,
) -> JoinAnswer:
    db.add(
        JoinAnswerRow(
            group_id=group_id,
            user_id=user_id,
            answered_by=actor_id,
            accepted=accepted,
            message=message,
            answered_at=now,
        )
    )
    audit.record(
        db,
        now,
        ANSWER_ACTION,
        actor_id=actor_id,
        subject_id=user_id,
        group_id=group_id,
        accepted=accepted,
    )
    return JoinAnswer(group_id, accepted, message, now)


async def latest(db: AsyncSession, user_id: str, limit: int = 200) -> dict[str, JoinAnswer]:
    """The newest answer per group for one person."""
    rows = await db.scalars(
        select(JoinAnswerRow)
        .where(JoinAnswerRow.user_id == user_id)
        .order_by(JoinAnswerRow.answered_at.desc(), JoinAnswerRow.id.desc())
        .limit(limit)
    )
    found: dict[str, JoinAnswer] = {}
    for row in rows:
        if row.group_id not in found:
            found[row.group_id] = JoinAnswer(
                row.group_id, row.accepted, row.message, row.answered_at
            )
    return found
