"""room_newcomers: new members' first messages held for review; crisis-stage rooms
open only while a moderator is present

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00.000000

Two tables (``newcomer_review``, ``newcomer_progress``) and one change of data: the
room of a group that welcomes people approaching crisis, whose moderators never chose
whether it opens only while a moderator is present (no ``room.settings`` line in the
moderation log), is switched to "open only while a moderator is present" — the default
such a group now gets (docs/moderation.md, "Rooms of groups for people approaching
crisis"). Rooms whose moderators made a choice keep it. A downgrade drops the tables and
leaves the rooms as they are: the setting is valid either way, and which rows this step
changed is not recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('newcomer_review',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('updated_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mode in ('auto', 'on', 'off')", name=op.f('ck_newcomer_review_mode')),
    sa.CheckConstraint('messages >= 1 AND messages <= 20', name=op.f('ck_newcomer_review_messages')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_newcomer_review_group_id_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_newcomer_review'))
    )
    op.create_table('newcomer_progress',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('approved', sa.Integer(), nullable=False),
    sa.Column('updated_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('approved >= 0 AND approved <= 20', name=op.f('ck_newcomer_progress_approved')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_newcomer_progress_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_newcomer_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_newcomer_progress'))
    )
    with op.batch_alter_table('newcomer_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_newcomer_progress_user_id'), ['user_id'], unique=False)

    # Crisis-stage rooms nobody chose a setting for take the new default.
    op.execute(
        sa.text(
            "UPDATE rooms SET moderator_only = :on "
            "WHERE moderator_only = :off "
            "AND id IN (SELECT group_id FROM group_tags "
            "WHERE kind = 'stage' AND value = 'approaching_crisis') "
            "AND NOT EXISTS (SELECT 1 FROM moderation_events e "
            "WHERE e.group_id = rooms.id AND e.action = 'room.settings')"
        ).bindparams(on=True, off=False)
    )


def downgrade() -> None:
    with op.batch_alter_table('newcomer_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_newcomer_progress_user_id'))

    op.drop_table('newcomer_progress')
    op.drop_table('newcomer_review')
