"""Group ranks: organiser > moderator > member; nobody acts on an equal or higher rank."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub.errors import Forbidden, NotFound
from peerhub.models import (
    Group,
    GroupMember,
    GroupRole,
    Organisation,
    OrganisationOrganiser,
    User,
)
from peerhub.security.permissions import group_rank, may_act_on, require_rank


def _user(name: str) -> User:
    return User(pseudonym=name, pseudonym_key=name.lower(), password_hash="x")


async def test_ranks_come_from_organisation_and_membership(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    org = Organisation(slug="org", name="Org")
    other_org = Organisation(slug="other", name="Other")
    group = Group(
        organisation=org,
        slug="g",
        name="G",
        format="online",
        dtstart_local="2026-09-01T18:00:00",
        rrule="FREQ=WEEKLY",
    )
    organiser, moderator, member, asked, outsider, other_organiser = (
        _user(n) for n in ("organiser", "moderator", "member", "asked", "outsider", "otherorg")
    )
    async with sessions() as db, db.begin():
        db.add_all(
            [org, other_org, group, organiser, moderator, member, asked, outsider, other_organiser]
        )
        await db.flush()
        db.add_all(
            [
                OrganisationOrganiser(organisation_id=org.id, user_id=organiser.id),
                OrganisationOrganiser(organisation_id=other_org.id, user_id=other_organiser.id),
                GroupMember(group_id=group.id, user_id=moderator.id, role="moderator"),
                GroupMember(group_id=group.id, user_id=member.id, role="member"),
                GroupMember(group_id=group.id, user_id=asked.id, role="member", status="requested"),
            ]
        )
    async with sessions() as db:
        ranks = {
            u.pseudonym: await group_rank(db, u, group.id)
            for u in (organiser, moderator, member, asked, outsider, other_organiser)
        }
        assert await group_rank(db, None, group.id) == GroupRole.NONE
        assert ranks == {
            "organiser": GroupRole.ORGANISER,
            "moderator": GroupRole.MODERATOR,
            "member": GroupRole.MEMBER,
            "asked": GroupRole.NONE,
            "outsider": GroupRole.NONE,
            "otherorg": GroupRole.NONE,
        }
        assert await require_rank(db, moderator, group.id, GroupRole.MODERATOR)
        with pytest.raises(Forbidden):
            await require_rank(db, member, group.id, GroupRole.MODERATOR)
        # An outsider learns nothing: the same answer as a group that does not exist.
        with pytest.raises(NotFound):
            await require_rank(db, outsider, group.id, GroupRole.MODERATOR)
        with pytest.raises(NotFound):
            await require_rank(db, other_organiser, group.id, GroupRole.MEMBER)
        with pytest.raises(NotFound):
            await require_rank(db, moderator, "no-such-group", GroupRole.MEMBER)


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        (GroupRole.ORGANISER, GroupRole.MODERATOR, True),
        (GroupRole.ORGANISER, GroupRole.MEMBER, True),
        (GroupRole.ORGANISER, GroupRole.ORGANISER, False),
        (GroupRole.MODERATOR, GroupRole.MEMBER, True),
        (GroupRole.MODERATOR, GroupRole.MODERATOR, False),
        (GroupRole.MODERATOR, GroupRole.ORGANISER, False),
        (GroupRole.MEMBER, GroupRole.MEMBER, False),
        (GroupRole.MEMBER, GroupRole.NONE, False),
        (GroupRole.NONE, GroupRole.NONE, False),
    ],
)
def test_may_act_on(actor: GroupRole, target: GroupRole, allowed: bool) -> None:
    assert may_act_on(actor, target) is allowed
