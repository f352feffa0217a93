"""UK postcodes: parsing, offline district centroids, distances.

A person types a postcode ("ls6 3hn", "LS6", "SW1A 1AA"); :func:`parse_postcode`
normalises and validates it, :func:`locate` turns it into approximate coordinates
from the bundled table of postcode *district* (outward code) centroids, and
:func:`bounding_box` prefilters distances, which
:func:`peerhub.matching.distances.distance_km` (the one distance function) measures.

Nothing here touches the network: the coordinates come from
``peerhub/data/postcode_districts.csv`` (derived from OS Code-Point Open and, for
Northern Ireland, GeoNames; provenance and the attribution the licences require are
in ``peerhub/data/POSTCODE-DATA-LICENCE.md``). A district centroid is the mean
position of the district's postcodes, so every location is approximate (a district
spans a few km in towns, tens of km in the Highlands): say "about 12 km away".

Privacy: only the outward code is ever used for location, and error messages never
repeat the inward part of what someone typed.

This module is pure: no framework imports, and its only I/O is reading the bundled
table once, lazily.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, NamedTuple

from peerhub.matching.distances import EARTH_RADIUS_KM, distance_km

__all__ = [
    "BoundingBox",
    "LatLon",
    "Location",
    "Postcode",
    "PostcodeError",
    "Precision",
    "bounding_box",
    "distance_between",
    "district_of",
    "districts",
    "locate",
    "parse_postcode",
]

_DATA_PACKAGE: Final = "peerhub.data"
_DATA_FILE: Final = "postcode_districts.csv"


# Royal Mail's format rules (BS 7666): the outward code is A9, A99, AA9, AA99, A9A or
# AA9A; Q, V and X never open a postcode, I, J and Z are never second, and only some
# letters may close an A9A / AA9A outward code. The inward code is a digit and two
# letters, never C, I, K, M, O or V.
_OUTWARD_RE: Final = re.compile(
    r"(?:[A-PR-UWYZ][0-9][0-9]?"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
_INWARD_RE: Final = re.compile(r"[0-9][ABD-HJLNP-UW-Z]{2}")
_SHAPE_RE: Final = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
#: Girobank's historic postcode, the one that breaks the rules above.
_GIRO: Final = ("GIR", "0AA")

Precision = Literal["district", "district_group", "area"]


class PostcodeError(ValueError):
    """The text is not a UK postcode. The message says why, in plain words, and is
    safe to show to the person who typed it (it never echoes the inward code)."""


@dataclass(frozen=True, slots=True)
class Postcode:
    """A syntactically valid UK postcode, or just its outward code.

    ``outward`` is the district ("LS6", "SW1A"), ``inward`` the part after the
    space ("3HN") or None when only the district was given.
    """

    outward: str
    inward: str | None = None

    @property
    def formatted(self) -> str:
        """Canonical form: upper case, one space ("LS6 3HN"), or the outward code."""
        return self.outward if self.inward is None else f"{self.outward} {self.inward}"

    @property
    def area(self) -> str:
        """The postcode area: the leading letters ("LS", "B", "SW")."""
        return _area_of(self.outward)

    @property
    def district(self) -> str:
        """The postcode district, i.e. the outward code."""
        return self.outward

    @property
    def sector(self) -> str | None:
        """The postcode sector ("LS6 3"), or None for an outward code alone."""
        return None if self.inward is None else f"{self.outward} {self.inward[0]}"

    @property
    def is_full(self) -> bool:
        return self.inward is not None

    def __str__(self) -> str:
        return self.formatted


class LatLon(NamedTuple):
    """A WGS84 point in decimal degrees. Being a ``tuple[float, float]`` it can be
    passed wherever ``(lat, lon)`` pairs are expected (e.g. ``peerhub.matching``)."""

    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Location:
    """Where :func:`locate` placed a postcode.

    ``precision`` says which centroid was used:

    * ``"district"``: the centroid of the postcode's own district ("LS6");
    * ``"district_group"``: the district is not in the table but districts sharing
      its letters and number are, e.g. "W1" (split into W1A … W1W) or an unknown
      "EC1Z"; the mean of those districts;
    * ``"area"``: only the area is known ("LS"); the mean of its districts, which
      can be tens of km from the person.

    ``matched`` is the code whose centroid was used ("LS6", "W1", "LS").
    """

    lat: float
    lon: float
    precision: Precision
    matched: str

    @property
    def point(self) -> LatLon:
        return LatLon(self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A latitude/longitude rectangle, for a cheap SQL prefilter such as
    ``latitude BETWEEN :south AND :north AND longitude BETWEEN :west AND :east``
    before the exact :func:`~peerhub.matching.distances.distance_km` check."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, point: tuple[float, float] | Location) -> bool:
        lat, lon = _coords(point)
        return self.south <= lat <= self.north and self.west <= lon <= self.east


# -- parsing -------------------------------------------------------------------------


def parse_postcode(text: str) -> Postcode:
    """Normalise and validate a UK postcode typed by a person.

    Accepts any case and spacing: "ls6 3hn", "LS63HN", " sw1a  1aa ", and an outward
    code alone ("LS6", "sw1a"). Also accepts "GIR 0AA". Raises :class:`PostcodeError`
    (a ``ValueError``) whose message names the problem.
    """
    if not isinstance(text, str):
        raise PostcodeError("A postcode must be text.")
    tokens = text.split()  # any whitespace, no-break spaces included
    compact = "".join(tokens)
    if not compact:
        raise PostcodeError("The postcode is empty.")
    # ASCII first: "ß".upper() is "SS", which must not sneak through as a postcode.
    if not (compact.isascii() and compact.isalnum()):
        raise PostcodeError("A postcode has only letters, digits and a space.")
    tokens = [t.upper() for t in tokens]
    compact = compact.upper()
    if len(compact) > 7:
        raise PostcodeError("That is too long for a UK postcode, which has 5 to 7 characters.")
    if compact == "GIR":
        return Postcode("GIR")
    if compact == "".join(_GIRO):
        return Postcode(*_GIRO)
    if len(tokens) == 2:
        # The person put a space: trust it first, so that errors talk about the
        # parts they typed; "LS 63HN" still parses by its length below.
        outward, inward = tokens
        if _OUTWARD_RE.fullmatch(outward) and _INWARD_RE.fullmatch(inward):
            return Postcode(outward, inward)
        if len(compact) < 5 or not _is_full(compact):
            _check_outward(outward)
            _check_inward(outward, inward)
    if len(compact) <= 4:
        return Postcode(_check_outward(compact))
    outward, inward = compact[:-3], compact[-3:]
    _check_outward(outward)
    _check_inward(outward, inward)
    return Postcode(outward, inward)


def _is_full(compact: str) -> bool:
    return bool(_OUTWARD_RE.fullmatch(compact[:-3]) and _INWARD_RE.fullmatch(compact[-3:]))


def _check_inward(outward: str, inward: str) -> None:
    if _INWARD_RE.fullmatch(inward):
        return
    if len(inward) < 3:
        raise PostcodeError(
            f"The part after {outward} is incomplete: it should be a digit and two letters, "
            "like 3HN."
        )
    raise PostcodeError(
        f"The part after {outward} should be a digit and two letters, like 3HN "
        "(the letters C, I, K, M, O and V are never used there)."
    )


def _check_outward(outward: str) -> str:
    if _OUTWARD_RE.fullmatch(outward):
        return outward
    if not outward[0].isalpha():
        raise PostcodeError("A postcode starts with one or two letters, like LS or B.")
    if not _SHAPE_RE.fullmatch(outward):
        raise PostcodeError(
            f"{outward} is not a postcode district: it should be one or two letters and a "
            "number, sometimes followed by a letter, like LS6, B10 or SW1A."
        )
    raise PostcodeError(f"{outward} is not a possible UK postcode district.")


def _area_of(outward: str) -> str:
    """Leading letters of an outward code: "LS6" -> "LS", "B10" -> "B"."""
    end = 0
    while end < len(outward) and outward[end].isalpha():
        end += 1
    return outward[:end]


def _group_of(outward: str) -> str:
    """Letters and number of an outward code: "W1A" -> "W1", "EC1Z" -> "EC1"."""
    m = re.match(r"[A-Z]+[0-9]+", outward)
    return m.group(0) if m else outward


def _as_postcode(postcode: Postcode | str) -> Postcode:
    return postcode if isinstance(postcode, Postcode) else parse_postcode(postcode)


# -- the bundled table ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tables:
    districts: Mapping[str, LatLon]
    groups: Mapping[str, LatLon]
    areas: Mapping[str, LatLon]


def _mean(points: list[LatLon]) -> LatLon:
    # Plain averaging is fine at UK scale: no antimeridian, no poles.
    return LatLon(
        round(sum(p.lat for p in points) / len(points), 4),
        round(sum(p.lon for p in points) / len(points), 4),
    )


@cache
def _tables() -> _Tables:
    raw = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(raw))
    header = next(reader)
    if header != ["outward_code", "latitude", "longitude"]:
        raise RuntimeError(f"{_DATA_FILE}: unexpected header {header!r}")
    districts: dict[str, LatLon] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        code, lat, lon = row
        if code in districts:
            raise RuntimeError(f"{_DATA_FILE}:{line_no}: duplicate district {code}")
        districts[code] = LatLon(float(lat), float(lon))
    groups: dict[str, list[LatLon]] = {}
    areas: dict[str, list[LatLon]] = {}
    for code, point in districts.items():
        groups.setdefault(_group_of(code), []).append(point)
        areas.setdefault(_area_of(code), []).append(point)
    return _Tables(
        districts=MappingProxyType(districts),
        groups=MappingProxyType({k: _mean(v) for k, v in groups.items()}),
        areas=MappingProxyType({k: _mean(v) for k, v in areas.items()}),
    )


def districts() -> Mapping[str, LatLon]:
    """Every district in the bundled table with its centroid (read-only)."""
    return _tables().districts


# -- locating ------------------------------------------------------------------------


def locate(postcode: Postcode | str) -> Location | None:
    """Approximate coordinates of a postcode, from its district's centroid.

    Falls back to the mean of districts sharing its letters and number, then to its
    area; returns None when even the area is unknown (e.g. Channel Islands "JE2",
    Isle of Man "IM1", "GIR 0AA"). A string is parsed first, so malformed text
    raises :class:`PostcodeError`.
    """
    pc = _as_postcode(postcode)
    tables = _tables()
    outward = pc.outward
    found = tables.districts.get(outward)
    if found is not None:
        return Location(found.lat, found.lon, "district", outward)
    group = _group_of(outward)
    found = tables.groups.get(group)
    if found is not None:
        return Location(found.lat, found.lon, "district_group", group)
    area = pc.area
    found = tables.areas.get(area)
    if found is not None:
        return Location(found.lat, found.lon, "area", area)
    return None


def district_of(postcode: Postcode | str) -> str:
    """The coarse label for anonymous statistics: the outward code ("LS6").

    A district holds thousands of addresses in towns but far fewer in remote places:
    callers publishing counts should still suppress small cells.
    """
    return _as_postcode(postcode).outward


# -- distances -----------------------------------------------------------------------


def _coords(p: tuple[float, float] | Location) -> tuple[float, float]:
    if isinstance(p, Location):
        return p.lat, p.lon
    return p[0], p[1]


def distance_between(a: Postcode | str, b: Postcode | str) -> float | None:
    """Approximate distance in km between two postcodes, None if either is unknown."""
    la, lb = locate(a), locate(b)
    if la is None or lb is None:
        return None
    return distance_km(la.point, lb.point)


def bounding_box(center: tuple[float, float] | Location, radius_km: float) -> BoundingBox:
    """The smallest latitude/longitude rectangle holding every point within
    ``radius_km`` (great-circle) of ``center``.

    Exact on the sphere (the east/west edges touch the circle where it is tangent to
    a meridian) plus a hair of margin for rounding, so a prefilter with it never
    drops a point :func:`~peerhub.matching.distances.distance_km` would keep. When the
    circle reaches a pole or crosses the antimeridian the longitude range becomes the
    full -180..180 rather than wrapping.
    """
    if not math.isfinite(radius_km) or radius_km < 0:
        raise ValueError("radius_km must be a finite number of kilometres, zero or more")
    lat, lon = _coords(center)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("center must be a latitude in -90..90 and a longitude in -180..180")
    r = radius_km * (1 + 1e-9) / EARTH_RADIUS_KM + 1e-12  # angular radius, radians
    phi, lam = math.radians(lat), math.radians(lon)
    south, north = phi - r, phi + r
    if south <= -math.pi / 2 or north >= math.pi / 2:
        return BoundingBox(
            math.degrees(max(south, -math.pi / 2)),
            -180.0,
            math.degrees(min(north, math.pi / 2)),
            180.0,
        )
    dlam = math.asin(min(1.0, math.sin(r) / math.cos(phi)))
    west, east = math.degrees(lam - dlam), math.degrees(lam + dlam)
    if west < -180 or east > 180:
        return BoundingBox(math.degrees(south), -180.0, math.degrees(north), 180.0)
    return BoundingBox(math.degrees(south), west, math.degrees(north), east)
