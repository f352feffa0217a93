"""Account actions: check, write; the caller commits. No web objects here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import audit
from peerhub.accounts import twofactor
from peerhub.accounts.models_2fa import RecoveryCode, TwoFactor
from peerhub.accounts.models_recovery import expire_live
from peerhub.config import Settings
from peerhub.db import transaction
from peerhub.errors import FieldError, NotFound
from peerhub.i18n import _
from peerhub.models import ProfessionalStatus, User
from peerhub.security import buckets, devices, signins, throttle
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
            _("Use 3 to 40 letters, numbers, spaces, dots, dashes or apostrophes."),
        )
    return value


def clean_email(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        raise FieldError("email", _("That does not look like an e-mail address."))
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
    # Accounts made from one address are limited (peerhub/security/buckets.py). Only
    # accounts actually made take a token; an empty bucket is found before the slow hash.
    if client_ip is not None:
        wait = await buckets.waiting(db, buckets.SIGNUPS, client_ip, now)
        if wait:
            raise buckets.Exhausted(buckets.SIGNUP, wait)
    taken = await db.scalar(select(func.count()).select_from(User).where(User.pseudonym_key == key))
    if taken:
        raise FieldError("pseudonym", _("That name is taken. Try another."))
    password_hash = await passwords.hash(password)
    if client_ip is not None:
        await buckets.take(db, buckets.SIGNUPS, client_ip, now)
    user = User(
        pseudonym=name,
        pseudonym_key=key,
        password_hash=password_hash,
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
    # The password was right, but the person has set up two-step sign-in: no sign-in
    # until the code is given too (see accounts/twofactor.py).
    second_factor: bool = False
    # Held back by the account-wide counter (strangers guessing from many places):
    # the person's usual phone or computer can still sign in.
    account_wide: bool = False

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


async def authenticate(
    sessions_maker: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    now: datetime,
    *,
    pseudonym: str,
    password: str,
    client_ip: str,
    secret_key: str,
    device_cookie: str | None = None,
) -> LoginResult:
    """Check a pseudonym and password under the throttle (peerhub/security/throttle.py).

    Which counters hold the attempt back depends on where it comes from:

    - a phone or computer this account has signed in on (its ``known device`` cookie,
      peerhub/security/devices.py): only that device's own strict counter. Strangers
      elsewhere cannot keep the owner out of their usual device; a wrong password
      typed on it still counts, on it;
    - anywhere else: the strict counter of this name from this address, the looser one
      of the name from everywhere, and the one of the address.

    Unknown names and wrong passwords take the same path and the same time: one user
    look-up, one device look-up when there is a cookie, the same three counters, one
    argon2 verification (a dummy hash for an unknown name), the same answer.

    This action runs its own two short transactions instead of leaving the commit to
    the caller: the attempt is counted, with the counters locked, and committed
    *before* the slow hash is checked (so no lock is held meanwhile, and guesses sent
    in parallel queue on the counters and each sees the ones before it), then given
    back if the password was right.
    """
    key = pseudonym_key(pseudonym)[:80]
    tokens = devices.tokens_in(secret_key, device_cookie)
    async with transaction(sessions_maker) as db:
        user = await db.scalar(select(User).where(User.pseudonym_key == key))
        device = await devices.recognise(db, user, tokens, now)
        if user is not None and device is not None:
            keys = [throttle.device_key(user.id, device.id)]
        else:
            keys = [
                throttle.pair_key(key, client_ip, secret_key),
                throttle.account_key(key),
                throttle.address_key(client_ip),
            ]
        held = await throttle.reserve(db, keys, now)
        if not held.allowed:
            audit.record(db, now, "login.throttled", client_ip=client_ip)
    if not held.allowed:
        return LoginResult(None, held.verdict.retry_after, account_wide=held.verdict.account_wide)

    too_long = len(password) > 1024
    ok = await passwords.verify(
        None if user is None or too_long else user.password_hash, password[:1024]
    )
    # A hash made with older parameters is replaced; hashed here, outside any transaction.
    rehashed = None
    if ok and user is not None and passwords.needs_rehash(user.password_hash):
        rehashed = await passwords.hash(password)

    async with transaction(sessions_maker) as db:
        if not ok or user is None or user.disabled_at is not None:
            subject = user.id if user else None
            if held.blocked:
                audit.record(db, now, "login.locked", subject_id=subject, client_ip=client_ip)
            audit.record(db, now, "login.failed", subject_id=subject, client_ip=client_ip)
            return LoginResult(None)
        await throttle.refund(db, held, keys, now, forget=keys[:1])
        me = await db.get(User, user.id)
        if me is None:  # erased between the two transactions
            return LoginResult(None)
        if rehashed is not None and me.password_hash == user.password_hash:
            me.password_hash = rehashed
            await devices.carry_over(db, me.id, user.password_hash, rehashed)
            audit.record(db, now, "password.rehashed", actor_id=me.id, subject_id=me.id)
        second_factor = await twofactor.is_enrolled(db, me.id)
        audit.record(
            db,
            now,
            "login.password_ok" if second_factor else "login.succeeded",
            actor_id=me.id,
            subject_id=me.id,
            client_ip=client_ip,
            **({"known_device": True} if device is not None else {}),
        )
        return LoginResult(me, second_factor=second_factor)


async def remember_device(
    db: AsyncSession,
    settings: Settings,
    user: User,
    now: datetime,
    *,
    cookie: str | None,
    user_agent: str,
    client_ip: str | None,
) -> str:
    """After a completed sign-in (or sign-up): this browser becomes, or stays, one of
    the person's known devices. Returns the device cookie's new value."""
    value, created = await devices.remember(db, settings.secret_key, user, now, cookie, user_agent)
    if created:
        audit.record(
            db, now, "device.remembered", actor_id=user.id, subject_id=user.id, client_ip=client_ip
        )
    return value


async def forget_devices(
    db: AsyncSession, user: User, now: datetime, *, device_id: str | None, client_ip: str | None
) -> int:
    """Forget one of the person's known devices, or all of them (``device_id`` None)."""
    forgotten = await devices.forget(db, user.id, device_id)
    if forgotten:
        audit.record(
            db,
            now,
            "device.forgotten",
            actor_id=user.id,
            subject_id=user.id,
            client_ip=client_ip,
            devices=forgotten,
        )
    return forgotten


# Where, on the session, a sign-in notes that it stopped reset codes or links (read by
# the sign-in routes, which then show the person their account page's notice).
CANCELLED_AT_SIGN_IN = "peerhub.accounts.cancelled_at_sign_in"


def where_after_sign_in(db: AsyncSession, nxt: str, landing: str) -> str:
    """Where a completed sign-in leads: a safe ``next`` the person asked for; else, if
    the sign-in stopped a reset code or link someone made in their name, their account
    page's notice about it (who made it, when); else their role's work."""
    if nxt:
        return nxt
    if db.info.get(CANCELLED_AT_SIGN_IN):
        return "/account?ways_back=1#ways-back"
    return landing


async def login(
    db: AsyncSession,
    settings: Settings,
    user: User,
    now: datetime,
    *,
    old_sign_in_id: str | None,
    user_agent: str,
    client_ip: str | None = None,
) -> signins.NewSignIn:
    """Start a fresh sign-in (a new token every time: no fixation).

    The person has shown they can get in: any reset code or e-mailed link of theirs
    still waiting stops working (someone else may have asked for it; the account page
    tells them it was made, by whom and what became of it).
    """
    if old_sign_in_id is not None:
        await signins.end_sign_in(db, old_sign_in_id)
    cancelled = await expire_live(db, user.id, now, why="signed_in")
    if cancelled:
        db.info[CANCELLED_AT_SIGN_IN] = cancelled
        audit.record(
            db,
            now,
            "recovery.cancelled_by_sign_in",
            actor_id=user.id,
            subject_id=user.id,
            client_ip=client_ip,
            cancelled=cancelled,
        )
    return await signins.start_sign_in(db, settings, user, now, user_agent)


async def logout(db: AsyncSession, user_id: str, now: datetime, client_ip: str | None) -> int:
    """Ends every sign-in of the person: signing out here signs out everywhere."""
    ended = await signins.end_all_sign_ins(db, user_id)
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
        raise FieldError("role", _("Say what you do, for example GP or social worker."))
    if not 2 <= len(organisation) <= 120:
        raise FieldError("organisation", _("Name the practice, team or organisation you work for."))
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
    if verify and user.professional_status == ProfessionalStatus.NONE.value:
        # Being a verified professional is a role the person asks for (it brings
        # two-step sign-in with it): nobody is made one who did not ask.
        raise FieldError(
            "user",
            _("%(name)s has not asked to be verified as a professional.", name=user.pseudonym),
        )
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
    """Disable (or re-enable) an account; disabling ends every sign-in at once."""
    user = await _target(db, user_id)
    if user.id == admin.id:
        raise FieldError("user", _("You cannot disable your own account."))
    user.disabled_at = now if disabled else None
    user.updated_at = now
    ended = (
        await signins.end_all_sign_ins(db, user.id, reason="This account is disabled.")
        if disabled
        else 0
    )
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
    removes their two-step sign-in and ends their sign-ins. If their role needs it,
    they are asked to set it up again as soon as they next sign in."""
    user = await _target(db, user_id)
    if user.id == admin.id:
        raise FieldError("user", _("Use your own two-step sign-in page to change yours."))
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await db.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    ended = await signins.end_all_sign_ins(db, user.id)
    audit.record(db, now, "2fa.reset", actor_id=admin.id, subject_id=user.id, sessions_ended=ended)
    return user


async def set_preferences(
    db: AsyncSession,
    user_id: str,
    now: datetime,
    *,
    language: str | None = None,
    easy_read: bool | None = None,
) -> None:
    """Remember the interface language (a shipped tag) and/or Easy Read on the account."""
    user = await db.get(User, user_id)
    if user is None:
        return
    if language is not None:
        user.language = language
    if easy_read is not None:
        user.easy_read = easy_read
    user.updated_at = now
