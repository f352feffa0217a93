"""Two-step sign-in: who needs it, setting it up, checking codes, recovery codes.

Actions check and write; the caller commits. No web objects here. Codes and secrets
never reach the audit trail or the logs: events say what happened, not with what.

- Required for administrators, organisers, moderators and verified professionals
  (:func:`standing`); optional for everyone else.
- A code is accepted once: the time step it belongs to is stored, and a later code
  must belong to a later step (a conditional UPDATE, so two requests racing with
  the same code cannot both win).
- Recovery codes: :data:`RECOVERY_CODES` random codes shown once, stored as SHA-256
  digests, each usable once instead of a code from the app.
- Between the password and the code, the browser holds a signed pre-sign-in cookie
  (:func:`pending_login_value`) that lasts :data:`PENDING_LOGIN`; it is bound to the
  account's password hash, so it dies if the password changes, and it is single-use:
  the sign-in it completes spends its nonce (:func:`spend_pending`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit, i18n
from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.config import Settings
from peerhub.errors import Forbidden
from peerhub.i18n import lazy_gettext
from peerhub.inputs import ascii_digits
from peerhub.models import GroupMember, OrganisationOrganiser, SafeguardingLead, User
from peerhub.security import nonces, throttle, totp
from peerhub.security.tokens import keyed, same

RECOVERY_CODES: Final = 10
PENDING_LOGIN: Final = timedelta(minutes=5)
# No 0/o, 1/l/i: codes are read off paper. 12 characters of 31 is about 59 bits.
_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH: Final = 12


# --- Who needs it --------------------------------------------------------------------

# "Because you are an administrator and a moderator, ...": each role in words.
_ROLE_WORDS: Final = {
    "admin": lazy_gettext("an administrator"),
    "professional": lazy_gettext("a verified professional"),
    "organiser": lazy_gettext("an organiser"),
    "moderator": lazy_gettext("a moderator"),
    "safeguarding_lead": lazy_gettext("a safeguarding lead"),
}


@dataclass(frozen=True, slots=True)
class Standing:
    enrolled: bool
    # The person's roles that need two-step sign-in, as codes in a fixed order
    # ("admin", "professional", "organiser", "moderator"); :attr:`described` puts
    # them in words in the request's language.
    reasons: tuple[str, ...] = ()
    # The same roles as codes ("admin", "professional", "organiser", "moderator"):
    # read on every signed-in request anyway, so the menu and the page a person lands
    # on after sign-in (peerhub/web/landing.py) cost no query of their own.
    roles: frozenset[str] = frozenset()

    @property
    def required(self) -> bool:
        return bool(self.reasons)

    @property
    def described(self) -> str:
        """The roles in words: "an administrator and a moderator" (request's language)."""
        return i18n.format_list([str(_ROLE_WORDS[code]) for code in self.reasons])

    @property
    def must_enrol(self) -> bool:
        return self.required and not self.enrolled


async def standing(db: AsyncSession, user: User) -> Standing:
    """Whether the person has set up two-step sign-in, and which roles require it.

    One round trip, run by the authentication middleware on every signed-in request,
    so a role given mid-sign-in (made a moderator, say) takes effect at once.
    """
    enrolled = exists().where(TwoFactor.user_id == user.id, TwoFactor.confirmed_at.is_not(None))
    organiser = exists().where(OrganisationOrganiser.user_id == user.id)
    moderator = exists().where(GroupMember.user_id == user.id, GroupMember.role == "moderator")
    lead = exists().where(SafeguardingLead.user_id == user.id)
    row = (await db.execute(select(enrolled, organiser, moderator, lead))).one()
    held = tuple(
        code
        for code, applies in (
            ("admin", user.is_admin),
            ("professional", user.is_professional),
            ("organiser", bool(row[1])),
            ("moderator", bool(row[2])),
            ("safeguarding_lead", bool(row[3])),
        )
        if applies
    )
    return Standing(bool(row[0]), held, frozenset(held))


async def settings_of(db: AsyncSession, user_id: str) -> TwoFactor | None:
    return await db.get(TwoFactor, user_id)


async def is_enrolled(db: AsyncSession, user_id: str) -> bool:
    row = await db.get(TwoFactor, user_id)
    return row is not None and row.enrolled


async def codes_left(db: AsyncSession, user_id: str) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


# --- Recovery codes ------------------------------------------------------------------


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def clean_recovery_code(raw: str) -> str | None:
    """The code as stored (lower case, no spaces or hyphens), or None if it cannot be one."""
    text = "".join(raw.split()).replace("-", "").lower()
    if len(text) != _CODE_LENGTH or any(c not in _ALPHABET for c in text):
        return None
    return text


def hash_recovery_code(cleaned: str) -> str:
    return hashlib.sha256(cleaned.encode("ascii")).hexdigest()


async def _replace_recovery_codes(db: AsyncSession, user_id: str, now: datetime) -> list[str]:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        cleaned = clean_recovery_code(code)
        assert cleaned is not None  # noqa: S101 - new_recovery_code makes valid codes
        db.add(RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(cleaned), created_at=now))
    await db.flush()
    return codes


# --- Checking codes ------------------------------------------------------------------


async def _use_app_code(db: AsyncSession, row: TwoFactor, code: str, now: datetime) -> bool:
    if row.secret is None:
        return False
    step = totp.verify(row.secret, code, now, last_step=row.last_step)
    if step is None:
        return False
    # Conditional: of two requests with the same code, only one moves last_step.
    result = await db.execute(
        update(TwoFactor)
        .where(
            TwoFactor.user_id == row.user_id,
            or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    row.last_step = step
    return True


async def _use_recovery_code(
    db: AsyncSession, user_id: str, raw: str, now: datetime, client_ip: str | None
) -> bool:
    cleaned = clean_recovery_code(raw)
    if cleaned is None:
        return False
    result = await db.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == hash_recovery_code(cleaned),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    audit.record(
        db,
        now,
        "2fa.recovery_code_used",
        actor_id=user_id,
        subject_id=user_id,
        client_ip=client_ip,
        codes_left=await codes_left(db, user_id),
    )
    return True


async def use_code(
    db: AsyncSession,
    user_id: str,
    now: datetime,
    *,
    code: str = "",
    recovery_code: str = "",
    client_ip: str | None = None,
) -> str | None:
    """Check a code from the app, or else a recovery code; ``"app"``, ``"recovery"`` or None.

    Either way the code is spent: the app's time step cannot be used again and the
    recovery code is marked used.
    """
    row = await db.get(TwoFactor, user_id)
    if row is None or not row.enrolled:
        return None
    if code.strip() and await _use_app_code(db, row, code, now):
        return "app"
    if recovery_code.strip() and await _use_recovery_code(
        db, user_id, recovery_code, now, client_ip
    ):
        return "recovery"
    return None


# --- The throttle --------------------------------------------------------------------


def _keys(user_id: str, client_ip: str) -> list[str]:
    return [throttle.second_factor_key(user_id), throttle.address_key(client_ip)]


async def reserve_attempt(
    db: AsyncSession, user_id: str, client_ip: str, now: datetime
) -> throttle.Reservation:
    """Count a code attempt before checking it, with the counters locked until the
    transaction ends (codes are checked in microseconds), so codes sent in parallel
    queue and each sees the ones before it. See :func:`settle_attempt`."""
    return await throttle.reserve(db, _keys(user_id, client_ip), now)


async def settle_attempt(
    db: AsyncSession,
    held: throttle.Reservation,
    user_id: str,
    client_ip: str,
    now: datetime,
    *,
    ok: bool,
    where: str,
) -> None:
    """A right code clears the person's code counter (and gives the address its try
    back); a wrong one stays counted and is audited."""
    keys = _keys(user_id, client_ip)
    if ok:
        await throttle.refund(db, held, keys, now, forget=keys[:1])
        return
    if held.blocked:
        audit.record(db, now, "2fa.locked", subject_id=user_id, client_ip=client_ip, where=where)
    audit.record(db, now, "2fa.failed", subject_id=user_id, client_ip=client_ip, where=where)


# --- Setting up, moving, turning off ------------------------------------------------------


async def pending_key(db: AsyncSession, user_id: str, now: datetime) -> TwoFactor:
    """The row with a key waiting to be confirmed, made now if there is none yet.

    The same key is shown until it is confirmed or the person asks for a new one, so
    reloading the page after adding it to an app does not break the set-up.
    """
    # Made if missing without a race: two tabs opening the page at once for the first
    # time must not both insert the row (one would fail on its primary key).
    bind = db.bind
    insert = pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert
    await db.execute(
        insert(TwoFactor).values(user_id=user_id, updated_at=now).on_conflict_do_nothing()
    )
    row = await db.scalar(
        select(TwoFactor)
        .where(TwoFactor.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None  # noqa: S101 - inserted just above, in this transaction
    if row.pending_secret is None and not row.enrolled:
        row.pending_secret = totp.new_secret()
        row.pending_since = now
        row.updated_at = now
    await db.flush()
    return row


async def new_key(db: AsyncSession, user_id: str, now: datetime) -> TwoFactor:
    """Start again (first set-up) or start moving to a new phone (when set up)."""
    row = await db.get(TwoFactor, user_id)
    if row is None:
        row = TwoFactor(user_id=user_id)
        db.add(row)
    row.pending_secret = totp.new_secret()
    row.pending_since = now
    row.updated_at = now
    await db.flush()
    return row


async def cancel_new_key(db: AsyncSession, user_id: str, now: datetime) -> None:
    row = await db.get(TwoFactor, user_id)
    if row is not None and row.enrolled:
        row.pending_secret = None
        row.pending_since = None
        row.updated_at = now


async def confirm(
    db: AsyncSession, user: User, code: str, now: datetime, *, client_ip: str | None = None
) -> list[str] | None:
    """Confirm the waiting key with a code from the app: it becomes the key in use.

    Returns the new recovery codes (to show once), or None if the code is wrong.
    """
    row = await db.get(TwoFactor, user.id)
    if row is None or row.pending_secret is None:
        return None
    step = totp.verify(row.pending_secret, code, now)
    if step is None:
        return None
    moved = row.enrolled
    row.secret = row.pending_secret
    row.last_step = step
    row.confirmed_at = now
    row.pending_secret = None
    row.pending_since = None
    row.updated_at = now
    codes = await _replace_recovery_codes(db, user.id, now)
    audit.record(
        db,
        now,
        "2fa.enrolled",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        new_device=moved,
        recovery_codes=len(codes),
    )
    return codes


async def regenerate_codes(
    db: AsyncSession, user: User, now: datetime, *, client_ip: str | None = None
) -> list[str]:
    codes = await _replace_recovery_codes(db, user.id, now)
    audit.record(
        db,
        now,
        "2fa.recovery_codes_replaced",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        recovery_codes=len(codes),
    )
    return codes


async def disable(
    db: AsyncSession, user: User, now: datetime, *, client_ip: str | None = None
) -> None:
    """Turn two-step sign-in off; refused for people whose role needs it."""
    if (await standing(db, user)).required:
        raise Forbidden(user.id)
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await db.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    audit.record(db, now, "2fa.disabled", actor_id=user.id, subject_id=user.id, client_ip=client_ip)


# --- The step between password and code -------------------------------------------------


def pending_cookie_name(settings: Settings) -> str:
    return "__Host-peerhub_2fa" if settings.secure_cookies else "peerhub_2fa"


def _mac(settings: Settings, user: User, expires: int, nonce: str) -> str:
    # The password hash is in the MAC, never in the cookie: a new password ends
    # every half-finished sign-in.
    return keyed(
        settings.secret_key, "login-2fa", f"{user.id}|{expires}|{nonce}|{user.password_hash}"
    )


def pending_login_value(settings: Settings, user: User, now: datetime) -> str:
    expires = int((now + PENDING_LOGIN).timestamp())
    nonce = secrets.token_urlsafe(12)
    return f"{user.id}.{expires}.{nonce}.{_mac(settings, user, expires, nonce)}"


def pending_user_id(value: str | None) -> str | None:
    """The account a pre-sign-in cookie names (not yet checked: see :func:`pending_valid`)."""
    parts = (value or "").split(".")
    if len(parts) != 4 or len(value or "") > 200:
        return None
    return parts[0]


def pending_valid(settings: Settings, value: str, user: User, now: datetime) -> bool:
    user_id, expires, nonce, mac = value.split(".")
    until = ascii_digits(expires, max_digits=12)  # "²".isdigit() is true; int() refuses it
    if until is None or user_id != user.id or user.disabled_at is not None:
        return False
    if now.timestamp() >= until:
        return False
    return same(mac, _mac(settings, user, until, nonce))


# The cookie is single-use: the sign-in it completes spends its nonce (under the MAC,
# so it cannot be swapped), and a copy replayed afterwards is refused, in every
# process (peerhub/security/nonces.py). Kept a minute past the cookie's own expiry,
# for clocks a little apart between processes.
_NONCE_PURPOSE: Final = "login-2fa"
_NONCE_SLACK: Final = timedelta(minutes=1)


def _nonce_and_expiry(value: str) -> tuple[str, datetime]:
    _user_id, expires, nonce, _mac_value = value.split(".")
    return nonce, datetime.fromtimestamp(int(expires), tz=UTC) + _NONCE_SLACK


async def pending_spent(db: AsyncSession, value: str) -> bool:
    """Whether a (valid) pre-sign-in cookie has already completed a sign-in."""
    nonce, _expires = _nonce_and_expiry(value)
    return await nonces.is_spent(db, _NONCE_PURPOSE, nonce)


async def spend_pending(db: AsyncSession, value: str, now: datetime) -> bool:
    """Spend a (valid) pre-sign-in cookie; False if it was spent before. Of two
    requests racing with the same cookie, exactly one gets True."""
    nonce, expires = _nonce_and_expiry(value)
    return await nonces.spend(db, _NONCE_PURPOSE, nonce, expires, now)
