"""Words people type, made comparable: the "something else" a person writes about
their community, and the words of a group's own name and description.

Pure and cheap. Both sides go through :func:`words`, so they meet in the middle:
case and accents folded the same way, short and common words dropped, a plural
``s`` taken off. Digits are never kept, so a phone number or a postcode typed into
a free-text box is never stored or matched.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["MAX_WORDS", "STOPWORDS", "fold", "words"]

#: At most this many words of a person's own description are used.
MAX_WORDS: Final = 8
_MIN_LEN: Final = 3
_MAX_LEN: Final = 30

STOPWORDS: Final = frozenset(
    """
    a about all also am an and any are as at be been but by can come do does for from
    get group groups had has have her here him his how i if im in into is it its just
    like me meet meets meeting mine more my myself no not of on one or our ours out
    over people person peer she so some someone something support than that the their
    them then there these they this those to too under up us very was we were what
    when where which who whom why will with would you your yours else other another
    kind sort type im i'm ive i've dont don't want looking need
    """.split()  # noqa: SIM905 - a long word list reads better as text
)


_ASCII_WORD: Final = re.compile(r"[a-z]+(?:'[a-z]+)*")


def fold(text: str) -> str:
    """Case folded, and accents taken off Latin letters ("Kurdî" → "kurdi",
    "Pétanque" → "petanque"); marks in other scripts (Devanagari vowel signs, Arabic
    vowels) are part of the word and stay."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    out: list[str] = []
    base = ""
    for ch in decomposed:
        if unicodedata.combining(ch):
            if base and ord(base) < 0x250:
                continue
        else:
            base = ch
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _tokens(text: str) -> list[str]:
    """Runs of letters and their marks (Devanagari vowel signs are marks, not letters),
    with apostrophes inside ("don't"); anything else, digits included, splits words."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    out: list[str] = []
    current: list[str] = []
    for i, ch in enumerate(text):
        mark = bool(current) and unicodedata.category(ch) in ("Mn", "Mc")
        inner = ch == "'" and bool(current) and i + 1 < len(text) and text[i + 1].isalpha()
        if ch.isalpha() or mark or inner:
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str, limit: int | None = None) -> tuple[str, ...]:
    """The distinct meaningful words of ``text``, folded, in the order they appear."""
    out: list[str] = []
    for raw in _tokens(fold(text).replace("’", "'")):
        if raw.endswith("'s"):
            raw = raw[:-2]
        if raw in STOPWORDS or not _MIN_LEN <= len(raw) <= _MAX_LEN:
            continue
        word = _stem(raw)
        if word in STOPWORDS or word in out:
            continue
        out.append(word)
        if limit is not None and len(out) >= limit:
            break
    return tuple(out)
