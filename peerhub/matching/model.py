"""The matching engine's inputs and outputs: plain, frozen, validated values.

Everything here is pure data. Constructors validate and normalise what they are
given and raise :class:`InvalidNeeds` (a ``ValueError`` that names the field) for a
person's needs, or ``ValueError`` for a group, so the HTTP layer can answer 422.
Collections passed as lists or sets are stored as tuples or frozensets.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from typing import Final, Literal, NamedTuple, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peerhub.languages import LanguageError, LanguageQuestion, canonical_tag, parse
from peerhub.taxonomy import ACCESS_CODES, COMMUNITY_CODES, STAGE_CODES, TOPIC_CODES

from .langtag import LanguageTagError, normalise_language_tag
from .words import MAX_WORDS, words

__all__ = [
    "ADDED_COMMUNITY",
    "GENDERS",
    "LONDON",
    "MAX_LANGUAGES",
    "MAX_OTHER_CHARS",
    "RELAXATION_ORDER",
    "AccessNeed",
    "Action",
    "Gender",
    "GroupFormat",
    "GroupProfile",
    "InvalidNeeds",
    "LatLon",
    "MatchItem",
    "MatchResult",
    "NeedFormat",
    "Needs",
    "NextStep",
    "NextStepCode",
    "Relaxation",
    "Stage",
    "Window",
    "time_zone",
]

Stage = Literal["approaching_crisis", "recovery", "staying_well"]
Gender = Literal["woman", "man", "non_binary", "prefer_not_to_say"]
NeedFormat = Literal["online", "in_person", "either"]
GroupFormat = Literal["online", "in_person", "hybrid"]
Action = Literal["join", "waiting_list"]
Relaxation = Literal["distance", "format", "access", "age", "language"]
NextStepCode = Literal["young_people", "crisis_contacts", "waiting_list", "register_interest"]
LatLon = tuple[float, float]
"""(latitude, longitude) in decimal degrees (WGS 84)."""

#: Availability windows are local times in this zone (the deployment is UK-wide).
LONDON: Final = ZoneInfo("Europe/London")

#: Hard constraints in the order they are relaxed when nothing passes them all
#: (least harm first; peerhub/matching/rules.py says how far each may go). The
#: blocked-member rule is not here: it is never relaxed.
RELAXATION_ORDER: Final[tuple[Relaxation, ...]] = get_args(Relaxation)

MAX_LANGUAGES: Final = 10
MAX_WINDOWS: Final = 70
MAX_DISTANCE_KM: Final = 1000.0
_NEED_FORMATS: Final = frozenset(get_args(NeedFormat))
GENDERS: Final[tuple[Gender, ...]] = get_args(Gender)
#: A person's "something else", in their own words, is at most this long.
MAX_OTHER_CHARS: Final = 200
#: Codes of communities an administrator added (peerhub/communities.py): the engine
#: accepts their shape; the web layer checks that they exist.
ADDED_COMMUNITY: Final = re.compile(r"added_[a-z0-9_]{1,32}")
_GROUP_FORMATS: Final = frozenset(get_args(GroupFormat))


class InvalidNeeds(ValueError):
    """A person's needs are invalid; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@lru_cache(maxsize=256)
def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (cached); ``ValueError`` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _check_location(loc: object, field: str) -> LatLon:
    if not isinstance(loc, tuple | list) or len(loc) != 2:
        raise InvalidNeeds(field, "must be a (latitude, longitude) pair")
    lat, lon = float(loc[0]), float(loc[1])
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        raise InvalidNeeds(field, "latitude must be within ±90 and longitude within ±180")
    return (lat, lon)


def _aware(dt: datetime) -> bool:
    return dt.tzinfo is not None and dt.utcoffset() is not None


def _normalise_tags(tags: object, field: str, *, strict: bool = True) -> tuple[str, ...]:
    """Canonical BCP 47 tags (peerhub.languages), without repeats, in order.

    A person's languages may be given by name or code ("urdu", "اردو", "BSL", "eng");
    a name that means several languages is refused with the question when no tag
    covers them all ("sign language"), and is that tag otherwise ("Chinese" is
    ``zh``, which matches each Chinese language, said as such). A group's tags
    (``strict=False``) come from storage, already canonical: one PeerHub cannot
    name is kept as it is (well-formed, in canonical case) and simply matches
    nothing, so one odd tag cannot break matching.
    """
    if isinstance(tags, str) or not isinstance(tags, tuple | list):
        raise InvalidNeeds(field, "must be a list of languages")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidNeeds(field, "must be a list of languages")
        # A person's words go through parse (names, and "BSL" before the code bsl);
        # a group's stored tags only need making canonical.
        norm = None if strict else canonical_tag(tag)
        if norm is None:
            try:
                norm = parse(tag) if strict else normalise_language_tag(tag)
            except LanguageQuestion as q:
                # The pages and the API ask which language is meant; the engine, given
                # "Kurdish" or "Chinese" all the same, matches any of them (the
                # macrolanguage, related to each member) and its reasons say so.
                if q.any_tag is None:
                    raise InvalidNeeds(field, q.message) from q
                norm = q.any_tag
            except LanguageError as exc:
                raise InvalidNeeds(field, exc.message) from exc
            except LanguageTagError as exc:
                raise InvalidNeeds(field, str(exc)) from exc
        if norm not in out:
            out.append(norm)
    return tuple(out)


def _codes(values: object, known: frozenset[str] | None, field: str) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple | list | set | frozenset):
        raise InvalidNeeds(field, "must be a list of codes")
    items = sorted(values) if isinstance(values, set | frozenset) else list(values)
    out: list[str] = []
    for code in items:
        if not isinstance(code, str):
            raise InvalidNeeds(field, "must be a list of codes")
        if known is not None and code not in known and not _added(known, code):
            raise InvalidNeeds(field, f"unknown code {code!r}")
        if code not in out:
            out.append(code)
    return tuple(out)


def _added(known: frozenset[str], code: str) -> bool:
    return known is COMMUNITY_CODES and ADDED_COMMUNITY.fullmatch(code) is not None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly time a person can attend: ``weekday`` 0 is Monday; times are
    Europe/London local times, ``start`` inclusive, ``end`` exclusive. An ``end``
    of 00:00 means midnight at the end of the day. Minutes count; seconds do not.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not _is_int(self.weekday) or not 0 <= self.weekday <= 6:
            raise InvalidNeeds("availability", "weekday must be 0 (Monday) to 6 (Sunday)")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidNeeds("availability", "times are local Europe/London times, no zone")
        if self.end_minute <= self.start_minute:
            raise InvalidNeeds("availability", "a window must end after it starts")

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        if self.end == time(0, 0):
            return 24 * 60
        return self.end.hour * 60 + self.end.minute


class AccessNeed(NamedTuple):
    """An access need (a code from :data:`peerhub.taxonomy.ACCESS`); ``essential``
    needs are hard constraints, the others are preferences."""

    code: str
    essential: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Needs:
    """What a person is looking for.

    ``now`` is the moment of the search (an aware datetime): the engine never reads
    the clock, so the same needs always give the same answer. ``languages`` are
    BCP 47 tags in order of preference (``bfi`` is British Sign Language), made
    canonical by :mod:`peerhub.languages` (names are accepted too); an empty
    tuple means no language preference. ``availability`` empty means any time.
    ``age`` None means not given (age limits are then not applied). ``location`` and
    ``max_distance_km`` matter only for in-person meeting; without a location the
    distance cannot be checked and is not used. ``gender`` (optional) keeps groups
    for women only or men only from being offered to someone they are not for
    (peerhub/matching/eligibility.py). ``other`` is the person's own words for a
    community that is not on the list, matched against groups' own descriptions:
    pass the text, and the meaningful words are kept (at most 8, no digits).
    """

    now: datetime
    languages: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    stage: Stage | None = None
    topics: tuple[str, ...] = ()
    format: NeedFormat = "either"
    location: LatLon | None = None
    max_distance_km: float | None = None
    availability: tuple[Window, ...] = ()
    age: int | None = None
    access_needs: tuple[AccessNeed, ...] = ()
    blocked_user_ids: frozenset[str] = frozenset()
    gender: Gender | None = None
    other: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.gender is not None and self.gender not in GENDERS:
            raise InvalidNeeds("gender", "must be woman, man, non_binary or prefer_not_to_say")
        other: object = self.other
        if isinstance(other, str):
            if len(other) > MAX_OTHER_CHARS:
                raise InvalidNeeds("other", f"at most {MAX_OTHER_CHARS} characters")
            put(self, "other", words(other, MAX_WORDS))
        elif isinstance(other, tuple | list) and all(isinstance(w, str) for w in other):
            put(self, "other", words(" ".join(other), MAX_WORDS))
        else:
            raise InvalidNeeds("other", "must be text")
        if not isinstance(self.now, datetime) or not _aware(self.now):
            raise InvalidNeeds("now", "must be a datetime with a time zone")
        langs = _normalise_tags(self.languages, "languages")
        if len(langs) > MAX_LANGUAGES:
            raise InvalidNeeds("languages", f"at most {MAX_LANGUAGES} languages")
        put(self, "languages", langs)
        put(self, "communities", _codes(self.communities, COMMUNITY_CODES, "communities"))
        put(self, "topics", _codes(self.topics, TOPIC_CODES, "topics"))
        if self.stage is not None and self.stage not in STAGE_CODES:
            raise InvalidNeeds("stage", f"unknown stage {self.stage!r}")
        if self.format not in _NEED_FORMATS:
            raise InvalidNeeds("format", "must be online, in_person or either")
        if self.location is not None:
            put(self, "location", _check_location(self.location, "location"))
        if self.max_distance_km is not None:
            d = self.max_distance_km
            if isinstance(d, bool) or not isinstance(d, int | float) or not math.isfinite(d):
                raise InvalidNeeds("max_distance_km", "must be a number")
            if not 0 < d <= MAX_DISTANCE_KM:
                raise InvalidNeeds(
                    "max_distance_km", f"must be above 0 and at most {MAX_DISTANCE_KM:g}"
                )
            put(self, "max_distance_km", float(d))
        windows = tuple(self.availability)
        if len(windows) > MAX_WINDOWS:
            raise InvalidNeeds("availability", f"at most {MAX_WINDOWS} windows")
        if not all(isinstance(w, Window) for w in windows):
            raise InvalidNeeds("availability", "must be a list of weekly windows")
        put(self, "availability", windows)
        if self.age is not None and (not _is_int(self.age) or not 0 <= self.age <= 130):
            raise InvalidNeeds("age", "must be a whole number from 0 to 130")
        merged: dict[str, bool] = {}
        for item in self.access_needs:
            code, essential = AccessNeed(*item)
            if code not in ACCESS_CODES:
                raise InvalidNeeds("access_needs", f"unknown code {code!r}")
            merged[code] = merged.get(code, False) or bool(essential)
        put(self, "access_needs", tuple(AccessNeed(c, e) for c, e in merged.items()))
        put(self, "blocked_user_ids", frozenset(self.blocked_user_ids))

    @property
    def essential_access(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.access_needs if a.essential)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupProfile:
    """One group as the matcher sees it, assembled by the caller from the directory.

    ``next_meetings`` are aware datetimes the caller computed from the recurrence
    (they are stored sorted). ``interpretation`` lists languages offered through an
    interpreter (``("bfi",)``). ``places_left`` None means no limit is recorded, 0
    means full. ``area`` is a coarse label (postcode district such as ``LS6``, or
    ``online``) shown to people and used in reports. Codes not in the taxonomy are
    accepted (they simply never match), so one stale code cannot break matching.
    ``only_communities`` are the communities (of ``communities``) the group is for
    *only*; the others it focuses on, open to anyone. ``description`` is the group's
    own words (its name is added), matched against a person's "something else".
    ``community_names`` names communities an administrator added: (code, label).
    """

    id: str
    name: str
    url: str = ""
    languages: tuple[str, ...] = ()
    interpretation: tuple[str, ...] = ()
    communities: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    format: GroupFormat = "online"
    location: LatLon | None = None
    area: str = ""
    next_meetings: tuple[datetime, ...] = ()
    time_zone: str = "Europe/London"
    age_min: int | None = None
    age_max: int | None = None
    access_features: frozenset[str] = frozenset()
    capacity: int | None = None
    places_left: int | None = None
    member_ids: frozenset[str] = frozenset()
    moderator_on_duty: bool = False
    only_communities: frozenset[str] = frozenset()
    description: str = ""
    community_names: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("group id must be a non-empty string")
        put(self, "community_names", tuple((str(c), str(n)) for c, n in self.community_names))
        try:
            put(self, "languages", _normalise_tags(self.languages, "languages", strict=False))
            put(
                self,
                "interpretation",
                _normalise_tags(self.interpretation, "interpretation", strict=False),
            )
            if self.location is not None:
                put(self, "location", _check_location(self.location, "location"))
        except InvalidNeeds as exc:
            raise ValueError(f"group {self.id}: {exc}") from exc
        for name in (
            "communities",
            "stages",
            "topics",
            "access_features",
            "member_ids",
            "only_communities",
        ):
            put(self, name, frozenset(getattr(self, name)))
        if not self.only_communities <= self.communities:
            raise ValueError(f"group {self.id}: only_communities must be among its communities")
        if self.format not in _GROUP_FORMATS:
            raise ValueError(f"group {self.id}: format must be online, in_person or hybrid")
        meetings = tuple(self.next_meetings)
        if not all(isinstance(s, datetime) and _aware(s) for s in meetings):
            raise ValueError(f"group {self.id}: next_meetings must be aware datetimes")
        put(self, "next_meetings", tuple(sorted(meetings)))
        time_zone(self.time_zone)
        for name in ("age_min", "age_max", "capacity", "places_left"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                raise ValueError(f"group {self.id}: {name} must be a whole number, 0 or more")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError(f"group {self.id}: age_min is above age_max")

    @property
    def is_full(self) -> bool:
        return self.places_left is not None and self.places_left <= 0

    @property
    def online_capable(self) -> bool:
        return self.format != "in_person"

    @property
    def in_person_capable(self) -> bool:
        return self.format != "online"


@dataclass(frozen=True, slots=True)
class MatchItem:
    """One ranked group. ``score`` is the sum of the soft-scoring points (see
    :class:`~peerhub.matching.scoring.Weights`); ``relaxed`` lists the hard
    constraints this group breaks, which the search relaxed to show it, and
    ``widened`` says each in a plain sentence. ``other_mismatches`` are the
    ``mismatches`` that ``widened`` does not already say."""

    group_id: str
    name: str
    url: str
    score: float
    action: Action
    next_meeting: datetime | None
    reasons: tuple[str, ...]
    mismatches: tuple[str, ...]
    relaxed: tuple[Relaxation, ...] = ()
    distance_km: float | None = None
    places_left: int | None = None
    crisis_priority: bool = False
    widened: tuple[str, ...] = ()
    other_mismatches: tuple[str, ...] = ()
    # Who the group is for, for this person: "open", "meets" or "unknown"
    # (peerhub/matching/eligibility.py); "conflict" groups are never results.
    who: str = "open"

    def as_dict(self) -> dict[str, object]:
        return {
            "group_id": self.group_id,
            "name": self.name,
            "url": self.url,
            "score": self.score,
            "action": self.action,
            # The API keeps its first name for it (docs/architecture.md, "Names").
            "next_session": self.next_meeting.isoformat() if self.next_meeting else None,
            "reasons": list(self.reasons),
            "mismatches": list(self.mismatches),
            "relaxed": list(self.relaxed),
            "widened": list(self.widened),
            "other_mismatches": list(self.other_mismatches),
            "distance_km": self.distance_km,
            "places_left": self.places_left,
            "crisis_priority": self.crisis_priority,
            "who": self.who,
        }


@dataclass(frozen=True, slots=True)
class NextStep:
    """Something a person can do next. ``code`` is stable (the web layer can render
    its own content for it, such as the deployment's crisis numbers or its services
    for young people); ``text`` is a plain-English default. ``group_ids`` names the
    full groups for ``waiting_list``."""

    code: NextStepCode
    text: str
    group_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "text": self.text, "group_ids": list(self.group_ids)}


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The answer to one search. ``next_steps`` is never empty. ``good_fit`` is False
    when no result meets every stated need without relaxing anything: the caller
    then records the search as unmet demand (:func:`peerhub.matching.demand_record`)."""

    results: tuple[MatchItem, ...]
    relaxed: tuple[str, ...]
    relaxed_codes: tuple[Relaxation, ...]
    next_steps: tuple[NextStep, ...]
    crisis_first: bool
    good_fit: bool

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (datetimes as ISO 8601 strings)."""
        return {
            "results": [r.as_dict() for r in self.results],
            "relaxed": list(self.relaxed),
            "relaxed_codes": list(self.relaxed_codes),
            "next_steps": [s.as_dict() for s in self.next_steps],
            "crisis_first": self.crisis_first,
            "good_fit": self.good_fit,
        }
