"""check_ins: a moderator's private check-in with a member (issue 14, hazard H28).

- ``groups`` gains ``kind``: ``group`` (every existing row) or ``check_in``, the hidden
  two-person group whose room holds a private check-in. Such a group is never listed,
  searched, matched or published.
- ``check_ins``: who asked whom, from which crisis alert or report, and how it stands.
- ``check_in_settings``: an organisation's quiet period (no row: the default).

Downgrading drops the check-ins and their hidden groups (with their rooms' messages).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    # A plain ADD COLUMN: on SQLite a batch (copy, drop, rename) of ``groups`` would
    # cascade-delete every row that refers to a group.
    op.add_column("groups", sa.Column("kind", sa.String(12), server_default="group", nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(op.f("ck_groups_kind"), "groups", "kind in ('group', 'check_in')")
    op.create_table(
        "check_ins",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("source_group_id", sa.String(36), nullable=True),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("source_id", sa.String(36), nullable=False),
        sa.Column("asked_by", sa.String(36), nullable=True),
        sa.Column("member_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("answered_at", when, nullable=True),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("closed_reason", sa.String(12), nullable=True),
        sa.Column("closed_by", sa.String(36), nullable=True),
        sa.Column("last_activity_at", when, nullable=False),
        sa.Column("quiet_check_at", when, nullable=True),
        sa.CheckConstraint(
            "status in ('asked', 'open', 'declined', 'closed')", name=op.f("ck_check_ins_status")
        ),
        sa.CheckConstraint("source in ('alert', 'report')", name=op.f("ck_check_ins_source")),
        sa.CheckConstraint(
            "closed_reason is null or closed_reason in ('left', 'closed', 'quiet', 'declined')",
            name=op.f("ck_check_ins_closed_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_check_ins_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_check_ins_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_group_id"],
            ["groups.id"],
            name=op.f("fk_check_ins_source_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["users.id"], name=op.f("fk_check_ins_asked_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["users.id"],
            name=op.f("fk_check_ins_member_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["users.id"],
            name=op.f("fk_check_ins_closed_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_ins")),
        sa.UniqueConstraint("group_id", name=op.f("uq_check_ins_group_id")),
    )
    op.create_index(op.f("ix_check_ins_organisation_id"), "check_ins", ["organisation_id"])
    op.create_index(op.f("ix_check_ins_member_id"), "check_ins", ["member_id"])
    op.create_table(
        "check_in_settings",
        sa.Column("organisation_id", sa.String(36), nullable=False),
        sa.Column("quiet_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "quiet_minutes >= 5 AND quiet_minutes <= 10080", name=op.f("ck_check_in_settings_quiet")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_check_in_settings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_check_in_settings")),
    )


def downgrade() -> None:
    op.drop_table("check_in_settings")
    op.drop_index(op.f("ix_check_ins_member_id"), table_name="check_ins")
    op.drop_index(op.f("ix_check_ins_organisation_id"), table_name="check_ins")
    op.drop_table("check_ins")
    op.execute("DELETE FROM groups WHERE kind = 'check_in'")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_groups_kind"), "groups", type_="check")
    op.drop_column("groups", "kind")
