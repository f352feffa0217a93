"""The outcomes report: counts by kind, small numbers suppressed, no subtraction."""

from __future__ import annotations

import itertools

import pytest

from peerhub.matching.kinds import DIMENSIONS
from peerhub.outcomes.report import THRESHOLD, OutcomeRow, outcome_report

BASE = {
    "fit": "good",
    "language": "first",
    "community": "all",
    "stage": "met",
    "relaxed": "none",
    "rank": "1",
    "format": "online",
}


def rows(
    n: int, *, joined: int = 0, came: int = 0, still: int = 0, **kind: str
) -> list[OutcomeRow]:
    out = []
    for i in range(n):
        out.append(
            OutcomeRow(
                kind={**BASE, **kind},
                joined=i < joined,
                came=i < came,
                still_coming=i < still,
                attendance_seen=kind.get("format", "online") != "in_person",
            )
        )
    return out


def line(report, dimension: str, value: str):  # type: ignore[no-untyped-def]
    for name, _, lines in report.dimensions:
        if name == dimension:
            for x in lines:
                if x.value == value:
                    return x
    raise AssertionError(f"no line {dimension}={value}")


def test_counts_and_rates_by_each_dimension() -> None:
    data = rows(40, joined=20, came=15, still=10) + rows(
        30, joined=12, came=10, still=0, language="other", rank="2-3"
    )
    report = outcome_report(data)
    assert report.threshold == THRESHOLD == 10
    total = report.total
    assert [total.cells[k].count for k in ("shown", "joined", "seen", "came", "still")] == [
        70,
        32,
        32,
        25,
        10,
    ]
    first = line(report, "language", "first")
    assert first.cells["shown"].count == 40 and first.joined_rate == "50%"
    assert first.still_rate == "50%"
    other = line(report, "language", "other")
    assert other.cells["joined"].count == 12 and other.joined_rate == "40%"
    assert other.cells["still"].count == 0  # a zero is published: it names nobody
    assert {name for name, _, _ in report.dimensions} == set(DIMENSIONS)


def test_small_counts_are_suppressed_and_cannot_be_worked_out() -> None:
    data = rows(50, joined=30) + rows(25, joined=3, rank="2-3") + rows(12, joined=11, rank="4-10")
    report = outcome_report(data)
    two = line(report, "rank", "2-3")
    assert two.cells["joined"].count is None
    assert two.cells["joined"].display == "fewer than 10"
    assert two.joined_rate is None
    # The total (44) is published: the next smallest cell in the column is hidden
    # too, so 44 - 30 - 11 cannot give the 3.
    ten = line(report, "rank", "4-10")
    assert ten.cells["joined"].count is None
    assert report.total.cells["joined"].count == 44
    assert line(report, "rank", "1").cells["joined"].count == 30


def test_in_person_joins_are_not_counted_as_not_coming() -> None:
    data = rows(20, joined=15, came=0, format="in_person") + rows(20, joined=12, came=11, still=10)
    report = outcome_report(data)
    in_person = line(report, "format", "in_person")
    assert in_person.cells["joined"].count == 15
    assert in_person.cells["seen"].count == 0 and in_person.still_rate is None
    assert report.total.cells["seen"].count == 12


@pytest.mark.parametrize("seed", range(40))
def test_no_published_column_lets_a_hidden_count_be_recovered(seed: int) -> None:
    """For every column of every dimension, a hidden cell is never the only one."""
    import random

    rng = random.Random(seed)
    data = []
    for _ in range(rng.randint(1, 6)):
        n = rng.randint(1, 40)
        data += rows(
            n,
            joined=rng.randint(0, n),
            rank=rng.choice(DIMENSIONS["rank"]),
            language=rng.choice(DIMENSIONS["language"]),
        )
    report = outcome_report(data)
    for _, _, lines in report.dimensions:
        for key in ("shown", "joined", "seen", "came", "still"):
            hidden = [x for x in lines if x.cells[key].count is None]
            # One hidden cell alone is recoverable only if the total is published.
            assert len(hidden) != 1 or report.total.cells[key].count is None
            for x in lines:
                count = x.cells[key].count
                assert count is None or count == 0 or count >= THRESHOLD


def test_threshold_is_checked() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        outcome_report([], threshold=1)
    empty = outcome_report([])
    assert empty.total.cells["shown"].count == 0
    assert all(not lines for _, _, lines in empty.dimensions)
    assert list(itertools.chain.from_iterable(x for _, _, x in empty.dimensions)) == []
