"""Unmet demand: anonymous records and the suppressed report."""

from __future__ import annotations

from dataclasses import fields

import pytest

from peerhub.matching import (
    AccessNeed,
    DemandRecord,
    coarse_area,
    demand_record,
    demand_report,
    match,
)

from .helpers import LEEDS, group, needs


def test_a_record_holds_what_was_asked_for_and_nothing_that_identifies() -> None:
    n = needs(
        languages=("so", "en"),
        communities=("women", "somali"),
        stage="recovery",
        topics=("trauma", "anxiety"),
        format="in_person",
        location=LEEDS,
        age=34,
        access_needs=(AccessNeed("step_free", True),),
        blocked_user_ids=frozenset({"user-42"}),
    )
    record = demand_record(n, "ls6 3ab")
    assert record == DemandRecord(
        languages=("so", "en"),
        communities=("somali", "women"),
        stage="recovery",
        topics=("anxiety", "trauma"),
        format="in_person",
        area="LS6",
    )
    assert {f.name for f in fields(DemandRecord)} == {
        "languages",
        "communities",
        "stage",
        "topics",
        "format",
        "area",
        "other",  # folded words of "something else" only: tests/matching/test_own_words.py
    }
    assert record.other == ()
    assert "user-42" not in repr(record)
    assert "53.8" not in repr(record)


def test_the_area_is_coarse() -> None:
    assert coarse_area("SW1A 1AA") == "SW1A"
    assert coarse_area(" m1 ") == "M1"
    assert demand_record(needs(format="online")).area == "online"
    assert demand_record(needs(format="either")).area == "unknown"
    assert demand_record(needs(), "Online").area == "online"
    with pytest.raises(ValueError, match="postcode"):
        coarse_area("10 Downing Street")
    with pytest.raises(ValueError, match="district"):
        DemandRecord((), (), None, (), "online", "SW1A 1AA")


def test_a_search_without_a_good_fit_is_what_the_caller_records() -> None:
    result = match([group("english")], needs(languages=("ti",)))
    assert not result.good_fit
    assert result.relaxed_codes == ("language",)


def _records(language: str, community: tuple[str, ...], area: str, n: int) -> list[DemandRecord]:
    return [DemandRecord((language,), community, "recovery", (), "either", area)] * n


def test_the_report_counts_by_language_community_stage_and_area_and_suppresses() -> None:
    records = (
        _records("so", ("somali",), "LS6", 7)
        + _records("so", ("somali", "women"), "LS6", 2)
        + _records("ur", (), "M1", 4)
        + _records("ti", ("refugees_asylum",), "online", 5)
    )
    report = demand_report(records)
    rows = [(c.language, c.community, c.stage, c.area, c.count, c.display_count) for c in report]
    assert rows == [
        ("so", "somali", "recovery", "LS6", 9, "9"),
        ("ti", "refugees_asylum", "recovery", "online", 5, "5"),
        ("so", "women", "recovery", "LS6", None, "fewer than 5"),
        ("ur", None, "recovery", "M1", None, "fewer than 5"),
    ]
    assert report[0].language_label == "Somali"
    assert report[0].community_label == "Somali"
    assert report[3].community_label == "Any community"
    assert report[2].as_dict()["count"] is None


def test_suppressed_cells_carry_no_number() -> None:
    (cell,) = demand_report(_records("so", ("somali",), "LS6", 1))
    assert cell.count is None
    assert "1" not in str(cell.as_dict()["display_count"])
    with pytest.raises(ValueError, match="threshold"):
        demand_report([], threshold=0)
