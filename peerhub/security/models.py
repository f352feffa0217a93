"""Storage for the sign-in protections of peerhub/security (see docs/security.md).

- :class:`KnownDevice`: a phone or computer a person has signed in on, which can sign
  in even while strangers hold the account-wide throttle (peerhub/security/devices.py).
  The browser holds a random token; only its SHA-256 is stored here.
- :class:`UsedNonce`: single-use values already spent (the two-step pre-sign-in
  cookie's nonce), kept until the value would have expired anyway
  (peerhub/security/nonces.py).
- :class:`RateBucket`: token buckets shared by every server process, for sign-up and
  registering organisations (peerhub/security/buckets.py).

The throttle's own counters are ``login_throttle`` in peerhub/models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from peerhub.models import Base, new_id, utcnow


class KnownDevice(Base):
    __tablename__ = "known_devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the password hash the device was remembered under: a new password
    # (changed, reset or recovered) makes every remembered device unknown again.
    password_mark: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:  # never the token's hash
        return f"KnownDevice(id={self.id!r}, user_id={self.user_id!r})"


class UsedNonce(Base):
    __tablename__ = "used_nonces"

    # What the nonce was for ("login-2fa"), and the nonce: unique together, so of two
    # requests spending the same one, the database lets exactly one insert it.
    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class RateBucket(Base):
    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(index=True)
