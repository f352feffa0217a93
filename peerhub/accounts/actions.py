"""Account actions: check, write; the caller commits. No web objects here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from peerhub import audit
from peerhub.accounts import twofactor
from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.config import Settings
from peerhub.errors import FieldError, NotFound
from peerhub.models import ProfessionalStatus, User
from peerhub.security import sessions, throttle
from peerhub.security.passwords import PasswordPolicyError, Passwords, check_policy

PSEUDONYM_RE = re.compile(r"^[\w][\w .'\-]{1,38}[\w.]$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def pseudonym_key(pseudonym: str) -> str:
    return unicodedata.normalize("NFKC", pseudonym).strip().casefold()


def clean_pseudonym(raw: str) -> str:
    value = " ".join(unicodedata.normalize("NFKC", raw).split())
    if not PSEUDONYM_RE.fullmatch(value):
        raise FieldError(
            "pseudonym",
            "Use 3 to 40 letters, numbers, spaces, dots, dashes or apostrophes.",
        )
    return value


def clean_email(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise FieldError("email", "That does not look like an e-mail address.")
    return value


async def signup(
    db: AsyncSession,
    passwords: Passwords,
    now: datetime,
    *,
    pseudonym: str,
    password: str,
    email: str | None = None,
    client_ip: str | None = None,
    is_admin: bool = False,
) -> User:
    name = clean_pseudonym(pseudonym)
    try:
        check_policy(password, name)
    except PasswordPolicyError as exc:
        raise FieldError("password", str(exc)) from exc
    mail = clean_email(email)
    key = pseudonym_key(name)
    taken = await db.scalar(select(func.count()).select_from(User).where(User.pseudonym_key == key))
    if taken:
        raise FieldError("pseudonym", "That name is taken. Try another.")
    user = User(
        pseudonym=name,
        pseudonym_key=key,
        password_hash=await passwords.hash(password),
        email=mail,
        is_admin=is_admin,
        created_at=now,
        updated_at=now,
    )
    db.add(user)
    await db.flush()
    audit.record(
        db,
        now,
        "account.created",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        admin=is_admin,
    )
    return user


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User | None
    retry_after: int = 0
    # The password was right, but the person has set up two-step sign-in: no session
    # until the code is given too (see accounts/twofactor.py).
    second_factor: bool = False

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


async def authenticate(
    db: AsyncSession,
    passwords: Passwords,
    now: datetime,
    *,
    pseudonym: str,
    password: str,
    client_ip: str,
) -> LoginResult:
    """Check a pseudonym and password under the throttle.

    Unknown accounts and wrong passwords take the same path and the same time:
    both verify one argon2 hash and both count against the throttle.
    """
    key = pseudonym_key(pseudonym)[:80]
    acct_key, addr_key = throttle.account_key(key), throttle.address_key(client_ip)
    verdict = await throttle.check(db, [acct_key, addr_key], now)
    if not verdict.allowed:
        audit.record(db, now, "login.throttled", client_ip=client_ip)
        return LoginResult(None, verdict.retry_after)
    user = await db.scalar(select(User).where(User.pseudonym_key == key))
    too_long = len(password) > 1024
    ok = await passwords.verify(
        None if user is None or too_long else user.password_hash, password[:1024]
    )
    if not ok or user is None or user.disabled_at is not None:
        if await throttle.record_failure(db, acct_key, addr_key, now):
            audit.record(
                db, now, "login.locked", subject_id=user.id if user else None, client_ip=client_ip
            )
        audit.record(
            db, now, "login.failed", subject_id=user.id if user else None, client_ip=client_ip
        )
        return LoginResult(None)
    await throttle.record_success(db, acct_key)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash(password)
        audit.record(db, now, "password.rehashed", actor_id=user.id, subject_id=user.id)
    second_factor = await twofactor.is_enrolled(db, user.id)
    audit.record(
        db,
        now,
        "login.password_ok" if second_factor else "login.succeeded",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
    )
    return LoginResult(user, second_factor=second_factor)


async def login(
    db: AsyncSession,
    settings: Settings,
    user: User,
    now: datetime,
    *,
    old_session_id: str | None,
    user_agent: str,
) -> sessions.NewSession:
    """Start a fresh session (a new token every time: no fixation)."""
    if old_session_id is not None:
        await sessions.end_session(db, old_session_id)
    return await sessions.start_session(db, settings, user, now, user_agent)


async def logout(db: AsyncSession, user_id: str, now: datetime, client_ip: str | None) -> int:
    """Ends every session of the person: signing out here signs out everywhere."""
    ended = await sessions.end_all_sessions(db, user_id)
    audit.record(
        db,
        now,
        "logout",
        actor_id=user_id,
        subject_id=user_id,
        client_ip=client_ip,
        sessions_ended=ended,
    )
    return ended


async def update_email(db: AsyncSession, user: User, email: str | None, now: datetime) -> None:
    user.email = clean_email(email)
    user.updated_at = now
    audit.record(db, now, "account.email_changed", actor_id=user.id, subject_id=user.id)


async def request_professional(
    db: AsyncSession, user: User, now: datetime, *, role: str, organisation: str
) -> None:
    role, organisation = role.strip(), organisation.strip()
    if not 2 <= len(role) <= 80:
        raise FieldError("role", "Say what you do, for example GP or social worker.")
    if not 2 <= len(organisation) <= 120:
        raise FieldError("organisation", "Name the practice, team or organisation you work for.")
    user.professional_role = role
    user.professional_organisation = organisation
    if user.professional_status != ProfessionalStatus.VERIFIED.value:
        user.professional_status = ProfessionalStatus.PENDING.value
    user.updated_at = now
    audit.record(db, now, "professional.requested", actor_id=user.id, subject_id=user.id)


async def _target(db: AsyncSession, user_id: str) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(user_id)
    return user


async def decide_professional(
    db: AsyncSession, admin: User, user_id: str, now: datetime, *, verify: bool
) -> User:
    user = await _target(db, user_id)
    user.professional_status = (
        ProfessionalStatus.VERIFIED if verify else ProfessionalStatus.NONE
    ).value
    user.updated_at = now
    audit.record(
        db,
        now,
        "professional.verified" if verify else "professional.declined",
        actor_id=admin.id,
        subject_id=user.id,
    )
    return user


async def set_disabled(
    db: AsyncSession, admin: User, user_id: str, now: datetime, *, disabled: bool
) -> User:
    """Disable (or re-enable) an account; disabling ends every session at once."""
    user = await _target(db, user_id)
    if user.id == admin.id:
        raise FieldError("user", "You cannot disable your own account.")
    user.disabled_at = now if disabled else None
    user.updated_at = now
    ended = await sessions.end_all_sessions(db, user.id) if disabled else 0
    audit.record(
        db,
        now,
        "account.disabled" if disabled else "account.enabled",
        actor_id=admin.id,
        subject_id=user.id,
        sessions_ended=ended,
    )
    return user


async def reset_two_factor(db: AsyncSession, admin: User, user_id: str, now: datetime) -> User:
    """For someone who lost both their phone and their recovery codes: an administrator
    removes their two-step sign-in and ends their sessions. If their role needs it,
    they are asked to set it up again as soon as they next sign in."""
    user = await _target(db, user_id)
    if user.id == admin.id:
        raise FieldError("user", "Use your own two-step sign-in page to change yours.")
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await db.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    ended = await sessions.end_all_sessions(db, user.id)
    audit.record(db, now, "2fa.reset", actor_id=admin.id, subject_id=user.id, sessions_ended=ended)
    return user
