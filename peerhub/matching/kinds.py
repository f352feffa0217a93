"""The kind of reasons a result was shown for, in a few coarse dimensions.

What happens after a match (shown, joined, came to a meeting, still coming after
eight weeks) is recorded by these kinds, never by person or group, so that
organisers can see which kinds of fit lead people to stay, and the ranking can be
tuned on outcomes rather than guesses (docs/matching.md, "Outcomes").

:func:`classify` is pure: it re-assesses the group with :func:`assess` (the engine's
own reference), so a kind says what the engine saw, not what its wording said.
Each dimension has a handful of values, so the report's cells stay large enough
to publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

from .model import GroupProfile, Needs
from .scoring import (
    DEFAULT_WEIGHTS,
    LANG_FIRST,
    LANG_INTERPRETED,
    LANG_OTHER,
    Weights,
    assess,
    fit_is_good,
)

__all__ = [
    "DIMENSIONS",
    "CommunityKind",
    "LanguageKind",
    "MatchKind",
    "RankBand",
    "RelaxedKind",
    "StageKind",
    "classify",
    "dimension_values",
    "rank_band",
]

LanguageKind = Literal["first", "other", "interpreted", "not_met", "not_asked"]
CommunityKind = Literal["all", "some", "none", "not_asked"]
StageKind = Literal["met", "not_met", "not_asked"]
RelaxedKind = Literal["none", "distance", "format", "access", "age", "language", "other", "several"]
RankBand = Literal["1", "2-3", "4-10", "11+"]
FitKind = Literal["good", "partial"]
FormatKind = Literal["online", "in_person", "hybrid"]

#: The report's dimensions, in the order the page shows them, with their values.
DIMENSIONS: Final[dict[str, tuple[str, ...]]] = {
    "fit": get_args(FitKind),
    "language": get_args(LanguageKind),
    "community": get_args(CommunityKind),
    "stage": get_args(StageKind),
    "relaxed": get_args(RelaxedKind),
    "rank": get_args(RankBand),
    "format": get_args(FormatKind),
}

LABELS: Final[dict[str, dict[str, str]]] = {
    "fit": {
        "good": "Met everything asked for",
        "partial": "Met some of what was asked for",
    },
    "language": {
        "first": "Meets in the person's first language",
        "other": "Meets in another language they listed",
        "interpreted": "Offers interpretation into their language",
        "not_met": "Not in a language they listed",
        "not_asked": "No language given",
    },
    "community": {
        "all": "For every community they named",
        "some": "For some of the communities they named",
        "none": "For none of the communities they named",
        "not_asked": "No community named",
    },
    "stage": {
        "met": "For their stage",
        "not_met": "Not aimed at their stage",
        "not_asked": "No stage given",
    },
    "relaxed": {
        "none": "Nothing relaxed",
        "distance": "Relaxed: further away",
        "format": "Relaxed: another format",
        "access": "Relaxed: an essential access need",
        "age": "Relaxed: age range",
        "language": "Relaxed: language",
        "other": "Relaxed: another need",
        "several": "Relaxed: more than one need",
    },
    "rank": {
        "1": "Shown first",
        "2-3": "Shown second or third",
        "4-10": "Shown 4th to 10th",
        "11+": "Shown 11th or lower",
    },
    "format": {
        "online": "Online group",
        "in_person": "In-person group",
        "hybrid": "Hybrid group",
    },
}

DIMENSION_LABELS: Final[dict[str, str]] = {
    "fit": "Overall fit",
    "language": "Language",
    "community": "Community",
    "stage": "Stage",
    "relaxed": "What was relaxed",
    "rank": "Place in the results",
    "format": "Format of the group",
}


@dataclass(frozen=True, slots=True)
class MatchKind:
    """The kind of one shown result, one value per dimension of :data:`DIMENSIONS`."""

    fit: FitKind
    language: LanguageKind
    community: CommunityKind
    stage: StageKind
    relaxed: RelaxedKind
    rank: RankBand
    format: FormatKind

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in DIMENSIONS}


def dimension_values(name: str) -> tuple[str, ...]:
    """The values a dimension can take (``KeyError`` for an unknown dimension)."""
    return DIMENSIONS[name]


def rank_band(position: int) -> RankBand:
    """The band of a 1-based place in the results."""
    if position < 1:
        raise ValueError("position is 1-based")
    if position == 1:
        return "1"
    if position <= 3:
        return "2-3"
    if position <= 10:
        return "4-10"
    return "11+"


def classify(
    group: GroupProfile, needs: Needs, position: int, weights: Weights = DEFAULT_WEIGHTS
) -> MatchKind:
    """The kind of reasons ``group`` was shown for, at 1-based ``position``."""
    a = assess(group, needs, weights)
    language: LanguageKind
    if not needs.languages:
        language = "not_asked"
    elif a.language_level == LANG_FIRST:
        language = "first"
    elif a.language_level == LANG_OTHER:
        language = "other"
    elif a.language_level == LANG_INTERPRETED:
        language = "interpreted"
    else:
        language = "not_met"
    community: CommunityKind
    shared = set(a.shared_communities)
    if not needs.communities:
        community = "not_asked"
    elif set(needs.communities) <= shared:
        community = "all"
    elif shared:
        community = "some"
    else:
        community = "none"
    stage: StageKind = (
        "not_asked" if needs.stage is None else ("met" if a.stage_match else "not_met")
    )
    relaxed: RelaxedKind
    if not a.violations:
        relaxed = "none"
    elif len(a.violations) > 1:
        relaxed = "several"
    else:
        only = str(a.violations[0])
        # A hard constraint added after this list was written counts as "other".
        relaxed = cast(RelaxedKind, only if only in get_args(RelaxedKind) else "other")
    good = fit_is_good(a, needs, group)
    return MatchKind(
        fit="good" if good else "partial",
        language=language,
        community=community,
        stage=stage,
        relaxed=relaxed,
        rank=rank_band(position),
        format=group.format,
    )
