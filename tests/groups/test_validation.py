"""Turning forms into groups and organisations: every field, and every way to get it wrong."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from peerhub.errors import FieldError
from peerhub.groups.languages import check_language_tag, language_list
from peerhub.groups.validation import (
    FormErrors,
    GroupInput,
    parse_group,
    parse_organisation,
    repeat_of,
    rule_for,
    slugify,
    website,
)
from tests.groups.helpers import group_form


def _parse(**overrides: Any) -> GroupInput:
    data = group_form(**overrides)
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    lists = {k: v for k, v in data.items() if isinstance(v, list)}
    lists["languages"] = [values.pop("languages")]
    lists["interpretation"] = [values.pop("interpretation")]
    return parse_group(values, lists)


def _errors(**overrides: Any) -> dict[str, str]:
    with pytest.raises(FormErrors) as caught:
        _parse(**overrides)
    return caught.value.errors


def test_a_valid_online_group_parses_in_full() -> None:
    group = _parse()
    assert group.name == "Tuesday Talk"
    assert group.languages == ["en", "bfi"]
    assert group.interpretation == ["pl"]
    assert group.stages == ["recovery", "staying_well"]
    assert group.dtstart_local == "2026-10-20T18:00:00"
    assert group.rrule == "FREQ=WEEKLY;BYDAY=TU"
    assert group.time_zone == "Europe/London"
    assert group.age_min == 18 and group.age_max is None
    assert group.address is None and group.latitude is None
    assert group.description == "A calm space to talk.\nTea and biscuits."


def test_an_in_person_group_is_placed_from_its_postcode() -> None:
    group = _parse(format="in_person", address="Hall, 1 Park Lane", postcode="ls1  4ap")
    assert group.postcode == "LS1 4AP"
    assert group.latitude is not None and group.longitude is not None
    assert 53.5 < group.latitude < 54.0
    assert -2.0 < group.longitude < -1.2
    exact = _parse(
        format="hybrid", address="Hall", postcode="LS1 4AP", latitude="53.8", longitude="-1.55"
    )
    assert (exact.latitude, exact.longitude) == (53.8, -1.55)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"repeat": "advanced", "rrule": "FREQ=HOURLY"}, "rrule"),
        ({"repeat": "advanced", "rrule": "every tuesday"}, "rrule"),
        ({"repeat": "advanced", "rrule": ""}, "rrule"),
        ({"languages": "Nonsenseish"}, "languages"),
        ({"languages": "zz"}, "languages"),
        ({"languages": "en-"}, "languages"),
        ({"languages": ""}, "languages"),
        ({"interpretation": "x-klingon"}, "interpretation"),
        ({"capacity": "-1"}, "capacity"),
        ({"capacity": "ten"}, "capacity"),
        ({"format": "in_person", "address": "Hall", "postcode": "NOT A POSTCODE"}, "postcode"),
        ({"format": "in_person", "address": "Hall", "postcode": "LS1"}, "postcode"),
        ({"format": "in_person", "address": "", "postcode": "LS1 4AP"}, "address"),
        (
            {"format": "hybrid", "address": "Hall", "postcode": "LS1 4AP", "latitude": "53"},
            "longitude",
        ),
        (
            {
                "format": "hybrid",
                "address": "Hall",
                "postcode": "LS1 4AP",
                "latitude": "10",
                "longitude": "0",
            },
            "latitude",
        ),
        ({"format": "boat"}, "format"),
        ({"name": ""}, "name"),
        ({"name": "ab"}, "name"),
        ({"stages": []}, "stages"),
        ({"stages": ["calm"]}, "stages"),
        ({"communities": ["made_up"]}, "communities"),
        ({"age_min": "30", "age_max": "20"}, "age_max"),
        ({"age_min": "200"}, "age_min"),
        ({"first_date": "3 November"}, "first_date"),
        ({"first_date": "2026-02-30"}, "first_date"),
        ({"start_time": "six"}, "start_time"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"duration_minutes": "5"}, "duration_minutes"),
        ({"join_policy": "invite"}, "join_policy"),
        ({"status": "gone"}, "status"),
        ({"repeat": "yearly"}, "repeat"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, object], field: str) -> None:
    errors = _errors(**overrides)
    assert field in errors, errors
    assert errors[field]


def test_every_mistake_is_reported_at_once() -> None:
    errors = _errors(
        name="", languages="Chinese", capacity="-3", repeat="advanced", rrule="FREQ=NOPE"
    )
    assert set(errors) == {"name", "languages", "capacity", "rrule"}
    assert errors["capacity"] == "Capacity cannot be below zero."
    with pytest.raises(FieldError) as caught:
        _parse(capacity="-3")
    assert caught.value.field == "capacity"


def test_an_online_group_needs_no_venue_even_if_one_is_typed() -> None:
    group = _parse(format="online", address="", postcode="garbage")
    assert group.postcode is None


@pytest.mark.parametrize(
    ("first", "repeat", "rule"),
    [
        ("2026-10-20", "weekly", "FREQ=WEEKLY;BYDAY=TU"),
        ("2026-10-20", "fortnightly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        ("2026-10-13", "monthly", "FREQ=MONTHLY;BYDAY=2TU"),
        ("2026-10-27", "monthly", "FREQ=MONTHLY;BYDAY=4TU"),
        ("2026-10-29", "monthly", "FREQ=MONTHLY;BYDAY=-1TH"),
        ("2026-11-01", "monthly", "FREQ=MONTHLY;BYDAY=1SU"),
    ],
)
def test_simple_choices_become_rrules_and_back(first: str, repeat: str, rule: str) -> None:
    group = _parse(first_date=first, repeat=repeat)
    assert group.rrule == rule
    assert repeat_of(rule, f"{first}T18:00:00") == (repeat, "")


def test_an_advanced_rule_is_kept_and_shown_as_advanced() -> None:
    group = _parse(repeat="advanced", rrule="rrule:freq=weekly;byday=mo,th")
    assert group.rrule == "FREQ=WEEKLY;BYDAY=MO,TH"
    assert repeat_of(group.rrule, group.dtstart_local) == (
        "advanced",
        "FREQ=WEEKLY;BYDAY=MO,TH",
    )
    assert rule_for("weekly", datetime(2026, 10, 21, 18, 0)) == "FREQ=WEEKLY;BYDAY=WE"  # noqa: DTZ001


def test_languages_are_checked_and_made_canonical() -> None:
    assert check_language_tag("PA-arab", "languages") == "pa-Arab"
    assert check_language_tag("bfi", "languages") == "bfi"
    assert check_language_tag("BSL", "languages") == "bfi"
    assert check_language_tag("en-GB", "languages") == "en"
    assert check_language_tag("english", "languages") == "en"
    assert check_language_tag("Cymraeg", "languages") == "cy"
    assert language_list(["cy, en", "en bfi"], "languages") == ["cy", "en", "bfi"]
    assert language_list(["British Sign Language, Urdu (Pakistan)"], "languages") == ["bfi", "ur"]
    for bad in ("zz", "i-klingon", "en--gb", "x-private", "Nonsenseish"):
        with pytest.raises(FieldError) as caught:
            check_language_tag(bad, "languages")
        assert caught.value.field == "languages"
    with pytest.raises(FieldError, match="Mandarin") as caught:
        check_language_tag("Chinese", "interpretation")
    assert caught.value.field == "interpretation"
    with pytest.raises(FieldError, match="at most 12"):
        language_list(
            [
                ", ".join(
                    ["en", "cy", "ur", "pl", "ro", "so", "ar", "fa", "ps", "ti", "am", "yo", "tw"]
                )
            ],
            "languages",
        )


def test_organisation_fields() -> None:
    org = parse_organisation(
        {
            "name": "  Calder   Peer  Network ",
            "description": "We run groups.",
            "website": "calder.example.org",
            "email": "hello@calder.example.org",
            "phone": "0113 496 0000",
            "lived_experience_led": "yes",
        }
    )
    assert org.name == "Calder Peer Network"
    assert org.website == "https://calder.example.org"
    assert org.lived_experience_led is True
    assert parse_organisation({"name": "Quiet Org"}).lived_experience_led is False
    with pytest.raises(FormErrors) as caught:
        parse_organisation(
            {"name": "", "website": "javascript:alert(1)", "email": "nope", "phone": "call us"}
        )
    assert set(caught.value.errors) == {"name", "website", "email", "phone"}


def test_websites_must_be_web_addresses() -> None:
    assert website("https://example.org/groups") == "https://example.org/groups"
    for bad in ("ftp://example.org", "https://localhost", "http://exa mple.org", "https://"):
        with pytest.raises(FieldError):
            website(bad)


def test_slugs_are_ascii_and_never_empty() -> None:
    assert slugify("Café Talk: Leeds!") == "cafe-talk-leeds"
    assert slugify("؟؟") == "group"
    assert len(slugify("x" * 300)) == 80


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"first_date": "9999-12-31", "start_time": "23:30"}, "first_date"),
        ({"first_date": "0001-01-01", "time_zone": "Asia/Tokyo"}, "first_date"),
        ({"dtstart": "9999-12-31T23:30:00"}, "first_date"),
        ({"time_zone": "Europe"}, "time_zone"),
        ({"time_zone": "Europe/" + "a" * 300}, "time_zone"),
        ({"latitude": "nan", "longitude": "1", "format": "in_person"}, "latitude"),
        ({"capacity": "1e400"}, "capacity"),
        ({"age_min": "²"}, "age_min"),
    ],
)
def test_dates_zones_and_numbers_that_would_overflow_are_refused_by_name(
    overrides: dict[str, str], field: str
) -> None:
    """Each was accepted (a 500 on every page showing the group) or raised (a 500 here)."""
    assert field in _errors(**overrides)
