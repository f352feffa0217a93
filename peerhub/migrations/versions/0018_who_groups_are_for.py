"""who_groups_are_for: whether a group is for a community only or focuses on it
(``group_tags.only``), the words of a person's "something else" in unmet demand
(``demand_records.other``), organisers' proposals of new communities and the
communities administrators add (issue 11).

Existing community tags become "focuses on" (open to anyone): nothing anyone could
join before is closed to them by this migration.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('group_tags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('only', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('demand_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other', sa.String(length=300), server_default='', nullable=False))
    op.create_table('community_proposals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('proposed_by', sa.String(length=36), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=36), nullable=True),
    sa.Column('decided_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('added_code', sa.String(length=40), nullable=True),
    sa.CheckConstraint("status in ('pending', 'added', 'declined')", name=op.f('ck_community_proposals_status')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_community_proposals_decided_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_community_proposals_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by'], ['users.id'], name=op.f('fk_community_proposals_proposed_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_community_proposals'))
    )
    with op.batch_alter_table('community_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_community_proposals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_community_proposals_status'), ['status'], unique=False)
    op.create_table('added_communities',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('added_by', sa.String(length=36), nullable=True),
    sa.Column('added_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('proposal_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['added_by'], ['users.id'], name=op.f('fk_added_communities_added_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['community_proposals.id'], name=op.f('fk_added_communities_proposal_id_community_proposals'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_added_communities')),
    sa.UniqueConstraint('label', name=op.f('uq_added_communities_label'))
    )


def downgrade() -> None:
    op.drop_table('added_communities')
    with op.batch_alter_table('community_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_community_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_community_proposals_organisation_id'))
    op.drop_table('community_proposals')
    with op.batch_alter_table('demand_records', schema=None) as batch_op:
        batch_op.drop_column('other')
    with op.batch_alter_table('group_tags', schema=None) as batch_op:
        batch_op.drop_column('only')
