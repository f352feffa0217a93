"""Changing a password, and getting back into an account without it.

Actions check and write; the caller commits. No web objects here. Secrets (passwords,
recovery words, codes, link tokens) never reach the audit trail or the logs: events
say what happened, to whom and how, never with what.

Four ways back in, each ending in the same step (:func:`complete_reset`):

- **Recovery words**: :data:`WORD_COUNT` words drawn with :mod:`secrets` from a
  list shipped in ``peerhub/data`` (see RECOVERY-WORDS-LICENCE.md there), shown once,
  stored only as an argon2id hash (through :class:`~peerhub.security.passwords.Passwords`,
  in a worker thread), used once.
- **An e-mailed link**, when the account has an e-mail address: a 256-bit token,
  stored only as a keyed hash, valid for :data:`EMAIL_LINK` and once.
- **A code handed over in person** by an organiser of one of the person's groups:
  only for a member who took their place themselves, in an organisation PeerHub has
  checked; refused (with one message that names no role) for people whose role needs
  two-step sign-in; limited to :data:`ORGANISER_DAILY_LIMIT` a day per organiser.
- **The same kind of code from an administrator**, who also resets the person's
  two-step sign-in: the way back for those the organisers may not help.

Proving one of these gives a short-lived *reset ticket* (:func:`ticket_value`), signed
with the server's key and bound to the proof and to the current password hash; the
proof is spent only when the new password is set, so someone who closes the page half
way keeps their words. Every reset ends all the person's sign-ins (the caller closes
their sockets) and is written to the audit trail. Any completed sign-in by the person
stops every code and link still waiting (``accounts.actions.login``), and their account
page lists the ones made in the last month (:func:`ways_back`).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from peerhub import audit, i18n
from peerhub.accounts import twofactor
from peerhub.accounts.actions import clean_email, pseudonym_key, reset_two_factor
from peerhub.accounts.models_2fa import TwoFactor
from peerhub.accounts.models_recovery import PasswordReset, RecoveryWords, expire_live
from peerhub.db import transaction
from peerhub.errors import FieldError, Forbidden, NotFound
from peerhub.groups.invitations import has_joined
from peerhub.i18n import _, ngettext
from peerhub.inputs import ascii_digits
from peerhub.models import AuditEvent, GroupMember, GroupRole, User
from peerhub.security import devices, signins, throttle
from peerhub.security.passwords import PasswordPolicyError, Passwords, check_policy
from peerhub.security.permissions import organisation_checked, require_rank
from peerhub.security.tokens import keyed, same

WORD_COUNT: Final = 6
# Between proving who you are and choosing the new password.
RESET_TICKET: Final = timedelta(minutes=15)
EMAIL_LINK: Final = timedelta(minutes=30)
EMAIL_LINKS_PER_HOUR: Final = 3
CODE_LIFE: Final = timedelta(hours=24)
ORGANISER_DAILY_LIMIT: Final = 3
ORGANISER_WINDOW: Final = timedelta(hours=24)
# Read aloud and off paper: no 0/O, 1/I/L. 10 of 31 characters is about 49 bits,
# behind a throttle, for at most a day, and stored only as an HMAC.
CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 10
METHODS: Final = ("words", "email", "organiser", "admin")


class Throttled(Exception):
    """Too many wrong tries: wait ``retry_after`` seconds. ``account_wide``: the name's
    counter from everywhere holds it back (strangers guessing from many places), so the
    person's usual phone or computer can still go ahead."""

    def __init__(self, retry_after: int, *, account_wide: bool = False) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after
        self.account_wide = account_wide

    @classmethod
    def of(cls, verdict: throttle.Verdict) -> Throttled:
        return cls(verdict.retry_after, account_wide=verdict.account_wide)


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a code was not issued; the message is safe to show. Returned, not raised,
    so that the refusal's audit record is committed with it."""

    message: str
    status: int = 403
    retry_after: int = 0


# --- Recovery words --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def word_list() -> tuple[str, ...]:
    text = resources.files("peerhub.data").joinpath("recovery-words.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@lru_cache(maxsize=1)
def _word_set() -> frozenset[str]:
    return frozenset(word_list())


def new_words() -> list[str]:
    words = word_list()
    return [secrets.choice(words) for _ in range(WORD_COUNT)]


_NOT_LETTERS = re.compile(r"[^a-z]+")


def split_words(raw: str) -> list[str]:
    """The words as typed, whatever the case, spaces, commas, numbers or line breaks."""
    folded = unicodedata.normalize("NFKC", raw[:2000]).casefold()
    return [w for w in _NOT_LETTERS.split(folded) if w]


def check_words(raw: str) -> list[str]:
    """The words, or a FieldError saying kindly what is wrong (nothing about the account)."""
    words = split_words(raw)
    if not words:
        raise FieldError("words", _("Type your %(count)s recovery words.", count=WORD_COUNT))
    unknown = [w for w in words if w not in _word_set()]
    if unknown:
        shown = i18n.format_list([_("“%(word)s”", word=w[:20]) for w in unknown[:3]])
        raise FieldError(
            "words",
            ngettext(
                "%(words)s is not on PeerHub's word list. "
                "Check the spelling against your saved words.",
                "%(words)s are not on PeerHub's word list. "
                "Check the spelling against your saved words.",
                len(unknown),
                words=shown,
            ),
        )
    if len(words) != WORD_COUNT:
        raise FieldError(
            "words",
            ngettext(
                "Your recovery words are %(count)s words. You typed %(num)s.",
                "Your recovery words are %(count)s words. You typed %(num)s.",
                len(words),
                count=WORD_COUNT,
            ),
        )
    return words


def _words_secret(words: list[str]) -> str:
    return " ".join(words)


async def words_of(db: AsyncSession, user_id: str) -> RecoveryWords | None:
    return await db.scalar(select(RecoveryWords).where(RecoveryWords.user_id == user_id))


async def make_words(
    db: AsyncSession,
    passwords: Passwords,
    user: User,
    now: datetime,
    *,
    client_ip: str | None = None,
) -> list[str]:
    """A new set of words for the person (to show once); any old set stops working."""
    words = new_words()
    hashed = await passwords.hash(_words_secret(words))
    # One set per person: lock the person's row so two tabs cannot both insert.
    await db.get(User, user.id, with_for_update=True)
    replaced = await db.execute(delete(RecoveryWords).where(RecoveryWords.user_id == user.id))
    db.add(RecoveryWords(user_id=user.id, words_hash=hashed, created_at=now))
    await db.flush()
    audit.record(
        db,
        now,
        "recovery_words.made",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        replaced=bool(getattr(replaced, "rowcount", 0)),
    )
    return words


# --- The throttle ----------------------------------------------------------------------------
#
# Every try at a secret goes through security/throttle.py's reserve(): counted before
# the secret is checked, with the counters locked, then given back if it was right
# (refund). Tries sent in parallel therefore queue and each sees the ones before it.
#
# Which counters, by where the try comes from (docs/security.md, "Changing and
# recovering a password"):
#
# - the ways back in (words, codes, e-mailed links) follow sign-in's scheme on counters
#   of their own, so wrong recovery tries never hold back signing in: this name from
#   this address (strict), this name from everywhere (looser), this address; or, on a
#   phone or computer the person has signed in on before, that device's own counter
#   only, which strangers elsewhere cannot move;
# - the person's own password typed again inside a sign-in (changing it, new recovery
#   words, a new e-mail address) counts on that known device's counter, or else on the
#   sign-in's: only whoever holds the sign-in can move it, so strangers who know the
#   name can never stop the owner changing their password.


@dataclass(frozen=True, slots=True)
class Asker:
    """Where a try comes from: the address, and this browser's known-device cookie and
    sign-in, when it has them."""

    client_ip: str
    device_cookie: str | None = None
    sign_in_id: str | None = None


async def _name_keys(
    db: AsyncSession, secret_key: str, key: str, user: User | None, asker: Asker, now: datetime
) -> list[str]:
    """The counters a try at a way back in for the name ``key`` counts on.

    The device look-up runs whenever the cookie has tokens, whether or not the name
    exists, so an unknown name takes the same path as a known one on another device.
    """
    tokens = devices.tokens_in(secret_key, asker.device_cookie)
    device = await devices.recognise(db, user, tokens, now)
    if user is not None and device is not None:
        return [throttle.recovery_device_key(user.id, device.id)]
    return [
        throttle.recovery_pair_key(key, asker.client_ip, secret_key),
        throttle.recovery_account_key(key),
        throttle.address_key(asker.client_ip),
    ]


def _failed(
    db: AsyncSession,
    now: datetime,
    held: throttle.Reservation,
    user: User | None,
    client_ip: str,
    method: str,
) -> None:
    """A wrong try, already counted by reserve(): on the audit trail."""
    subject = user.id if user is not None else None
    if held.blocked:
        audit.record(
            db, now, "recovery.locked", subject_id=subject, client_ip=client_ip, method=method
        )
    audit.record(db, now, "recovery.failed", subject_id=subject, client_ip=client_ip, method=method)


async def _forget_strangers(db: AsyncSession, pseudonym_key: str) -> None:
    """The person has shown who they are: the account-wide counters, which strangers
    guessing from many places fill, stop holding them back."""
    await throttle.record_success(db, throttle.account_key(pseudonym_key))
    await throttle.record_success(db, throttle.recovery_account_key(pseudonym_key))


# --- Changing the password -------------------------------------------------------------------


def _policy(password: str, pseudonym: str, field: str) -> None:
    try:
        check_policy(password, pseudonym)
    except PasswordPolicyError as exc:
        raise FieldError(field, str(exc)) from exc


def check_new_password(password: str, pseudonym: str, field: str = "new_password") -> None:
    """A FieldError saying kindly why the policy refuses ``password``."""
    _policy(password, pseudonym, field)


async def check_password(
    sessions_maker: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    secret_key: str,
    user: User,
    password: str,
    now: datetime,
    *,
    asker: Asker,
    purpose: str,
) -> str | None:
    """The person's own password, typed again inside their sign-in, under the throttle.

    Returns the password hash it matched (the caller changes things only if the hash
    is still that one), or None when it is wrong (counted and audited). Raises
    :class:`Throttled` before checking anything when there were too many wrong tries.
    Runs its own short transactions, like signing in: the try is counted and
    committed before the slow hash is checked, so no lock is held meanwhile.
    """
    async with transaction(sessions_maker) as db:
        me = await db.get(User, user.id)
        if me is None:
            raise NotFound(user.id)
        tokens = devices.tokens_in(secret_key, asker.device_cookie)
        device = await devices.recognise(db, me, tokens, now)
        keys = [
            throttle.device_key(me.id, device.id)
            if device is not None
            else throttle.sign_in_key(asker.sign_in_id or me.id)
        ]
        held = await throttle.reserve(db, keys, now)
        stored = me.password_hash
    if not held.allowed:
        raise Throttled.of(held.verdict)
    ok = await passwords.verify(stored, password[:1024])
    async with transaction(sessions_maker) as db:
        if ok:
            await throttle.refund(db, held, keys, now, forget=keys)
            return stored
        _failed(db, now, held, me, asker.client_ip, purpose)
    return None


class PasswordMoved(Exception):
    """The password changed between checking it and acting on it (another tab)."""


async def email_change_problem(
    sessions_maker: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    secret_key: str,
    user: User,
    raw_email: str | None,
    password: str,
    now: datetime,
    *,
    asker: Asker,
) -> str | None:
    """None when the e-mail address may change as asked; otherwise what to tell the person.

    An address is a way to reset the password, so setting or changing one needs the
    password (someone with a borrowed sign-in must not be able to add a way back in
    for later); removing it does not. A wrong password is counted like any other, and
    :class:`Throttled` raised when there were too many.
    """
    mail = clean_email(raw_email)
    if mail is None or _same_address(user.email, mail):
        return None
    if not password:
        return _("Enter your password to add or change your e-mail address.")
    ok = await check_password(
        sessions_maker,
        passwords,
        secret_key,
        user,
        password,
        now,
        asker=asker,
        purpose="email",
    )
    return None if ok else _("That is not your password.")


async def change_password(
    db: AsyncSession,
    user: User,
    now: datetime,
    *,
    checked_hash: str,
    new_hash: str,
    keep_sign_in: str | None,
    client_ip: str,
) -> list[str]:
    """Set the new password (already hashed) and end every other sign-in.

    ``user`` must belong to ``db``; ``checked_hash`` is what :func:`check_password`
    returned for the current password, and must still be the account's (else
    :class:`PasswordMoved`). Every reset code or e-mailed link still waiting dies too,
    like at a reset. Returns the ids of the sign-ins ended, so the caller can close
    their sockets after the commit.
    """
    await db.refresh(user, with_for_update=True)
    if not same(user.password_hash, checked_hash):
        raise PasswordMoved(user.id)
    user.password_hash = new_hash
    user.updated_at = now
    await expire_live(db, user.id, now, why="changed")
    ended = await signins.end_other_sign_ins(db, user.id, keep_sign_in)
    audit.record(
        db,
        now,
        "password.changed",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        sessions_ended=len(ended),
    )
    return ended


# --- Proving who you are ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proof:
    """What a person proved: the account, how, and the row that proof spends."""

    user: User
    method: str
    ref: str
    expires_at: datetime


async def _user_by_name(db: AsyncSession, pseudonym: str) -> tuple[str, User | None]:
    key = pseudonym_key(pseudonym)[:80]
    return key, await db.scalar(select(User).where(User.pseudonym_key == key))


async def prove_with_words(
    sessions_maker: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    secret_key: str,
    now: datetime,
    *,
    pseudonym: str,
    words: list[str],
    asker: Asker,
) -> Proof | None:
    """Check a name and its recovery words under the throttle; None if they do not match.

    An unknown name, a person without words and wrong words take the same path and the
    same time (one argon2 verification each) and give the same answer. Like signing
    in, it runs its own transactions: the try is counted and committed before the slow
    hash is checked, and given back if the words were right.
    """
    async with transaction(sessions_maker) as db:
        key, user = await _user_by_name(db, pseudonym)
        keys = await _name_keys(db, secret_key, key, user, asker, now)
        held = await throttle.reserve(db, keys, now)
        # The same query whether or not the name exists.
        row = await words_of(db, user.id if user is not None else "")
    if not held.allowed:
        raise Throttled.of(held.verdict)
    ok = await passwords.verify(row.words_hash if row else None, _words_secret(words))
    async with transaction(sessions_maker) as db:
        if not ok or user is None or row is None or user.disabled_at is not None:
            _failed(db, now, held, user, asker.client_ip, "words")
            return None
        await throttle.refund(db, held, keys, now, forget=keys[:1])
        audit.record(
            db,
            now,
            "recovery.proved",
            actor_id=user.id,
            subject_id=user.id,
            client_ip=asker.client_ip,
            method="words",
        )
    return Proof(user, "words", row.id, now + RESET_TICKET)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    half = CODE_LENGTH // 2
    return f"{raw[:half]}-{raw[half:]}"


def clean_code(raw: str) -> str | None:
    """The code as stored (upper case, no spaces or hyphens), or None if it cannot be one."""
    text = "".join(raw[:100].split()).replace("-", "").upper()
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        return None
    return text


def _secret_hash(secret_key: str, purpose: str, value: str) -> str:
    return keyed(secret_key, f"password-reset-{purpose}", value)


async def prove_with_code(
    db: AsyncSession,
    secret_key: str,
    now: datetime,
    *,
    pseudonym: str,
    code: str,
    asker: Asker,
) -> Proof | None:
    """Check a name and a reset code from an organiser or an administrator.

    The try is counted first, with the counters locked until the caller commits
    (checking a code is one indexed look-up, so nothing slow happens meanwhile), and
    given back if the code was right.
    """
    key, user = await _user_by_name(db, pseudonym)
    keys = await _name_keys(db, secret_key, key, user, asker, now)
    held = await throttle.reserve(db, keys, now)
    if not held.allowed:
        raise Throttled.of(held.verdict)
    cleaned = clean_code(code) or ""
    # The same query whether or not the name exists.
    row = await db.scalar(
        select(PasswordReset).where(
            PasswordReset.user_id == (user.id if user is not None else ""),
            PasswordReset.kind.in_(("organiser", "admin")),
            PasswordReset.secret_hash == _secret_hash(secret_key, "code", cleaned),
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
    )
    if row is None or user is None or user.disabled_at is not None:
        _failed(db, now, held, user, asker.client_ip, "code")
        return None
    await throttle.refund(db, held, keys, now, forget=keys[:1])
    audit.record(
        db,
        now,
        "recovery.proved",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=asker.client_ip,
        method=row.kind,
    )
    return Proof(user, row.kind, row.id, min(now + RESET_TICKET, row.expires_at))


# --- E-mailed links --------------------------------------------------------------------------


def _same_address(a: str | None, b: str) -> bool:
    if not a:
        return False
    return same(a.strip().casefold(), b.strip().casefold())


async def request_email_link(
    db: AsyncSession,
    secret_key: str,
    now: datetime,
    *,
    pseudonym: str,
    email: str,
    client_ip: str,
) -> tuple[User, str] | None:
    """A new link token for the account, if the name and address match it; else None.

    The caller answers the same either way, before this runs, and has already counted
    the request (:func:`count_email_request`) whatever it matches: counting only
    mismatches would tell a stranger which address belongs to a name. A match beyond
    :data:`EMAIL_LINKS_PER_HOUR` sends nothing, so no one can fill a person's inbox.
    Only one link is live at a time.
    """
    _, user = await _user_by_name(db, pseudonym)
    if user is None or user.disabled_at is not None or not _same_address(user.email, email):
        return None
    recent = await db.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.kind == "email",
            PasswordReset.created_at > now - timedelta(hours=1),
        )
    )
    if int(recent or 0) >= EMAIL_LINKS_PER_HOUR:
        audit.record(db, now, "recovery.email_limited", subject_id=user.id, client_ip=client_ip)
        return None
    await expire_live(db, user.id, now, why="replaced", kinds=("email",))
    token = secrets.token_urlsafe(32)
    db.add(
        PasswordReset(
            user_id=user.id,
            kind="email",
            secret_hash=_secret_hash(secret_key, "link", token),
            created_at=now,
            expires_at=now + EMAIL_LINK,
        )
    )
    await db.flush()
    audit.record(
        db,
        now,
        "password.reset_link_sent",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
    )
    return user, token


async def count_email_request(
    db: AsyncSession, secret_key: str, now: datetime, *, pseudonym: str, asker: Asker
) -> None:
    """Count a request for a link on the name's recovery counters, whether or not the
    name and address match (so the answer, 200 or 429, says nothing about them).
    Raises :class:`Throttled` when there were too many."""
    key, user = await _user_by_name(db, pseudonym)
    keys = await _name_keys(db, secret_key, key, user, asker, now)
    held = await throttle.reserve(db, keys, now)
    if not held.allowed:
        raise Throttled.of(held.verdict)


async def prove_with_link(
    db: AsyncSession, secret_key: str, now: datetime, token: str
) -> Proof | None:
    """The proof an e-mailed link gives, while it is live (opening it spends nothing)."""
    if not token or len(token) > 100:
        return None
    row = await db.scalar(
        select(PasswordReset).where(
            PasswordReset.secret_hash == _secret_hash(secret_key, "link", token),
            PasswordReset.kind == "email",
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
    )
    if row is None:
        return None
    user = await db.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return Proof(user, "email", row.id, min(now + RESET_TICKET, row.expires_at))


# --- Codes handed over in person -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    person: User
    expires_at: datetime


async def _issue_code(
    db: AsyncSession, secret_key: str, person: User, kind: str, issuer: User, now: datetime
) -> IssuedCode:
    # One live code per person: a new one replaces any other not yet used.
    await expire_live(db, person.id, now, why="replaced", kinds=("organiser", "admin"))
    code = new_code()
    cleaned = clean_code(code)
    assert cleaned is not None  # noqa: S101 - new_code makes valid codes
    expires = now + CODE_LIFE
    db.add(
        PasswordReset(
            user_id=person.id,
            kind=kind,
            secret_hash=_secret_hash(secret_key, "code", cleaned),
            created_at=now,
            expires_at=expires,
            issued_by=issuer.id,
        )
    )
    await db.flush()
    return IssuedCode(code, person, expires)


# One answer for every reason a code cannot be given (the audit trail keeps the reason):
# it names no role, so the refusal tells the organiser nothing about the person.
def cannot_give(name: str) -> str:
    return _(
        "PeerHub cannot give %(name)s a reset code from here. They can use their recovery "
        "words or an e-mailed link, or ask a PeerHub administrator for help.",
        name=name,
    )


async def _why_not(db: AsyncSession, person: User, group_id: str) -> str | None:
    """Why an organiser of the group may not give this member a code, or None.

    Only for a person who took their place in the group themselves (joining, asking,
    taking an offered place, accepting an invitation: a ``group.join`` consent record
    they have not withdrawn). A place someone else made for them proves nothing about
    who they are to the organiser: before invitations, any pseudonym could be "appointed"
    and then handed a code, which was a way to take over anyone's account.
    """
    if person.disabled_at is not None:
        return "disabled"
    if not await has_joined(db, person.id, group_id):
        return "not_joined_themselves"
    if (await twofactor.standing(db, person)).required:
        return "two_step_required"
    return None


async def _given_today(db: AsyncSession, organiser: User, now: datetime) -> list[datetime]:
    """When this organiser gave a code or was refused one, in the last day, oldest first.

    Refusals count too, so the refusal cannot be used to sort many members into those
    who can and cannot be given one.
    """
    since = now - ORGANISER_WINDOW
    issued = await db.scalars(
        select(PasswordReset.created_at).where(
            PasswordReset.issued_by == organiser.id,
            PasswordReset.kind == "organiser",
            PasswordReset.created_at > since,
        )
    )
    refused = await db.scalars(
        select(AuditEvent.at).where(
            AuditEvent.at > since,
            AuditEvent.actor_id == organiser.id,
            AuditEvent.action == "password.reset_code_refused",
        )
    )
    return sorted([*issued, *refused])


async def issue_organiser_code(
    db: AsyncSession,
    secret_key: str,
    organiser: User,
    group_id: str,
    person_id: str,
    now: datetime,
    *,
    client_ip: str | None = None,
) -> IssuedCode | Refused:
    """A one-time reset code for a member of the organiser's group, to hand over in person.

    NotFound for someone who is not an organiser of the group (require_rank) or a
    person who is not an active member of it. A :class:`Refused` when PeerHub has not
    checked the organisation, past the organiser's daily limit, and, with one message
    that gives no reason, for anyone else who may not have one (:func:`_why_not`:
    people whose role needs two-step sign-in go to an administrator).
    """
    await require_rank(db, organiser, group_id, GroupRole.ORGANISER)
    member = await db.get(GroupMember, (group_id, person_id))
    person = await db.get(User, person_id) if member is not None else None
    if member is None or member.status != "active" or person is None:
        raise NotFound(person_id)
    if person.id == organiser.id:
        return Refused(
            _("You cannot give yourself a reset code. Change your password on your account page.")
        )
    if not await organisation_checked(db, group_id):
        return Refused(
            _(
                "Reset codes can be given once PeerHub has checked your organisation. Until "
                "then, a PeerHub administrator can help."
            )
        )
    # Held in the database, so the limit holds across server processes and restarts.
    given = await _given_today(db, organiser, now)
    if len(given) >= ORGANISER_DAILY_LIMIT:
        audit.record(
            db,
            now,
            "password.reset_code_limited",
            actor_id=organiser.id,
            subject_id=person.id,
            client_ip=client_ip,
            group_id=group_id,
        )
        wait = int((given[0] + ORGANISER_WINDOW - now).total_seconds()) + 1
        return Refused(
            _(
                "You have given or asked for %(limit)s reset codes in the last 24 hours, "
                "which is the most one organiser can. Please try again later, or ask a "
                "PeerHub administrator.",
                limit=ORGANISER_DAILY_LIMIT,
            ),
            status=429,
            retry_after=max(1, wait),
        )
    reason = await _why_not(db, person, group_id)
    if reason is not None:
        audit.record(
            db,
            now,
            "password.reset_code_refused",
            actor_id=organiser.id,
            subject_id=person.id,
            client_ip=client_ip,
            group_id=group_id,
            reason=reason,
        )
        return Refused(cannot_give(person.pseudonym))
    issued_code = await _issue_code(db, secret_key, person, "organiser", organiser, now)
    audit.record(
        db,
        now,
        "password.reset_code_issued",
        actor_id=organiser.id,
        subject_id=person.id,
        client_ip=client_ip,
        group_id=group_id,
        kind="organiser",
    )
    return issued_code


async def issue_admin_code(
    db: AsyncSession,
    secret_key: str,
    admin: User,
    person_id: str,
    now: datetime,
    *,
    client_ip: str | None = None,
) -> IssuedCode | Refused:
    """An administrator's reset code; the person's two-step sign-in is reset too."""
    if not admin.is_admin:
        raise Forbidden(person_id)
    person = await db.get(User, person_id)
    if person is None:
        raise NotFound(person_id)
    if person.id == admin.id:
        return Refused(_("Change your own password on your account page."))
    if person.disabled_at is not None:
        return Refused(_("This account is disabled. Enable it first if they should have it back."))
    second_factor = await db.get(TwoFactor, person.id) is not None
    if second_factor:
        # They may have lost the phone with the password: the code must be enough to
        # get back in; a role that needs two-step sign-in sets it up again at once.
        await reset_two_factor(db, admin, person.id, now)
    issued_code = await _issue_code(db, secret_key, person, "admin", admin, now)
    audit.record(
        db,
        now,
        "password.reset_code_issued",
        actor_id=admin.id,
        subject_id=person.id,
        client_ip=client_ip,
        kind="admin",
        second_factor_reset=second_factor,
    )
    return issued_code


# --- What the person is told ----------------------------------------------------------------


NOTICE_FOR: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class WayBack:
    """A reset code or e-mailed link made for the person, as their account page says it."""

    kind: str  # email | organiser | admin
    made_at: datetime
    issued_by: str | None  # the organiser's name on PeerHub (codes from organisers)
    # used | signed_in | changed | reset | replaced | expired | waiting
    outcome: str
    until: datetime  # when it stopped, or stops, working


async def ways_back(db: AsyncSession, user_id: str, now: datetime) -> list[WayBack]:
    """The reset codes and links made for the person in the last :data:`NOTICE_FOR`,
    newest first: someone else may have asked for one in their name, and they should
    know who gave it and what became of it."""
    issuer = User.__table__.alias("issuer")
    rows = await db.execute(
        select(PasswordReset, issuer.c.pseudonym)
        .outerjoin(issuer, issuer.c.id == PasswordReset.issued_by)
        .where(PasswordReset.user_id == user_id, PasswordReset.created_at > now - NOTICE_FOR)
        .order_by(PasswordReset.created_at.desc())
        .limit(10)
    )
    found: list[WayBack] = []
    for row, name in rows:
        if row.used_at is not None:
            outcome, until = "used", row.used_at
        elif row.ended is not None:
            outcome, until = row.ended, row.expires_at
        elif row.expires_at <= now:
            outcome, until = "expired", row.expires_at
        else:
            outcome, until = "waiting", row.expires_at
        # Administrators act for PeerHub, not as themselves: their name is not shown.
        found.append(
            WayBack(
                row.kind, row.created_at, name if row.kind == "organiser" else None, outcome, until
            )
        )
    return found


# --- The reset ticket ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ticket:
    user_id: str
    method: str
    ref: str
    expires: int
    nonce: str
    mac: str


def _ticket_mac(secret_key: str, t: Ticket, password_hash: str) -> str:
    # The password hash is in the MAC, never in the cookie: once the new password is
    # set, the ticket (and any copy of it) is dead.
    return keyed(
        secret_key,
        "password-reset-ticket",
        f"{t.user_id}|{t.method}|{t.ref}|{t.expires}|{t.nonce}|{password_hash}",
    )


def ticket_value(secret_key: str, proof: Proof) -> str:
    t = Ticket(
        proof.user.id,
        proof.method,
        proof.ref,
        int(proof.expires_at.timestamp()),
        secrets.token_urlsafe(12),
        "",
    )
    mac = _ticket_mac(secret_key, t, proof.user.password_hash)
    return f"{t.user_id}.{t.method}.{t.ref}.{t.expires}.{t.nonce}.{mac}"


def read_ticket(value: str | None) -> Ticket | None:
    """The ticket a cookie holds (not yet checked: see :func:`ticket_valid`)."""
    parts = (value or "").split(".")
    if len(parts) != 6 or len(value or "") > 300:
        return None
    user_id, method, ref, expires, nonce, mac = parts
    # ASCII digits only: "²".isdigit() is true, and int() then refuses it.
    until = ascii_digits(expires, max_digits=12)
    if method not in METHODS or until is None:
        return None
    return Ticket(user_id, method, ref, until, nonce, mac)


def ticket_valid(secret_key: str, ticket: Ticket, user: User, now: datetime) -> bool:
    if ticket.user_id != user.id or user.disabled_at is not None:
        return False
    if now.timestamp() >= ticket.expires:
        return False
    return same(ticket.mac, _ticket_mac(secret_key, ticket, user.password_hash))


async def ticket_user(
    db: AsyncSession, secret_key: str, value: str | None, now: datetime
) -> tuple[Ticket, User] | None:
    ticket = read_ticket(value)
    if ticket is None:
        return None
    user = await db.get(User, ticket.user_id)
    if user is None or not ticket_valid(secret_key, ticket, user, now):
        return None
    return ticket, user


# --- Setting the new password ----------------------------------------------------------------


class Spent(Exception):
    """The proof was used, replaced or expired meanwhile."""


async def _spend(db: AsyncSession, ticket: Ticket, now: datetime) -> str | None:
    """Use up the proof (conditionally: of two racing requests one wins); its issuer."""
    if ticket.method == "words":
        result = await db.execute(
            delete(RecoveryWords).where(
                RecoveryWords.id == ticket.ref, RecoveryWords.user_id == ticket.user_id
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            raise Spent(ticket.ref)
        return None
    issued_by = await db.scalar(
        select(PasswordReset.issued_by).where(PasswordReset.id == ticket.ref)
    )
    result = await db.execute(
        update(PasswordReset)
        .where(
            PasswordReset.id == ticket.ref,
            PasswordReset.user_id == ticket.user_id,
            PasswordReset.kind == ticket.method,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Spent(ticket.ref)
    return issued_by


@dataclass(frozen=True, slots=True)
class Reset:
    sign_ins_ended: int
    # Shown once on the page that follows, when the person has no words left.
    new_words: list[str] | None


async def complete_reset(
    db: AsyncSession,
    passwords: Passwords,
    user: User,
    ticket: Ticket,
    now: datetime,
    *,
    new_password: str,
    client_ip: str,
) -> Reset:
    """Set the new password: spend the proof, end every sign-in, clear the sign-in
    counter of the account, and give new recovery words if none are left.

    ``user`` must belong to ``db``; raises FieldError for a password the policy refuses
    and :class:`Spent` when the proof was used meanwhile. The caller closes the
    person's sockets after the commit.
    """
    _policy(new_password, user.pseudonym, "new_password")
    await db.get(User, user.id, with_for_update=True)
    issued_by = await _spend(db, ticket, now)
    user.password_hash = await passwords.hash(new_password)
    user.updated_at = now
    # Every other way back that was waiting dies with this reset.
    await expire_live(db, user.id, now, why="reset")
    ended = await signins.end_all_sign_ins(db, user.id, reason="Your password was changed.")
    # Strangers who locked the account by guessing should not keep its owner out now.
    await _forget_strangers(db, user.pseudonym_key)
    audit.record(
        db,
        now,
        "password.reset",
        actor_id=user.id,
        subject_id=user.id,
        client_ip=client_ip,
        method=ticket.method,
        issued_by=issued_by,
        sessions_ended=ended,
    )
    words = None
    if await words_of(db, user.id) is None:
        words = await make_words(db, passwords, user, now, client_ip=client_ip)
    return Reset(ended, words)
