"""content_languages: organisations' and groups' own text in several languages (issue 12).

- ``organisations.text_language`` and ``groups.text_language``: the BCP 47 tag of the
  language the own text is written in (default "en": every text so far was written
  for an English-only site), and ``text_language_label``: the organiser's own name for
  that language as they typed it ("" when not typed).
- ``groups.joining``: what to know before joining, a text of its own beside the
  ground rules.
- ``group_tags.label``: for a group's languages, the organiser's own wording for each
  ("Cymraeg", "Punjabi (Gurmukhi)"); the canonical tag stays in ``value``. Until
  now what organisers typed was dropped once it had become a tag.
- ``organisation_texts`` (name, description) and ``group_texts`` (name, description,
  ground rules, joining): one version per owner and language, the language in its
  primary key.

Plain ADD COLUMN and CREATE TABLE on both databases: a batch (copy-and-move) of
``organisations`` or ``groups`` on SQLite would drop a table that other tables'
ON DELETE CASCADE keys point at. Downgrading drops the tables and the columns (SQLite
3.35 and later drop a column in place).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("organisations", "groups"):
        op.add_column(
            table,
            sa.Column("text_language", sa.String(length=35), nullable=False, server_default="en"),
        )
        op.add_column(
            table,
            sa.Column(
                "text_language_label", sa.String(length=64), nullable=False, server_default=""
            ),
        )
    op.add_column("groups", sa.Column("joining", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "group_tags", sa.Column("label", sa.String(length=64), nullable=False, server_default="")
    )
    op.create_table(
        "organisation_texts",
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("language_label", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("updated_at", peerhub.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_texts_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", "language", name=op.f("pk_organisation_texts")),
    )
    op.create_table(
        "group_texts",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("language_label", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("ground_rules", sa.Text(), nullable=False),
        sa.Column("joining", sa.Text(), nullable=False),
        sa.Column("updated_at", peerhub.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_texts_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "language", name=op.f("pk_group_texts")),
    )


def downgrade() -> None:
    op.drop_table("group_texts")
    op.drop_table("organisation_texts")
    op.drop_column("group_tags", "label")
    op.drop_column("groups", "joining")
    for table in ("groups", "organisations"):
        op.drop_column(table, "text_language_label")
        op.drop_column(table, "text_language")
