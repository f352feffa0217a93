"""argon2id password hashing, off the event loop.

Hashing costs tens of milliseconds and 64 MiB with argon2-cffi's defaults, so it
runs in a worker thread behind a semaphore: the event loop never blocks and a burst
of logins cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from peerhub.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 1024  # longer inputs are refused before hashing (a cheap DoS guard)


class PasswordPolicyError(ValueError):
    """The password breaks the policy; the message is safe to show."""


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("peerhub.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_policy(password: str, pseudonym: str = "") -> None:
    """Length, no composition rules (NIST 800-63B, ASVS 6.2); refuse guessable ones:
    common passwords, the name, only spaces, one character over and over."""
    length = len(password)
    if length < MIN_LENGTH:
        raise PasswordPolicyError(_("Use at least %(num)s characters.", num=MIN_LENGTH))
    if length > MAX_LENGTH:
        raise PasswordPolicyError(_("Use at most %(num)s characters.", num=MAX_LENGTH))
    if not password.strip():
        raise PasswordPolicyError(
            _("Your password cannot be only spaces. Try a few unusual words together.")
        )
    if len(set(password)) == 1:
        raise PasswordPolicyError(
            _(
                "Your password cannot be one character typed over and over. "
                "Try a few unusual words together."
            )
        )
    folded = password.casefold()
    if folded in _common_passwords():
        raise PasswordPolicyError(
            _("That password is too common. Try a few unusual words together.")
        )
    if pseudonym and folded == pseudonym.casefold():
        raise PasswordPolicyError(_("Your password must not be your name on PeerHub."))


def _normalise(password: str) -> str:
    # NFC so that the same visible password typed on two keyboards is the same bytes.
    return unicodedata.normalize("NFC", password)


class Passwords:
    def __init__(self, params: Mapping[str, int] | None = None, concurrency: int = 4) -> None:
        self._hasher = (
            PasswordHasher(
                time_cost=params["time_cost"],
                memory_cost=params["memory_cost"],
                parallelism=params["parallelism"],
            )
            if params
            else PasswordHasher()
        )
        self._slots = asyncio.Semaphore(concurrency)
        # A real hash of a random value, verified for unknown accounts so that they
        # take as long as a wrong password.
        self._dummy = self._hasher.hash("peerhub-dummy-password-for-timing")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, _normalise(password))

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches; ``stored=None`` burns the same time and fails."""
        target = stored if stored is not None else self._dummy
        async with self._slots:
            ok = await asyncio.to_thread(self._verify_sync, target, _normalise(password))
        return ok and stored is not None

    def _verify_sync(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
