"""The group and organiser pages' own words go through the catalogues: form errors,
invitation errors, the moderation log and the session times, in the pseudo-language
(every translated string bracketed) and in Welsh (CLDR dates)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from peerhub import i18n
from peerhub.errors import FieldError
from peerhub.groups import languages as group_languages
from peerhub.groups.page_helpers import day, when
from peerhub.groups.validation import FormErrors, parse_group, parse_organisation
from peerhub.moderation.pages import what
from peerhub.moderation.pages import when as log_when
from peerhub.outcomes.report import Cell
from tests.groups.helpers import group_form

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def pseudo() -> Iterator[None]:
    i18n.enable_pseudo(True)
    try:
        with i18n.using(i18n.by_tag("en-XA")):
            yield
    finally:
        i18n.enable_pseudo(False)


def _all_translated(messages: dict[str, str]) -> None:
    assert messages
    for field, message in messages.items():
        assert message.startswith(i18n.PSEUDO_OPEN), (field, message)
        assert message.endswith(i18n.PSEUDO_CLOSE), (field, message)


def test_group_form_errors_are_translated(pseudo: None) -> None:
    values = {
        **{k: v for k, v in group_form().items() if isinstance(v, str)},
        "name": "ab",
        "age_min": "-3",
        "age_max": "x",
        "capacity": "99999",
        "duration_minutes": "5",
        "first_date": "soon",
        "format": "in_person",
        "latitude": "nan",
        "time_zone": "Mars/Olympus",
    }
    with pytest.raises(FormErrors) as caught:
        parse_group(values, {"stages": [], "languages": []})
    errors = caught.value.errors
    assert {"name", "age_min", "age_max", "capacity", "duration_minutes", "first_date"} <= set(
        errors
    )
    _all_translated(errors)


def test_organisation_form_errors_are_translated(pseudo: None) -> None:
    with pytest.raises(FormErrors) as caught:
        parse_organisation({"name": "", "website": "not a site", "phone": "call me"})
    _all_translated(caught.value.errors)


def test_field_errors_keep_their_english_wording() -> None:
    with pytest.raises(FormErrors) as caught:
        parse_group({"name": "x" * 200, "age_min": "-1", "capacity": "20000"}, {})
    errors = caught.value.errors
    assert errors["name"] == "A name can be at most 160 characters."
    assert errors["age_min"] == "Age cannot be below zero."
    assert errors["capacity"] == "Capacity can be at most 10,000."
    with pytest.raises(FieldError, match=r"Give at most 1 language\.$"):
        group_languages.language_list(["Welsh, English"], "languages", limit=1)


def test_the_moderation_log_reads_in_the_page_language(pseudo: None) -> None:
    line = what("timeout", "Ana", {"minutes": 15})
    assert line.startswith(i18n.PSEUDO_OPEN) and "Ana" in line and "15" in line
    assert what("lock", None, None).startswith(i18n.PSEUDO_OPEN)
    # An action with no words is shown as its identifier, not made up.
    assert what("something.new", None, None) == "something new"


def test_the_moderation_log_in_english() -> None:
    assert what("timeout", "Ana", {"minutes": 15}) == "timed out Ana for 15 minutes"
    assert what("slow_mode", None, {"seconds": 1}) == "set slow mode to 1 second"
    assert (
        what("report.resolved", "Bo", {"outcome": "action"})
        == "resolved a report about Bo (action taken)"
    )
    assert log_when(datetime(2026, 12, 5, 8, 40, tzinfo=UTC)) == "5 Dec 2026, 08:40"


def test_meeting_times_follow_the_language() -> None:
    start = datetime(2026, 10, 27, 18, 0, tzinfo=LONDON)
    end = datetime(2026, 10, 27, 19, 30, tzinfo=LONDON)
    assert when(start, end) == "Tuesday 27 October 2026, 18:00 to 19:30 GMT"
    assert day(datetime(2026, 10, 27, 12, 0, tzinfo=UTC)) == "27 October 2026"
    with i18n.using("cy"):
        welsh = when(start, end)
    assert "Hydref" in welsh and "18:00" in welsh


def test_hidden_counts_are_translated(pseudo: None) -> None:
    assert Cell(None).display.startswith(i18n.PSEUDO_OPEN)
    assert Cell(1234).display == "1,234"
