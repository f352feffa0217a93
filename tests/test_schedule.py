"""Recurrence in the group's zone, across the clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from peerhub.schedule import ScheduleError, describe, occurrences, validate_rrule


def test_weekly_meeting_keeps_local_time_across_autumn_clock_change() -> None:
    # Clocks go back in the UK on Sunday 25 October 2026.
    after = datetime(2026, 10, 12, 12, 0, tzinfo=UTC)
    meetings = occurrences(
        "2026-09-01T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "Europe/London", after=after, count=4
    )
    local = [s.start.strftime("%Y-%m-%d %H:%M %Z") for s in meetings]
    assert local == [
        "2026-10-13 18:00 BST",
        "2026-10-20 18:00 BST",
        "2026-10-27 18:00 GMT",
        "2026-11-03 18:00 GMT",
    ]
    utc_hours = [s.start_utc.hour for s in meetings]
    assert utc_hours == [17, 17, 18, 18]


def test_weekly_meeting_keeps_local_time_across_spring_clock_change() -> None:
    # Clocks go forward on Sunday 29 March 2026.
    after = datetime(2026, 3, 20, tzinfo=UTC)
    meetings = occurrences(
        "2026-01-03T10:30:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA",
        "Europe/London",
        after=after,
        count=3,
    )
    assert [s.start.strftime("%d %H:%M %Z") for s in meetings] == [
        "28 10:30 GMT",
        "11 10:30 BST",
        "25 10:30 BST",
    ]


def test_meeting_in_the_spring_gap_lands_on_a_real_instant() -> None:
    after = datetime(2026, 3, 28, tzinfo=UTC)
    meetings = occurrences(
        "2026-03-01T01:30:00",
        "FREQ=DAILY",
        "Europe/London",
        after=after,
        count=3,
        duration_minutes=30,
    )
    for s in meetings:
        assert s.start.astimezone(UTC).astimezone(s.start.tzinfo) == s.start
        assert s.end > s.start


def test_cancelled_meetings_are_skipped() -> None:
    after = datetime(2026, 11, 1, tzinfo=UTC)
    meetings = occurrences(
        "2026-09-01T18:00:00",
        "FREQ=WEEKLY;BYDAY=TU",
        "Europe/London",
        after=after,
        count=2,
        exdates=["2026-11-03T18:00:00"],
    )
    assert [s.start.day for s in meetings] == [10, 17]


def test_a_meeting_in_progress_is_still_next() -> None:
    after = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)  # 18:30 GMT, 30 minutes in
    meetings = occurrences(
        "2026-09-01T18:00:00",
        "FREQ=WEEKLY;BYDAY=TU",
        "Europe/London",
        after=after,
        count=1,
        duration_minutes=90,
    )
    assert meetings[0].start.day == 3


def test_monthly_nth_weekday_and_until() -> None:
    after = datetime(2026, 11, 1, tzinfo=UTC)
    meetings = occurrences(
        "2026-09-02T19:00:00",
        "FREQ=MONTHLY;BYDAY=1WE;UNTIL=20270101T000000",
        "Europe/London",
        after=after,
        count=5,
    )
    assert [s.start.strftime("%m-%d") for s in meetings] == ["11-04", "12-02"]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "FREQ=HOURLY",
        "FREQ=SECONDLY",
        "BYDAY=TU",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;FREQ=DAILY",
        "FREQ=WEEKLY;INTERVAL=zero",
        "<script>",
        "FREQ=WEEKLY;;",
    ],
)
def test_bad_rules_are_refused(bad: str) -> None:
    with pytest.raises(ScheduleError) as err:
        validate_rrule(bad)
    assert err.value.field == "rrule"


def test_bad_zone_and_start_are_refused() -> None:
    after = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ScheduleError) as err:
        occurrences("2026-09-01T18:00:00", "FREQ=WEEKLY", "Mars/Olympus", after=after)
    assert err.value.field == "time_zone"
    with pytest.raises(ScheduleError) as err:
        occurrences("1 September", "FREQ=WEEKLY", "Europe/London", after=after)
    assert err.value.field == "dtstart"


@pytest.mark.parametrize(
    ("start", "rule", "words"),
    [
        ("2026-09-01T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "Every Tuesday at 18:00"),
        ("2026-09-05T10:30:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", "Every other Saturday at 10:30"),
        (
            "2026-09-02T19:00:00",
            "FREQ=MONTHLY;BYDAY=1WE",
            "The first Wednesday of every month at 19:00",
        ),
        ("2026-09-07T12:00:00", "FREQ=WEEKLY", "Every Monday at 12:00"),
    ],
)
def test_describe(start: str, rule: str, words: str) -> None:
    assert describe(start, rule) == words


def test_meeting_words_from_the_point_of_view_of_now() -> None:
    from peerhub.schedule import meeting_words

    london = ZoneInfo("Europe/London")
    start = datetime(2026, 11, 3, 18, 0, tzinfo=london)
    end = datetime(2026, 11, 3, 19, 30, tzinfo=london)
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert meeting_words(start, end, monday) == "tomorrow, 18:00 to 19:30 GMT"
    assert meeting_words(start, end, monday + timedelta(hours=24)) == "today, 18:00 to 19:30 GMT"
    during = datetime(2026, 11, 3, 18, 45, tzinfo=UTC)
    assert meeting_words(start, end, during) == "on now, until 19:30 GMT"
    earlier = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    assert meeting_words(start, end, earlier) == "Tuesday 3 November, 18:00 to 19:30 GMT"
    summer = datetime(2027, 6, 1, 18, 0, tzinfo=london)
    assert (
        meeting_words(summer, summer + timedelta(hours=1), monday)
        == "Tuesday 1 June 2027, 18:00 to 19:00 BST"
    )
    # "Today" is the group's day: 23:30 UTC on Monday is already Tuesday in Auckland.
    auckland = ZoneInfo("Pacific/Auckland")
    early = datetime(2026, 11, 3, 13, 0, tzinfo=auckland)
    late_monday = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    assert meeting_words(early, early + timedelta(hours=1), late_monday).startswith("today, 13:00")
    with pytest.raises(ValueError, match="aware"):
        meeting_words(start, end, datetime(2026, 11, 2, 9, 0))  # noqa: DTZ001 - naive on purpose
