"""Where a person is: a postcode or a town, typos and all, and the town of a district.

:func:`resolve` turns what someone typed into a :class:`Resolution`:

* a postcode ("LS6 3HN", "ls6") is placed at its district's centre (``peerhub.geo``);
* a town or city ("Leeds", "Caerdydd", "newport, wales") at the town's own position;
* a likely typo is corrected, never silently: letters typed for digits and back (O for
  0, I or L for 1, S for 5, …) or one character wrong in a postcode district, and a town
  name a letter or two out ("Manchster"). The resolution then says what was typed was
  not found, what was searched instead, and what else it could have been
  (``corrected``, ``note`` and ``alternatives``);
* a name shared by several towns (Newport) searches the largest and lists the others;
* anything else raises :class:`PlaceError`, whose message is safe to show and never
  repeats the second half of a postcode.

:func:`town_of` names the town of a postcode district ("M1" -> "Manchester"), so that
results say "In person, Manchester" rather than "M1"; :func:`nation_of` says which of
the four nations a district is in, for the nation's own crisis lines.

The tables are ``peerhub/data/district_towns.csv`` and ``peerhub/data/towns.csv``,
derived from GeoNames (CC BY 4.0) by ``tools/derive_places.py``; provenance and
attribution in ``peerhub/data/PLACES-DATA-LICENCE.md``. Pure: no framework imports;
the only I/O is reading the bundled tables once, lazily.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal

from peerhub import geo
from peerhub.i18n import _, lazy_gettext

__all__ = [
    "NATIONS",
    "Nation",
    "Place",
    "PlaceError",
    "Resolution",
    "Town",
    "district_label",
    "nation_of",
    "resolve",
    "town_of",
]

Nation = Literal["England", "Scotland", "Wales", "Northern Ireland"]
NATIONS: Final[tuple[Nation, ...]] = ("England", "Scotland", "Wales", "Northern Ireland")

MAX_LENGTH: Final = 100
MAX_ALTERNATIVES: Final = 4

_DATA_PACKAGE: Final = "peerhub.data"

# Characters people type for one another in postcodes: a letter where a digit belongs
# (O for 0, I or L for 1, …) and back. Each substitution costs 1.
_AS_DIGIT: Final = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "L": "1",
    "Z": "2",
    "S": "5",
    "G": "6",
    "T": "7",
    "B": "8",
}
_AS_LETTER: Final = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "7": "T", "8": "B"}
_CONFUSABLE: Final = {
    **{k: (v,) for k, v in _AS_DIGIT.items()},
    **{k: (v,) for k, v in _AS_LETTER.items()},
    "1": ("I", "L"),
}
_ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# An edit that is not a known confusion (a missing, extra, swapped or wrong character).
_EDIT_COST: Final = 1.5


class PlaceError(ValueError):
    """Nothing plausible was found. The message is plain, safe to show, and never
    repeats the inward part of a postcode."""


@dataclass(frozen=True, slots=True)
class Town:
    """A town, city or village from the bundled GeoNames table."""

    name: str
    nation: Nation
    lat: float
    lon: float
    population: int
    district: str  # the nearest postcode district
    also: tuple[str, ...] = ()  # other spellings (Welsh, Gaelic, …)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a search is centred.

    ``kind`` is ``postcode`` or ``town``; ``query`` is the value as understood ("M1 1AE",
    "Newport, Wales"), fit to put back in the form; ``label`` is how a person would
    name it ("M1 1AE, Manchester", "Newport, Wales"); ``district`` is the postcode
    district (the coarse area kept for unmet demand); ``town`` names the town; and
    ``precision`` says how rough the point is (``district``, ``district_group`` or
    ``town``)."""

    kind: Literal["postcode", "town"]
    query: str
    label: str
    district: str
    town: str
    nation: Nation | None
    lat: float
    lon: float
    precision: str

    @property
    def point(self) -> tuple[float, float]:
        return (self.lat, self.lon)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "query": self.query,
            "label": self.label,
            "district": self.district,
            "town": self.town,
            "nation": self.nation,
            "precision": self.precision,
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    """The place searched, and whether it is what was typed.

    ``corrected`` is True when what was typed was not found as it stands and
    ``place`` is our best guess at what was meant; ``alternatives`` are the other
    guesses (or the other towns of the same name), best first; ``note`` says all this
    in a sentence for the person (None when the place was found exactly as typed)."""

    place: Place
    corrected: bool = False
    note: str | None = None
    alternatives: tuple[Place, ...] = field(default=())

    def as_dict(self) -> dict[str, object]:
        return {
            **self.place.as_dict(),
            "corrected": self.corrected,
            "note": self.note,
            "did_you_mean": [p.as_dict() for p in self.alternatives],
        }


# --- Tables -------------------------------------------------------------------------


def fold(text: str) -> str:
    """The key a name is looked up by: lower case, no accents or punctuation, "St" for
    "Saint" ("St. Albans", "saint albans" and "ST ALBANS" are one key)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    words = ["st" if w == "saint" else w for w in text.split()]
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class _Tables:
    district_town: Mapping[str, str]
    district_nation: Mapping[str, Nation]
    by_name: Mapping[str, tuple[Town, ...]]  # folded official name -> towns, largest first
    by_alias: Mapping[str, tuple[Town, ...]]  # folded other spelling -> towns
    buckets: Mapping[tuple[int, int, str], tuple[str, ...]]  # (length, position, char)


def _read(name: str) -> Iterator[dict[str, str]]:
    raw = resources.files(_DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    yield from csv.DictReader(io.StringIO(raw))


@cache
def _tables() -> _Tables:
    district_town: dict[str, str] = {}
    district_nation: dict[str, Nation] = {}
    for row in _read("district_towns.csv"):
        code, nation = row["outward_code"], row["nation"]
        if nation not in NATIONS:
            raise RuntimeError(f"district_towns.csv: unknown nation {nation!r} for {code}")
        district_town[code] = row["town"]
        district_nation[code] = nation
    by_name: dict[str, list[Town]] = {}
    by_alias: dict[str, list[Town]] = {}
    for row in _read("towns.csv"):
        nation = row["nation"]
        if nation not in NATIONS:
            raise RuntimeError(f"towns.csv: unknown nation {nation!r} for {row['name']}")
        town = Town(
            name=row["name"],
            nation=nation,
            lat=float(row["latitude"]),
            lon=float(row["longitude"]),
            population=int(row["population"]),
            district=row["district"],
            also=tuple(a for a in row["also"].split("|") if a),
        )
        by_name.setdefault(fold(town.name), []).append(town)
        for alias in town.also:
            by_alias.setdefault(fold(alias), []).append(town)
    # Typo candidates are looked for among names of about the same length that share
    # the first letter, or (for a wrong first letter) the second.
    buckets: dict[tuple[int, int, str], list[str]] = {}
    for key in itertools.chain(by_name, (k for k in by_alias if k not in by_name)):
        for position in (0, 1):
            if len(key) > position:
                buckets.setdefault((len(key), position, key[position]), []).append(key)

    def ordered(table: dict[str, list[Town]]) -> dict[str, tuple[Town, ...]]:
        return {
            k: tuple(sorted(v, key=lambda t: (-t.population, t.nation, t.district)))
            for k, v in table.items()
        }

    return _Tables(
        district_town=MappingProxyType(district_town),
        district_nation=MappingProxyType(district_nation),
        by_name=MappingProxyType(ordered(by_name)),
        by_alias=MappingProxyType(ordered(by_alias)),
        buckets=MappingProxyType({k: tuple(sorted(v)) for k, v in buckets.items()}),
    )


def _group_of(outward: str) -> str:
    m = re.match(r"[A-Z]+[0-9]+", outward)
    return m.group(0) if m else outward


def district_towns() -> frozenset[str]:
    """The name of every town the tables give a postcode district (place names, the
    same in every language: GeoNames' own)."""
    return frozenset(_tables().district_town.values())


def town_of(district: str) -> str | None:
    """The town of a postcode district ("M1" -> "Manchester", "W1" -> "London"), or
    None when the district is unknown."""
    tables = _tables()
    code = district.strip().upper()
    found = tables.district_town.get(code)
    if found:
        return found
    # A parent code Royal Mail splits into lettered districts: W1 -> W1A, W1B, …
    towns = {t for c, t in tables.district_town.items() if _group_of(c) == code and t}
    return towns.pop() if len(towns) == 1 else None


def nation_of(district: str) -> Nation | None:
    """Which nation a postcode district is in ("CF10" -> "Wales"), None if unknown."""
    tables = _tables()
    code = district.strip().upper()
    found = tables.district_nation.get(code)
    if found is not None:
        return found
    nations = {n for c, n in tables.district_nation.items() if _group_of(c) == code}
    return nations.pop() if len(nations) == 1 else None


def district_label(postcode: str | None) -> str:
    """What to call a group's place in a result: its town ("Manchester"); the district
    itself when the town is unknown; "" without a postcode."""
    if not postcode:
        return ""
    try:
        outward = geo.parse_postcode(postcode).outward
    except geo.PostcodeError:
        return ""
    return town_of(outward) or outward


# --- Postcodes ----------------------------------------------------------------------


def _postcode_place(pc: geo.Postcode, *, exact: bool = False) -> Place | None:
    """The place of a postcode whose district is known (exactly, or as a split parent
    like W1 unless ``exact``); None when only its area is known, which would be a guess."""
    found = geo.locate(pc)
    if found is None or found.precision == "area":
        return None
    if exact and found.precision != "district":
        return None
    town = town_of(pc.outward) or town_of(found.matched) or pc.outward
    return Place(
        kind="postcode",
        query=pc.formatted,
        label=f"{pc.formatted}, {town}" if town != pc.outward else pc.formatted,
        district=pc.outward,
        town=town,
        nation=nation_of(pc.outward) or nation_of(found.matched),
        lat=found.lat,
        lon=found.lon,
        precision=found.precision,
    )


@cache
def _areas() -> frozenset[str]:
    return frozenset(re.match(r"[A-Z]+", c).group(0) for c in geo.districts())  # type: ignore[union-attr]


#: Postcode areas of the Crown Dependencies: UK-style postcodes, but not in the UK and
#: not on PeerHub's map, so never "corrected" into a UK district.
CROWN_DEPENDENCIES: Final = {"GY": "Guernsey", "JE": "Jersey", "IM": "the Isle of Man"}


def _splits(compact: str) -> list[geo.Postcode]:
    """The valid postcodes a compact string can be read as (outward alone, or outward
    and inward)."""
    readings = []
    if 2 <= len(compact) <= 4:
        readings.append(compact)
    if 5 <= len(compact) <= 7:
        readings.append(f"{compact[:-3]} {compact[-3:]}")
    out = []
    for text in readings:
        try:
            out.append(geo.parse_postcode(text))
        except geo.PostcodeError:
            continue
    return out


def _confusions(compact: str, limit: int = 3) -> Iterator[tuple[int, str]]:
    """Every reading of ``compact`` with up to ``limit`` confusable characters swapped,
    with the number swapped."""
    options = [(ch, *_CONFUSABLE.get(ch, ())) for ch in compact]
    for combo in itertools.product(*options):
        changed = sum(1 for a, b in zip(compact, combo, strict=True) if a != b)
        if 0 < changed <= limit:
            yield changed, "".join(combo)


def _edits(outward: str) -> Iterator[str]:
    """Outward codes one edit away: a character dropped, added, changed or two swapped."""
    n = len(outward)
    for i in range(n):
        yield outward[:i] + outward[i + 1 :]
        for ch in _ALNUM:
            yield outward[:i] + ch + outward[i + 1 :]
    for i in range(n + 1):
        for ch in _ALNUM:
            yield outward[:i] + ch + outward[i:]
    for i in range(n - 1):
        yield outward[:i] + outward[i + 1] + outward[i] + outward[i + 2 :]


def _postcode_guesses(compact: str) -> list[tuple[float, Place]]:
    """Known postcodes close to ``compact``, cheapest first."""
    seen: dict[str, tuple[float, Place]] = {}

    def consider(cost: float, pc: geo.Postcode) -> None:
        # A guess is a district: only the district places a search, and a note or a
        # link never repeats the second half of what was typed.
        place = _postcode_place(geo.Postcode(pc.outward), exact=True)
        if place is not None and (place.query not in seen or cost < seen[place.query][0]):
            seen[place.query] = (cost, place)

    for cost, candidate in _confusions(compact):
        for pc in _splits(candidate):
            consider(cost, pc)
    if seen:
        return _ranked(seen, compact)
    # One edit to the district (keeping a valid second half, if one was typed).
    inward = compact[-3:] if len(compact) >= 5 else None
    heads: list[tuple[str, str | None]] = [(compact[:-3], inward)] if inward else []
    heads.append((compact, None))
    districts = geo.districts()
    known_areas = _areas()
    for head, tail in heads:
        if not 1 <= len(head) <= 5:
            continue
        head_area = re.match(r"[A-Z]*", head)
        keep = head_area.group(0) if head_area and head_area.group(0) in known_areas else ""
        for outward in set(_edits(head)):
            # A known area is kept: "LS99" may be another Leeds district, not "S99".
            if outward not in districts or not outward.startswith(keep):
                continue
            try:
                pc = geo.parse_postcode(f"{outward} {tail}" if tail else outward)
            except geo.PostcodeError:
                pc = geo.parse_postcode(outward)
            consider(_EDIT_COST, pc)
    return _ranked(seen, compact)


def _ranked(seen: Mapping[str, tuple[float, Place]], compact: str) -> list[tuple[float, Place]]:
    """Cheapest first; then in the area typed; then the nearest district number."""
    typed_area = re.match(r"[A-Z]*", compact)
    area = typed_area.group(0) if typed_area else ""

    def rank(item: tuple[float, Place]) -> tuple[float, bool, int, str]:
        cost, place = item
        number = re.search(r"[0-9]+", place.district)
        typed_number = re.search(r"[0-9]+", compact)
        gap = (
            abs(int(number.group(0)) - int(typed_number.group(0)))
            if number and typed_number
            else 99
        )
        return (cost, not place.district.startswith(area) or not area, gap, place.query)

    return sorted(seen.values(), key=rank)


# --- Towns --------------------------------------------------------------------------


def _town_label(town: Town) -> str:
    """A name that tells this town from others of the same name, and that
    :func:`resolve` reads back as this town ("Newport, Wales (NP20)")."""
    tables = _tables()
    namesakes = tables.by_name.get(fold(town.name), ())
    if len(namesakes) <= 1:
        return town.name
    if sum(1 for t in namesakes if t.nation == town.nation) == 1:
        return f"{town.name}, {town.nation}"
    near = tables.district_town.get(town.district, "")
    if near and fold(near) != fold(town.name):
        return f"{town.name}, near {near}"
    return f"{town.name}, {town.nation} ({town.district})"


def _town_place(town: Town) -> Place:
    label = _town_label(town)
    return Place(
        kind="town",
        query=label,
        label=label,
        district=town.district,
        town=town.name,
        nation=town.nation,
        lat=town.lat,
        lon=town.lon,
        precision="town",
    )


def _qualified(text: str) -> tuple[str, tuple[str, ...]]:
    """ "Newport, Wales (NP20)" -> ("newport", ("wales", "np20")); "Leeds" -> ("leeds", ())."""
    qualifiers: list[str] = []
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)\s*", text)
    if m:
        text = m.group(1)
        qualifiers.append(m.group(2))
    name, *rest = text.split(",")
    qualifiers += [re.sub(r"^\s*near\s+", "", q, flags=re.IGNORECASE) for q in rest]
    return fold(name), tuple(q for q in (fold(q) for q in qualifiers) if q)


def _matches_qualifier(town: Town, qualifier: str) -> bool:
    district_town = _tables().district_town.get(town.district, "")
    return qualifier in (fold(town.nation), fold(town.district), fold(district_town)) or (
        qualifier in ("uk", "gb", "united kingdom", "great britain", "britain")
    )


def _towns_named(key: str, qualifiers: tuple[str, ...]) -> tuple[Town, ...]:
    tables = _tables()
    found = tables.by_name.get(key) or tables.by_alias.get(key) or ()
    narrowed = tuple(t for t in found if all(_matches_qualifier(t, q) for q in qualifiers))
    return narrowed or found


def _distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance with adjacent swaps, or ``cap + 1`` once it exceeds ``cap``."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            row[j] = best
        if min(row) > cap:
            return cap + 1
        previous2, previous = previous, row
    return previous[-1]


def _town_guesses(key: str) -> list[tuple[int, Town]]:
    """Towns whose name is a small typo away from ``key``, closest and largest first."""
    if len(key) < 4:
        return []
    cap = 1 if len(key) <= 5 else 2 if len(key) <= 10 else 3
    tables = _tables()
    found: dict[Town, int] = {}
    candidates: set[str] = set()
    for length in range(len(key) - cap, len(key) + cap + 1):
        for position in (0, 1):
            candidates.update(tables.buckets.get((length, position, key[position]), ()))
    for candidate in sorted(candidates):
        d = _distance(key, candidate, cap)
        if d <= cap:
            for town in tables.by_name.get(candidate) or tables.by_alias.get(candidate, ()):
                found[town] = min(d, found.get(town, d))
    return sorted(((d, t) for t, d in found.items()), key=lambda x: (x[0], -x[1].population))


# --- Resolving ----------------------------------------------------------------------


_HELP: Final = lazy_gettext("Type a postcode, like LS6 3HN or LS6, or a town or city, like Leeds.")


def _describe(text: str) -> str:
    """What was typed, safe to repeat: a postcode's first half only."""
    compact = "".join(text.split()).upper()
    tokens = text.split()
    looks_full = re.fullmatch(r"[A-Z0-9]{5,7}", compact) and (
        any(c.isdigit() for c in compact)
        or (len(tokens) == 2 and re.fullmatch(r"[0-9OILSZ][A-Z]{2}", tokens[1].upper()))
    )
    if looks_full:
        return _("the postcode starting %(start)s", start=compact[:-3])
    shown = " ".join(text.split())
    return f"“{shown[:40]}”"


def _others(places: list[Place], chosen: Place) -> tuple[Place, ...]:
    out: list[Place] = []
    for p in places:
        if p.query != chosen.query and all(p.query != o.query for o in out):
            out.append(p)
        if len(out) >= MAX_ALTERNATIVES:
            break
    return tuple(out)


def _guessed(text: str, places: list[Place]) -> Resolution:
    chosen = places[0]
    others = _others(places, chosen)
    compact = text.replace(" ", "").upper()
    if chosen.kind == "postcode" and len(compact) >= 5 and compact[:-3] == chosen.district:
        if others:
            note = _(
                "The second half of the postcode did not look right, so we searched near "
                "%(place)s (the first half is all we use). "
                "Did you mean one of the other places listed?",
                place=chosen.label,
            )
        else:
            note = _(
                "The second half of the postcode did not look right, so we searched near "
                "%(place)s (the first half is all we use).",
                place=chosen.label,
            )
    elif others:
        note = _(
            "We could not find %(typed)s, so we searched near %(place)s instead. "
            "Did you mean one of the other places listed?",
            typed=_describe(text),
            place=chosen.label,
        )
    else:
        note = _(
            "We could not find %(typed)s, so we searched near %(place)s instead.",
            typed=_describe(text),
            place=chosen.label,
        )
    return Resolution(chosen, corrected=True, note=note, alternatives=others)


def resolve(text: str) -> Resolution:
    """Where ``text`` (a postcode or a town, as typed) is. Raises :class:`PlaceError`."""
    if not isinstance(text, str):
        raise PlaceError(_("A place must be text: a postcode or a town."))
    text = " ".join(text.split())
    if not text:
        raise PlaceError(_("The place is empty. %(help)s", help=_HELP))
    if len(text) > MAX_LENGTH:
        raise PlaceError(_("That is too long for a postcode or a town. %(help)s", help=_HELP))
    compact = text.replace(" ", "").upper()
    postcode_like = bool(re.fullmatch(r"[A-Za-z0-9 ]{2,8}", text)) and any(
        c.isdigit() for c in text
    )
    problem: str | None = None

    # 1. Exactly as typed: a postcode in a known district, or a town's name.
    if postcode_like:
        try:
            pc = geo.parse_postcode(text)
        except geo.PostcodeError as exc:
            problem = str(exc)
        else:
            place = _postcode_place(pc)
            if place is not None:
                return Resolution(place)
            problem = _("We do not know the postcode district %(district)s.", district=pc.outward)
    key, qualifiers = _qualified(text)
    towns = _towns_named(key, qualifiers)
    if towns:
        chosen = _town_place(towns[0])
        if len(towns) == 1:
            return Resolution(chosen)
        others = tuple(_town_place(t) for t in towns[1 : 1 + MAX_ALTERNATIVES])
        note = _(
            "There is more than one %(town)s: we searched near %(place)s, "
            "the largest. Did you mean one of the others listed?",
            town=towns[0].name,
            place=chosen.label,
        )
        return Resolution(chosen, corrected=False, note=note, alternatives=others)

    area_typed = re.match(r"[A-Z]+", compact)
    if postcode_like and area_typed and area_typed.group(0) in CROWN_DEPENDENCIES:
        where = CROWN_DEPENDENCIES[area_typed.group(0)]
        typed = _describe(text)
        raise PlaceError(
            _(
                "%(typed)s is in %(where)s: PeerHub's map covers the United Kingdom only. "
                "Online groups are open to you: choose online, or type a UK town.",
                typed=typed[:1].upper() + typed[1:],
                where=where,
            )
        )

    # 2. A likely typo: postcode confusions and edits, then town names.
    guesses: list[tuple[float, Place]] = []
    if 2 <= len(compact) <= 7 and compact.isalnum() and compact.isascii():
        guesses += _postcode_guesses(compact)
        # The district is right but the second half is not: the district alone.
        if len(compact) >= 5 and not guesses:
            try:
                head = geo.parse_postcode(compact[:-3])
            except geo.PostcodeError:
                pass
            else:
                place = _postcode_place(head)
                if place is not None:
                    guesses.append((_EDIT_COST, place))
    for distance, town in _town_guesses(key):
        guesses.append((distance + (0.5 if postcode_like else 0.0), _town_place(town)))
    if guesses:
        guesses.sort(key=lambda g: g[0])
        return _guessed(text, [p for _, p in guesses])
    if problem:
        raise PlaceError(f"{problem} {_HELP}")
    raise PlaceError(_("We could not find %(typed)s. %(help)s", typed=_describe(text), help=_HELP))
