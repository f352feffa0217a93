"""Scoring one group against one person's needs, and saying why in plain words.

:class:`Weights` is the one place where the soft-scoring weights live (documented
in ``docs/matching.md``). :func:`assess` is the reference definition of a group's
score and of the hard constraints it breaks; the index computes the same numbers
for many groups at once and is tested against this function.

Scores are kept as integer *points* (millionths) so that equal scores are exactly
equal (ties are then broken by group id) and every component is rounded the same
way wherever it is computed. Every component is non-negative and grows with what
the group shares with the person, so adding a shared attribute never lowers a
score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from peerhub.languages import Relation, describe_offer, offer_parts, relate
from peerhub.taxonomy import ACCESS, COMMUNITIES, DAY_NAMES, MONTH_NAMES, N_, TOPICS

from . import text as tx
from .describe import only_phrase, who_line
from .distances import distance_km
from .eligibility import Who, who_status
from .model import LONDON, GroupProfile, Needs, Relaxation, time_zone
from .rules import (
    access_met,
    age_relaxable,
    distance_limit,
    interpreter_language,
    joins_in_person,
    met_by_language,
    welcomes_age,
)
from .words import words

__all__ = [
    "DEFAULT_WEIGHTS",
    "LANG_FIRST",
    "LANG_INTERPRETED",
    "LANG_NONE",
    "LANG_OTHER",
    "LANG_RELATED",
    "POINTS",
    "Assessment",
    "Context",
    "MeetingInfo",
    "Weights",
    "assess",
    "describe_meeting",
    "explain",
    "fit_is_good",
    "language_met",
    "meeting_info",
    "place_unknown",
    "widened",
]

#: Points per unit of score: scores are integers internally, shown with 3 decimals.
POINTS: Final = 1_000_000

LANG_FIRST: Final = 0  # meets in the person's first language
LANG_OTHER: Final = 1  # meets in another language the person listed
LANG_INTERPRETED: Final = 2  # offers interpretation into one of their languages
LANG_NONE: Final = 3  # none of the above (only shown when language is relaxed)
LANG_RELATED: Final = 4  # meets in a related form of a listed language (another script,
# a close variety, or the macrolanguage and one of its members: peerhub.languages)


@dataclass(frozen=True, slots=True)
class Weights:
    """Soft-scoring weights and the constants that shape them (see docs/matching.md).

    A group's score is the sum of:

    * ``language`` × 1 (first language), × ``other_language_factor`` (another listed
      language), × ``related_factor`` (a related form of a listed language: another
      script, a close variety, a macrolanguage and its member) or
      × ``interpretation_factor`` (interpretation only);
    * ``community`` × shared communities ÷ communities asked for;
    * ``stage`` when the group welcomes the person's stage;
    * ``topic`` × shared topics ÷ topics asked for;
    * ``access`` × access needs met ÷ access needs given;
    * ``availability`` when a meeting within ``horizon_days`` falls in the person's
      times (any meeting, if they gave none), plus ``soon`` × (``soon_days`` − days
      until it) ÷ ``soon_days``, counted in whole London calendar days;
    * ``distance`` × the factor of the first band in ``distance_bands`` holding the
      distance, bands being fractions of the person's maximum distance (or
      ``default_distance_km``), for in-person meeting;
    * ``places`` when the group is not full;
    * ``own_words`` × words of the person's "something else" found in the group's
      name or description ÷ words given.

    ``crisis_window_hours`` is how soon a meeting must be for crisis-first ranking;
    ``waited_per_week`` is the waiting-list allocation's value of a week waited.
    """

    language: float = 2.0
    other_language_factor: float = 0.6
    related_factor: float = 0.5
    interpretation_factor: float = 0.4
    community: float = 3.0
    stage: float = 2.5
    topic: float = 2.0
    access: float = 1.0
    availability: float = 1.5
    soon: float = 1.0
    soon_days: int = 14
    horizon_days: int = 35
    distance: float = 1.5
    default_distance_km: float = 10.0
    distance_bands: tuple[tuple[float, float], ...] = (
        (0.25, 1.0),
        (0.5, 0.75),
        (1.0, 0.5),
        (2.0, 0.25),
    )
    places: float = 0.5
    own_words: float = 1.5
    crisis_window_hours: int = 48
    waited_per_week: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "language",
            "community",
            "stage",
            "topic",
            "access",
            "availability",
            "soon",
            "distance",
            "places",
            "own_words",
            "waited_per_week",
        ):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"weight {name} must be a finite number, 0 or more")
        if not (
            0
            <= self.interpretation_factor
            <= self.related_factor
            <= self.other_language_factor
            <= 1
        ):
            raise ValueError(
                "need 0 <= interpretation_factor <= related_factor <= other_language_factor <= 1"
            )
        if not 1 <= self.soon_days <= self.horizon_days <= 366:
            raise ValueError("need 1 <= soon_days <= horizon_days <= 366")
        if not 0 < self.default_distance_km <= 1000:
            raise ValueError("default_distance_km must be above 0 and at most 1000")
        if not 1 <= self.crisis_window_hours <= 24 * 7:
            raise ValueError("crisis_window_hours must be 1 to 168")
        if not self.distance_bands:
            raise ValueError("distance_bands: at least one band")
        previous = (0.0, 1.0)
        for fraction, factor in self.distance_bands:
            if not (previous[0] < fraction <= 10 and 0 <= factor <= previous[1]):
                raise ValueError("distance_bands: fractions must rise and factors must not")
            previous = (fraction, factor)


DEFAULT_WEIGHTS: Final = Weights()


def to_points(x: float) -> int:
    return round(x * POINTS)


def language_points(w: Weights, level: int | None) -> int:
    if level is None:
        return 0
    factor = (1.0, w.other_language_factor, w.interpretation_factor, 0.0, w.related_factor)[level]
    return to_points(w.language * factor)


def share_points(weight: float, shared: int, asked: int) -> int:
    if asked == 0 or shared == 0:
        return 0
    return to_points(weight * shared / asked)


def time_points(w: Weights, day: int | None) -> int:
    """Points for a meeting in the person's times ``day`` London days from today."""
    if day is None:
        return 0
    soon = max(0, w.soon_days - day) / w.soon_days
    return to_points(w.availability + w.soon * soon)


def band_factor(w: Weights, d_km: float, scale_km: float) -> float:
    for fraction, factor in w.distance_bands:
        if d_km <= fraction * scale_km:
            return factor
    return 0.0


MeetingInfo = tuple[float, int, int]
"""(POSIX timestamp, London date ordinal, London minute of the day) of a meeting."""


def meeting_info(group: GroupProfile) -> tuple[MeetingInfo, ...]:
    out = []
    for s in group.next_meetings:
        local = s.astimezone(LONDON)
        out.append((s.timestamp(), local.toordinal(), local.hour * 60 + local.minute))
    return tuple(out)


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Context:
    """What one search needs, worked out once: times, windows, distance scale."""

    needs: Needs
    weights: Weights
    now_ts: float
    today: int
    now_minute: int
    windows: dict[int, tuple[tuple[int, int], ...]] | None
    scale_km: float
    uses_distance: bool
    crisis_end_ts: float

    @classmethod
    def of(cls, needs: Needs, weights: Weights) -> Context:
        local = needs.now.astimezone(LONDON)
        windows: dict[int, tuple[tuple[int, int], ...]] | None = None
        if needs.availability:
            by_day: dict[int, list[tuple[int, int]]] = {}
            for win in needs.availability:
                by_day.setdefault(win.weekday, []).append((win.start_minute, win.end_minute))
            windows = {day: _merge(r) for day, r in by_day.items()}
        now_ts = needs.now.timestamp()
        return cls(
            needs=needs,
            weights=weights,
            now_ts=now_ts,
            today=local.toordinal(),
            now_minute=local.hour * 60 + local.minute,
            windows=windows,
            scale_km=needs.max_distance_km or weights.default_distance_km,
            uses_distance=needs.format != "online" and needs.location is not None,
            crisis_end_ts=now_ts + weights.crisis_window_hours * 3600,
        )

    def fits(self, date_ordinal: int, minute: int) -> bool:
        """Whether a meeting at this London date and minute is in the person's times."""
        if self.windows is None:
            return True
        ranges = self.windows.get((date_ordinal - 1) % 7)  # ordinal 1 was a Monday
        return ranges is not None and any(s <= minute < e for s, e in ranges)


@dataclass(frozen=True, slots=True)
class Assessment:
    """How one group fits one person: score, hard-constraint breaches, details."""

    points: int
    priority: bool
    violations: tuple[Relaxation, ...]  # broken needs that widening may relax
    never: tuple[Relaxation, ...]  # broken needs that are never relaxed for this person
    blocked: bool
    language_level: int | None
    native: tuple[tuple[str, str], ...]  # (person's tag, group's tag) met in the group
    interpreted: tuple[tuple[str, str], ...]  # (person's tag, interpreted tag)
    shared_communities: tuple[str, ...]
    stage_match: bool
    shared_topics: tuple[str, ...]
    missing_topics: tuple[str, ...]
    access_met: tuple[str, ...]
    access_missing: tuple[str, ...]
    essential_missing: tuple[str, ...]
    distance_km: float | None
    distance_factor: float
    fit_meeting: datetime | None
    fit_day: int | None
    first_meeting: datetime | None
    open: bool
    # The person gave no place but could meet either way, and this group can be
    # joined online: it ranks above in-person-only groups, which may be anywhere.
    reachable: bool = False

    # (person's tag, group's tag) where the group meets in a related form only.
    related: tuple[tuple[str, str], ...] = ()

    who: Who = "open"
    shared_words: tuple[str, ...] = ()

    @property
    def conflict(self) -> bool:
        """The person's answers rule them out of a group for some people only: never shown."""
        return self.who == "conflict"

    @property
    def qualifies(self) -> bool:
        """Open to the person, or for people only whom the person said they are."""
        return self.who in ("open", "meets")

    @property
    def rank(self) -> int:
        """The ranking tier, compared before the score: 4 for a group open to the
        person (not for people only whom they did not say they are), plus 2 for a group
        that can be joined online when the person's place is unknown, plus 1 for crisis
        priority."""
        return 4 * self.qualifies + 2 * self.reachable + self.priority

    @property
    def score(self) -> float:
        return round(self.points / POINTS, 3)

    @property
    def next_meeting(self) -> datetime | None:
        return self.fit_meeting or self.first_meeting


def _same(asked: str, offered: str) -> bool:
    """Whether ``offered`` is the same language as ``asked`` (CLDR distance 9 or less)."""
    rel = relate(asked, offered)
    return rel is not None and rel.same


def _closest(asked: str, offered: tuple[str, ...]) -> tuple[str, Relation | None]:
    """The offered tag closest to ``asked`` (same language first, then the nearest)."""
    best: tuple[str, Relation | None] = ("", None)
    for tag in offered:
        rel = relate(asked, tag)
        if rel is None:
            continue
        if rel.same:
            return tag, rel
        current = best[1]
        if current is None or rel.distance < current.distance:
            best = (tag, rel)
    return best


def place_unknown(needs: Needs) -> bool:
    """No place was given, and in-person groups are possible: groups that can be
    joined online (online or hybrid) then rank first, since an in-person group may be
    in another city. (Someone who asked for in person only is asked for a town.)"""
    return needs.location is None and needs.format == "either"


def assess(
    group: GroupProfile,
    needs: Needs,
    weights: Weights = DEFAULT_WEIGHTS,
    *,
    context: Context | None = None,
    meetings: tuple[MeetingInfo, ...] | None = None,
    own_words: frozenset[str] | None = None,
) -> Assessment:
    """Score ``group`` for ``needs`` and list the hard constraints it breaks."""
    ctx = context or Context.of(needs, weights)
    w = ctx.weights
    info = meetings if meetings is not None else meeting_info(group)

    # Language: for each language asked for, the group's closest (CLDR distance).
    native: list[tuple[str, str]] = []
    related: list[tuple[str, str]] = []
    interpreted: list[tuple[str, str]] = []
    for tag in needs.languages:
        g, rel = _closest(tag, group.languages)
        if rel is not None and rel.same:
            native.append((tag, g))
            continue
        if rel is not None:
            related.append((tag, g))
            continue
        g, rel = _closest(tag, group.interpretation)
        if rel is not None:
            interpreted.append((tag, g))
    level: int | None = None
    if needs.languages:
        if native and native[0][0] == needs.languages[0]:
            level = LANG_FIRST
        elif native:
            level = LANG_OTHER
        elif related:
            level = LANG_RELATED
        elif interpreted:
            level = LANG_INTERPRETED
        else:
            level = LANG_NONE

    shared_communities = tuple(c for c in needs.communities if c in group.communities)
    stage_match = needs.stage is not None and needs.stage in group.stages
    shared_topics = tuple(t for t in needs.topics if t in group.topics)
    missing_topics = tuple(t for t in needs.topics if t not in group.topics)
    # Access needs follow the format (peerhub/matching/rules.py): a venue need does
    # not apply to meeting online, and an interpreter need is met by a group that
    # meets in that language.
    access_codes = [a.code for a in needs.access_needs]
    met = tuple(c for c in access_codes if access_met(c, group, needs.format))
    access_missing = tuple(c for c in access_codes if c not in met)
    essential_missing = tuple(c for c in needs.essential_access if c not in met)

    # Place and format. Widening (rules.py) may take in-person groups up to the cap,
    # never further, and offers online and hybrid groups instead of far ones.
    dist: float | None = None
    if needs.location is not None and group.location is not None and group.in_person_capable:
        dist = distance_km(needs.location, group.location)
    factor = 0.0
    if ctx.uses_distance and dist is not None:
        factor = band_factor(w, dist, ctx.scale_km)
    limit, cap = distance_limit(needs)
    within = limit is None or (dist is not None and dist <= limit)
    within_cap = cap is None or (dist is not None and dist <= cap)
    violations: list[Relaxation] = []
    never: list[Relaxation] = []
    if needs.format == "online":
        if not group.online_capable:
            never.append("format")
    elif needs.format == "in_person":
        if group.in_person_capable and within:
            pass
        elif group.in_person_capable and within_cap:
            violations.append("distance")
        elif group.online_capable:
            violations.append("format")  # joined online: hybrid beyond the cap, or online
        else:
            never.append("distance")
    elif not group.online_capable and not within:
        (violations if within_cap else never).append("distance")

    # Time.
    fit_meeting: datetime | None = None
    fit_day: int | None = None
    first_meeting: datetime | None = None
    soon_meeting = False
    for when, (ts, ordinal, minute) in zip(group.next_meetings, info, strict=True):
        if ts < ctx.now_ts:
            continue
        if first_meeting is None:
            first_meeting = when
        if ts <= ctx.crisis_end_ts:
            soon_meeting = True
        day = ordinal - ctx.today
        if fit_meeting is None and day < w.horizon_days and ctx.fits(ordinal, minute):
            fit_meeting, fit_day = when, day
        if ts > ctx.crisis_end_ts and (fit_meeting is not None or day >= w.horizon_days):
            break
    is_open = not group.is_full
    shared_words: tuple[str, ...] = ()
    if needs.other:
        own = own_words if own_words is not None else group_words(group)
        shared_words = tuple(word for word in needs.other if word in own)

    if essential_missing:
        violations.append("access")
    if needs.age is not None and not welcomes_age(group, needs.age):
        (violations if age_relaxable(group, needs.age) else never).append("age")
    if level == LANG_NONE:
        violations.append("language")

    points = (
        language_points(w, level)
        + share_points(w.community, len(shared_communities), len(needs.communities))
        + (to_points(w.stage) if stage_match else 0)
        + share_points(w.topic, len(shared_topics), len(needs.topics))
        + share_points(w.access, len(met), len(access_codes))
        + to_points(w.distance * factor)
        + time_points(w, fit_day)
        + (to_points(w.places) if is_open else 0)
        + share_points(w.own_words, len(shared_words), len(needs.other))
    )
    priority = (
        needs.stage == "approaching_crisis"
        and "approaching_crisis" in group.stages
        and group.moderator_on_duty
        and is_open
        and soon_meeting
    )
    reachable = place_unknown(needs) and group.online_capable
    return Assessment(
        points=points,
        priority=priority,
        reachable=reachable,
        violations=tuple(violations),
        never=tuple(never),
        blocked=not group.member_ids.isdisjoint(needs.blocked_user_ids),
        language_level=level,
        native=tuple(native),
        interpreted=tuple(interpreted),
        related=tuple(related),
        shared_communities=shared_communities,
        stage_match=stage_match,
        shared_topics=shared_topics,
        missing_topics=missing_topics,
        access_met=met,
        access_missing=access_missing,
        essential_missing=essential_missing,
        distance_km=dist,
        distance_factor=factor,
        fit_meeting=fit_meeting,
        fit_day=fit_day,
        first_meeting=first_meeting,
        open=is_open,
        who=who_status(group, needs),
        shared_words=shared_words,
    )


def group_words(group: GroupProfile) -> frozenset[str]:
    """The words of a group's name and description (see peerhub/matching/words.py)."""
    return frozenset(words(f"{group.name} {group.description}"))


# --- Plain words ---------------------------------------------------------------
# Each line is a :class:`Text` (peerhub/matching/text.py): British English that a page
# can show in the person's language. Labels of the taxonomy are their own message ids.


def _community_phrase(code: str, label: str) -> tx.Text:
    if code == "women":
        return tx._("Women's group")
    if code == "men":
        return tx._("Men's group")
    if code == "older_people":
        return tx._("Group for older people")
    if code == "young_adults":
        return tx._("Group for young adults")
    if code == "refugees_asylum":
        return tx._("Group for refugees and people seeking asylum")
    if code == "learning_disability":
        return tx._("Run by and for people with a learning disability")
    if code == "carers":
        return tx._("Group for carers")
    if code == "veterans":
        return tx._("Group for veterans")
    return tx._("%(community)s group", community=label)


def _stage_phrase(stage: str) -> tx.Text:
    if stage == "approaching_crisis":
        return tx._("people approaching crisis")
    if stage == "recovery":
        return tx._("people in recovery")
    return tx._("people staying well")


def _label(taxonomy_label: str) -> str:
    """Lower-case a label's first letter unless it is an acronym ("ADHD")."""
    if len(taxonomy_label) > 1 and taxonomy_label[1].islower():
        return tx.Text(taxonomy_label[0].lower() + taxonomy_label[1:], taxonomy_label)
    return tx.Text(taxonomy_label, taxonomy_label)


def _safe_label(kind: str, code: str) -> tx.Text:
    taxonomy = {"community": COMMUNITIES, "topic": TOPICS, "access": ACCESS}[kind]
    try:
        found = taxonomy.label(code)
    except KeyError:
        return tx.verbatim(code)
    return tx.Text(found, found)


def _community_label(code: str, named: dict[str, str]) -> tx.Text:
    own = named.get(code)
    return tx.verbatim(own) if own else _safe_label("community", code)


def _join(items: Sequence[str]) -> tx.TextList:
    return tx.and_list(items)


def _names(tags: Iterable[str]) -> tx.TextList:
    return tx.and_list([tx.language(t) for t in tags])


def _weekday(local: datetime) -> tx.Text:
    return tx.Text(DAY_NAMES[local.weekday()], local.isoformat(), kind="weekday")


def describe_meeting(when: datetime, now: datetime, zone: str) -> str:
    """Say when a meeting is, such as "Tuesday 18:00, in 3 days", in ``zone``."""
    tz = time_zone(zone)
    local = when.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    at = tx.Text(f"{local:%H:%M}", local.isoformat(), kind="time")
    if days >= 7:
        day = tx.Text(
            f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}",
            local.isoformat(),
            kind="date",
        )
    else:
        day = _weekday(local)
    if days <= 0:
        return tx._("%(day)s %(time)s, today", day=day, time=at)
    if days == 1:
        return tx._("%(day)s %(time)s, tomorrow", day=day, time=at)
    return tx.ngettext(
        "%(day)s %(time)s, in %(num)s day",
        "%(day)s %(time)s, in %(num)s days",
        days,
        day=day,
        time=at,
    )


def _format_km(d: float) -> tx.Text:
    shown = f"{d:.1f}" if d < 10 else f"{d:.0f}"
    return tx._("%(km)s km", km=tx.Text(shown, shown, kind="number"))


def _away(d: float) -> tx.Text:
    return tx._("%(distance)s away", distance=_format_km(d))


def _age_range(group: GroupProfile) -> tx.Text:
    if group.age_min is not None and group.age_max is not None:
        return tx._("For ages %(low)s to %(high)s", low=group.age_min, high=group.age_max)
    if group.age_min is not None:
        return tx._("For ages %(low)s and over", low=group.age_min)
    return tx._("For ages up to %(high)s", high=group.age_max)


def _offer(asked: str, offered: str) -> tx.Text:
    """:func:`peerhub.languages.describe_offer`, translatable."""
    english = describe_offer(asked, offered)
    kind, p = offer_parts(asked, offered)
    if kind == "same":
        return tx._("Meets in %(language)s", language=tx.language(offered))
    if kind == "script":
        return tx.Text(
            english,
            N_(
                "Meets in %(language)s, written in %(written)s; "
                "you asked for %(language)s in %(wanted)s"
            ),
            {
                "language": tx.language(p["spoken"]),
                "written": tx.verbatim(p["written"]),
                "wanted": tx.verbatim(p["wanted"]),
            },
        )
    values: dict[str, object] = {
        "language": tx.language(offered),
        "asked": tx.language(asked),
    }
    if kind == "member":
        values["macro"] = tx.language(p["macro"])
        msgid = N_("Meets in %(language)s, one of the %(macro)s languages; you asked for %(asked)s")
    elif kind == "unspecified":
        msgid = N_(
            "Meets in %(language)s, without saying which %(language)s language; "
            "you asked for %(asked)s"
        )
    elif kind == "variety":
        msgid = N_("Meets in %(language)s, another form of %(asked)s, which you asked for")
    else:
        msgid = N_("Meets in %(language)s, close to %(asked)s, which you asked for")
    return tx.Text(english, msgid, values)


def explain(
    group: GroupProfile, a: Assessment, needs: Needs, ctx: Context
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Plain-English reasons (what fits) and mismatches (what does not), each a
    :class:`~peerhub.matching.text.Text` that a page can show in another language."""
    # Who the group is for comes first, always: languages, communities, ages, place.
    reasons: list[str] = [who_line(group)]
    mismatches: list[str] = []
    if a.who == "unknown":
        people = only_phrase(group.only_communities, dict(group.community_names))
        mismatches.append(
            tx._(
                "Only for %(people)s: you did not say this is you, so check with the group first",
                people=people,
            )
        )
    if a.priority:
        # Priority needs ``moderator_on_duty``: someone is rostered for the group's
        # next session (peerhub/rotas; the caller decides, peerhub/finding/profiles.py).
        # Whether a moderator is in the room *now* is the web layer's to add, from
        # presence (peerhub/finding/wording.py, ``moderator_here``).
        hours = ctx.weights.crisis_window_hours
        reasons.append(
            tx.ngettext(
                "Meets in the next %(num)s hour, with a moderator on duty",
                "Meets in the next %(num)s hours, with a moderator on duty",
                hours,
            )
        )

    # Languages: never dropped silently, and a related form is said as such. A person
    # who listed several languages needs a group in one of them: the others not being
    # offered is no mismatch.
    if needs.languages:
        if a.native:
            names = _names(g for _a, g in a.native)
            if a.language_level == LANG_FIRST:
                reasons.append(tx._("Meets in %(languages)s", languages=names))
            elif len(names.items) == 1:
                reasons.append(
                    tx._("Meets in %(languages)s, another language you listed", languages=names)
                )
            else:
                reasons.append(
                    tx._("Meets in %(languages)s, other languages you listed", languages=names)
                )
        elif a.related:
            asked, offered = a.related[0]
            reasons.append(_offer(asked, offered))
        if a.interpreted:
            names = _names(g for _a, g in a.interpreted)
            alone = group.languages[:1] and not a.native and not a.related
            if alone:
                reasons.append(
                    tx._(
                        "Meets in %(language)s, with interpretation into %(languages)s",
                        language=tx.language(group.languages[0]),
                        languages=names,
                    )
                )
            else:
                reasons.append(tx._("Offers interpretation into %(languages)s", languages=names))
        if a.language_level == LANG_NONE:
            if group.languages:
                mismatches.append(
                    tx._(
                        "Meets in %(languages)s, not a language you listed",
                        languages=_names(group.languages),
                    )
                )
            else:
                mismatches.append(tx._("Meets in another language, not a language you listed"))

    named = dict(group.community_names)
    for code in a.shared_communities:
        reasons.append(_community_phrase(code, _community_label(code, named)))
    if needs.communities and not a.shared_communities:
        labels = [_community_label(c, named) for c in needs.communities]
        mismatches.append(
            tx._(
                "Not specifically for %(communities)s",
                communities=tx.TextList(labels, "or", english=" or ".join(labels)),
            )
        )

    if needs.stage is not None:
        phrase = _stage_phrase(needs.stage)
        if a.stage_match:
            reasons.append(
                tx._("Welcomes %(people)s", people=phrase)
                if needs.stage == "approaching_crisis"
                else tx._("For %(people)s", people=phrase)
            )
        else:
            mismatches.append(tx._("Not aimed at %(people)s", people=phrase))

    if a.shared_topics:
        reasons.append(
            tx._(
                "Talks about %(topics)s",
                topics=_join([_label(_safe_label("topic", t)) for t in a.shared_topics]),
            )
        )
    if a.missing_topics:
        mismatches.append(
            tx._(
                "Does not focus on %(topics)s",
                topics=_join([_label(_safe_label("topic", t)) for t in a.missing_topics]),
            )
        )

    # Format and place.
    where = {
        "online": tx._("Online"),
        "hybrid": tx._("Online or in person"),
        "in_person": tx._("In person"),
    }[group.format]
    if group.in_person_capable and group.area and group.area.lower() != "online":
        where = tx._("%(how)s, %(area)s", how=where, area=tx.verbatim(group.area))
    if needs.format == "online" and not group.online_capable:
        mismatches.append(tx._("Meets in person only"))
    elif needs.format == "in_person" and not group.in_person_capable:
        mismatches.append(tx._("Meets online only"))
    else:
        reasons.append(where)
    if a.distance_km is not None and needs.format != "online":
        # Further than the person's maximum (or, if they gave none, the default
        # scale) is a mismatch even where it still earns a few points.
        text = _away(a.distance_km)
        (mismatches if a.distance_km > ctx.scale_km else reasons).append(text)
    elif "distance" in a.violations and group.location is None and needs.location is not None:
        mismatches.append(tx._("Distance not known"))
    elif needs.location is None and needs.format != "online" and group.format == "in_person":
        # The person gave no place: say so rather than imply this group is near.
        mismatches.append(tx._("Meets in person only; we do not know how far it is from you"))

    # Time.
    if a.fit_meeting is not None:
        reasons.append(
            tx._(
                "Next session %(when)s",
                when=describe_meeting(a.fit_meeting, needs.now, group.time_zone),
            )
        )
    elif a.first_meeting is not None:
        when = describe_meeting(a.first_meeting, needs.now, group.time_zone)
        if needs.availability:
            mismatches.append(
                tx._("No session at the times you gave; the next is %(when)s", when=when)
            )
        else:
            mismatches.append(tx._("Next session %(when)s", when=when))
    else:
        mismatches.append(
            tx._("No session at the times you gave")
            if needs.availability
            else tx._("No upcoming sessions listed")
        )

    # Places.
    if not a.open:
        mismatches.append(tx._("Full: you can join the waiting list"))
    elif group.places_left is not None:
        reasons.append(tx.ngettext("%(num)s place left", "%(num)s places left", group.places_left))

    if a.shared_words:
        quoted = _join(
            [tx.Text(f"“{w}”", "“%(word)s”", {"word": tx.verbatim(w)}) for w in a.shared_words]
        )
        reasons.append(tx._("Its own description mentions %(words)s", words=quoted))
    # Access: a need is met when the group lists it, when it does not apply to how
    # the person would take part (rules.access_applies), or, for an interpreter, when
    # the group meets in that language.
    listed = [c for c in a.access_met if c in group.access_features]
    if listed:
        labels = [_safe_label("access", c) for c in listed]
        has = tx.TextList(labels, english=", ".join(labels))
        reasons.append(
            tx.Text(
                "Has: " + has,
                N_("Has: %(features)s"),
                {"features": has},
            )
        )
    for code in a.access_met:
        if code in group.access_features:
            continue
        label = _safe_label("access", code)
        tag = interpreter_language(code)
        if tag is not None and met_by_language(code, group):
            native_tags = [t for t in group.languages if _same(tag, t)]
            name = tx.language(native_tags[0] if native_tags else tag)
            if native_tags:
                reasons.append(
                    tx._(
                        "Meets in %(language)s, so no %(feature)s is needed",
                        language=name,
                        feature=_label(label),
                    )
                )
            else:
                reasons.append(
                    tx._(
                        "Offers interpretation into %(language)s, so no %(feature)s is needed",
                        language=name,
                        feature=_label(label),
                    )
                )
        elif joins_in_person(group, needs.format):
            reasons.append(tx._("%(feature)s: not needed when you meet in person", feature=label))
        elif group.format == "hybrid":
            reasons.append(
                tx._("%(feature)s: not listed at the venue, but you can join online", feature=label)
            )
        else:
            reasons.append(tx._("%(feature)s: not needed, it meets online", feature=label))
    for code in a.access_missing:
        label = _safe_label("access", code)
        if code in a.essential_missing:
            mismatches.append(_missing_essential(label))
        else:
            mismatches.append(tx._("Not listed: %(feature)s", feature=label))

    if "age" in a.violations or "age" in a.never:
        mismatches.append(_age_range(group))
    return tuple(reasons), tuple(mismatches)


def _missing_essential(label: str) -> tx.Text:
    return tx._("Not listed: %(feature)s, which you marked essential", feature=label)


def widened(
    group: GroupProfile, a: Assessment, needs: Needs, ctx: Context
) -> tuple[tuple[str, ...], frozenset[str]]:
    """What widening the search broke to show this group, one plain sentence per
    need relaxed, and the mismatch lines of :func:`explain` that say the same (so a
    page can show each once)."""
    lines: list[str] = []
    covered: set[str] = set()
    limit, cap = distance_limit(needs)
    for code in a.violations:
        if code == "distance" and a.distance_km is not None:
            away = _away(a.distance_km)
            if limit is not None:
                lines.append(
                    tx._(
                        "Further than you asked: %(away)s, and you asked for up to %(limit)s km",
                        away=away,
                        limit=tx.Text(f"{limit:g}", f"{limit:g}", kind="number"),
                    )
                )
            else:
                lines.append(tx._("Further than you asked: %(away)s", away=away))
            covered.add(away)
        elif code == "format":
            if group.format == "online":
                lines.append(tx._("Meets online only, and you asked for in person"))
                covered.add("Meets online only")
            elif a.distance_km is not None and cap is not None:
                away = _away(a.distance_km)
                lines.append(
                    tx._(
                        "You would join online: the venue is %(away)s, more than %(cap)s km",
                        away=away,
                        cap=tx.Text(f"{cap:g}", f"{cap:g}", kind="number"),
                    )
                )
                covered.add(away)
            else:
                lines.append(tx._("You would join online: we do not know where the venue is"))
        elif code == "access":
            labels = [_safe_label("access", c) for c in a.essential_missing]
            lines.append(
                tx._(
                    "Does not list %(features)s, which you marked essential",
                    features=_join(labels),
                )
            )
            covered.update(_missing_essential(lb) for lb in labels)
        elif code == "age":
            lines.append(tx._("%(ages)s, which does not include your age", ages=_age_range(group)))
            covered.add(_age_range(group))
        elif code == "language":
            if group.languages:
                lines.append(
                    tx._(
                        "Meets in %(languages)s, not a language you listed",
                        languages=_names(group.languages),
                    )
                )
            else:
                lines.append(tx._("Meets in another language, not a language you listed"))
            covered.add(lines[-1])
    return tuple(lines), frozenset(covered)


#: The language a good fit must offer when the person named none: PeerHub's pages
#: are in English, so someone who gave no language is assumed to read English.
GOOD_FIT_DEFAULT_LANGUAGE: Final = "en"


def language_met(group: GroupProfile, a: Assessment, needs: Needs) -> bool:
    """Whether the group can be taken part in by the person: it meets in (or offers
    interpretation into) a language they listed, or, if they listed none, it meets
    in English or names no language at all."""
    if needs.languages:
        # A related form only (another script, or "Chinese" for a Cantonese speaker)
        # is shown, and said, but not counted as served: the need is recorded.
        return a.language_level in (LANG_FIRST, LANG_OTHER, LANG_INTERPRETED)
    if not group.languages:
        return True
    return any(
        _same(GOOD_FIT_DEFAULT_LANGUAGE, t) for t in (*group.languages, *group.interpretation)
    )


def fit_is_good(a: Assessment, needs: Needs, group: GroupProfile | None = None) -> bool:
    """A good fit breaks no hard constraint, is open to the person (not for some
    people only whom they did not say they are) and meets every need they stated:
    a language they can take part in (:func:`language_met`), *every* community they
    named (one shared community out of several is not a fit: a veteran is not served
    by a Somali men's circle because both name men), their stage, a shared topic
    (each if asked for) and a meeting in their times. ``group`` is needed for the
    language check when the person named no language; without it, that check
    passes."""
    language_ok = (
        language_met(group, a, needs)
        if group is not None
        else not needs.languages or a.language_level in (LANG_FIRST, LANG_OTHER, LANG_INTERPRETED)
    )
    return (
        not a.violations
        and not a.never
        and not a.blocked
        and a.qualifies
        and language_ok
        and set(needs.communities) <= set(a.shared_communities)
        and (needs.stage is None or a.stage_match)
        and (not needs.topics or bool(a.shared_topics))
        and a.fit_meeting is not None
    )
