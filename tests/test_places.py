"""peerhub.places: postcodes and towns as people type them, typos corrected out loud."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from peerhub import geo, places


def test_a_postcode_is_placed_at_its_district_and_named_by_its_town() -> None:
    r = places.resolve("m1 1ae")
    assert not r.corrected and r.note is None and r.alternatives == ()
    assert r.place.kind == "postcode"
    assert r.place.query == "M1 1AE"
    assert r.place.district == "M1"
    assert r.place.town == "Manchester"
    assert r.place.label == "M1 1AE, Manchester"
    assert r.place.nation == "England"
    assert r.place.point == tuple(geo.districts()["M1"])


@pytest.mark.parametrize(
    ("typed", "town", "nation"),
    [
        ("Leeds", "Leeds", "England"),
        ("  manchester ", "Manchester", "England"),
        ("Caerdydd", "Cardiff", "Wales"),  # the Welsh name
        ("saint albans", "St Albans", "England"),
        ("St. Albans", "St Albans", "England"),
        ("Londonderry", "Derry", "Northern Ireland"),
        ("Inverness", "Inverness", "Scotland"),
        ("Kirkwall", "Kirkwall", "Scotland"),
    ],
)
def test_towns_and_cities_are_accepted_by_name(typed: str, town: str, nation: str) -> None:
    r = places.resolve(typed)
    assert not r.corrected
    assert r.place.kind == "town" and r.place.town == town and r.place.nation == nation
    assert r.place.district  # a postcode district for the coarse demand area
    assert places.nation_of(r.place.district) == nation


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("MI 1AE", "M1"),  # letter I for 1: a guess is a district
        ("M1 IAE", "M1"),
        ("LSG 3HN", "LS6"),  # G for 6
        ("SW1A OAA", "SW1A"),  # letter O for zero
        ("B1O", "B10"),
    ],
)
def test_postcode_typos_are_corrected_out_loud(typed: str, meant: str) -> None:
    r = places.resolve(typed)
    assert r.place.query == meant
    if typed.upper().replace(" ", "") != meant.replace(" ", ""):
        assert r.corrected is True
        assert r.note is not None and r.place.label in r.note
        assert "could not find" in r.note or "did not look right" in r.note


def test_a_correction_lists_the_other_guesses_and_they_read_back() -> None:
    r = places.resolve("LS0")
    assert r.corrected and r.alternatives
    assert all(a.query != r.place.query for a in r.alternatives)
    for alt in r.alternatives:
        again = places.resolve(alt.query)
        assert not again.corrected and again.place.query == alt.query


def test_an_unknown_district_is_never_placed_silently_at_its_area() -> None:
    # LS0 is not a district; today's geo.locate would put it at the middle of Leeds.
    assert geo.locate("LS0") is not None and geo.locate("LS0").precision == "area"  # type: ignore[union-attr]
    r = places.resolve("LS0")
    assert r.corrected is True and r.place.district.startswith("LS")
    assert r.note is not None and "LS0" in r.note


def test_town_typos_are_corrected_out_loud() -> None:
    r = places.resolve("Manchster")
    assert r.corrected and r.place.town == "Manchester"
    assert "Manchster" in (r.note or "")
    assert places.resolve("Edinbrugh").place.town == "Edinburgh"


def test_a_name_several_towns_share_searches_the_largest_and_lists_the_others() -> None:
    r = places.resolve("Newport")
    assert r.place.nation == "Wales" and r.place.district.startswith("NP")
    assert r.note is not None and "more than one Newport" in r.note
    assert len(r.alternatives) >= 3
    # Each other Newport's label finds exactly that Newport again.
    for alt in r.alternatives:
        again = places.resolve(alt.query)
        assert again.place.district == alt.district and again.alternatives == ()
    narrowed = places.resolve("Newport, England (TF10)")
    assert narrowed.place.district == "TF10" and narrowed.note is None


@pytest.mark.parametrize("typed", ["xyzzy", "", "   ", "ZZZZ ZZZ", "Q" * 150])
def test_nothing_plausible_is_a_plain_error(typed: str) -> None:
    with pytest.raises(places.PlaceError) as info:
        places.resolve(typed)
    assert "postcode" in str(info.value)


def test_crown_dependencies_are_not_corrected_into_uk_districts() -> None:
    with pytest.raises(places.PlaceError, match="Jersey"):
        places.resolve("JE2 3AB")


@pytest.mark.parametrize("typed", ["MI 9XQ", "ZZ9 9ZZ", "M1 IXQ", "LS0 9XQ"])
def test_messages_never_repeat_the_second_half_of_what_was_typed(typed: str) -> None:
    try:
        text = places.resolve(typed).note or ""
    except places.PlaceError as exc:
        text = str(exc)
    assert typed.split()[1] not in text


def test_every_district_has_a_town_and_a_nation() -> None:
    table = resources.files("peerhub.data").joinpath("district_towns.csv").read_text("utf-8")
    rows = list(csv.DictReader(table.splitlines()))
    assert {r["outward_code"] for r in rows} == set(geo.districts())
    assert all(r["town"] and r["nation"] in places.NATIONS for r in rows)


@pytest.mark.parametrize(
    ("district", "town", "nation"),
    [
        ("M1", "Manchester", "England"),
        ("LS6", "Leeds", "England"),
        ("E1", "London", "England"),
        ("W1", "London", "England"),  # split into W1A … W1W
        ("CF10", "Cardiff", "Wales"),
        ("EH1", "Edinburgh", "Scotland"),
        ("IV1", "Inverness", "Scotland"),
        ("BT1", "Belfast", "Northern Ireland"),
    ],
)
def test_districts_are_named_by_their_town(district: str, town: str, nation: str) -> None:
    assert places.town_of(district) == town
    assert places.nation_of(district) == nation
    assert places.district_label(f"{district} 1AA") == town
