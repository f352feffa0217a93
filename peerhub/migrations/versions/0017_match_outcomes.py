"""match_outcomes: what happens after a match (shown, joined, came to a session, still
coming after eight weeks), by the kind of reasons given and without names; and
outcome_links, which tie an outcome to the person and the group only while it is
followed (issue 11, section 4; docs/matching.md, "Outcomes").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_outcomes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('shown_week', sa.Date(), nullable=False),
    sa.Column('fit', sa.String(length=12), nullable=False),
    sa.Column('language', sa.String(length=12), nullable=False),
    sa.Column('community', sa.String(length=12), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('relaxed', sa.String(length=12), nullable=False),
    sa.Column('rank', sa.String(length=12), nullable=False),
    sa.Column('format', sa.String(length=12), nullable=False),
    sa.Column('attendance_seen', sa.Boolean(), nullable=False),
    sa.Column('joined', sa.Boolean(), nullable=False),
    sa.Column('came', sa.Boolean(), nullable=False),
    sa.Column('still_coming', sa.Boolean(), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=False),
    sa.CheckConstraint('not came or joined', name=op.f('ck_match_outcomes_came_joined')),
    sa.CheckConstraint('not still_coming or came', name=op.f('ck_match_outcomes_still_coming_came')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_outcomes'))
    )
    with op.batch_alter_table('match_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_outcomes_settled'), ['settled'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_outcomes_shown_week'), ['shown_week'], unique=False)

    op.create_table('outcome_links',
    sa.Column('outcome_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('shown_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_came_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_came_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_outcome_links_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outcome_id'], ['match_outcomes.id'], name=op.f('fk_outcome_links_outcome_id_match_outcomes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outcome_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outcome_id', name=op.f('pk_outcome_links')),
    sa.UniqueConstraint('user_id', 'group_id', name='uq_outcome_links_person')
    )
    with op.batch_alter_table('outcome_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_links_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outcome_links_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outcome_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_links_user_id'))
        batch_op.drop_index(batch_op.f('ix_outcome_links_group_id'))
    op.drop_table('outcome_links')
    with op.batch_alter_table('match_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_outcomes_shown_week'))
        batch_op.drop_index(batch_op.f('ix_match_outcomes_settled'))
    op.drop_table('match_outcomes')
