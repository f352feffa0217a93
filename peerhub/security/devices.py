"""Phones and computers a person has signed in on ("known devices").

Pseudonyms are visible in rooms, so anyone can type a moderator's name with wrong
passwords until the account-wide throttle holds every sign-in to it back. A device
the person has signed in on before skips that counter: it has its own strict one
(peerhub/security/throttle.py, ``dev:``), which only its holder can move.

- At every successful sign-in (and sign-up) the browser gets a long-lived cookie
  (:data:`LIFETIME`, renewed at each sign-in; ``HttpOnly``, ``SameSite=Lax``,
  ``__Host-``/``Secure`` behind HTTPS) holding a random 256-bit token for that
  account, signed with ``PEERHUB_SECRET_KEY`` so a made-up value is refused before
  any look-up. Up to :data:`PER_COOKIE` accounts share one browser's cookie.
- The database holds only the token's SHA-256 (``known_devices.token_hash``), the
  User-Agent (to name the device on ``/account/sessions``) and times.
- A device stops being known when: the person forgets it (or all of them) on
  ``/account/sessions``; :data:`LIFETIME` passes without a sign-in from it; the
  password changes (``password_mark`` is a digest of the password hash it was
  remembered under); more than :data:`PER_ACCOUNT` are remembered (the least
  recently used goes); the account is erased (the rows go with it).
- Signing out does not forget the device: that is when it is needed most.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub.config import Settings
from peerhub.models import User
from peerhub.security.models import KnownDevice
from peerhub.security.prune import delete_unlocked
from peerhub.security.tokens import digest, keyed, new_token, same

LIFETIME: Final = timedelta(days=180)
PER_ACCOUNT: Final = 10
PER_COOKIE: Final = 3
_MAX_COOKIE: Final = 400


def cookie_name(settings: Settings) -> str:
    return "__Host-peerhub_device" if settings.secure_cookies else "peerhub_device"


def _mac(secret: str, token: str) -> str:
    return keyed(secret, "known-device", token)[:32]


def tokens_in(secret: str, value: str | None) -> list[str]:
    """The tokens of a device cookie whose signatures are right, newest first."""
    found: list[str] = []
    for entry in (value or "")[:_MAX_COOKIE].split("~")[:PER_COOKIE]:
        token, _, mac = entry.partition(".")
        if token and len(token) <= 64 and same(mac, _mac(secret, token)):
            found.append(token)
    return found


def cookie_value(secret: str, tokens: list[str]) -> str:
    return "~".join(f"{t}.{_mac(secret, t)}" for t in tokens[:PER_COOKIE])


def password_mark(user: User) -> str:
    return digest(user.password_hash)


def _valid(row: KnownDevice, user: User, now: datetime) -> bool:
    return (
        row.user_id == user.id
        and row.expires_at > now
        and same(row.password_mark, password_mark(user))
    )


async def _rows(db: AsyncSession, tokens: list[str]) -> dict[str, KnownDevice]:
    if not tokens:
        return {}
    found = await db.scalars(
        select(KnownDevice).where(KnownDevice.token_hash.in_([digest(t) for t in tokens]))
    )
    return {row.token_hash: row for row in found}


async def recognise(
    db: AsyncSession, user: User | None, tokens: list[str], now: datetime
) -> KnownDevice | None:
    """The known device of ``user`` among the cookie's tokens, if any.

    The look-up runs whenever the cookie has tokens, whether or not ``user`` exists,
    so an unknown name takes the same path as a known one on an unknown device.
    """
    rows = await _rows(db, tokens)
    if user is None:
        return None
    return next((row for row in rows.values() if _valid(row, user, now)), None)


async def remember(
    db: AsyncSession,
    secret: str,
    user: User,
    now: datetime,
    cookie: str | None,
    user_agent: str,
) -> tuple[str, bool]:
    """After a successful sign-in: renew this browser's token for ``user``, or make one.

    Returns the new cookie value and whether a new device was remembered.
    """
    tokens = tokens_in(secret, cookie)
    rows = await _rows(db, tokens)
    mine: str | None = None
    others: list[str] = []
    for token in tokens:
        row = rows.get(digest(token))
        if row is None or row.expires_at <= now:
            continue  # forgotten or run out: dropped from the cookie
        if row.user_id != user.id:
            others.append(token)
        elif mine is None and _valid(row, user, now):
            mine = token
            row.last_used_at = now
            row.expires_at = now + LIFETIME
            row.user_agent = user_agent[:200]
    created = mine is None
    if mine is None:
        mine = new_token()
        db.add(
            KnownDevice(
                user_id=user.id,
                token_hash=digest(mine),
                password_mark=password_mark(user),
                user_agent=user_agent[:200],
                created_at=now,
                last_used_at=now,
                expires_at=now + LIFETIME,
            )
        )
        await db.flush()
        await _prune(db, user, now)
    return cookie_value(secret, [mine, *others]), created


async def _prune(db: AsyncSession, user: User, now: datetime) -> None:
    """Expired devices (anyone's), this person's devices from an old password, and
    beyond :data:`PER_ACCOUNT` their least recently used."""
    await delete_unlocked(db, KnownDevice, KnownDevice.id, KnownDevice.expires_at <= now)
    await delete_unlocked(
        db,
        KnownDevice,
        KnownDevice.id,
        (KnownDevice.user_id == user.id) & (KnownDevice.password_mark != password_mark(user)),
    )
    extra = list(
        await db.scalars(
            select(KnownDevice.id)
            .where(KnownDevice.user_id == user.id)
            .order_by(KnownDevice.last_used_at.desc(), KnownDevice.created_at.desc())
            .offset(PER_ACCOUNT)
        )
    )
    if extra:
        await delete_unlocked(db, KnownDevice, KnownDevice.id, KnownDevice.id.in_(extra))


async def carry_over(db: AsyncSession, user_id: str, old_hash: str, new_hash: str) -> None:
    """The same password was rehashed with new parameters: its devices stay known."""
    await db.execute(
        update(KnownDevice)
        .where(KnownDevice.user_id == user_id, KnownDevice.password_mark == digest(old_hash))
        .values(password_mark=digest(new_hash))
        .execution_options(synchronize_session=False)
    )


async def listed(db: AsyncSession, user: User, now: datetime) -> list[KnownDevice]:
    """The person's devices that are known now, most recently used first."""
    rows = await db.scalars(
        select(KnownDevice)
        .where(KnownDevice.user_id == user.id, KnownDevice.expires_at > now)
        .order_by(KnownDevice.last_used_at.desc())
    )
    return [row for row in rows if _valid(row, user, now)]


async def forget(db: AsyncSession, user_id: str, device_id: str | None = None) -> int:
    """Forget one of the person's devices (another person's id forgets nothing), or
    all of them when ``device_id`` is None. Returns how many were forgotten."""
    query = delete(KnownDevice).where(KnownDevice.user_id == user_id)
    if device_id is not None:
        query = query.where(KnownDevice.id == device_id)
    result = await db.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)
