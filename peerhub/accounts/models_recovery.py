"""Storage for getting back into an account: recovery words and one-time reset secrets.

- :class:`RecoveryWords`: at most one live set per person, stored only as an argon2id
  hash (the words are about 62 bits, but people may reuse them elsewhere, and a slow
  hash costs an attacker with a copy of the database far more than SHA-256 would).
  The row is deleted when the words are used (single use) or replaced.
- :class:`PasswordReset`: one-time secrets that let a person choose a new password:
  an e-mailed link (``email``), or a code handed over in person by an organiser of
  one of their groups (``organiser``) or by an administrator (``admin``). Only a keyed
  hash (HMAC with the server's secret key) is stored, so a copy of the database alone
  is no use for guessing the short codes. ``used_at`` marks it spent; an expired or
  replaced one has ``expires_at`` in the past, and ``ended`` says why it stopped
  early (the person signed in, changed or reset their password, or a new one replaced
  it), so their account page can tell them. Rows are kept while they count toward
  an organiser's daily limit (see peerhub/accounts/recovery.py).

The secrets themselves are never stored, logged or written to the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow


class RecoveryWords(Base):
    __tablename__ = "recovery_words"

    # A new id for every set: a reset in progress names the set it was proved with,
    # so a set replaced meanwhile cannot finish it.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    words_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never the hash, even in a traceback
        return f"RecoveryWords(user_id={self.user_id!r}, created_at={self.created_at!r})"


# The kinds of reset secret (the check constraint below says the same).
KINDS = ("email", "organiser", "admin")

# Why a reset secret stopped working early: the person signed in, changed their
# password, reset it another way, or a newer secret of the same kind replaced it.
ENDED = ("signed_in", "changed", "reset", "replaced")


class PasswordReset(Base):
    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    # The organiser or administrator who issued a code (None for e-mailed links).
    issued_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # Why it stopped working before its time, if it did (ENDED).
    ended: Mapped[str | None] = mapped_column(String(16), default=None)

    __table_args__ = (
        CheckConstraint("kind in ('email', 'organiser', 'admin')", name="kind"),
        CheckConstraint(
            "ended is null or ended in ('signed_in', 'changed', 'reset', 'replaced')",
            name="ended",
        ),
        # The per-organiser daily limit counts by issuer and time.
        Index("ix_password_resets_issued_by_created_at", "issued_by", "created_at"),
    )

    def __repr__(self) -> str:
        return f"PasswordReset(id={self.id!r}, kind={self.kind!r}, used={self.used_at})"


async def expire_live(
    db: AsyncSession,
    user_id: str,
    now: datetime,
    *,
    why: str,
    kinds: tuple[str, ...] = KINDS,
) -> int:
    """Every reset code and e-mailed link of the person still waiting stops working,
    for the reason ``why`` (one of :data:`ENDED`, which their account page shows).
    Returns how many did. Here, beside the table, because signing in (accounts/actions.py)
    and the recovery itself (accounts/recovery.py) both call it."""
    result = await db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user_id,
            PasswordReset.kind.in_(kinds),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(expires_at=now, ended=why)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
