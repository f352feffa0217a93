"""outbox: what must happen after a commit, recorded in the same transaction (issue 13).

One table, ``outbox``: a row per event or job (its ``kind`` and JSON ``payload``), when
it falls due (``run_at``, NULL for at once), how often it was tried and the last
failure's exception class, who claimed it and until when (the lease), and when it was
done or given up (``failed_at``). See peerhub/outbox/ and docs/architecture.md.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("run_at", when, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimant", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", when, nullable=True),
        sa.Column("done_at", when, nullable=True),
        sa.Column("failed_at", when, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_pending", "outbox", ["done_at", "failed_at", "run_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
