"""rotas: who moderates each session of a group (issue 14, part 1).

Four new tables (peerhub/rotas/models.py, docs/rotas.md):

- ``rota_entries``: a moderator on one session of a group (the group and the
  session's local start, as an EXDATE names it, with its UTC start for queries),
  ``offered`` or ``rostered``, and who made it so;
- ``rota_settings``: per group, how many hours ahead a session with nobody rostered
  is a gap (48 without a row), and whether offers stand without an organiser;
- ``rota_gaps``: the gaps already told, one row per session, so each is told once;
- ``rota_feeds``: a SHA-256 of each moderator's secret calendar-feed token.

Nothing existing changes; downgrading drops the four tables.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    op.create_table(
        "rota_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("session_key", sa.String(length=19), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assigned_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "status in ('offered', 'rostered')", name=op.f("ck_rota_entries_status")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_rota_entries_assigned_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_rota_entries_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_rota_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_entries")),
        sa.UniqueConstraint("group_id", "session_key", "user_id", name="uq_rota_entries_session"),
    )
    op.create_index("ix_rota_entries_starts_at", "rota_entries", ["starts_at", "group_id"])
    op.create_index(op.f("ix_rota_entries_user_id"), "rota_entries", ["user_id"])
    op.create_table(
        "rota_settings",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("gap_hours", sa.Integer(), nullable=False),
        sa.Column("offers_stand", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "gap_hours between 1 and 336", name=op.f("ck_rota_settings_gap_hours")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_rota_settings_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_rota_settings")),
    )
    op.create_table(
        "rota_gaps",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("session_key", sa.String(length=19), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("told_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_rota_gaps_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "session_key", name=op.f("pk_rota_gaps")),
    )
    op.create_table(
        "rota_feeds",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_rota_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_rota_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rota_feeds_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("rota_feeds")
    op.drop_table("rota_gaps")
    op.drop_table("rota_settings")
    op.drop_index(op.f("ix_rota_entries_user_id"), table_name="rota_entries")
    op.drop_index("ix_rota_entries_starts_at", table_name="rota_entries")
    op.drop_table("rota_entries")
