"""Invitations to a role, which the person invited accepts or declines.

Being a moderator of a group or an organiser of an organisation gives power over
other people, and an obligation: two-step sign-in, which PeerHub then requires before
anything else (peerhub/accounts/twofactor.py). So nobody is given either by someone
else alone: an organiser *invites* a person by their name on PeerHub, and the role is
theirs only once they accept, on their own pages, having been told what it means
(docs/groups.md, "Moderators and organisers are invited"). Before this, typing any
pseudonym made that person a moderator and an active member of the group, without
their knowledge: a way to force anyone into two-step set-up, and, with a reset code,
to take over their account (security review, item 1).

- :class:`ModeratorInvitation`: to moderate a group. Accepting gives the person a
  place in the group as a moderator (or makes their place a moderator's), recorded as
  consent to the group's terms and to the role.
- :class:`OrganiserInvitation`: to organise an organisation (every group of it).
- :class:`LeadInvitation`: to be a safeguarding lead of an organisation: told when a
  crisis alert goes unseen, reading its safeguarding log (peerhub/duty/).

One row per place and person. ``declined_at`` is set when the person says no; the row
then stays for a while so the same invitation cannot be sent again at once (see
peerhub/groups/invitations.py for the times).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow


class ModeratorInvitation(Base):
    __tablename__ = "moderator_invitations"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    invited_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(default=None)


class OrganiserInvitation(Base):
    __tablename__ = "organiser_invitations"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    invited_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(default=None)


class LeadInvitation(Base):
    """An invitation to be a safeguarding lead of an organisation (peerhub/duty/)."""

    __tablename__ = "lead_invitations"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    invited_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(default=None)


class CommunityProposal(Base):
    """An organiser's proposal of a community that is not on PeerHub's list.

    An administrator adds it (an :class:`AddedCommunity`) or declines it, with a note
    the organiser sees. ``status``: pending | added | declined."""

    __tablename__ = "community_proposals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    proposed_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    added_code: Mapped[str | None] = mapped_column(String(40), default=None)

    __table_args__ = (CheckConstraint("status in ('pending', 'added', 'declined')", name="status"),)


class AddedCommunity(Base):
    """A community an administrator added to PeerHub's list. Its code starts with
    ``added_`` so it can never take the code of a built-in community."""

    __tablename__ = "added_communities"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    proposal_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("community_proposals.id", ondelete="SET NULL"), default=None
    )
