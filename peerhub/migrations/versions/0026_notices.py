"""notices: duty notices and how each reached its person (issue 14, hazard H25).

Four tables (peerhub/notify/models.py, docs/notifications.md):

- ``notices``: one row per thing a person was told (its topic, a site-relative link,
  what it is about, when, when seen); an unread row is the in-page banner;
- ``notice_deliveries``: per notice and channel (e-mail, push, SMS), sent, failed or
  skipped, with the tries and the failure's exception class (never text or address);
- ``notice_settings``: which channels a person wants, their SMS number, and whether
  an open page plays a tone for a new urgent notice;
- ``push_subscriptions``: each browser's Web Push endpoint and keys.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    op.create_table(
        "notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("read_at", when, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_unread", "notices", ["user_id", "read_at"])
    op.create_index(op.f("ix_notices_ref"), "notices", ["ref"])
    op.create_table(
        "notice_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.Column("error", sa.String(length=80), nullable=True),
        sa.CheckConstraint(
            "channel in ('email', 'push', 'sms')", name=op.f("ck_notice_deliveries_channel")
        ),
        sa.CheckConstraint(
            "status in ('sent', 'failed', 'skipped')", name=op.f("ck_notice_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_deliveries_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint("notice_id", "channel", name=op.f("uq_notice_deliveries_notice_id")),
    )
    op.create_table(
        "notice_settings",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("push", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sms", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("sound", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notice_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_settings")),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_push_subscriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(op.f("ix_push_subscriptions_user_id"), "push_subscriptions", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_push_subscriptions_user_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_table("notice_settings")
    op.drop_table("notice_deliveries")
    op.drop_index(op.f("ix_notices_ref"), table_name="notices")
    op.drop_index("ix_notices_unread", table_name="notices")
    op.drop_table("notices")
