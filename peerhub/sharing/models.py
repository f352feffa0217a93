"""What a person tells PeerHub about themselves, who may see each part, and their
personal crisis plan.

A choice row means "this audience may see this item"; no row means it may not, so the
default shares the least. The audiences inside a group (its members, moderators and
organisers) are chosen **per group** (:class:`GroupSharingChoice`), so joining a new
group never widens what anyone sees; the one audience outside groups (a professional
who referred the person) is chosen once (:class:`SharingChoice`). Every change is also
recorded as a :class:`peerhub.models.Consent` (kind ``share.<audience>.<item>``, with
the group as its subject for group audiences) with its version and time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, String, Text
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
    """A professional who referred the person may see the item (no row: they may not).

    Only the ``referrer`` audience lives here; the group audiences are per group
    (:class:`GroupSharingChoice`; migration 0012 moved them there).
    """

    __tablename__ = "sharing_choices"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    audience: Mapped[str] = mapped_column(String(20), primary_key=True)
    item: Mapped[str] = mapped_column(String(30), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("audience in ('referrer')", name="audience"),)


class GroupSharingChoice(Base):
    """In this group, this audience (its members, moderators or organisers) may see the
    item. No row: they may not.

    The choice belongs to the person's place in the group: the composite foreign key
    to ``group_members`` deletes it when the place goes (leaving, a declined request,
    a ban), so a choice can never outlive the membership it was made for.
    """

    __tablename__ = "group_sharing_choices"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    audience: Mapped[str] = mapped_column(String(20), primary_key=True)
    item: Mapped[str] = mapped_column(String(30), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        ForeignKeyConstraint(
            ["group_id", "user_id"],
            ["group_members.group_id", "group_members.user_id"],
            ondelete="CASCADE",
            name="fk_group_sharing_choices_membership",
        ),
        CheckConstraint("audience in ('members', 'moderators', 'organisers')", name="audience"),
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
