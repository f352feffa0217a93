"""Storage for the duty desk (peerhub/duty/): a group's escalation timers.

No row means the defaults. Organisers set them on the group's form.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

#: Minutes a crisis alert waits for someone on duty to open it before the group's
#: organisers are told, then minutes more before the safeguarding leads are.
DEFAULT_ALERT_MINUTES = 5
DEFAULT_LEAD_MINUTES = 10
#: Hours a report waits unhandled before the organisers are told, then hours more
#: before the safeguarding leads are.
DEFAULT_REPORT_HOURS = 24
DEFAULT_REPORT_LEAD_HOURS = 48
MAX_MINUTES = 24 * 60
MAX_HOURS = 14 * 24


class DutySettings(Base):
    __tablename__ = "duty_settings"

    group_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    alert_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_ALERT_MINUTES)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_LEAD_MINUTES)
    report_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_REPORT_HOURS)
    report_lead_hours: Mapped[int] = mapped_column(Integer, default=DEFAULT_REPORT_LEAD_HOURS)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"alert_minutes >= 1 AND alert_minutes <= {MAX_MINUTES}", name="alert"),
        CheckConstraint(f"lead_minutes >= 1 AND lead_minutes <= {MAX_MINUTES}", name="lead"),
        CheckConstraint(f"report_hours >= 1 AND report_hours <= {MAX_HOURS}", name="report"),
        CheckConstraint(
            f"report_lead_hours >= 1 AND report_lead_hours <= {MAX_HOURS}", name="report_lead"
        ),
    )
