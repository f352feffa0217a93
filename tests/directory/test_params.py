"""Query-string parsing and the plain-words presentation, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peerhub.directory import params
from peerhub.directory.params import Invalid, InvalidForm, parse_api, parse_web
from peerhub.directory.present import ages_words, paragraphs, town_of, view_of
from peerhub.models import Group, Organisation


def web(query: list[tuple[str, str]]) -> params.WebQuery:
    return parse_web(query)


def test_the_web_query_is_understood_and_written_back_canonically() -> None:
    wq = web(
        [
            ("q", "  hearing   voices  hearing "),
            ("language", "PA-arab"),
            ("language", "English"),
            ("community", "women"),
            ("day", "TU"),
            ("day", "monday"),
            ("day", "tue"),
            ("format", "in_person"),
            ("postcode", "ls6 3hn"),
            ("within", "25"),
            ("page", "2"),
            ("unknown", "ignored"),
        ]
    )
    s = wq.search
    assert s.words == ("hearing", "voices")
    assert s.languages == ("pa-Arab", "en")
    assert s.days == (0, 1)
    assert s.near is not None and s.near.radius_km == pytest.approx(25 * 1.609344)
    assert wq.place is not None and wq.place.postcode == "LS6 3HN"
    assert wq.page == 2
    assert wq.query_items(page=3) == [
        ("q", "hearing voices"),
        ("language", "pa-Arab"),
        ("language", "en"),
        ("community", "women"),
        ("format", "in_person"),
        ("day", "monday"),
        ("day", "tuesday"),
        ("postcode", "LS6 3HN"),
        ("within", "25"),
        ("page", "3"),
    ]


def test_every_web_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidForm) as caught:
        web(
            [
                ("q", "x" * 201),
                ("language", "12"),
                ("stage", "fine"),
                ("topic", "cats"),
                ("access", "lift"),
                ("format", "zoom"),
                ("day", "funday"),
                ("postcode", "XX"),
                ("within", "1000"),
                ("page", "0"),
                ("organisation", "Not A Slug"),
            ]
        )
    assert set(caught.value.errors) == {
        "q",
        "language",
        "stage",
        "topic",
        "access",
        "format",
        "day",
        "postcode",
        "within",
        "page",
        "organisation",
    }
    assert caught.value.form["postcode"] == "XX"  # shown again, escaped by the template


def test_a_postcode_nobody_can_place_is_refused_politely() -> None:
    with pytest.raises(InvalidForm) as caught:
        web([("postcode", "JE2 3AB")])
    assert "JE2" in caught.value.errors["postcode"]
    assert "3AB" not in caught.value.errors["postcode"]  # the inward code is never echoed


def test_too_many_values_of_one_parameter() -> None:
    with pytest.raises(InvalidForm) as caught:
        web([("language", "en")] * 13)
    assert "at most 12" in caught.value.errors["language"]


@pytest.mark.parametrize(
    ("raw", "km"),
    [("5000", 5.0), ("5km", 5.0), ("800m", 0.8), (" 2.5 KM ", 2.5), ("200000", 200.0)],
)
def test_proximity_is_metres_unless_it_says_km(raw: str, km: float) -> None:
    assert params.proximity_km(raw) == pytest.approx(km)


@pytest.mark.parametrize("raw", ["0", "-5", "200001", "far", "5 miles", ""])
def test_bad_proximity(raw: str) -> None:
    with pytest.raises(ValueError, match="metres"):
        params.proximity_km(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T09:30:00Z", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
        ("2026-11-01T09:30:00+01:00", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T09:30:00 01:00", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
        ("2026-11-01T09:30", datetime(2026, 11, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_modified_after_forms(raw: str, expected: datetime) -> None:
    assert params.datetime_of(raw) == expected


def test_api_terms_become_tag_filters() -> None:
    from peerhub import taxonomy

    women = next(t for t in taxonomy.COMMUNITIES.terms if t.code == "women")
    peer = taxonomy.PEER_LED.terms[0]
    q = parse_api(
        [("taxonomy_term_id", f"{women.id},{peer.id.upper()}"), ("per_page", "100")],
        statuses=("active",),
    )
    assert q.search.communities == ("women",) and q.search.peer_led
    assert q.per_page == 100
    with pytest.raises(Invalid) as caught:
        parse_api([("per_page", "101"), ("page", "x")], statuses=("active",))
    assert caught.value.field == "page" and set(caught.value.errors) == {"page", "per_page"}


def test_plain_words() -> None:
    assert town_of("Room 3, 11 Example Street, London") == "London"
    assert town_of("Just a hall") is None and town_of(None) is None
    assert paragraphs("One\r\n\r\nTwo\n\n\n\nThree\n") == ["One", "Two", "Three"]
    g = Group(age_min=18, age_max=None)
    assert ages_words(g) == "Ages 18 and over"


def test_places_and_distance_words() -> None:
    org = Organisation(name="O", lived_experience_led=True)
    g = Group(
        name="G",
        slug="g",
        status="active",
        format="online",
        capacity=3,
        dtstart_local="2026-09-01T18:00:00",
        rrule="FREQ=WEEKLY",
        time_zone="Europe/London",
        duration_minutes=60,
        exdates=[],
        tags=[],
    )
    g.organisation = org
    now = datetime(2026, 11, 2, tzinfo=UTC)
    assert view_of(g, now, places_taken=2).places_words == "1 place left"
    assert view_of(g, now, places_taken=5).places_words == "Full: waiting list"
    g.capacity = None
    assert view_of(g, now).places_words == "Places available"
    assert view_of(g, now, distance_km=0.5).distance_words == "less than a mile away"
    assert view_of(g, now, distance_km=1.7).distance_words == "about 1 mile away"
    first = view_of(g, now).next_meeting
    assert first is not None and first.words == "Tuesday 3 November 2026, 18:00 to 19:00"


def test_remembered_meetings_are_the_same_as_fresh_ones() -> None:
    from datetime import timedelta

    from peerhub.directory import present

    g = Group(
        dtstart_local="2026-09-01T18:00:00",
        rrule="FREQ=WEEKLY;BYDAY=TU",
        time_zone="Europe/London",
        duration_minutes=90,
        exdates=["2026-11-10T18:00:00"],
    )
    moment = datetime(2026, 11, 2, tzinfo=UTC)
    # Every 7 hours for ten weeks, across the cancelled session and into the next
    # sessions; and back in time, which must not be served from the memo.
    times = [moment + timedelta(hours=7 * i) for i in range(240)] + [moment]
    for now in times:
        assert present.meetings_of(g, now, 3) == present._expand(g, now, 3), now
    assert present.meetings_of(g, moment, 3)[0].start.isoformat() == "2026-11-03T18:00:00+00:00"


def test_the_directory_takes_a_town_and_never_guesses_a_typo_silently() -> None:
    query = web([("postcode", "Leeds")])
    assert query.place is not None and query.place.postcode == "Leeds"
    assert abs(query.place.location.lat - 53.8) < 0.1
    with pytest.raises(InvalidForm) as caught:
        web([("postcode", "Manchster")])
    assert "Did you mean Manchester" in caught.value.errors["postcode"]
