"""deployment_id

A random id for this installation (one row), which names its channels on a shared
Redis: two deployments on one Redis never hear each other (issue 10; see
peerhub/realtime/deployment.py and docs/deployment.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 16:30:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import peerhub.models


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table('deployment',
    sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', peerhub.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('slot', name=op.f('pk_deployment'))
    )
    # The data step: this database's deployment id, made once.
    op.bulk_insert(table, [{'slot': 1, 'id': uuid.uuid4().hex, 'created_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table('deployment')
