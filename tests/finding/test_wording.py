"""The engine's words in the page's language: reasons, meetings, language names.

The matching engine writes British English Texts (peerhub/matching/text.py); pages show
them through peerhub/finding/wording.py. British English stays exactly as it was; in
the pseudo-language every word comes through the catalogue; day names, times and
lists come from CLDR in each language.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from peerhub import i18n
from peerhub.finding import wording
from peerhub.matching import match
from peerhub.matching.describe import who_line
from peerhub.schedule import describe, meeting_words
from tests.i18n.untranslated import untranslated
from tests.matching.helpers import NOW, group, needs


@pytest.fixture
def pseudo() -> Iterator[None]:
    i18n.enable_pseudo(True)
    try:
        with i18n.using("en-XA"):
            yield
    finally:
        i18n.enable_pseudo(False)


def _result() -> tuple[list[str], list[str]]:
    groups = [
        group(
            "a",
            languages=("ur", "en"),
            communities=frozenset({"south_asian", "women"}),
            only_communities=frozenset({"women"}),
            format="in_person",
            area="Leeds",
            location=(53.8, -1.55),
            age_min=18,
            places_left=3,
            access_features=frozenset({"step_free"}),
        ),
        group("b", languages=("pl",), topics=frozenset({"anxiety"}), places_left=0),
    ]
    result = match(
        groups,
        needs(
            languages=("ur",),
            communities=("south_asian",),
            gender="woman",
            topics=("anxiety",),
            format="either",
            location=(53.8, -1.5),
            access_needs=(("step_free", True),),
        ),
    )
    shown = wording.shown_result(result)
    lines = [line for item in shown.results for line in (*item.reasons, *item.mismatches)]
    return lines, [s.text for s in shown.next_steps] + list(shown.relaxed)


def test_british_english_is_kept_exactly() -> None:
    g = group(
        languages=("so", "en"),
        communities=frozenset({"men", "somali"}),
        only_communities=frozenset({"men", "somali"}),
    )
    line = who_line(g)
    assert wording.render(line) == line == str(line)
    assert line.startswith("For Somali men only; meets in Somali and English")
    result = match([g], needs())
    assert wording.shown_result(result) is result


def test_every_reason_and_next_step_comes_through_the_catalogue(pseudo: None) -> None:
    lines, steps = _result()
    assert lines and steps
    for line in [*lines, *steps]:
        # Only values that are the same in every language may be left: numbers, the
        # group's own place name, the times.
        assert untranslated(f"<p>{line}</p>", {"Leeds"}) == [], line


def test_language_names_are_in_the_page_language_from_cldr() -> None:
    with i18n.using("cy"):
        assert wording.language_name("ur") == "Wrdw"
        assert wording.language_name("cy") == "Cymraeg"
        choice = wording.language_choice("ur")
        assert (choice.name, choice.autonym) == ("Wrdw", "اردو")
    with i18n.using("pl"):
        assert wording.language_name("cy") == "walijski"
    with i18n.using("en-GB"):
        assert wording.language_name("cy") == "Welsh"


@pytest.mark.parametrize(
    ("tag", "day", "time"),
    [("en-GB", "Tuesday", "18:30"), ("cy", "Dydd Mawrth", "18:30"), ("pl", "wtorek", "18:30")],
)
def test_a_weekly_meeting_says_its_day_and_time_in_cldr(tag: str, day: str, time: str) -> None:
    with i18n.using(tag):
        words = describe("2026-11-03T18:30:00", "FREQ=WEEKLY;BYDAY=TU")
    assert day in words and time in words


def test_arabic_times_follow_cldr() -> None:
    with i18n.using("ar"):
        words = describe("2026-11-03T18:30:00", "FREQ=WEEKLY;BYDAY=TU")
    assert "الثلاثاء" in words and "6:30" in words


def test_meeting_words_keep_their_english_and_translate() -> None:
    start = datetime(2025, 3, 6, 18, 0, tzinfo=UTC)
    end = datetime(2025, 3, 6, 19, 30, tzinfo=UTC)
    with i18n.using("en-GB"):
        assert meeting_words(start, end, NOW) == "Thursday 6 March, 18:00 to 19:30 UTC"
    with i18n.using("cy"):
        assert "Dydd Iau" in meeting_words(start, end, NOW)


def test_reasons_in_welsh_use_welsh_day_names_and_lists() -> None:
    with i18n.using("cy"):
        lines, _steps = _result()
    text = " ".join(lines)
    assert "Wrdw" in text  # the language's name in Welsh


def test_own_names_are_marked_with_their_language_even_where_babel_has_none() -> None:
    with i18n.using("en-GB"):
        assert wording.own_attrs("ur") == ' lang="ur" dir="rtl"'
        # Babel has no locale for British Sign Language or Romani: the tag alone.
        assert wording.own_attrs("bfi") == ' lang="bfi"'
        assert wording.language_choice("rom").attrs == ' lang="rom"'


@pytest.mark.parametrize(
    ("tag", "separator"),
    [("en-GB", "; "), ("cy", "; "), ("ar", "؛ "), ("ur", "؛ "), ("zh-Hant", "；")],
)
def test_the_parts_of_who_a_group_is_for_are_separated_in_the_page_script(
    tag: str, separator: str
) -> None:
    g = group(languages=("so", "en"), communities=frozenset({"men", "somali"}))
    with i18n.using(tag):
        text = wording.render(who_line(g))
    assert text.count(separator) >= 2, text
    if separator != "; ":
        assert "; " not in text and ";" not in text, text
