"""sign_ins: the table of sign-ins is no longer called ``auth_sessions`` (issue 13).

"Session" meant four things in PeerHub; in code it now means only SQLAlchemy's
database session. A person's sign-in (the row behind the cookie) is ``SignIn``, its
table ``sign_ins``, and its primary key, unique token hash, foreign key to ``users``
and index on ``user_id`` take the names the naming convention gives the new table
(``pk_sign_ins``, ``uq_sign_ins_token_hash``, ``fk_sign_ins_user_id_users``,
``ix_sign_ins_user_id``). Nothing points at the table, and its id is a string (no
sequence to rename).

- PostgreSQL: renamed in place (the table, its index and its three constraints; the
  unique constraint's index follows its constraint). No row moves.
- SQLite keeps the constraint names written into the table's definition through a
  rename, so the new table is created with the right names, the rows are copied over
  and the old table is dropped, all in the migration's transaction.

The outbox's ``realtime.disconnect_user`` rows (peerhub/realtime/after_commit.py) name
the sign-in whose sockets to close: their payload key ``session_id`` becomes
``sign_in_id``, so a row recorded before the upgrade still closes only that sign-in's
sockets (with the old key it would be read as "every socket of the person").

Downgrading does the same the other way.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import peerhub.models

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at, user_agent"


def _rename_on_postgresql(old: str, new: str) -> None:
    op.rename_table(old, new)
    op.execute(f"ALTER INDEX ix_{old}_user_id RENAME TO ix_{new}_user_id")
    for constraint in ("pk_{}", "uq_{}_token_hash", "fk_{}_user_id_users"):
        op.execute(
            f"ALTER TABLE {new} RENAME CONSTRAINT "
            f"{constraint.format(old)} TO {constraint.format(new)}"
        )


def _copy_on_sqlite(old: str, new: str) -> None:
    when = peerhub.models.UTCDateTime(timezone=True)
    op.create_table(
        new,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("last_seen_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=f"fk_{new}_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{new}"),
        sa.UniqueConstraint("token_hash", name=f"uq_{new}_token_hash"),
    )
    op.execute(f"INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {old}")
    op.drop_index(f"ix_{old}_user_id", table_name=old)
    op.drop_table(old)
    op.create_index(f"ix_{new}_user_id", new, ["user_id"], unique=False)


def _move(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rename_on_postgresql(old, new)
    else:
        _copy_on_sqlite(old, new)


def _rename_disconnect_key(old: str, new: str) -> None:
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.BigInteger()),
        sa.column("kind", sa.String()),
        sa.column("payload", sa.JSON()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(
            outbox.c.kind == "realtime.disconnect_user"
        )
    ).all()
    for row_id, payload in rows:
        if isinstance(payload, dict) and old in payload:
            moved = {(new if key == old else key): value for key, value in payload.items()}
            conn.execute(
                sa.update(outbox).where(outbox.c.id == row_id).values(payload=moved)
            )


def upgrade() -> None:
    _move("auth_sessions", "sign_ins")
    _rename_disconnect_key("session_id", "sign_in_id")


def downgrade() -> None:
    _rename_disconnect_key("sign_in_id", "session_id")
    _move("sign_ins", "auth_sessions")
