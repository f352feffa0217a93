"""Random tokens and their stored digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for one purpose, so one key serves several uses safely."""
    mac = hmac.new(secret.encode("utf-8"), f"{purpose}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
