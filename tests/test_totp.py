"""RFC 4226 / RFC 6238 one-time passwords against the RFCs' own test vectors (pure)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from peerhub.security import totp

# RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to each hash's size.
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
# RFC 4226 Appendix D: HOTP values for counters 0..9 with the SHA-1 seed.
RFC4226 = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]
SECRET = base64.b32encode(SEEDS["sha1"]).decode()


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(at: int, sha1: str, sha256: str, sha512: str) -> None:
    for algorithm, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.totp(SEEDS[algorithm], at, digits=8, algorithm=algorithm) == expected
    # The same instants as aware datetimes give the same codes.
    moment = datetime.fromtimestamp(at, tz=UTC)
    assert totp.totp(SEEDS["sha1"], moment, digits=8) == sha1


def test_rfc4226_vectors() -> None:
    assert [totp.hotp(SEEDS["sha1"], counter) for counter in range(10)] == RFC4226


def test_six_digit_codes_are_the_last_six_of_the_eight() -> None:
    for at, sha1, *_ in RFC6238:
        assert totp.totp(SEEDS["sha1"], at) == sha1[-6:]


def test_time_steps_are_thirty_seconds_from_the_epoch() -> None:
    assert totp.time_step(0) == 0
    assert totp.time_step(29.999) == 0
    assert totp.time_step(30) == 1
    assert totp.time_step(1111111109) == 0x023523EC  # RFC 6238's T column


def test_verify_accepts_one_step_either_side_and_no_further() -> None:
    at = 1234567890
    key = SEEDS["sha1"]
    now = totp.time_step(at)
    for offset, accepted in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.hotp(key, now + offset)
        found = totp.verify(SECRET, code, at)
        assert (found == now + offset) is accepted, offset


def test_a_code_is_never_accepted_twice() -> None:
    at = 1234567890
    code = totp.totp(SEEDS["sha1"], at)
    step = totp.verify(SECRET, code, at)
    assert step is not None
    # The same code again, even within its own 30 seconds, is refused...
    assert totp.verify(SECRET, code, at + 5, last_step=step) is None
    # ...and so is an older one that is still inside the window.
    older = totp.hotp(SEEDS["sha1"], step - 1)
    assert totp.verify(SECRET, older, at, last_step=step) is None
    # The next step's code is fine.
    newer = totp.totp(SEEDS["sha1"], at + 30)
    assert totp.verify(SECRET, newer, at + 30, last_step=step) == step + 1


def test_typing_is_forgiven_but_only_six_digits_count() -> None:
    at = 59
    code = totp.totp(SEEDS["sha1"], at)
    assert totp.verify(SECRET, f" {code[:3]} {code[3:]} ", at) is not None
    assert totp.verify(SECRET, f"{code[:3]}-{code[3:]}", at) is not None
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６", code + "0"):
        assert totp.clean_code(bad) is None, bad
        assert totp.verify(SECRET, bad, at) is None


def test_secrets_round_trip_through_base32() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and secret == secret.upper() and "=" not in secret
    assert len(totp.decode_secret(secret)) == totp.SECRET_BYTES
    assert totp.decode_secret(totp.grouped(secret).lower()) == totp.decode_secret(secret)
    assert totp.new_secret() != secret
    with pytest.raises(ValueError, match="not a base32 secret"):
        totp.decode_secret("not base32 at all!")
    with pytest.raises(ValueError, match="empty secret"):
        totp.decode_secret("   ")


def test_the_otpauth_uri_has_what_apps_read() -> None:
    uri = totp.provisioning_uri(SECRET, "Sam Smith")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert parts.path == "/PeerHub:Sam%20Smith"
    query = parse_qs(parts.query)
    assert query == {
        "secret": [SECRET],
        "issuer": ["PeerHub"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
