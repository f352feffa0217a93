"""The outbox table: what must happen after a transaction commits (issue 13).

A row is added by :func:`peerhub.outbox.record` in the writer's own transaction, so it
exists exactly when the writer's change does. The dispatcher claims due rows, runs the
handler registered for the row's ``kind`` and marks the row done; a failure is
retried with backoff and, past the kind's limit, marked failed and kept for a person
to look at. ``payload`` holds ids and short settings, never what someone wrote.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow

KIND_LIMIT = 80
ERROR_LIMIT = 200
CLAIMANT_LIMIT = 64


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # What the dispatcher reads: the rows not yet done or failed, by when they are due.
        Index("ix_outbox_pending", "done_at", "failed_at", "run_at"),
    )

    # BIGINT on PostgreSQL; SQLite needs exactly INTEGER for a rowid key.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(KIND_LIMIT))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: due as soon as it is committed. Set for a delayed job and by a retry's backoff.
    run_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The failure's exception class only (a message could carry someone's words).
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)
    # The dispatcher holding the claim (its name, not a person: see Dispatcher.name).
    claimant: Mapped[str | None] = mapped_column(String(CLAIMANT_LIMIT), default=None)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
