"""consented_roles: invitations to moderate or organise, which the person accepts
(nobody is made a moderator or organiser by someone else alone), and why a reset code
or link stopped working early (so the person's account page can say) — the security
review of issue 9, item 1.

No data step: memberships made by the old "appoint" (without the person's consent)
stay as they are; they carry no ``group.join`` consent record, so no organiser can
give their holder a reset code (peerhub/accounts/recovery.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('moderator_invitations',
    sa.Column('group_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('invited_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('declined_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_moderator_invitations_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_moderator_invitations_invited_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_moderator_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_moderator_invitations'))
    )
    with op.batch_alter_table('moderator_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderator_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('organiser_invitations',
    sa.Column('organisation_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('invited_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('declined_at', peerhub.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], name=op.f('fk_organiser_invitations_invited_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_organiser_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organiser_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'user_id', name=op.f('pk_organiser_invitations'))
    )
    with op.batch_alter_table('organiser_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organiser_invitations_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_password_resets_ended'),
            "ended is null or ended in ('signed_in', 'changed', 'reset', 'replaced')",
        )


def downgrade() -> None:
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_password_resets_ended'), type_='check')
        batch_op.drop_column('ended')
    with op.batch_alter_table('organiser_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organiser_invitations_user_id'))
    op.drop_table('organiser_invitations')
    with op.batch_alter_table('moderator_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderator_invitations_user_id'))
    op.drop_table('moderator_invitations')
