"""Storage for two-step sign-in (TOTP) and its recovery codes.

- :class:`TwoFactor`: one row per person who has started or finished setting up an
  authenticator app. ``secret`` is the confirmed key; ``pending_secret`` a key shown
  on the set-up page and not yet confirmed with a code (first set-up, or a move to a
  new phone, during which the old key keeps working). ``last_step`` is the last
  RFC 6238 time step accepted, so a code is never accepted twice.
- :class:`RecoveryCode`: ten single-use codes per person, stored as SHA-256 digests
  (they are random and long, so a fast hash is enough), marked when used.

Secrets are stored as base32 text: see docs/two-factor.md for why, and what protects them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, utcnow


class TwoFactor(Base):
    __tablename__ = "two_factor"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str | None] = mapped_column(String(64), default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    pending_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    pending_since: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def enrolled(self) -> bool:
        return self.confirmed_at is not None and self.secret is not None

    def __repr__(self) -> str:  # never the secrets, even in a traceback
        return f"TwoFactor(user_id={self.user_id!r}, enrolled={self.enrolled})"


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Looked up by (user_id, code_hash): the unique constraint's index serves both.
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    def __repr__(self) -> str:
        return f"RecoveryCode(id={self.id!r}, user_id={self.user_id!r}, used={self.used_at})"
