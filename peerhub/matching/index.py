"""The group index: inverted indexes as bitsets, and an exact best-first top-k.

How a search runs (details in docs/matching.md):

1. **Prefilter.** Every group has a *slot*; each attribute value (language,
   community, topic, stage, access feature, format, age range, "not full",
   "moderator on duty", and each London date and half hour with a meeting) has a bitset
   of the slots that have it. The hard constraints are a handful of bitset
   operations, and a coarse latitude/longitude grid finds in-person groups near
   the person without looking at the rest.
2. **Levels.** Each soft-scoring component becomes a *dimension* whose *levels*
   partition the groups by the points they earn (for example "shares 2 of the 3
   topics asked for", found for all groups at once with a bit-sliced counter).
   Because every component's points are fixed per level, a group's score is the
   sum of its levels' points: exact, not an estimate.
3. **Best-first.** A priority queue splits the eligible set one dimension at a
   time, always expanding the part with the highest possible score. Parts whose
   every dimension is decided are groups with exactly that score; they come out
   in score order, and ties are ordered by group id. The search stops as soon as
   ``limit`` groups are out, so the work depends on how many groups are needed,
   not how many exist.
4. **Widen.** If nothing passes the hard constraints, the steps of
   :data:`~peerhub.matching.rules.RELAXATION_STEPS` that may apply to the person
   are taken one at a time, and step 3 runs again on the larger eligible set (a
   bitset, so this is as bounded as the first pass). In a widened pass a group that
   breaks fewer needs always ranks above one that breaks more (a priority level per
   need relaxed). Groups with a blocked member are skipped in every pass, in-person
   groups beyond the cap and groups that do not welcome an under-18's age in all.

Only the groups returned are scored one by one (to write their reasons), by the
same :func:`~peerhub.matching.scoring.assess` that the tests use as reference.
The index is not thread-safe: mutate and search it from one thread (or event loop).
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Final

from peerhub.languages import relate

from .bitset import count_levels, from_slots, to_slots
from .distances import (
    EARTH_RADIUS_KM,
    Cell,
    Prepared,
    cell_min_distance,
    cell_of,
    cell_range,
    prepare,
    prepared_distance_km,
)
from .eligibility import EXCLUSIVE_FAMILIES, person_codes
from .model import LONDON, GroupProfile, LatLon, MatchResult, Needs, Relaxation
from .result import build_result
from .rules import (
    ADULT_AGE,
    BROKEN_PRIORITY_UNIT,
    RELAXATION_STEPS,
    access_kind,
    distance_limit,
    interpreter_language,
    relaxable_steps,
)
from .scoring import (
    DEFAULT_WEIGHTS,
    LANG_FIRST,
    LANG_INTERPRETED,
    LANG_OTHER,
    LANG_RELATED,
    Context,
    MeetingInfo,
    Weights,
    assess,
    group_words,
    language_points,
    meeting_info,
    place_unknown,
    share_points,
    time_points,
    to_points,
)

__all__ = ["MAX_LIMIT", "GroupIndex", "match"]

MAX_LIMIT: Final = 200
_BUCKET: Final = 30  # minutes: meetings are indexed by London date and half hour
_GEO_MARGIN_KM: Final = 0.25
_APPROX_TOLERANCE: Final = 0.002
_APPROX_MAX_LAT: Final = 62.0
_APPROX_MAX_KM: Final = 250.0
_GEO_CODES: Final[frozenset[Relaxation]] = frozenset({"distance", "format"})
_HARM_TOTAL: Final = sum(step.harm for step in RELAXATION_STEPS)
#: Priority a group earns for each need it does *not* break in a widened pass. The
#: sum over needs orders groups by how many needs they break, then by the harm
#: (rules.broken_rank), and outweighs every other priority.
_KEPT_PRIORITY: Final[dict[Relaxation, int]] = {
    step.code: BROKEN_PRIORITY_UNIT * (_HARM_TOTAL + 1 + step.harm) for step in RELAXATION_STEPS
}

Key = tuple[object, ...]


def _keys(group: GroupProfile, meetings: tuple[MeetingInfo, ...]) -> list[Key]:
    keys: list[Key] = [("fmt", group.format)]
    keys += [("lang", t) for t in group.languages]
    keys += [("interp", t) for t in group.interpretation]
    keys += [("community", c) for c in group.communities]
    keys += [("only", c) for c in group.only_communities]
    keys += [("stage", s) for s in group.stages]
    keys += [("topic", t) for t in group.topics]
    keys += [("access", a) for a in group.access_features]
    if not group.is_full:
        keys.append(("open",))
    if group.moderator_on_duty:
        keys.append(("moderator",))
    if group.age_min is not None or group.age_max is not None:
        keys.append(("age", group.age_min, group.age_max))
    for _, ordinal, minute in meetings:
        keys.append(("day", ordinal))
        keys.append(("time", ordinal, minute // _BUCKET))
    return list(dict.fromkeys(keys))


@dataclass(slots=True)
class _Dim:
    """One soft-scoring component: disjoint levels (bits, priority, points); groups
    in none of them earn nothing from this component."""

    levels: list[tuple[int, int, int]]
    rest_mask: int  # ~(union of the levels)
    best: tuple[int, int]
    lazy: bool = False  # levels computed per part, by _Search._geo_split


def _dim(levels: list[tuple[int, int, int]]) -> _Dim | None:
    levels = [lv for lv in levels if lv[0] and (lv[1] or lv[2])]
    if not levels:
        return None
    union = 0
    for bits, _, _ in levels:
        union |= bits
    return _Dim(levels, ~union, (max(lv[1] for lv in levels), max(lv[2] for lv in levels)))


class GroupIndex:
    """Groups indexed for matching. Build it once from many profiles, then keep it
    current with :meth:`add`, :meth:`replace` and :meth:`remove`."""

    def __init__(self, groups: Iterable[GroupProfile] = ()) -> None:
        self._slot: dict[str, int] = {}
        self._groups: list[GroupProfile | None] = []
        self._ids: list[str] = []
        self._meetings: list[tuple[MeetingInfo, ...]] = []
        self._points: list[Prepared | None] = []
        self._free: list[int] = []
        self._all = 0
        self._bits: dict[Key, int] = {}
        self._tags: dict[str, set[str]] = {"lang": set(), "interp": set()}
        self._cells: dict[Cell, int] = {}  # in-person groups with a location, by cell
        self._age_ranges: set[Key] = set()
        self._only: set[str] = set()  # communities some group is for only
        # Words of groups' names and descriptions: slots per word, as sets (there are
        # many rare words; a bitset each would cost memory at every slot's width).
        self._words: dict[str, set[int]] = {}
        self._slot_words: list[frozenset[str]] = []
        self._word_bits: dict[str, int] = {}  # bitsets of words searched for, kept current
        postings: dict[Key, list[int]] = {}
        cells: dict[Cell, list[int]] = {}
        for group in groups:
            if group.id in self._slot:
                raise ValueError(f"group {group.id!r} appears twice")
            slot = len(self._groups)
            self._place(group, slot)
            for key in _keys(group, self._meetings[slot]):
                postings.setdefault(key, []).append(slot)
            if self._points[slot] is not None and group.location is not None:
                cells.setdefault(cell_of(group.location), []).append(slot)
        for key, slots in postings.items():
            self._bits[key] = from_slots(slots)
            self._note_key(key)
        self._cells = {cell: from_slots(slots) for cell, slots in cells.items()}
        self._all = from_slots(range(len(self._groups)))

    # --- Maintenance ------------------------------------------------------------

    def _place(self, group: GroupProfile, slot: int) -> None:
        meetings = meeting_info(group)
        own = group_words(group)
        bit = 1 << slot
        for word in own:
            self._words.setdefault(word, set()).add(slot)
            if word in self._word_bits:
                self._word_bits[word] |= bit
        point = None
        if group.in_person_capable and group.location is not None:
            point = prepare(group.location)
        if slot == len(self._groups):
            self._groups.append(group)
            self._ids.append(group.id)
            self._meetings.append(meetings)
            self._points.append(point)
            self._slot_words.append(own)
        else:
            self._groups[slot] = group
            self._ids[slot] = group.id
            self._meetings[slot] = meetings
            self._points[slot] = point
            self._slot_words[slot] = own
        self._slot[group.id] = slot

    def _note_key(self, key: Key) -> None:
        if key[0] == "age":
            self._age_ranges.add(key)
        elif key[0] == "only":
            self._only.add(str(key[1]))
        elif key[0] in ("lang", "interp"):
            self._tags[str(key[0])].add(str(key[1]))

    def add(self, group: GroupProfile) -> None:
        """Add a group; ``ValueError`` if its id is already indexed."""
        if group.id in self._slot:
            raise ValueError(f"group {group.id!r} is already in the index")
        slot = heapq.heappop(self._free) if self._free else len(self._groups)
        self._place(group, slot)
        bit = 1 << slot
        for key in _keys(group, self._meetings[slot]):
            if key not in self._bits:
                self._note_key(key)
            self._bits[key] = self._bits.get(key, 0) | bit
        if self._points[slot] is not None and group.location is not None:
            cell = cell_of(group.location)
            self._cells[cell] = self._cells.get(cell, 0) | bit
        self._all |= bit

    def remove(self, group_id: str) -> None:
        """Remove a group; ``KeyError`` if it is not indexed."""
        slot = self._slot.pop(group_id)
        group = self._at(slot)
        mask = ~(1 << slot)
        for key in _keys(group, self._meetings[slot]):
            value = self._bits[key] & mask
            if value:
                self._bits[key] = value
            else:
                del self._bits[key]
                self._age_ranges.discard(key)
                if key[0] == "only":
                    self._only.discard(str(key[1]))
                if key[0] in ("lang", "interp"):
                    self._tags[str(key[0])].discard(str(key[1]))
        if self._points[slot] is not None and group.location is not None:
            cell = cell_of(group.location)
            remaining = self._cells[cell] & mask
            if remaining:
                self._cells[cell] = remaining
            else:
                del self._cells[cell]
        for word in self._slot_words[slot]:
            holders = self._words[word]
            holders.discard(slot)
            if word in self._word_bits:
                self._word_bits[word] &= mask
            if not holders:
                del self._words[word]
                self._word_bits.pop(word, None)
        self._slot_words[slot] = frozenset()
        self._all &= mask
        self._groups[slot] = None
        self._ids[slot] = ""
        self._meetings[slot] = ()
        self._points[slot] = None
        heapq.heappush(self._free, slot)

    def replace(self, group: GroupProfile) -> None:
        """Add a group, or replace the indexed group with the same id."""
        if group.id in self._slot:
            self.remove(group.id)
        self.add(group)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, group_id: object) -> bool:
        return group_id in self._slot

    def __iter__(self) -> Iterator[GroupProfile]:
        for group_id in sorted(self._slot):
            yield self._at(self._slot[group_id])

    def _at(self, slot: int) -> GroupProfile:
        group = self._groups[slot]
        if group is None:
            raise LookupError(f"slot {slot} is empty")
        return group

    def languages_in_use(self) -> frozenset[str]:
        """Every language tag that an indexed group meets in or interprets into."""
        return frozenset(self._tags["lang"] | self._tags["interp"])

    def get(self, group_id: str) -> GroupProfile | None:
        slot = self._slot.get(group_id)
        return None if slot is None else self._groups[slot]

    # --- Searching --------------------------------------------------------------

    def match(
        self, needs: Needs, *, limit: int = 20, weights: Weights = DEFAULT_WEIGHTS
    ) -> MatchResult:
        """Rank the groups for ``needs``: see :func:`peerhub.matching.match`."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1 to {MAX_LIMIT}")
        ctx = Context.of(needs, weights)
        search = _Search(self, ctx)
        chosen: list[int] = []
        previous: tuple[int, frozenset[Relaxation]] | None = None
        steps = relaxable_steps(needs)
        # One step at a time, least harm first, keeping what earlier steps relaxed;
        # stop at the first step that finds any group.
        for i in range(len(steps) + 1):
            allowed = frozenset(steps[:i])
            eligible = search.eligible(allowed)
            # A step that lets in no new group (and keeps the distance check) would
            # find nothing new.
            state = (eligible, allowed & _GEO_CODES)
            if state == previous:
                continue
            previous = state
            if eligible:
                chosen = search.top(eligible, limit)
                if chosen:
                    break
        pairs = []
        for slot in chosen:
            group = self._at(slot)
            pairs.append(
                (
                    group,
                    assess(
                        group,
                        needs,
                        weights,
                        context=ctx,
                        meetings=self._meetings[slot],
                        own_words=self._slot_words[slot],
                    ),
                )
            )
        return build_result(ctx, pairs)

    # Helpers used by _Search.

    def _word_set(self, word: str) -> int:
        """The groups whose name or description has ``word``. Bitsets of words people
        search for are kept (up to 4,096 words, then started afresh) and kept current
        by add and remove; the rest stay as sets of slots, which cost less memory."""
        bits = self._word_bits.get(word)
        if bits is None:
            bits = from_slots(self._words.get(word, ()))
            if len(self._word_bits) >= 4096:
                self._word_bits.clear()
            self._word_bits[word] = bits
        return bits

    def _languages(self, kind: str, asked: str) -> tuple[int, int]:
        """Groups meeting in (``kind`` "lang") or interpreting into ("interp") the same
        language as ``asked``, and those with only a related form of it. Worked out
        once per search over the distinct tags in the index (a few hundred at most),
        each pair's CLDR distance cached: never per group."""
        same = related = 0
        for tag in self._tags[kind]:
            rel = relate(asked, tag)
            if rel is None:
                continue
            if rel.same:
                same |= self._bits[(kind, tag)]
            else:
                related |= self._bits[(kind, tag)]
        return same, related

    def _meetings_on(
        self,
        ordinal: int,
        ranges: tuple[tuple[int, int], ...],
        after: tuple[float, int] | None = None,
        before: tuple[float, int] | None = None,
    ) -> int:
        """Groups with a meeting on London date ``ordinal`` at a minute within
        ``ranges``, at or after ``after`` and at or before ``before`` ((timestamp,
        minute of day) pairs). Whole half hours come from their bitsets; only those
        cut by a boundary look at individual meetings."""
        if after is None and before is None and ranges == ((0, 1440),):
            return self._bits.get(("day", ordinal), 0)
        after_min = after[1] if after else -1
        before_min = before[1] if before else 24 * 60
        # On a clock-change date local times repeat or skip, so the minute of the
        # day no longer orders meetings: check every meeting against the moments.
        exact = (after is not None or before is not None) and _clocks_change(ordinal)
        full = 0
        partial: list[int] = []
        for start, end in ranges:
            for bucket in range(start // _BUCKET, (end - 1) // _BUCKET + 1):
                bits = self._bits.get(("time", ordinal, bucket))
                if not bits:
                    continue
                b0, b1 = bucket * _BUCKET, (bucket + 1) * _BUCKET
                if not exact and (b1 <= after_min or b0 > before_min):
                    continue
                if (
                    not exact
                    and start <= b0
                    and b1 <= end
                    and not b0 <= after_min < b1
                    and not b0 <= before_min < b1
                ):
                    full |= bits
                    continue
                for slot in to_slots(bits):
                    for ts, o, minute in self._meetings[slot]:
                        if (
                            o == ordinal
                            and minute // _BUCKET == bucket
                            and start <= minute < end
                            and (after is None or ts >= after[0])
                            and (before is None or ts <= before[0])
                        ):
                            partial.append(slot)
                            break
        return full | from_slots(partial)


@lru_cache(maxsize=64)
def _clocks_change(ordinal: int) -> bool:
    """Whether London's UTC offset changes during this London date."""
    day = date.fromordinal(ordinal)
    start = datetime.combine(day, time(0), LONDON)
    end = datetime.combine(date.fromordinal(ordinal + 1), time(0), LONDON)
    return start.utcoffset() != end.utcoffset()


class _Search:
    """One search: the bitsets for its constraints and its scoring dimensions."""

    def __init__(self, index: GroupIndex, ctx: Context) -> None:
        self.ix = index
        self.ctx = ctx
        needs = ctx.needs
        w = ctx.weights
        bits = index._bits
        everything = index._all
        self.all = everything

        # Language: first language, other listed languages, a related form of one,
        # interpretation (the same levels as scoring.assess).
        tags = needs.languages
        first = other = close = interp = 0
        if tags:
            first, close = index._languages("lang", tags[0])
            for t in tags[1:]:
                same, related = index._languages("lang", t)
                other |= same
                close |= related
            for t in tags:
                same, related = index._languages("interp", t)
                interp |= same | related
            other &= ~first
            close &= ~(first | other)
            interp &= ~(first | other | close)
            self.lang_ok = first | other | close | interp
        else:
            self.lang_ok = everything

        # Age (rules.welcomes_age): an adult is left out only by a range that excludes
        # them, and widening may relax that only into groups for adults; an under-18
        # is welcomed only by a range that says so (a group with no lowest age counts
        # as adults only), and that is never relaxed.
        self.age_ok = everything
        self.age_relax = 0
        age = needs.age
        if age is not None and age < ADULT_AGE:
            self.age_ok = 0
            for key in index._age_ranges:
                lo, hi = key[1], key[2]
                if isinstance(lo, int) and lo <= age and not (isinstance(hi, int) and age > hi):
                    self.age_ok |= bits[key]
        elif age is not None:
            for key in index._age_ranges:
                lo, hi = key[1], key[2]
                if (isinstance(lo, int) and age < lo) or (isinstance(hi, int) and age > hi):
                    self.age_ok &= ~bits[key]
                    if not (isinstance(lo, int) and lo < ADULT_AGE):
                        self.age_relax |= bits[key]

        # Who a group is for (peerhub/matching/eligibility.py): groups whose "only"
        # the person's answers rule out are never eligible; groups for people the
        # person did not say they are rank below every other eligible group.
        mine = person_codes(needs)
        conflict = unknown = 0
        family_codes: set[str] = set()
        for family in EXCLUSIVE_FAMILIES:
            family_codes |= family
            in_family = 0
            for code in family:
                in_family |= bits.get(("only", code), 0)
            said = mine & family
            if not said:
                unknown |= in_family
                continue
            met_only = 0
            for code in said:
                met_only |= bits.get(("only", code), 0)
            conflict |= in_family & ~met_only
        for code in index._only - family_codes:
            if code not in mine:
                unknown |= bits.get(("only", code), 0)
        self.who_ok = everything & ~conflict
        self.qualifies = everything & ~unknown

        online = bits.get(("fmt", "online"), 0)
        hybrid = bits.get(("fmt", "hybrid"), 0)
        self.in_person_only = bits.get(("fmt", "in_person"), 0)
        self.online_capable = online | hybrid
        self.in_person_capable = self.in_person_only | hybrid

        # Access needs follow the format (rules.access_met): a need is met by a group
        # that lists it, by one where it does not apply to how the person would take
        # part, and (an interpreter) by one that meets in that language.
        at_venue = self.in_person_only | (hybrid if needs.format == "in_person" else 0)
        met: dict[str, int] = {}
        for code, _ in needs.access_needs:
            found = bits.get(("access", code), 0)
            kind = access_kind(code)
            if kind == "venue":
                found |= everything & ~at_venue
            elif kind == "online":
                found |= at_venue
            tag = interpreter_language(code)
            if tag is not None:
                # The same language only (a related form is not what an interpreter gives).
                found |= index._languages("lang", tag)[0] | index._languages("interp", tag)[0]
            met[code] = found
        self.access_ok = everything
        for code in needs.essential_access:
            self.access_ok &= met[code]

        # Distance. The grid gives supersets cheaply (the groups in cells that reach
        # into a circle); exact distances are worked out lazily, only for the groups
        # the search actually looks at (see _geo_split).
        # In-person groups must be within the person's maximum (or, if they gave
        # none, the cap), and widening takes them up to the cap, never further.
        self.limit, self.cap = distance_limit(needs)
        thresholds = [fraction * ctx.scale_km for fraction, _ in w.distance_bands]
        self._thresholds = thresholds
        edges = {self.limit, self.cap} - {None}
        self._bounds = sorted(set(thresholds) | {float(e) for e in edges if e is not None})
        self._band_points = [to_points(w.distance * f) for _, f in w.distance_bands]
        self._distances: dict[int, float] = {}
        self.near = everything  # superset of the in-person groups within the limit
        self.reach = everything  # superset of the in-person groups within the cap
        self._scope = 0  # superset of the in-person groups within the last bound
        # Per pass (set by eligible): how far in-person groups may be, which groups
        # that applies to (a byte map), and the priorities of keeping distance/format.
        self._reach_km = math.inf
        self._must: bytes = b""
        self._keep_distance = 0
        self._keep_format = 0
        self._bytes_capable = b""
        self._bytes_only = b""
        self._bytes_hybrid = b""
        self._geo_dim: _Dim | None = None
        if ctx.uses_distance and needs.location is not None:
            self.near, self.reach, self._scope = self._grid(needs.location)
            width = (len(index._points) + 7) // 8
            self._bytes_capable = self.in_person_capable.to_bytes(width, "little")
            self._bytes_only = self.in_person_only.to_bytes(width, "little")
            self._bytes_hybrid = hybrid.to_bytes(width, "little")
            if self._scope:
                self._geo_dim = _Dim([], -1, (0, max(self._band_points)), lazy=True)
        self._access_met = met
        geo_dim = self._geo_dim

        # Time: first London day with a meeting in the person's times.
        time_levels = self._time_levels()

        dims: list[_Dim | None] = []
        if tags:
            dims.append(
                _dim(
                    [
                        (first, 0, language_points(w, LANG_FIRST)),
                        (other, 0, language_points(w, LANG_OTHER)),
                        (close, 0, language_points(w, LANG_RELATED)),
                        (interp, 0, language_points(w, LANG_INTERPRETED)),
                    ]
                )
            )
        dims.append(self._count_dim("community", needs.communities, w.community))
        if needs.stage is not None:
            dims.append(_dim([(bits.get(("stage", needs.stage), 0), 0, to_points(w.stage))]))
        dims.append(self._count_dim("topic", needs.topics, w.topic))
        if met:
            access_sets = [met[a.code] for a in needs.access_needs]
            dims.append(
                _dim(
                    [
                        (b, 0, share_points(w.access, j, len(access_sets)))
                        for j, b in count_levels(access_sets)
                    ]
                )
            )
        dims.append(_dim(time_levels))
        dims.append(_dim([(bits.get(("open",), 0), 0, to_points(w.places))]))
        if needs.other:
            sets = [index._word_set(word) for word in needs.other]
            dims.append(
                _dim(
                    [
                        (b, 0, share_points(w.own_words, j, len(needs.other)))
                        for j, b in count_levels(sets)
                    ]
                )
            )
        # The distance dimension goes last: its levels are computed per part, so it
        # is best applied to the smallest parts.
        base = sorted((d for d in dims if d is not None), key=lambda d: -d.best[1])
        if geo_dim is not None:
            base.append(geo_dim)
        crisis_dim: _Dim | None = None
        if needs.stage == "approaching_crisis":
            ready = (
                bits.get(("stage", "approaching_crisis"), 0)
                & bits.get(("moderator",), 0)
                & bits.get(("open",), 0)
            )
            if ready:
                ready &= self._meetings_between(ctx.now_ts, ctx.crisis_end_ts)
            crisis_dim = _dim([(ready, 1, 0)])
        # Place unknown: groups that can be joined online come before in-person-only
        # groups, which may be in any city (tier 2, above crisis priority's 1; both
        # below the priority for each need kept in a widened pass).
        reach_dim: _Dim | None = None
        if place_unknown(needs):
            reach_dim = _dim([(self.online_capable, 2, 0)])
        # A group for people the person did not say they are (eligibility.who_status)
        # never ranks above one open to them: tier 4, above place (2) and crisis (1).
        who_dim = _dim([(self.qualifies, 4, 0)]) if unknown else None
        tiers = [d for d in (who_dim, reach_dim, crisis_dim) if d is not None]
        self.base_dims = tiers + base
        self.dims = self.base_dims

    def _count_dim(self, kind: str, codes: tuple[str, ...], weight: float) -> _Dim | None:
        if not codes:
            return None
        sets = [self.ix._bits.get((kind, c), 0) for c in codes]
        return _dim([(b, 0, share_points(weight, j, len(codes))) for j, b in count_levels(sets)])

    def _grid(self, center: LatLon) -> tuple[int, int, int]:
        """Supersets, from whole grid cells, of the in-person groups within the
        limit (``near``), within the cap (``reach``) and within the last bound."""
        last = self._bounds[-1]
        limit = self.limit if self.limit is not None else math.inf
        cap = self.cap if self.cap is not None else math.inf
        cells = self.ix._cells
        found = cell_range(center, last + _GEO_MARGIN_KM)
        near = reach = scope = 0
        for cell in found if found is not None else list(cells):
            bits = cells.get(cell)
            if not bits:
                continue
            lo = cell_min_distance(center, cell)
            if lo <= last + _GEO_MARGIN_KM:
                scope |= bits
                if lo <= cap + _GEO_MARGIN_KM:
                    reach |= bits
                    if lo <= limit + _GEO_MARGIN_KM:
                        near |= bits
        return near, reach, scope

    def _geo_split(self, bits: int) -> list[tuple[int, int, int]]:
        """Split ``bits`` by distance band and by whether a group breaks the distance
        or format need (their priorities, in a widened pass), dropping groups that
        the current pass requires within a distance but are not.

        Distances are screened with the equirectangular approximation (a few
        multiplications); only a group whose approximate distance is within 0.2%
        of a band boundary or the maximum gets the exact haversine distance, so
        every decision is the one :func:`~peerhub.matching.scoring.assess` makes.
        (Near the UK the approximation is within 0.03% up to 250 km.)"""
        center = self.ctx.needs.location
        looked = bits & self._scope
        keep_distance = self._keep_distance
        if not looked or center is None:
            return [(bits, keep_distance, 0)]
        keep_format = self._keep_format
        in_person = self.ctx.needs.format == "in_person"
        thresholds = self._thresholds
        bounds = self._bounds
        n_bounds = len(bounds)
        n_bands = len(thresholds)
        limit = self.limit if self.limit is not None else math.inf
        cap = self.cap if self.cap is not None else math.inf
        reach_km = self._reach_km
        must = self._must
        # Groups that break the distance need when beyond the limit: in-person
        # groups, and hybrid ones for someone who asked for in person (beyond the
        # cap, a hybrid group breaks format instead: it would be joined online).
        counted = self._bytes_capable if in_person else self._bytes_only
        hybrid = self._bytes_hybrid
        reach = bounds[-1]
        here = prepare(center)
        lat0, lon0 = here[0], here[1]
        approximate = abs(center[0]) <= _APPROX_MAX_LAT and reach <= _APPROX_MAX_KM
        points = self.ix._points
        memo = self._distances
        cos = math.cos
        sqrt = math.sqrt
        parted: dict[tuple[int, int], list[int]] = {}
        dropped: list[int] = []
        for slot in to_slots(looked):
            d = memo.get(slot)
            if d is None:
                point = points[slot]
                if point is None:
                    continue
                if approximate:
                    x = (point[1] - lon0) * cos((point[0] + lat0) * 0.5)
                    y = point[0] - lat0
                    d = EARTH_RADIUS_KM * sqrt(x * x + y * y)
                    j = bisect_left(bounds, d)
                    tol = d * _APPROX_TOLERANCE + 1e-9
                    if (j < n_bounds and bounds[j] - d <= tol) or (
                        j > 0 and d - bounds[j - 1] <= tol
                    ):
                        d = prepared_distance_km(here, point)
                else:
                    d = prepared_distance_km(here, point)
                memo[slot] = d
            byte, bit = slot >> 3, 1 << (slot & 7)
            if d > reach_km and must[byte] & bit:
                dropped.append(slot)
                continue
            prio = keep_distance + keep_format
            if d > limit:
                if in_person and d > cap and hybrid[byte] & bit:
                    prio -= keep_format
                elif counted[byte] & bit:
                    prio -= keep_distance
            b = bisect_left(thresholds, d)
            parted.setdefault((b, prio), []).append(slot)
        band_points = self._band_points
        parts: list[tuple[int, int, int]] = []
        taken = 0
        for (b, prio), slots in parted.items():
            part = from_slots(slots)
            taken |= part
            parts.append((part, prio, band_points[b] if b < n_bands else 0))
        if dropped:
            taken |= from_slots(dropped)
        # The rest are groups met online (no place to measure): for someone who
        # asked for in person, that breaks format.
        rest = bits & ~taken
        if rest:
            parts.append((rest, keep_distance, 0))
        return parts

    def _time_levels(self) -> list[tuple[int, int, int]]:
        ctx = self.ctx
        w = ctx.weights
        levels: list[tuple[int, int, int]] = []
        covered = 0
        late = 0
        any_time = ((0, 24 * 60),)
        for day in range(w.horizon_days):
            ordinal = ctx.today + day
            if ctx.windows is None:
                ranges: tuple[tuple[int, int], ...] = any_time
            else:
                ranges = ctx.windows.get((ordinal - 1) % 7, ())
                if not ranges:
                    continue
            after = (ctx.now_ts, ctx.now_minute) if day == 0 else None
            found = self.ix._meetings_on(ordinal, ranges, after=after)
            if not found:
                continue
            if day < w.soon_days:
                new = found & ~covered
                if new:
                    levels.append((new, 0, time_points(w, day)))
                    covered |= found
            else:
                late |= found
        late &= ~covered
        if late:
            levels.append((late, 0, time_points(w, w.soon_days)))
        return levels

    def _meetings_between(self, start_ts: float, end_ts: float) -> int:
        ctx = self.ctx
        end_local = datetime.fromtimestamp(end_ts, UTC).astimezone(LONDON)
        end_ordinal = end_local.toordinal()
        end_minute = end_local.hour * 60 + end_local.minute
        out = 0
        for ordinal in range(ctx.today, end_ordinal + 1):
            after = (start_ts, ctx.now_minute) if ordinal == ctx.today else None
            before = (end_ts, end_minute) if ordinal == end_ordinal else None
            out |= self.ix._meetings_on(ordinal, ((0, 24 * 60),), after=after, before=before)
        return out

    def eligible(self, allowed: frozenset[Relaxation]) -> int:
        """Groups passing every hard constraint not in ``allowed``, and never one
        that breaks a rule that is not relaxed (blocked members are checked later,
        slot by slot, and never relaxed). Also sets this pass's scoring dimensions:
        in a widened pass, a priority for each relaxed need a group still meets."""
        needs = self.ctx.needs
        out = self.all & self.who_ok
        if "language" not in allowed:
            out &= self.lang_ok
        out &= (self.age_ok | self.age_relax) if "age" in allowed else self.age_ok
        if "access" not in allowed:
            out &= self.access_ok
        widened = "distance" in allowed
        # Exact distances are checked when the search splits by distance: set what
        # this pass requires, of which groups.
        reach_bits = self.reach if widened else self.near
        self._reach_km = (self.cap if widened else self.limit) or math.inf
        if needs.format == "online":
            out &= self.online_capable  # an in-person group is no use: never relaxed
        elif needs.format == "in_person":
            joined_online = "format" in allowed
            self._must = self._bytes_only if joined_online else self._bytes_capable
            out &= (self.in_person_capable & reach_bits) | (
                self.online_capable if joined_online else 0
            )
        else:
            self._must = self._bytes_only
            out &= self.online_capable | (self.in_person_only & reach_bits)
        self._set_dims(allowed)
        return out

    def _set_dims(self, allowed: frozenset[Relaxation]) -> None:
        """The dimensions of this pass: the base ones, led by a priority level for
        each relaxed need a group still meets (so fewer broken needs rank first)."""
        keep: dict[Relaxation, int] = {c: _KEPT_PRIORITY[c] for c in allowed}
        self._keep_distance = keep.get("distance", 0)
        self._keep_format = keep.get("format", 0)
        front: list[_Dim] = []
        for code, ok in (
            ("access", self.access_ok),
            ("age", self.age_ok),
            ("language", self.lang_ok),
        ):
            if code in keep:
                dim = _dim([(ok, keep[code], 0)])
                if dim is not None:
                    front.append(dim)
        base = [d for d in self.base_dims if not d.lazy]
        geo = self._geo_dim
        if geo is not None:
            best = (self._keep_distance + self._keep_format, geo.best[1])
            base.append(_Dim([], -1, best, lazy=True))
        elif self._keep_format:
            # No distance to split by: meeting in person is what keeps format.
            dim = _dim([(self.in_person_capable & self.near, self._keep_format, 0)])
            if dim is not None:
                front.append(dim)
        self.dims = front + base

    def top(self, eligible: int, limit: int) -> list[int]:
        """The best ``limit`` non-blocked slots of ``eligible``, best first."""
        dims = self.dims
        n = len(dims)
        suffix = [(0, 0)] * (n + 1)
        for i in range(n - 1, -1, -1):
            suffix[i] = (suffix[i + 1][0] + dims[i].best[0], suffix[i + 1][1] + dims[i].best[1])
        heap: list[tuple[int, int, int, int, int, int, int]] = [
            (-suffix[0][0], -suffix[0][1], 0, 0, eligible, 0, 0)
        ]
        seq = 1
        out: list[int] = []
        pending: tuple[int, int] | None = None
        pending_bits = 0
        while heap:
            neg_prio, neg_pts, _, depth, bits, prio, pts = heap[0]
            bound = (-neg_prio, -neg_pts)
            if pending is not None and bound < pending:
                self._flush(pending_bits, limit - len(out), out)
                pending = None
                if len(out) >= limit:
                    return out
                continue
            heapq.heappop(heap)
            if depth == n:
                # Every dimension decided: all these groups score exactly `bound`.
                if pending is None:
                    pending, pending_bits = bound, bits
                else:
                    pending_bits |= bits
                continue
            dim = dims[depth]
            rest_prio, rest_pts = suffix[depth + 1]
            if dim.lazy:
                for part, level_prio, level_pts in self._geo_split(bits):
                    p, s = prio + level_prio, pts + level_pts
                    heapq.heappush(
                        heap, (-(p + rest_prio), -(s + rest_pts), seq, depth + 1, part, p, s)
                    )
                    seq += 1
                continue
            for level_bits, level_prio, level_pts in dim.levels:
                part = bits & level_bits
                if part:
                    p, s = prio + level_prio, pts + level_pts
                    heapq.heappush(
                        heap, (-(p + rest_prio), -(s + rest_pts), seq, depth + 1, part, p, s)
                    )
                    seq += 1
            part = bits & dim.rest_mask
            if part:
                heapq.heappush(
                    heap, (-(prio + rest_prio), -(pts + rest_pts), seq, depth + 1, part, prio, pts)
                )
                seq += 1
        if pending is not None:
            self._flush(pending_bits, limit - len(out), out)
        return out

    def _flush(self, bits: int, need: int, out: list[int]) -> None:
        """Append up to ``need`` slots of an equal-score set, by group id, skipping
        groups with a member the person blocked."""
        ids = self.ix._ids
        slots = to_slots(bits)
        blocked = self.ctx.needs.blocked_user_ids
        groups = self.ix._groups

        def allowed(slot: int) -> bool:
            group = groups[slot]
            return group is not None and group.member_ids.isdisjoint(blocked)

        if len(slots) > 4 * need + 16:
            first = heapq.nsmallest(2 * need + 8, slots, key=ids.__getitem__)
            picked = [s for s in first if allowed(s)] if blocked else first
            if len(picked) >= need:
                out.extend(picked[:need])
                return
        slots.sort(key=ids.__getitem__)
        if blocked:
            slots = [s for s in slots if allowed(s)]
        out.extend(slots[:need])


def match(
    groups: GroupIndex | Iterable[GroupProfile],
    needs: Needs,
    *,
    limit: int = 20,
    weights: Weights = DEFAULT_WEIGHTS,
) -> MatchResult:
    """Rank groups for a person's needs, with reasons, relaxing hard constraints in
    :data:`RELAXATION_ORDER` only if nothing passes them all. Pass a
    :class:`GroupIndex` (build it once; a plain iterable is indexed on every call)."""
    index = groups if isinstance(groups, GroupIndex) else GroupIndex(groups)
    return index.match(needs, limit=limit, weights=weights)
