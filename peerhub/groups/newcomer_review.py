"""The group's setting for its new members' first messages (docs/moderation.md).

Chosen on the group's form (``auto``, ``on`` or ``off``, and how many messages); the
moderation toolkit reads it to hold a newcomer's messages
(:mod:`peerhub.moderation.newcomers`). It lives with the groups, so the group's form
needs nothing from the toolkit: the core does not import ``peerhub.moderation`` (but its
tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.models import GroupTag, User
from peerhub.moderation.models import (
    DEFAULT_NEWCOMER_MESSAGES,
    MAX_NEWCOMER_MESSAGES,
    NEWCOMER_MODES,
    NewcomerReview,
)
from peerhub.realtime.queries import CRISIS_STAGE


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
