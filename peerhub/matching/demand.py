"""Unmet demand: anonymous records of searches that found no good fit, and a
report of where demand has no group, with small counts suppressed.

A record holds codes from PeerHub's vocabulary, language tags, a coarse area (a
postcode district such as ``LS6``, ``online`` or ``unknown``) and, where a person
named a language or community in their own words, those words normalised
(:func:`normalise_words`: case-folded, spaces and punctuation tidied, at most 60
characters) so that "urdu" and "Urdu" are one row. No account id, no full
postcode, no time finer than the caller stores.

Of a person's "something else", only the words that named no community are kept,
folded and cut down by ``peerhub/matching/words.py`` (no digits, no short or common
words, at most 8); a word is shown in the report only once at least the suppression
threshold of searches used it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from peerhub.languages import LanguageError, parse
from peerhub.taxonomy import COMMUNITIES, COMMUNITY_CODES, LANGUAGE_NAMES, language_name

from .langtag import LanguageTagError, normalise_language_tag
from .model import NeedFormat, Needs, Stage
from .words import MAX_WORDS, words

__all__ = [
    "SUPPRESSION_THRESHOLD",
    "DemandCell",
    "DemandRecord",
    "OtherWords",
    "coarse_area",
    "demand_record",
    "demand_report",
    "normalise_community",
    "normalise_language",
    "normalise_words",
    "other_report",
]

#: Counts below this are shown as "fewer than 5".
SUPPRESSION_THRESHOLD: Final = 5

# UK postcode: outward code (area letters, district digits, optional letter or digit)
# and inward code (sector digit, unit letters).
_POSTCODE: Final = re.compile(r"([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})?")
_DISTRICT: Final = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
_SPECIAL_AREAS: Final = frozenset({"online", "unknown"})


#: Free text kept in a record is cut to this many characters.
MAX_TERM: Final = 60
_PUNCTUATION: Final = " \t\n\r.,;:!?\"'()[]{}<>*_-/\\"
_LANGUAGE_BY_NAME: Final = {name.casefold(): tag for tag, name in LANGUAGE_NAMES.items()}
_COMMUNITY_BY_LABEL: Final = {t.label.casefold(): t.code for t in COMMUNITIES.terms}


def normalise_words(text: str) -> str:
    """Words someone typed, in one form for counting: Unicode NFKC, case-folded,
    runs of spaces made one, punctuation trimmed from the ends, at most 60
    characters. ``" Urdu. "`` and ``"URDU"`` both give ``"urdu"``."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(_PUNCTUATION)[:MAX_TERM]


def normalise_language(value: str) -> str:
    """One row per language in the report, however it was written: its canonical tag
    (:mod:`peerhub.languages`: ``"PA-guru"`` gives ``"pa"``, ``"urdu"`` and ``"اردو"``
    give ``"ur"``), and anything else as its :func:`normalise_words` form."""
    try:
        # By code or by name in any case or script (peerhub/languages.py): "urdu", "اردو", "BSL".
        return parse(value)
    except LanguageError:
        pass
    words = normalise_words(value)
    tag = _LANGUAGE_BY_NAME.get(words)
    if tag is not None:
        return tag
    try:
        return normalise_language_tag(value.strip())
    except LanguageTagError:
        return words


def normalise_community(value: str) -> str:
    """A community's code, whether given as the code, its label in any case
    (``"south asian"``), or free text (kept as its :func:`normalise_words` form)."""
    if value in COMMUNITY_CODES:
        return value
    words = normalise_words(value)
    code = _COMMUNITY_BY_LABEL.get(words) or words.replace(" ", "_")
    return code if code in COMMUNITY_CODES else words


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return tuple(out)


def coarse_area(postcode: str) -> str:
    """The postcode district (outward code) of a UK postcode: ``"ls6 3ab"`` → ``"LS6"``.

    Raises ``ValueError`` when ``postcode`` does not look like a postcode or a
    district. Only the district is kept, so a record cannot point at a street.
    """
    m = _POSTCODE.fullmatch(postcode.strip().upper())
    if m is None:
        raise ValueError(f"{postcode!r} is not a UK postcode")
    return m.group(1)


@dataclass(frozen=True, slots=True)
class DemandRecord:
    """One search that found no good fit, with nothing that identifies the person."""

    languages: tuple[str, ...]
    communities: tuple[str, ...]
    stage: Stage | None
    topics: tuple[str, ...]
    format: NeedFormat
    area: str
    other: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.area not in _SPECIAL_AREAS and not _DISTRICT.fullmatch(self.area):
            raise ValueError("area must be a postcode district, 'online' or 'unknown'")
        # Whatever is stored, only folded words survive (a stored row is re-checked).
        object.__setattr__(self, "other", words(" ".join(self.other), MAX_WORDS))

    def as_dict(self) -> dict[str, object]:
        return {
            "languages": list(self.languages),
            "communities": list(self.communities),
            "stage": self.stage,
            "topics": list(self.topics),
            "format": self.format,
            "area": self.area,
            "other": list(self.other),
        }


def demand_record(needs: Needs, area: str | None = None) -> DemandRecord:
    """The anonymous record of a search: what was asked for, and where, coarsely.

    ``area`` is a postcode district (a full postcode is cut down to its district);
    without one it is ``online`` for online-only searches and ``unknown`` otherwise.
    Languages keep their order of preference; communities and topics are sorted.
    Blocked users, age, access needs, location and times are left out.
    """
    if area is None:
        label = "online" if needs.format == "online" else "unknown"
    elif area.strip().lower() in _SPECIAL_AREAS:
        label = area.strip().lower()
    else:
        label = coarse_area(area)
    return DemandRecord(
        languages=_unique(normalise_language(t) for t in needs.languages),
        communities=tuple(sorted(_unique(normalise_community(c) for c in needs.communities))),
        stage=needs.stage,
        topics=tuple(sorted(needs.topics)),
        format=needs.format,
        area=label,
        other=needs.other,
    )


@dataclass(frozen=True, slots=True)
class DemandCell:
    """One row of the report: a language × community × stage × area cell.

    ``language`` is the first language asked for (None: none given); ``community``
    None means no community was asked for. ``count`` is None when suppressed.
    """

    language: str | None
    community: str | None
    stage: Stage | None
    area: str
    count: int | None
    threshold: int = SUPPRESSION_THRESHOLD

    @property
    def display_count(self) -> str:
        return str(self.count) if self.count is not None else f"fewer than {self.threshold}"

    @property
    def language_label(self) -> str:
        return language_name(self.language) if self.language else "Any language"

    @property
    def community_label(self) -> str:
        if self.community is None:
            return "Any community"
        try:
            return COMMUNITIES.label(self.community)
        except KeyError:
            return f"{self.community} (in their own words)"

    def as_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "community": self.community,
            "stage": self.stage,
            "area": self.area,
            "count": self.count,
            "display_count": self.display_count,
        }


def demand_report(
    records: Iterable[DemandRecord], *, threshold: int = SUPPRESSION_THRESHOLD
) -> tuple[DemandCell, ...]:
    """Count records by first language × community × stage × area.

    A record naming several communities counts once under each; one naming none
    counts under "any community". Counts under ``threshold`` are suppressed: the
    cell says "fewer than 5" and carries no number. Cells come largest first,
    then suppressed cells, each in key order.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    counts: Counter[tuple[str | None, str | None, Stage | None, str]] = Counter()
    for r in records:
        # Normalised again here, so rows stored before normalisation (or written
        # by hand as "Urdu" and "urdu") are counted in one row.
        languages = _unique(normalise_language(t) for t in r.languages)
        language = languages[0] if languages else None
        communities = sorted(set(_unique(normalise_community(c) for c in r.communities)))
        for community in communities or (None,):
            counts[(language, community, r.stage, r.area)] += 1

    def order(key: tuple[str | None, str | None, Stage | None, str]) -> tuple[str, str, str, str]:
        return (key[0] or "", key[1] or "", key[2] or "", key[3])

    shown = sorted(
        (k for k, n in counts.items() if n >= threshold), key=lambda k: (-counts[k], order(k))
    )
    hidden = sorted((k for k, n in counts.items() if n < threshold), key=order)
    cells = [DemandCell(*k, count=counts[k], threshold=threshold) for k in shown]
    cells += [DemandCell(*k, count=None, threshold=threshold) for k in hidden]
    return tuple(cells)


@dataclass(frozen=True, slots=True)
class OtherWords:
    """Words people used for a community not on the list, with how many searches used
    each. Only words used by at least ``threshold`` searches are named: a rarer word
    could be someone's own description of themselves, so it is only counted in
    ``hidden`` (how many distinct words were held back), never shown."""

    shown: tuple[tuple[str, int], ...]
    hidden: int
    threshold: int = SUPPRESSION_THRESHOLD

    def as_dict(self) -> dict[str, object]:
        return {
            "words": [{"word": w, "count": n} for w, n in self.shown],
            "hidden_words": self.hidden,
            "threshold": self.threshold,
        }


def other_report(
    records: Iterable[DemandRecord], *, threshold: int = SUPPRESSION_THRESHOLD
) -> OtherWords:
    """Count the searches that used each "something else" word (once per search)."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    counts: Counter[str] = Counter()
    for r in records:
        counts.update(set(r.other))
    shown = sorted(
        ((w, n) for w, n in counts.items() if n >= threshold), key=lambda x: (-x[1], x[0])
    )
    return OtherWords(tuple(shown), sum(1 for n in counts.values() if n < threshold), threshold)
