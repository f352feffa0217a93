"""Upcoming meetings for organisers: the same instants as the directory, plus cancelled ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peerhub.groups.meetings import Meeting, is_meeting, meeting_end, upcoming
from peerhub.schedule import occurrences


def _utc(s: Meeting) -> str:
    return s.start_utc.strftime("%Y-%m-%dT%H:%MZ")


def test_weekly_meetings_keep_their_wall_clock_time_across_the_autumn_change() -> None:
    after = datetime(2026, 10, 19, 12, 0, tzinfo=UTC)
    found = upcoming(
        "2026-10-06T18:00:00",
        "FREQ=WEEKLY;BYDAY=TU",
        "Europe/London",
        after=after,
        duration_minutes=90,
        count=3,
    )
    # 18:00 BST (17:00 UTC) before 25 October 2026, 18:00 GMT after it.
    assert [_utc(s) for s in found] == [
        "2026-10-20T17:00Z",
        "2026-10-27T18:00Z",
        "2026-11-03T18:00Z",
    ]
    assert [s.start.strftime("%H:%M %Z") for s in found] == ["18:00 BST", "18:00 GMT", "18:00 GMT"]
    assert [s.key for s in found][:2] == ["2026-10-20T18:00:00", "2026-10-27T18:00:00"]


@pytest.mark.parametrize(
    ("dtstart", "rule", "after"),
    [
        ("2026-03-03T18:30:00", "FREQ=WEEKLY;BYDAY=TU", datetime(2026, 3, 20, tzinfo=UTC)),
        ("2026-01-15T10:00:00", "FREQ=MONTHLY;BYDAY=-1SU", datetime(2026, 2, 1, tzinfo=UTC)),
        ("2026-03-01T01:30:00", "FREQ=WEEKLY;BYDAY=SU", datetime(2026, 3, 20, tzinfo=UTC)),
        (
            "2026-09-01T19:00:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            datetime(2026, 10, 1, tzinfo=UTC),
        ),
    ],
)
def test_the_organiser_list_agrees_with_the_public_schedule(
    dtstart: str, rule: str, after: datetime
) -> None:
    first = upcoming(dtstart, rule, "Europe/London", after=after, duration_minutes=60, count=6)
    exdates = [first[1].key]
    mine = upcoming(
        dtstart, rule, "Europe/London", after=after, duration_minutes=60, exdates=exdates, count=6
    )
    public = occurrences(
        dtstart, rule, "Europe/London", after=after, duration_minutes=60, exdates=exdates, count=5
    )
    assert [s.cancelled for s in mine] == [False, True, False, False, False, False]
    shown = [(s.start, s.end) for s in mine if not s.cancelled]
    assert shown == [(o.start, o.end) for o in public]


def test_a_meeting_in_the_spring_forward_gap_keeps_its_rule_key() -> None:
    found = upcoming(
        "2026-03-01T01:30:00",
        "FREQ=WEEKLY;BYDAY=SU",
        "Europe/London",
        after=datetime(2026, 3, 28, tzinfo=UTC),
        duration_minutes=60,
        count=1,
    )
    # 01:30 does not exist on 29 March 2026 in London; the meeting is at 02:30 BST,
    # but an EXDATE must name the rule's own 01:30 to cancel it.
    assert found[0].key == "2026-03-29T01:30:00"
    assert found[0].start.strftime("%H:%M %Z") == "02:30 BST"
    assert is_meeting("2026-03-01T01:30:00", "FREQ=WEEKLY;BYDAY=SU", found[0].key)


def test_is_meeting_and_meeting_end() -> None:
    assert is_meeting("2026-10-06T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "2026-10-27T18:00:00")
    assert not is_meeting("2026-10-06T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "2026-10-27T18:30:00")
    assert not is_meeting("2026-10-06T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "2026-10-28T18:00:00")
    assert not is_meeting("2026-10-06T18:00:00", "FREQ=WEEKLY;BYDAY=TU", "2026-09-29T18:00:00")
    end = meeting_end("2026-10-27T18:00:00", "Europe/London", 90)
    assert end == datetime(2026, 10, 27, 19, 30, tzinfo=UTC)


def test_a_meeting_in_progress_is_still_next() -> None:
    during = datetime(2026, 11, 3, 18, 45, tzinfo=UTC)
    found = upcoming(
        "2026-10-06T18:00:00",
        "FREQ=WEEKLY;BYDAY=TU",
        "Europe/London",
        after=during,
        duration_minutes=90,
        count=1,
    )
    assert found[0].key == "2026-11-03T18:00:00"
