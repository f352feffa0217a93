"""Time-based one-time passwords: RFC 4226 (HOTP) and RFC 6238 (TOTP), standard library only.

What authenticator apps expect: HMAC-SHA-1, 30-second steps counted from the Unix
epoch, 6 digits, a base32 secret. A code is accepted for the current step and one
step either side (clocks drift; people type slowly). The caller keeps the last step
it accepted and passes it back, so a code can never be used twice, not even within
its own 30 seconds (RFC 6238 §5.2).

Pure: no database, no web, no clock of its own (the caller passes the time).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlencode

STEP: Final = 30  # seconds (RFC 6238 X)
DIGITS: Final = 6
WINDOW: Final = 1  # steps accepted either side of now
SECRET_BYTES: Final = 20  # 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 §4 asks for

_ALGORITHMS: Final = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def new_secret() -> str:
    """A fresh random secret as unpadded upper-case base32 (32 characters)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret (spaces, hyphens, case and padding forgiven)."""
    text = "".join(secret.split()).replace("-", "").upper().rstrip("=")
    if not text:
        raise ValueError("empty secret")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not a base32 secret") from exc


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, algorithm: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC the 8-byte counter, dynamically truncate, keep ``digits``."""
    if counter < 0:
        raise ValueError("counter must not be negative")
    mac = hmac.new(key, struct.pack(">Q", counter), _ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(at: datetime | float, *, step: int = STEP) -> int:
    """RFC 6238 T: whole steps since the Unix epoch (T0 = 0)."""
    seconds = at.timestamp() if isinstance(at, datetime) else at
    return int(seconds // step)


def totp(
    key: bytes,
    at: datetime | float,
    *,
    digits: int = DIGITS,
    step: int = STEP,
    algorithm: str = "sha1",
) -> str:
    """The code for the time ``at``."""
    return hotp(key, time_step(at, step=step), digits=digits, algorithm=algorithm)


def clean_code(raw: str) -> str | None:
    """A typed code without spaces or hyphens, if it is exactly 6 digits; else None."""
    text = "".join(raw.split()).replace("-", "")
    if len(text) == DIGITS and text.isascii() and text.isdigit():
        return text
    return None


def verify(
    secret: str,
    code: str,
    at: datetime | float,
    *,
    last_step: int | None = None,
    window: int = WINDOW,
) -> int | None:
    """The time step ``code`` belongs to, or None.

    Steps at or before ``last_step`` are refused: each step's code works once. Every
    candidate in the window is compared in constant time, matched or not.
    """
    typed = clean_code(code)
    if typed is None:
        return None
    key = decode_secret(secret)
    now = time_step(at)
    found: int | None = None
    for candidate in range(now - window, now + window + 1):
        if candidate < 0:
            continue
        if hmac.compare_digest(hotp(key, candidate), typed) and found is None:
            found = candidate
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def grouped(secret: str, size: int = 4) -> str:
    """``ABCD EFGH ...``: easier to read aloud and to type into an app by hand."""
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


def provisioning_uri(secret: str, account: str, issuer: str = "PeerHub") -> str:
    """The ``otpauth://totp/...`` URI authenticator apps read (Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
