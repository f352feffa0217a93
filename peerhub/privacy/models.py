"""Storage for data rights: a group's message retention.

Retention is its own table rather than a column of ``groups`` so that the data-rights
work stays in one package. No row means "keep messages" (the default).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

# Ten years: a bound that stops typing mistakes, not a recommendation.
MAX_RETENTION_DAYS = 3650


class GroupRetention(Base):
    """Room messages of this group older than ``message_retention_days`` are deleted."""

    __tablename__ = "group_retention"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    message_retention_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            f"message_retention_days >= 1 AND message_retention_days <= {MAX_RETENTION_DAYS}",
            name="days",
        ),
    )
