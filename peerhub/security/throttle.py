"""Login throttling that slows an attacker but never locks the owner out for good.

Two counters: one per account (keyed by the case-folded pseudonym, whether or not
the account exists, so the throttle reveals nothing) and one per client address.
After ``FREE_FAILURES`` failures an account is held back for a delay that doubles
with each further failure, capped at ``MAX_DELAY``; after that cap passes the owner
can always try again. The address counter blocks a single source that sprays many
accounts. Counters live in the database so every server process shares them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.models import LoginThrottle

WINDOW = timedelta(minutes=15)
FREE_FAILURES = 5
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
ADDRESS_LIMIT = 50  # failures per WINDOW from one address


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds


def account_key(pseudonym_key: str) -> str:
    return f"acct:{pseudonym_key}"


def address_key(ip: str) -> str:
    return f"ip:{ip}"


def second_factor_key(user_id: str) -> str:
    """Wrong two-step codes (and re-entered passwords on the two-step page) count here.

    Apart from the password counter on purpose: a correct password clears that one,
    so someone who knows the password could otherwise reset the count between guesses.
    """
    return f"2fa:{user_id}"


async def check(db: AsyncSession, keys: list[str], now: datetime) -> Verdict:
    rows = (await db.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))).scalars()
    wait = 0.0
    for row in rows:
        if row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, (row.blocked_until - now).total_seconds())
    if wait > 0:
        return Verdict(False, max(1, int(wait + 0.999)))
    return Verdict(True)


async def _row(db: AsyncSession, key: str, now: datetime) -> LoginThrottle:
    row = await db.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_started_at=now)
        db.add(row)
    elif now - row.window_started_at > WINDOW and (
        row.blocked_until is None or row.blocked_until <= now
    ):
        row.failures = 0
        row.window_started_at = now
        row.blocked_until = None
    return row


async def record_failure(db: AsyncSession, account: str, address: str, now: datetime) -> bool:
    """Count a failed login; True when this failure started a block."""
    blocked = False
    acct = await _row(db, account, now)
    acct.failures += 1
    if acct.failures >= FREE_FAILURES:
        steps = acct.failures - FREE_FAILURES
        delay = min(BASE_DELAY * (2 ** min(steps, 10)), MAX_DELAY)
        acct.blocked_until = now + delay
        blocked = True
    addr = await _row(db, address, now)
    addr.failures += 1
    if addr.failures >= ADDRESS_LIMIT:
        addr.blocked_until = now + MAX_DELAY
        blocked = True
    return blocked


async def record_success(db: AsyncSession, account: str) -> None:
    row = await db.get(LoginThrottle, account)
    if row is not None:
        await db.delete(row)
