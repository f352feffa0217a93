"""group_sharing: what a person shares with a group's members, moderators and
organisers is chosen per group

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 10:00:00.000000

Before this revision a choice for "organisers" applied to the organisers of every
group the person was in, including groups they joined later. The data migration
keeps every choice in force exactly where it applied: it is copied to each group the
person is already in (an active place or a request), and the per-audience rows go.
A person in no group loses nothing anyone could see: their next group starts from
sharing nothing, as every new group now does. Only the referrer audience stays
per person.

The downgrade is careful in the other direction: a per-audience choice comes back
only where the person made it for every one of their groups (so going back never
widens what anyone sees).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_AUDIENCES = "('members', 'moderators', 'organisers')"


def upgrade() -> None:
    op.create_table('group_sharing_choices',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('audience', sa.String(length=20), nullable=False),
    sa.Column('item', sa.String(length=30), nullable=False),
    sa.Column('at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(f"audience in {GROUP_AUDIENCES}", name=op.f('ck_group_sharing_choices_audience')),
    sa.ForeignKeyConstraint(['group_id', 'user_id'], ['group_members.group_id', 'group_members.user_id'], name='fk_group_sharing_choices_membership', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_sharing_choices_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_sharing_choices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', 'audience', 'item', name=op.f('pk_group_sharing_choices'))
    )
    op.create_index(op.f('ix_group_sharing_choices_user_id'), 'group_sharing_choices', ['user_id'], unique=False)
    # Each choice stays in force for the groups the person is already in.
    op.execute(
        "INSERT INTO group_sharing_choices (group_id, user_id, audience, item, at) "
        "SELECT m.group_id, m.user_id, s.audience, s.item, s.at "
        "FROM group_members m JOIN sharing_choices s ON s.user_id = m.user_id "
        f"WHERE s.audience IN {GROUP_AUDIENCES}"
    )
    op.execute("DELETE FROM sharing_choices WHERE audience <> 'referrer'")
    with op.batch_alter_table('sharing_choices') as batch:
        batch.drop_constraint(op.f('ck_sharing_choices_audience'), type_='check')
        batch.create_check_constraint(op.f('ck_sharing_choices_audience'), "audience in ('referrer')")


def downgrade() -> None:
    with op.batch_alter_table('sharing_choices') as batch:
        batch.drop_constraint(op.f('ck_sharing_choices_audience'), type_='check')
        batch.create_check_constraint(
            op.f('ck_sharing_choices_audience'), "audience in ('members', 'moderators', 'organisers', 'referrer')"
        )
    # Only what the person shared with that audience in every one of their groups.
    op.execute(
        "INSERT INTO sharing_choices (user_id, audience, item, at) "
        "SELECT g.user_id, g.audience, g.item, MIN(g.at) FROM group_sharing_choices g "
        "GROUP BY g.user_id, g.audience, g.item "
        "HAVING COUNT(*) = (SELECT COUNT(*) FROM group_members m WHERE m.user_id = g.user_id)"
    )
    op.drop_index(op.f('ix_group_sharing_choices_user_id'), table_name='group_sharing_choices')
    op.drop_table('group_sharing_choices')
