"""Sign-in throttling that slows a guesser but never locks the owner out.

Each counter (a row of ``login_throttle``) holds a *decaying* count of failures: the
count halves every ``half_life`` instead of being reset at the end of a window, so a
patient guesser cannot wait for a reset and start again with free tries. Past
``free`` failures each new failure holds the counter back for a delay that doubles
with every further (decayed) failure, capped at ``cap``: whatever has happened, the
owner can try again at most ``cap`` after the last failure. The figures, and the
bound they give on guesses per day, are in docs/security.md ("How fast can anyone
guess?"); ``tests/test_throttle.py`` checks them by simulation against this module.

Which rules a counter follows depends on its key (:func:`policy_for`):

- ``pair:<name>@<address digest>`` (:func:`pair_key`): one account name from one
  address (or IPv6 /64). The strict counter of sign-in.
- ``acct:<name>`` (:func:`account_key`): the account name from everywhere. Looser
  (:data:`ACCOUNT_FREE` free failures), so that one address alone never reaches it;
  it slows a guesser who spreads over many addresses. Keyed by the name whether or
  not an account has it, so it reveals nothing.
- ``ip:<address>`` (:func:`address_key`): everything from one address: slows a
  single source trying many accounts.
- ``rpair:``, ``racct:``, ``rdev:`` (:func:`recovery_pair_key`,
  :func:`recovery_account_key`, :func:`recovery_device_key`): the same three for the
  ways back into an account (recovery words, reset codes, e-mailed links), kept apart
  from sign-in's so that wrong recovery tries never hold back signing in; ``racct:``
  is looser like ``acct:``.
- anything else, e.g. ``dev:…`` (a known device, :func:`device_key`), ``sess:…``
  (a password typed again inside a sign-in, :func:`sign_in_key`), ``2fa:…`` (two-step
  codes), ``erase:…``: strict, like ``pair:``.

A phone or computer the person has signed in on before (peerhub/security/devices.py)
is checked against its own ``dev:`` counter only, so strangers elsewhere cannot keep
the owner out of it; see ``peerhub.accounts.actions.authenticate``.

Two ways to use the counters:

- :func:`reserve` then :func:`refund` (sign-in, two-step codes): the attempt is
  counted *before* the password or code is checked, with the rows locked, and given
  back if it was right. Parallel attempts therefore queue on the rows and each sees
  the ones before it: sending many guesses at once gains nothing.
- :func:`check` (read only: "would an attempt be held back now?") and
  :func:`record_success` (forget a counter). Every attempt at a secret goes through
  :func:`reserve`: counting only after a check would let attempts sent in parallel
  slip past one check together.

Counters live in the database so every server process shares them, and rows not
touched for :data:`FORGET_AFTER` are deleted as other attempts come in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.models import LoginThrottle
from peerhub.security.clientip import network_of
from peerhub.security.prune import delete_unlocked
from peerhub.security.tokens import keyed

# Strict counters (an account from one address, a known device, two-step codes).
FREE_FAILURES = 5
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
HALF_LIFE = timedelta(hours=2)
# The account from every address together: looser, so one address never reaches it
# (one address at its fastest holds it near 12; see docs/security.md).
ACCOUNT_FREE = 20
# One address, every account: about 50 failures in quick succession before a delay.
ADDRESS_LIMIT = 50
ADDRESS_BASE_DELAY = timedelta(seconds=60)
ADDRESS_HALF_LIFE = timedelta(hours=1)
# A counter untouched this long has decayed to nothing (2**-12 of itself): deleted.
FORGET_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Policy:
    free: float  # decayed failures before any delay
    base: timedelta  # the first delay
    cap: timedelta  # the longest delay
    half_life: timedelta

    def decayed(self, score: float, since: datetime, now: datetime) -> float:
        elapsed = max(0.0, (now - since).total_seconds())
        return float(score * 2.0 ** (-elapsed / self.half_life.total_seconds()))

    def delay(self, score: float) -> timedelta | None:
        """How long a failure that brought the count to ``score`` holds the counter."""
        if score < self.free:
            return None
        # The exponent is capped only to keep the float small; the cap decides.
        factor = float(2.0 ** min(score - self.free, 30.0))
        return min(self.base * factor, self.cap)

    def highest_score(self) -> float:
        """The count can never exceed this, whatever a guesser does (from zero).

        Above ``free + log2(cap / base)`` every failure costs a full ``cap``, in which
        the count decays by ``q = 2**(-cap / half_life)``; so it stays below the fixed
        point ``1 / (1 - q)`` of ``s -> q s + 1``, or one above the level where delays
        reach the cap, whichever is higher.
        """
        q = float(2.0 ** (-self.cap / self.half_life))
        at_cap = self.free + math.log2(self.cap / self.base)
        return max(1.0 / (1.0 - q), at_cap + 1.0)

    def most_failures(self, period: timedelta) -> float:
        """An upper bound on failures this counter lets through in any ``period``.

        Each failure adds 1 to the count and decay removes ``count * ln 2 / half_life``
        per second, so failures = (end count - start count) + decay over the period
        <= highest * (1 + period * ln 2 / half_life).
        """
        return self.highest_score() * (1.0 + period / self.half_life * math.log(2.0))


def strict_policy() -> Policy:
    return Policy(FREE_FAILURES, BASE_DELAY, MAX_DELAY, HALF_LIFE)


def account_policy() -> Policy:
    return Policy(ACCOUNT_FREE, BASE_DELAY, MAX_DELAY, HALF_LIFE)


def address_policy() -> Policy:
    return Policy(ADDRESS_LIMIT, ADDRESS_BASE_DELAY, MAX_DELAY, ADDRESS_HALF_LIFE)


def policy_for(key: str) -> Policy:
    # Read at call time, so tests can change the module's figures.
    kind = key.split(":", 1)[0]
    if kind == "ip":
        return address_policy()
    if kind in ACCOUNT_WIDE:
        return account_policy()
    return strict_policy()


# The counters of an account name from every address (sign-in's and recovery's): the
# ones strangers share with the owner, which a known device skips.
ACCOUNT_WIDE = frozenset({"acct", "racct"})


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds
    # The account-wide counter is the one holding this attempt back: the person's own
    # phone or computer can still sign in (said on the sign-in page).
    account_wide: bool = False


# --- Keys -------------------------------------------------------------------------------


def account_key(pseudonym_key: str) -> str:
    return f"acct:{pseudonym_key}"


def address_key(ip: str) -> str:
    return f"ip:{network_of(ip)}"


def pair_key(pseudonym_key: str, ip: str, secret: str) -> str:
    """The account name from one address. The address is kept only as a keyed digest
    here, so these rows do not say which address tried which name."""
    digest = keyed(secret, "throttle-address", network_of(ip))[:32]
    return f"pair:{pseudonym_key}@{digest}"


def pair_prefix(pseudonym_key: str) -> str:
    """Every ``pair:`` key of a name starts with this (erasure deletes them)."""
    return f"pair:{pseudonym_key}@"


def device_key(user_id: str, device_id: str) -> str:
    return f"dev:{user_id}:{device_id}"


def device_prefix(user_id: str) -> str:
    return f"dev:{user_id}:"


def recovery_pair_key(pseudonym_key: str, ip: str, secret: str) -> str:
    """Like :func:`pair_key`, for recovery words, reset codes and e-mailed links."""
    digest = keyed(secret, "throttle-address", network_of(ip))[:32]
    return f"rpair:{pseudonym_key}@{digest}"


def recovery_account_key(pseudonym_key: str) -> str:
    """Like :func:`account_key`, for the ways back into an account."""
    return f"racct:{pseudonym_key}"


def recovery_device_key(user_id: str, device_id: str) -> str:
    """Like :func:`device_key`, for the ways back in tried on a known device."""
    return f"rdev:{user_id}:{device_id}"


def sign_in_key(sign_in_id: str) -> str:
    """The person's own password typed again inside a sign-in (changing it,
    new recovery words, a new e-mail address) from a browser that is not one of their
    known devices. Only whoever holds that sign-in can move it, so strangers guessing
    the name elsewhere never hold the owner back here."""
    return f"sess:{sign_in_id}"


def second_factor_key(user_id: str) -> str:
    """Wrong two-step codes (and re-entered passwords on the two-step page) count here.

    Apart from the password counter on purpose: a correct password clears that one,
    so someone who knows the password could otherwise reset the count between guesses.
    """
    return f"2fa:{user_id}"


# --- Reading ----------------------------------------------------------------------------


def _verdict(rows: Iterable[LoginThrottle], now: datetime) -> Verdict:
    wait, account_wide = 0.0, False
    for row in rows:
        if row.blocked_until is not None and row.blocked_until > now:
            seconds = (row.blocked_until - now).total_seconds()
            if seconds > wait:
                wait = seconds
                account_wide = row.key.split(":", 1)[0] in ACCOUNT_WIDE
    if wait > 0:
        return Verdict(False, max(1, math.ceil(wait)), account_wide)
    return Verdict(True)


async def check(db: AsyncSession, keys: Sequence[str], now: datetime) -> Verdict:
    rows = (await db.execute(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))).scalars()
    return _verdict(rows, now)


# --- Counting ---------------------------------------------------------------------------


def _count(row: LoginThrottle, now: datetime) -> bool:
    """Add one failure at ``now``; True when it started (or lengthened) a delay."""
    policy = policy_for(row.key)
    row.score = policy.decayed(row.score, row.updated_at, now) + 1.0
    row.updated_at = now
    delay = policy.delay(row.score)
    if delay is None:
        return False
    until = now + delay
    if row.blocked_until is None or until > row.blocked_until:
        row.blocked_until = until
    return True


async def _rows(db: AsyncSession, keys: Sequence[str], now: datetime) -> list[LoginThrottle]:
    """The counters for ``keys``, made if missing, locked until the transaction ends.

    Writing comes first: on SQLite that takes the database's write lock, on
    PostgreSQL ``FOR UPDATE`` locks the rows; keys are taken in one order, so two
    attempts never wait for each other in a circle.
    """
    ordered = sorted(set(keys))
    values = [{"key": k, "score": 0.0, "updated_at": now, "blocked_until": None} for k in ordered]
    bind = db.bind
    dialect = bind.dialect.name if bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await delete_unlocked(
        db, LoginThrottle, LoginThrottle.key, LoginThrottle.updated_at < now - FORGET_AFTER
    )
    await db.execute(insert(LoginThrottle).values(values).on_conflict_do_nothing())
    found = await db.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(ordered))
        .order_by(LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(found)


@dataclass(slots=True)
class Reservation:
    """An attempt counted in advance (see :func:`reserve`)."""

    verdict: Verdict
    at: datetime | None = None
    # For each key whose delay this attempt started: (the delay it set, the one before).
    started: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    @property
    def blocked(self) -> bool:
        """The attempt, if wrong, started a delay (for the audit trail)."""
        return bool(self.started)


async def reserve(db: AsyncSession, keys: Sequence[str], now: datetime) -> Reservation:
    """Lock the counters; if none holds the attempt back, count it as a failure now.

    Call :func:`refund` if the password or code turns out right. Commit before slow
    work (the password hash), so the rows are not held locked while it runs.
    """
    rows = await _rows(db, keys, now)
    verdict = _verdict(rows, now)
    if not verdict.allowed:
        return Reservation(verdict)
    reservation = Reservation(verdict, at=now)
    for row in rows:
        before = row.blocked_until
        if _count(row, now) and row.blocked_until is not None and row.blocked_until != before:
            reservation.started[row.key] = (row.blocked_until, before)
    await db.flush()
    return reservation


async def refund(
    db: AsyncSession,
    reservation: Reservation,
    keys: Sequence[str],
    now: datetime,
    *,
    forget: Iterable[str] = (),
) -> None:
    """The reserved attempt was right: take it back from ``keys``.

    Keys in ``forget`` are deleted outright (the counter of this account from this
    address or device: the person has shown they know the password). From the others
    (the account-wide and address counters, which strangers may share) only this one
    attempt is taken back, and a delay it started is undone unless another attempt
    has set a new one since.
    """
    if reservation.at is None:
        return
    gone = set(forget)
    # All the rows are locked first, in the same order as reserve() locks them: a
    # double-clicked sign-in (one attempt reserving while the other refunds) must
    # never leave each waiting for the other.
    for row in await _rows(db, [*keys, *gone], now):
        if row.key in gone:
            await db.delete(row)
            continue
        policy = policy_for(row.key)
        mine = policy.decayed(1.0, reservation.at, now)
        row.score = max(0.0, policy.decayed(row.score, row.updated_at, now) - mine)
        row.updated_at = now
        started = reservation.started.get(row.key)
        if started is not None and row.blocked_until == started[0]:
            row.blocked_until = started[1]
    await db.flush()


async def record_success(db: AsyncSession, key: str) -> None:
    """Forget a counter: the person has shown they know the secret it guards."""
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def forget_person(db: AsyncSession, pseudonym_key: str, user_id: str) -> None:
    """Delete every counter that names a person (their account is being erased)."""
    # ("recover:" was the recovery counter of a name before rpair/racct/rdev.)
    names = [
        account_key(pseudonym_key),
        recovery_account_key(pseudonym_key),
        f"recover:{pseudonym_key}",
    ]
    prefixes = [
        pair_prefix(pseudonym_key),
        f"r{pair_prefix(pseudonym_key)}",
        device_prefix(user_id),
        f"r{device_prefix(user_id)}",
    ]
    await db.execute(
        delete(LoginThrottle).where(
            or_(
                LoginThrottle.key.in_([*names, second_factor_key(user_id)]),
                *(LoginThrottle.key.startswith(p, autoescape=True) for p in prefixes),
            )
        )
    )
