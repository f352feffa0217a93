"""peerhub.geo: postcode parsing, offline district centroids, distances."""

from __future__ import annotations

import csv
import math
import re
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerhub import geo
from peerhub.geo import LatLon, Location, Postcode, PostcodeError
from peerhub.matching.distances import EARTH_RADIUS_KM, distance_km

# -- parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outward", "inward", "formatted"),
    [
        ("LS6 3HN", "LS6", "3HN", "LS6 3HN"),
        ("ls6 3hn", "LS6", "3HN", "LS6 3HN"),
        ("LS63HN", "LS6", "3HN", "LS6 3HN"),
        ("  sw1a   1aa ", "SW1A", "1AA", "SW1A 1AA"),
        ("b10 0ad", "B10", "0AD", "B10 0AD"),
        ("M1 1AE", "M1", "1AE", "M1 1AE"),
        ("w1a0ax", "W1A", "0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A", "1BB", "EC1A 1BB"),
        ("cr2 6xh", "CR2", "6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55", "1PT", "DN55 1PT"),
        ("BT1 1AA", "BT1", "1AA", "BT1 1AA"),
        ("ls6\u00a03hn", "LS6", "3HN", "LS6 3HN"),  # no-break space from a web page
        ("LS6\t3HN\n", "LS6", "3HN", "LS6 3HN"),
        ("LS 63HN", "LS6", "3HN", "LS6 3HN"),  # misplaced space: the length decides
        ("SW1A 1 AA", "SW1A", "1AA", "SW1A 1AA"),
        ("GIR 0AA", "GIR", "0AA", "GIR 0AA"),
        ("gir0aa", "GIR", "0AA", "GIR 0AA"),
    ],
)
def test_parse_full_postcodes(text: str, outward: str, inward: str, formatted: str) -> None:
    pc = geo.parse_postcode(text)
    assert (pc.outward, pc.inward, pc.formatted) == (outward, inward, formatted)
    assert pc.is_full and str(pc) == formatted
    assert pc.district == outward


@pytest.mark.parametrize(
    ("text", "outward"),
    [("LS6", "LS6"), ("ls6", "LS6"), (" sw1a ", "SW1A"), ("CF10", "CF10"), ("e1w", "E1W")],
)
def test_parse_outward_code_only(text: str, outward: str) -> None:
    pc = geo.parse_postcode(text)
    assert pc == Postcode(outward, None)
    assert pc.formatted == outward and not pc.is_full and pc.sector is None


def test_postcode_parts() -> None:
    pc = geo.parse_postcode("sw1a 1aa")
    assert (pc.area, pc.district, pc.sector) == ("SW", "SW1A", "SW1A 1")
    assert geo.parse_postcode("B10 0AD").area == "B"
    assert geo.parse_postcode("LS6").area == "LS"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", r"empty"),
        ("   ", r"empty"),
        ("LS6-3HN", r"only letters, digits and a space"),
        ("LS6 3HN!", r"only letters, digits and a space"),
        ("ß1", r"only letters, digits and a space"),  # "ß".upper() == "SS" must not pass
        ("Ü1 1AA", r"only letters, digits and a space"),
        ("12345", r"starts with one or two letters"),
        ("1LS 3HN", r"starts with one or two letters"),
        ("LS", r"LS is not a postcode district"),
        ("LS 3HN", r"LS is not a postcode district"),
        ("LSX 3HN", r"LSX is not a postcode district"),
        ("QQ1 1AA", r"QQ1 is not a possible UK postcode district"),
        ("X1 1AA", r"X1 is not a possible"),
        ("AI1 1AA", r"AI1 is not a possible"),
        ("LS6 3", r"part after LS6 is incomplete"),
        ("LS6 3H", r"part after LS6 is incomplete"),
        ("LS6 HN3", r"part after LS6 should be a digit and two letters"),
        ("LS6 3CN", r"part after LS6 should be a digit and two letters"),
        ("LS6 3HNX", r"part after LS6 should be a digit and two letters"),
        ("LS6 3HN LS6 3HN", r"too long"),
        ("A" * 10_000, r"too long"),
    ],
)
def test_parse_malformed_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(PostcodeError, match=problem):
        geo.parse_postcode(text)


def test_postcode_error_is_a_value_error_and_never_echoes_the_inward_code() -> None:
    assert issubclass(PostcodeError, ValueError)
    with pytest.raises(ValueError, match="part after LS6") as info:
        geo.parse_postcode("LS6 3CK")  # C and K never appear in an inward code
    assert "3CK" not in str(info.value)


def test_parse_rejects_non_text() -> None:
    with pytest.raises(PostcodeError, match="must be text"):
        geo.parse_postcode(None)  # type: ignore[arg-type]


_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@settings(max_examples=200, deadline=None)
@given(
    outward=st.sampled_from(sorted(geo.districts())),
    digit=st.integers(0, 9),
    letters=st.text(alphabet=_INWARD_LETTERS, min_size=2, max_size=2),
    lower=st.booleans(),
    sep=st.sampled_from(["", " ", "  ", "\t", "\u00a0"]),
)
def test_parse_round_trips_every_known_district(
    outward: str, digit: int, letters: str, lower: bool, sep: str
) -> None:
    text = f"{outward}{sep}{digit}{letters}"
    pc = geo.parse_postcode(text.lower() if lower else text)
    assert pc == Postcode(outward, f"{digit}{letters}")
    assert geo.parse_postcode(pc.formatted) == pc
    assert geo.parse_postcode(outward.lower()) == Postcode(outward)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_parse_never_fails_other_than_with_postcode_error(text: str) -> None:
    try:
        pc = geo.parse_postcode(text)
    except PostcodeError:
        return
    assert re.fullmatch(r"[A-Z0-9]{2,4}( [0-9][A-Z]{2})?", pc.formatted)


# -- locating ------------------------------------------------------------------------

# Well-known places, and how far (km) a district centroid may be from them.
KNOWN = [
    ("LS1 4AP", 53.797, -1.548, "Leeds city centre"),
    ("CF10 1EP", 51.47, -3.17, "Cardiff centre"),
    ("E1 6AN", 51.517, -0.06, "Whitechapel"),
    ("BT1 5GS", 54.60, -5.93, "Belfast centre"),
    ("G1 1XQ", 55.86, -4.25, "Glasgow centre"),
    ("SW1A 1AA", 51.501, -0.142, "Westminster"),
    ("M1 1AE", 53.478, -2.237, "Manchester centre"),
    ("EH1 1YZ", 55.951, -3.19, "Edinburgh Old Town"),
    ("B10 0AD", 52.47, -1.85, "Small Heath, Birmingham"),
    ("AB10 1AB", 57.145, -2.1, "Aberdeen centre"),
    ("PL1 1EA", 50.37, -4.14, "Plymouth centre"),
    ("ZE1 0AA", 60.155, -1.145, "Lerwick"),
    ("TR21 0HE", 49.915, -6.315, "St Mary's, Isles of Scilly"),
]


@pytest.mark.parametrize(("postcode", "lat", "lon", "place"), KNOWN)
def test_known_district_centroids(postcode: str, lat: float, lon: float, place: str) -> None:
    found = geo.locate(postcode)
    assert found is not None, place
    assert found.precision == "district"
    assert found.matched == geo.parse_postcode(postcode).outward
    assert distance_km(found.point, (lat, lon)) < 5, place


def test_locate_accepts_parsed_or_text_and_outward_only() -> None:
    by_text = geo.locate("ls6 3hn")
    assert by_text is not None
    assert by_text == geo.locate(geo.parse_postcode("LS6 3HN")) == geo.locate("LS6")
    assert by_text.point == LatLon(by_text.lat, by_text.lon)
    assert distance_km(by_text.point, (53.82, -1.57)) < 3  # Headingley / Hyde Park


def test_locate_malformed_text_raises() -> None:
    with pytest.raises(PostcodeError):
        geo.locate("not a postcode")


def test_area_fallback_for_unknown_district() -> None:
    assert "LS30" not in geo.districts()
    found = geo.locate("LS30 1AA")
    assert found is not None
    assert (found.precision, found.matched) == ("area", "LS")
    leeds = [p for code, p in geo.districts().items() if re.fullmatch(r"LS[0-9]+", code)]
    mean = (sum(p.lat for p in leeds) / len(leeds), sum(p.lon for p in leeds) / len(leeds))
    assert distance_km(found.point, mean) < 0.05
    assert distance_km(found.point, (53.797, -1.548)) < 25


@pytest.mark.parametrize(("code", "members"), [("W1", "W1"), ("EC1", "EC1"), ("WC2", "WC2")])
def test_split_district_falls_back_to_its_lettered_districts(code: str, members: str) -> None:
    assert code not in geo.districts()
    found = geo.locate(code)
    assert found is not None
    assert (found.precision, found.matched) == ("district_group", code)
    parts = [p for c, p in geo.districts().items() if re.fullmatch(members + "[A-Z]", c)]
    assert len(parts) >= 2
    for p in parts:
        assert distance_km(found.point, p) < 5


def test_unknown_lettered_district_uses_its_siblings() -> None:
    assert "EC1X" not in geo.districts()
    found = geo.locate("EC1X 1AA")
    assert found == geo.locate("EC1")


@pytest.mark.parametrize("text", ["JE2 3AB", "GY1 1AA", "IM1 1AA", "GIR 0AA"])
def test_places_outside_the_table_are_none(text: str) -> None:
    assert geo.locate(text) is None


def test_district_of_is_the_outward_code() -> None:
    assert geo.district_of("ls6 3hn") == "LS6"
    assert geo.district_of(geo.parse_postcode("SW1A1AA")) == "SW1A"
    assert geo.district_of("b10") == "B10"
    with pytest.raises(PostcodeError):
        geo.district_of("??")


def test_distance_between_postcodes() -> None:
    d = geo.distance_between("LS1 4AP", "M1 1AE")
    assert d is not None and 55 < d < 61
    assert geo.distance_between("LS6", "JE2 3AB") is None
    assert geo.distance_between("LS6", "ls6 3hn") == 0


def test_table_is_loaded_once() -> None:
    assert geo.districts() is geo.districts()
    with pytest.raises(TypeError):
        geo.districts()["ZZ1"] = LatLon(0, 0)  # type: ignore[index]


# -- distances -----------------------------------------------------------------------

LEEDS = (53.7997, -1.5492)  # Leeds city centre
MANCHESTER = (53.4808, -2.2426)  # Manchester city centre


def test_distance_leeds_manchester() -> None:
    assert distance_km(LEEDS, MANCHESTER) == pytest.approx(58, abs=1)
    assert distance_km(MANCHESTER, LEEDS) == distance_km(LEEDS, MANCHESTER)
    assert distance_km(LEEDS, LEEDS) == 0


def test_distance_other_known_distances() -> None:
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    assert distance_km(london, paris) == pytest.approx(343.5, abs=1.5)
    # A quarter of the meridian.
    assert distance_km((0, 0), (90, 0)) == pytest.approx(math.pi * 6371.0088 / 2)
    # Antipodes: no domain error from rounding.
    assert distance_km((0, 0), (0, 180)) == pytest.approx(math.pi * 6371.0088)


def test_distance_between_postcodes_is_that_of_their_locations() -> None:
    leeds, manchester = geo.locate("LS1"), geo.locate("M1")
    assert isinstance(leeds, Location) and isinstance(manchester, Location)
    d = geo.distance_between("LS1", "M1")
    assert d == pytest.approx(58, abs=3)
    assert d == distance_km(leeds.point, manchester.point)


def test_bounding_box_around_leeds() -> None:
    box = geo.bounding_box(LEEDS, 10)
    assert box.south < LEEDS[0] < box.north and box.west < LEEDS[1] < box.east
    # 10 km is about 0.09° of latitude and 0.152° of longitude at 53.8° N.
    assert box.north - LEEDS[0] == pytest.approx(0.0899, abs=0.0005)
    assert box.east - LEEDS[1] == pytest.approx(0.1523, abs=0.002)
    assert box.contains(LEEDS)
    assert not box.contains(MANCHESTER)
    assert geo.bounding_box(LEEDS, 60).contains(MANCHESTER)


def test_bounding_box_zero_radius_and_bad_input() -> None:
    box = geo.bounding_box(LEEDS, 0)
    assert box.contains(LEEDS)
    with pytest.raises(ValueError, match="radius_km"):
        geo.bounding_box(LEEDS, -1)
    with pytest.raises(ValueError, match="radius_km"):
        geo.bounding_box(LEEDS, math.inf)
    with pytest.raises(ValueError, match="center"):
        geo.bounding_box((91, 0), 1)


def test_bounding_box_near_a_pole_or_the_antimeridian_spans_all_longitudes() -> None:
    polar = geo.bounding_box((89.9, 10), 50)
    assert (polar.west, polar.east, polar.north) == (-180, 180, 90)
    dateline = geo.bounding_box((0, 179.95), 20)
    assert (dateline.west, dateline.east) == (-180, 180)


def _destination(start: tuple[float, float], bearing_deg: float, km: float) -> tuple[float, float]:
    lat1, lon1 = math.radians(start[0]), math.radians(start[1])
    d, b = km / EARTH_RADIUS_KM, math.radians(bearing_deg)
    lat2 = math.asin(math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b))
    lon2 = lon1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(lat1), math.cos(d) - math.sin(lat1) * math.sin(lat2)
    )
    return math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(49.0, 61.0),
    lon=st.floats(-8.5, 2.0),
    radius=st.floats(0.0, 300.0),
    bearing=st.floats(0.0, 360.0),
    fraction=st.floats(0.0, 1.0),
)
def test_bounding_box_never_drops_a_point_within_the_radius(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    center = (lat, lon)
    point = _destination(center, bearing, radius * fraction)
    assert distance_km(center, point) <= radius + 1e-6
    assert geo.bounding_box(center, radius).contains(point)


def test_bounding_box_is_tight() -> None:
    # The circle touches each edge: points due north/south, and at the tangent
    # bearing east/west, lie on the box's edges (within a metre).
    box = geo.bounding_box(LEEDS, 50)
    north = _destination(LEEDS, 0, 50)
    assert north[0] == pytest.approx(box.north, abs=1e-5)
    widest = max(_destination(LEEDS, b / 10, 50)[1] for b in range(0, 1800))
    assert widest == pytest.approx(box.east, abs=1e-4)


# -- the data file -------------------------------------------------------------------

# Great Britain, Northern Ireland and the Isles of Scilly, with a margin.
UK_LAT = (49.8, 60.9)
UK_LON = (-8.2, 1.8)


def _rows() -> list[list[str]]:
    text = resources.files("peerhub.data").joinpath("postcode_districts.csv").read_text("utf-8")
    return list(csv.reader(text.splitlines()))


def test_data_file_shape() -> None:
    rows = _rows()
    assert rows[0] == ["outward_code", "latitude", "longitude"]
    body = rows[1:]
    assert len(body) > 2500
    codes = [r[0] for r in body]
    assert len(codes) == len(set(codes)), "duplicate districts"
    for code, lat, lon in body:
        assert geo.parse_postcode(code) == Postcode(code), code
        assert re.fullmatch(r"-?[0-9]+\.[0-9]{4}", lat) and re.fullmatch(
            r"-?[0-9]+\.[0-9]{4}", lon
        ), code
        assert UK_LAT[0] <= float(lat) <= UK_LAT[1], code
        assert UK_LON[0] <= float(lon) <= UK_LON[1], code
    assert len(geo.districts()) == len(body)


def test_data_covers_the_four_nations() -> None:
    codes = set(geo.districts())
    areas = {re.match(r"[A-Z]+", c).group(0) for c in codes}  # type: ignore[union-attr]
    assert len(areas) >= 120
    for sample in ["LS6", "B10", "SW1A", "CF10", "SA1", "LL57", "EH1", "G1", "IV1", "ZE1"]:
        assert sample in codes
    northern_ireland = {c for c in codes if c.startswith("BT")}
    assert len(northern_ireland) >= 75
    assert {"BT1", "BT47", "BT74", "BT94"} <= northern_ireland


def test_every_district_is_near_its_area() -> None:
    # Catches swapped columns or a stray row: the largest real spread is in the
    # Highlands (PH44 is ~130 km from the mean of the PH districts).
    by_area: dict[str, list[LatLon]] = {}
    for code, point in geo.districts().items():
        by_area.setdefault(re.sub(r"[0-9].*", "", code), []).append(point)
    for area, points in by_area.items():
        mean = (sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points))
        for p in points:
            assert distance_km(p, mean) < 160, area


def test_licence_file_carries_the_attributions() -> None:
    text = resources.files("peerhub.data").joinpath("POSTCODE-DATA-LICENCE.md").read_text("utf-8")
    for needed in [
        "Contains OS data © Crown copyright and database right",
        "Contains Royal Mail data © Royal Mail copyright and database right",
        "Contains National Statistics data © Crown copyright and database right",
        "GeoNames",
        "Open Government Licence",
    ]:
        assert needed in text
