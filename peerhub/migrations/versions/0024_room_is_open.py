"""room_is_open: a room's column ``session_open`` is ``is_open`` (issue 13).

"Session" meant four things in PeerHub; in code it now means only SQLAlchemy's
database session. A moderator opening a group's room for a sitting is the room being
*open*: ``Room.is_open``, beside the ``opened_at`` and ``opened_by`` it already had.
No index or constraint names the column (a boolean column makes no check constraint
here), and no view or trigger reads it.

Both databases rename the column in place (PostgreSQL, and SQLite since 3.25), so
every row keeps whether its room is open; nothing is copied. What the browsers, the
stored room log and the words people read call it keeps its name (docs/architecture.md,
"Names"): the ``session.open`` / ``session.close`` frames, the ``session.opened`` /
``session.closed`` events of the room log and the state's ``session_open`` key.

Downgrading renames it back.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 18:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename(old: str, new: str) -> None:
    op.execute(f"ALTER TABLE rooms RENAME COLUMN {old} TO {new}")


def upgrade() -> None:
    _rename("session_open", "is_open")


def downgrade() -> None:
    _rename("is_open", "session_open")
