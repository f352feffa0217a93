"""moderator_care: care for the moderators (issue 14, part 5; hazard H27).

Four tables (peerhub/care/models.py, docs/moderation.md "Care for moderators"):

- ``care_check_ins``: after a moderator sees to a crisis alert, a check-in waits for
  them; their answer (``feeling``, ``words``) is theirs alone; a debrief they ask for
  (``debrief``: requested | arranged | done) is what their organisers see. One per
  moderator and alert.
- ``moderator_training``: training records organisers of an organisation enter.
- ``required_training``: the courses an organisation requires before someone
  moderates its groups that welcome people approaching crisis.
- ``moderator_unavailability``: a moderator's time away.

Nothing existing changes. Downgrading drops the four tables.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    op.create_table(
        "care_check_ins",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("feeling", sa.String(length=12), nullable=True),
        sa.Column("words", sa.Text(), server_default="", nullable=False),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("debrief", sa.String(length=12), nullable=True),
        sa.Column("debrief_asked_at", when, nullable=True),
        sa.Column("debrief_updated_at", when, nullable=True),
        sa.CheckConstraint(
            "feeling is null or feeling in ('okay', 'shaken', 'struggling')",
            name=op.f("ck_care_check_ins_feeling"),
        ),
        sa.CheckConstraint(
            "debrief is null or debrief in ('requested', 'arranged', 'done')",
            name=op.f("ck_care_check_ins_debrief"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["crisis_alerts.id"],
            name=op.f("fk_care_check_ins_alert_id_crisis_alerts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_care_check_ins_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_care_check_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_check_ins")),
        sa.UniqueConstraint("user_id", "alert_id", name="uq_care_check_ins_user_alert"),
    )
    op.create_index(
        op.f("ix_care_check_ins_user_id"), "care_check_ins", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_care_check_ins_group_id"), "care_check_ins", ["group_id"], unique=False
    )
    op.create_index(
        "ix_care_check_ins_debrief", "care_check_ins", ["group_id", "debrief"], unique=False
    )

    op.create_table(
        "moderator_training",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("course", sa.String(length=120), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.CheckConstraint(
            "valid_until is null or valid_until >= completed_on",
            name=op.f("ck_moderator_training_valid_after_completed"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_moderator_training_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_moderator_training_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderator_training")),
    )
    op.create_index(
        op.f("ix_moderator_training_organisation_id"),
        "moderator_training",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_moderator_training_user_id"), "moderator_training", ["user_id"], unique=False
    )

    op.create_table(
        "required_training",
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("course", sa.String(length=120), nullable=False),
        sa.Column("added_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_required_training_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "course", name=op.f("pk_required_training")),
    )

    op.create_table(
        "moderator_unavailability",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("starts_at", when, nullable=False),
        sa.Column("ends_at", when, nullable=True),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_moderator_unavailability_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_moderator_unavailability")),
    )


def downgrade() -> None:
    op.drop_table("moderator_unavailability")
    op.drop_table("required_training")
    op.drop_index(op.f("ix_moderator_training_user_id"), table_name="moderator_training")
    op.drop_index(op.f("ix_moderator_training_organisation_id"), table_name="moderator_training")
    op.drop_table("moderator_training")
    op.drop_index("ix_care_check_ins_debrief", table_name="care_check_ins")
    op.drop_index(op.f("ix_care_check_ins_group_id"), table_name="care_check_ins")
    op.drop_index(op.f("ix_care_check_ins_user_id"), table_name="care_check_ins")
    op.drop_table("care_check_ins")
