"""A group's duty timers, chosen on the group's form (peerhub/groups/organise.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.duty.models import (
    DEFAULT_ALERT_MINUTES,
    DEFAULT_LEAD_MINUTES,
    DEFAULT_REPORT_HOURS,
    DEFAULT_REPORT_LEAD_HOURS,
    MAX_HOURS,
    MAX_MINUTES,
    DutySettings,
)
from peerhub.models import User

FIELDS = ("alert_minutes", "lead_minutes", "report_hours", "report_lead_hours")
DEFAULTS = (
    DEFAULT_ALERT_MINUTES,
    DEFAULT_LEAD_MINUTES,
    DEFAULT_REPORT_HOURS,
    DEFAULT_REPORT_LEAD_HOURS,
)
HIGHS = (MAX_MINUTES, MAX_MINUTES, MAX_HOURS, MAX_HOURS)


async def timers_of(db: AsyncSession, group_id: str) -> dict[str, int]:
    row = await db.get(DutySettings, group_id)
    if row is None:
        return dict(zip(FIELDS, DEFAULTS, strict=True))
    return {name: getattr(row, name) for name in FIELDS}


async def set_timers(
    db: AsyncSession, actor: User, group_id: str, chosen: dict[str, int], now: datetime
) -> bool:
    """Store the group's timers; True if they changed. The caller has checked that
    ``actor`` organises the group (the group form's action does)."""
    values = tuple(chosen[name] for name in FIELDS)
    if any(not 1 <= v <= high for v, high in zip(values, HIGHS, strict=True)):
        raise ValueError(values)
    row = await db.get(DutySettings, group_id)
    if row is None:
        if values == DEFAULTS:
            return False  # the defaults need no row
        db.add(
            DutySettings(
                group_id=group_id, updated_at=now, **dict(zip(FIELDS, values, strict=True))
            )
        )
    elif tuple(getattr(row, name) for name in FIELDS) == values:
        return False
    else:
        for name, value in zip(FIELDS, values, strict=True):
            setattr(row, name, value)
        row.updated_at = now
    audit.record(
        db,
        now,
        "group.duty_timers_changed",
        actor_id=actor.id,
        subject_id=group_id,
        timers=dict(zip(FIELDS, values, strict=True)),
    )
    return True
