"""interface_language: the language a person reads PeerHub in, and Easy Read (issue 12).

- ``users.language``: a BCP 47 tag of a shipped interface language ("cy", "zh-Hant"),
  or NULL for "as my browser asks" (peerhub/i18n.py, ``choose``).
- ``users.easy_read``: show the Easy Read versions of pages (default false).

Downgrading drops both columns (SQLite 3.35 and later drop a column in place).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch (copy-and-move) of ``users`` on SQLite
    # would drop the table that other tables' ON DELETE CASCADE keys point at.
    op.add_column("users", sa.Column("language", sa.String(length=35), nullable=True))
    op.add_column(
        "users", sa.Column("easy_read", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("users", "easy_read")
    op.drop_column("users", "language")
