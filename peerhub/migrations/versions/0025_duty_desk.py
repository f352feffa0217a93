"""duty_desk: crisis alerts that cannot fall through (issue 14).

- ``crisis_alerts`` gains who opened it and when (``opened_by``, ``opened_at``: "I'm on
  it" stops the ladder), how far up the ladder it went (``level``, ``escalated_at``),
  what was done (``outcome``, ``outcome_note``) and a serious incident's review
  (``review_due_at``, ``reviewed_by``, ``reviewed_at``, ``review_note``).
- ``reports`` gains ``level`` and ``escalated_at`` (unhandled reports climb too).
- ``duty_settings``: a group's timers (no row: the defaults).
- ``safeguarding_leads`` and ``lead_invitations``: an organisation's new role, given
  only by accepting an invitation.

Existing alerts and reports start at level 0; nothing is scheduled for them (an open
alert of before the upgrade waits in the console as before). Downgrading drops the new
tables and columns, and with them the records of what was done.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 20:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTCOMES = "('check_in', 'signposted', 'emergency', 'supported', 'no_action')"


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    with op.batch_alter_table("crisis_alerts") as batch:
        batch.add_column(sa.Column("opened_by", sa.String(36), nullable=True))
        batch.add_column(sa.Column("opened_at", when, nullable=True))
        batch.add_column(sa.Column("level", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("escalated_at", when, nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
        batch.add_column(
            sa.Column("outcome_note", sa.String(500), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("review_due_at", when, nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(36), nullable=True))
        batch.add_column(sa.Column("reviewed_at", when, nullable=True))
        batch.add_column(
            sa.Column("review_note", sa.String(1000), server_default="", nullable=False)
        )
        batch.create_foreign_key(
            op.f("fk_crisis_alerts_opened_by_users"),
            "users",
            ["opened_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_crisis_alerts_reviewed_by_users"),
            "users",
            ["reviewed_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(op.f("ck_crisis_alerts_level"), "level >= 0 AND level <= 3")
        batch.create_check_constraint(
            op.f("ck_crisis_alerts_outcome"), f"outcome is null or outcome in {_OUTCOMES}"
        )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("level", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("escalated_at", when, nullable=True))
    op.create_table(
        "duty_settings",
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("alert_minutes", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), nullable=False),
        sa.Column("report_hours", sa.Integer(), nullable=False),
        sa.Column("report_lead_hours", sa.Integer(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "alert_minutes >= 1 AND alert_minutes <= 1440", name=op.f("ck_duty_settings_alert")
        ),
        sa.CheckConstraint(
            "lead_minutes >= 1 AND lead_minutes <= 1440", name=op.f("ck_duty_settings_lead")
        ),
        sa.CheckConstraint(
            "report_hours >= 1 AND report_hours <= 336", name=op.f("ck_duty_settings_report")
        ),
        sa.CheckConstraint(
            "report_lead_hours >= 1 AND report_lead_hours <= 336",
            name=op.f("ck_duty_settings_report_lead"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_duty_settings_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_duty_settings")),
    )
    for table, extra in (
        ("safeguarding_leads", [sa.Column("added_at", when, nullable=False)]),
        (
            "lead_invitations",
            [
                sa.Column("invited_by", sa.String(36), nullable=True),
                sa.Column("created_at", when, nullable=False),
                sa.Column("declined_at", when, nullable=True),
            ],
        ),
    ):
        more = (
            [
                sa.ForeignKeyConstraint(
                    ["invited_by"],
                    ["users.id"],
                    name=op.f(f"fk_{table}_invited_by_users"),
                    ondelete="SET NULL",
                )
            ]
            if table == "lead_invitations"
            else []
        )
        op.create_table(
            table,
            sa.Column("organisation_id", sa.String(36), nullable=False),
            sa.Column("user_id", sa.String(36), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["organisation_id"],
                ["organisations.id"],
                name=op.f(f"fk_{table}_organisation_id_organisations"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
            ),
            *more,
            sa.PrimaryKeyConstraint("organisation_id", "user_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_user_id"), table, ["user_id"])


def downgrade() -> None:
    for table in ("lead_invitations", "safeguarding_leads"):
        op.drop_index(op.f(f"ix_{table}_user_id"), table_name=table)
        op.drop_table(table)
    op.drop_table("duty_settings")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("level")
    with op.batch_alter_table("crisis_alerts") as batch:
        batch.drop_constraint(op.f("ck_crisis_alerts_outcome"), type_="check")
        batch.drop_constraint(op.f("ck_crisis_alerts_level"), type_="check")
        batch.drop_constraint(op.f("fk_crisis_alerts_reviewed_by_users"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_crisis_alerts_opened_by_users"), type_="foreignkey")
        for column in (
            "review_note",
            "reviewed_at",
            "reviewed_by",
            "review_due_at",
            "outcome_note",
            "outcome",
            "escalated_at",
            "level",
            "opened_at",
            "opened_by",
        ):
            batch.drop_column(column)
