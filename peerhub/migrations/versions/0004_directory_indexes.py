"""PostgreSQL indexes and statistics for the public directory at scale

Measured with bench/bench_directory.py on 50,000 groups: without them an HSDS word
search takes ~3.5 s at p95; with them, under 50 ms. They are PostgreSQL-only (SQLite
has no GIN or tsvector, and is not the production database); see
peerhub.migrate.POSTGRES_ONLY_INDEXES. The search expression must stay identical to
peerhub.directory.query.search_document.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = [
    "CREATE INDEX ix_groups_search ON groups USING gin (to_tsvector('simple'::regconfig, "
    "regexp_replace((name || ' ') || description, '[^[:alnum:]]+', ' ', 'g')))",
    "CREATE INDEX ix_groups_rrule ON groups (rrule)",
    'CREATE INDEX ix_groups_status_name ON groups (status, (name COLLATE "C"), id)',
    "CREATE INDEX ix_groups_latitude_longitude ON groups (latitude, longitude)",
    "CREATE STATISTICS st_group_tags_kind_value (mcv, dependencies) ON kind, value FROM group_tags",
    "ANALYZE groups",
    "ANALYZE group_tags",
]
DOWNGRADE = [
    "DROP STATISTICS IF EXISTS st_group_tags_kind_value",
    "DROP INDEX IF EXISTS ix_groups_latitude_longitude",
    "DROP INDEX IF EXISTS ix_groups_status_name",
    "DROP INDEX IF EXISTS ix_groups_rrule",
    "DROP INDEX IF EXISTS ix_groups_search",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
