"""What a person tells PeerHub about themselves, who may see each part, and their
personal crisis plan.

A :class:`SharingChoice` row means "this audience may see this item"; no row means it
may not, so the default shares the least. Every change is also recorded as a
:class:`peerhub.models.Consent` (kind ``share.<audience>.<item>``) with its version and
time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

PLAN_FIELD_LIMIT = 2000


class PersonProfile(Base):
    """Optional details beyond the pseudonym. Nothing here is required."""

    __tablename__ = "person_profiles"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    first_name: Mapped[str] = mapped_column(String(60), default="")
    pronouns: Mapped[str] = mapped_column(String(40), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SharingChoice(Base):
    """The audience may see the item (no row: it may not)."""

    __tablename__ = "sharing_choices"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[str] = mapped_column(String(20), primary_key=True)
    item: Mapped[str] = mapped_column(String(30), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "audience in ('members', 'moderators', 'organisers', 'referrer')", name="audience"
        ),
    )


class CrisisPlan(Base):
    """How the person wishes to be treated if they experience a crisis, in their words."""

    __tablename__ = "crisis_plans"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    early_signs: Mapped[str] = mapped_column(Text, default="")
    what_helps: Mapped[str] = mapped_column(Text, default="")
    what_does_not_help: Mapped[str] = mapped_column(Text, default="")
    who_to_contact: Mapped[str] = mapped_column(Text, default="")
    dependants: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
