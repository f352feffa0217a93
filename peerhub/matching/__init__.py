"""PeerHub's matching engine: pure domain code, no web, database or network.

A person's :class:`Needs` and many :class:`GroupProfile` values go in; a ranked
:class:`MatchResult` with plain-English reasons and next steps comes out. Build a
:class:`GroupIndex` once and call :meth:`GroupIndex.match` (or :func:`match`) per
search. Also here: anonymous unmet-demand records and their suppressed report,
the optimal waiting-list allocation, and BCP 47 tag checking.

See docs/matching.md for the model, the weights and the relaxation order.
"""

from __future__ import annotations

from .allocation import Offer, Waiter, WaitlistEntry, allocate, offer_value
from .demand import (
    SUPPRESSION_THRESHOLD,
    DemandCell,
    DemandRecord,
    OtherWords,
    coarse_area,
    demand_record,
    demand_report,
    normalise_community,
    normalise_language,
    normalise_words,
    other_report,
)
from .index import GroupIndex, match
from .kinds import DIMENSIONS, MatchKind, classify, rank_band
from .langtag import LanguageTagError, normalise_language_tag, tags_compatible
from .model import (
    GENDERS,
    RELAXATION_ORDER,
    AccessNeed,
    Action,
    Gender,
    GroupFormat,
    GroupProfile,
    InvalidNeeds,
    LatLon,
    MatchItem,
    MatchResult,
    NeedFormat,
    Needs,
    NextStep,
    NextStepCode,
    Relaxation,
    Stage,
    Window,
)
from .scoring import DEFAULT_WEIGHTS, Assessment, Weights, assess

__all__ = [
    "DEFAULT_WEIGHTS",
    "DIMENSIONS",
    "GENDERS",
    "RELAXATION_ORDER",
    "SUPPRESSION_THRESHOLD",
    "AccessNeed",
    "Action",
    "Assessment",
    "DemandCell",
    "DemandRecord",
    "Gender",
    "GroupFormat",
    "GroupIndex",
    "GroupProfile",
    "InvalidNeeds",
    "LanguageTagError",
    "LatLon",
    "MatchItem",
    "MatchKind",
    "MatchResult",
    "NeedFormat",
    "Needs",
    "NextStep",
    "NextStepCode",
    "Offer",
    "OtherWords",
    "Relaxation",
    "Stage",
    "Waiter",
    "WaitlistEntry",
    "Weights",
    "Window",
    "allocate",
    "assess",
    "classify",
    "coarse_area",
    "demand_record",
    "demand_report",
    "match",
    "normalise_community",
    "normalise_language",
    "normalise_language_tag",
    "normalise_words",
    "offer_value",
    "other_report",
    "rank_band",
    "tags_compatible",
]
