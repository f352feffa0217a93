"""BCP 47 language tags: well-formedness (RFC 5646, section 2.1) and case.

PeerHub stores and compares language tags in one case form, so ``PA-guru``,
``pa-guru`` and ``pa-Guru`` are the same language. This module checks that a tag
is *well-formed* (its subtags have the right shape and order) and puts it into the
RFC's recommended case: language and variants in lower case, script in title
case, region in upper case. It does not check tags against the IANA registry
(that would be "valid" in RFC terms); a well-formed tag PeerHub has no name for is
shown as the tag itself (see :func:`peerhub.taxonomy.language_name`).

Grandfathered irregular tags (``i-klingon``, ``en-GB-oed`` ...) and tags that are
only private use (``x-...``) are refused: neither names a language a group can
meet in.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_TAG_LENGTH",
    "LanguageTagError",
    "normalise_language_tag",
    "primary_subtag",
    "tags_compatible",
]

MAX_TAG_LENGTH: Final = 64

_ALLOWED: Final = re.compile(r"[A-Za-z0-9-]+")

_IRREGULAR: Final = frozenset(
    t.lower()
    for t in (
        "en-GB-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-BE-FR",
        "sgn-BE-NL",
        "sgn-CH-DE",
    )
)


class LanguageTagError(ValueError):
    """A language tag is not well-formed. ``problem`` says why, in plain words."""

    def __init__(self, tag: str, problem: str) -> None:
        super().__init__(f"{tag!r} is not a well-formed language tag: {problem}")
        self.tag = tag
        self.problem = problem


def _is_alpha(s: str) -> bool:
    return s.isascii() and s.isalpha()


def _is_digit(s: str) -> bool:
    return s.isascii() and s.isdigit()


def _is_variant(s: str) -> bool:
    # variant = 5*8alphanum / (DIGIT 3alphanum)
    return (5 <= len(s) <= 8) or (len(s) == 4 and _is_digit(s[0]))


def normalise_language_tag(tag: str) -> str:
    """Check that ``tag`` is a well-formed BCP 47 tag and return it in canonical case.

    >>> normalise_language_tag("PA-guru")
    'pa-Guru'
    >>> normalise_language_tag("en-gb")
    'en-GB'

    Raises :class:`LanguageTagError` (a ``ValueError``) naming the problem.
    """
    if not tag:
        raise LanguageTagError(tag, "it is empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise LanguageTagError(tag, f"it is longer than {MAX_TAG_LENGTH} characters")
    if not _ALLOWED.fullmatch(tag):
        raise LanguageTagError(tag, "it may contain only letters A to Z, digits and hyphens")
    if tag.lower() in _IRREGULAR:
        raise LanguageTagError(tag, "grandfathered tags are not accepted; use the modern tag")
    parts = tag.split("-")
    if any(p == "" for p in parts):
        raise LanguageTagError(
            tag, "it has an empty subtag (a hyphen at either end, or two together)"
        )
    for p in parts:
        if len(p) > 8:
            raise LanguageTagError(tag, f"subtag {p!r} is longer than 8 characters")

    first = parts[0]
    if first.lower() == "x":
        raise LanguageTagError(tag, "private-use tags (starting 'x-') are not accepted")
    if not _is_alpha(first) or len(first) < 2:
        raise LanguageTagError(
            tag, f"it must start with a language subtag of 2 to 8 letters, not {first!r}"
        )
    out = [first.lower()]
    i = 1
    n = len(parts)

    # extlang: up to three 3-letter subtags, only after a 2- or 3-letter language.
    if len(first) <= 3:
        count = 0
        while i < n and count < 3 and len(parts[i]) == 3 and _is_alpha(parts[i]):
            out.append(parts[i].lower())
            i += 1
            count += 1
    # script: 4 letters, title case.
    if i < n and len(parts[i]) == 4 and _is_alpha(parts[i]):
        out.append(parts[i].title())
        i += 1
    # region: 2 letters (upper case) or 3 digits.
    if i < n and (
        (len(parts[i]) == 2 and _is_alpha(parts[i])) or (len(parts[i]) == 3 and _is_digit(parts[i]))
    ):
        out.append(parts[i].upper())
        i += 1
    # variants: no repeats.
    seen_variants: set[str] = set()
    while i < n and _is_variant(parts[i]):
        v = parts[i].lower()
        if v in seen_variants:
            raise LanguageTagError(tag, f"variant {parts[i]!r} appears twice")
        seen_variants.add(v)
        out.append(v)
        i += 1
    # extensions: a singleton (any letter or digit but x) and one or more 2-8 subtags.
    seen_singletons: set[str] = set()
    while i < n and len(parts[i]) == 1 and parts[i].lower() != "x":
        single = parts[i].lower()
        if single in seen_singletons:
            raise LanguageTagError(tag, f"extension {parts[i]!r} appears twice")
        seen_singletons.add(single)
        out.append(single)
        i += 1
        count = 0
        while i < n and 2 <= len(parts[i]) <= 8:
            out.append(parts[i].lower())
            i += 1
            count += 1
        if count == 0:
            raise LanguageTagError(tag, f"extension {single!r} has no subtags after it")
    # private use: x followed by one or more 1-8 subtags, to the end.
    if i < n and parts[i].lower() == "x":
        out.append("x")
        i += 1
        if i == n:
            raise LanguageTagError(tag, "private-use part 'x' has no subtags after it")
        out.extend(p.lower() for p in parts[i:])
        i = n
    if i < n:
        raise LanguageTagError(
            tag,
            f"subtag {parts[i]!r} is in the wrong place or has the wrong length "
            "(after the language come: script, 4 letters; region, 2 letters or 3 digits; "
            "variants, 5 to 8 letters or digits, or a digit and 3 more)",
        )
    return "-".join(out)


def primary_subtag(tag: str) -> str:
    """The language subtag of a normalised tag: ``pa`` for ``pa-Guru``."""
    return tag.split("-", 1)[0]


def tags_compatible(a: str, b: str) -> bool:
    """Whether two normalised tags name the same language for meeting purposes.

    They do when they are equal or one is a subtag-prefix of the other (RFC 4647
    basic filtering, in both directions): a person asking for ``pa`` is served by a
    group meeting in ``pa-Guru``, and a person asking for ``pa-Guru`` by a group
    meeting in ``pa``. ``pa-Guru`` and ``pa-Arab`` are not compatible.
    """
    if a == b:
        return True
    if len(a) < len(b):
        return b.startswith(a) and b[len(a)] == "-"
    return a.startswith(b) and a[len(b)] == "-"
