"""Who may do what to whom.

Site-wide roles: everyone is a member; a professional is verified by an admin; an
admin runs the site. Within a group, ranks are organiser > moderator > member
(:class:`~peerhub.models.GroupRole`); organisers are the organisers of the group's
organisation. Nobody may act on someone of equal or higher rank.

A group whose organisation PeerHub has not verified (checked) is not open to people:
nobody can join it, be offered a place in it, be referred to it or be in its room,
and its organisers and moderators see nothing anyone shared beyond their pseudonym.
:func:`organisation_checked` is the one question every one of those places asks.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.errors import Forbidden, NotFound
from peerhub.models import (
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    OrganisationOrganiser,
    User,
)


async def sees_organisers_reports(db: AsyncSession, user: User) -> bool:
    """May this person read the reports for organisers (unmet demand, outcomes)? An
    administrator, or an organiser of any organisation."""
    if user.is_admin:
        return True
    organiser = await db.scalar(
        select(OrganisationOrganiser.user_id)
        .where(OrganisationOrganiser.user_id == user.id)
        .limit(1)
    )
    return organiser is not None


async def organisation_checked(db: AsyncSession, group_id: str) -> bool:
    """Has PeerHub verified the organisation that runs this group? (False if no group.)"""
    verified = await db.scalar(
        select(Organisation.verified_at)
        .join(Group, Group.organisation_id == Organisation.id)
        .where(Group.id == group_id)
    )
    return verified is not None


async def group_rank(db: AsyncSession, user: User | None, group_id: str) -> GroupRole:
    if user is None:
        return GroupRole.NONE
    organiser = await db.scalar(
        select(OrganisationOrganiser.user_id)
        .join(Group, Group.organisation_id == OrganisationOrganiser.organisation_id)
        .where(
            Group.id == group_id,
            OrganisationOrganiser.user_id == user.id,
            Group.kind == "group",  # a private check-in: its two people only
        )
    )
    if organiser is not None:
        return GroupRole.ORGANISER
    member = await db.get(GroupMember, (group_id, user.id))
    if member is None or member.status != "active":
        return GroupRole.NONE
    return GroupRole.MODERATOR if member.role == "moderator" else GroupRole.MEMBER


def may_act_on(actor: GroupRole, target: GroupRole) -> bool:
    """Strictly higher rank only, and members never act on others."""
    return actor >= GroupRole.MODERATOR and actor > target


async def require_rank(
    db: AsyncSession, user: User | None, group_id: str, needed: GroupRole
) -> GroupRole:
    """The actor's rank, or NotFound for outsiders and Forbidden for insufficient rank.

    Someone with no place in the group learns nothing, not even that it exists
    privately: they get the same answer as for a group that does not exist.
    """
    rank = await group_rank(db, user, group_id)
    if rank == GroupRole.NONE and needed > GroupRole.NONE:
        raise NotFound(group_id)
    if rank < needed:
        raise Forbidden(group_id)
    return rank
