"""Reading match outcomes for the report."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.matching.kinds import DIMENSIONS
from peerhub.outcomes.models import MatchOutcome
from peerhub.outcomes.report import THRESHOLD, OutcomeRow, Report, outcome_report


async def settled_rows(db: AsyncSession) -> list[OutcomeRow]:
    """Every settled outcome, as a row of the report."""
    outcomes = (await db.scalars(select(MatchOutcome).where(MatchOutcome.settled.is_(True)))).all()
    return [
        OutcomeRow(
            kind={name: str(getattr(o, name)) for name in DIMENSIONS},
            joined=o.joined,
            came=o.came,
            still_coming=o.still_coming,
            attendance_seen=o.attendance_seen,
        )
        for o in outcomes
    ]


async def report(db: AsyncSession) -> Report:
    return outcome_report(await settled_rows(db))


async def being_followed(db: AsyncSession) -> int | None:
    """How many outcomes are still being followed (None when under the threshold)."""
    n = int(
        await db.scalar(
            select(func.count()).select_from(MatchOutcome).where(MatchOutcome.settled.is_(False))
        )
        or 0
    )
    return None if 0 < n < THRESHOLD else n
