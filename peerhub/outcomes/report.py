"""The outcomes report: settled outcomes counted by each dimension of a match's kind,
with small numbers suppressed. Pure: rows in, a report out.

Suppression (docs/matching.md, "Outcomes"): a count from 1 to ``threshold - 1``
(10 by default) is shown as "fewer than 10" and carries no number. Because each
dimension's rows add up to the "All shown results" line, one suppressed cell in a
column could be worked out by subtraction; so when a column of a dimension has
exactly one suppressed cell, the next smallest published cell of that column is
suppressed too (secondary suppression). A rate is shown only when both of its
counts are published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from babel import numbers

from peerhub import i18n
from peerhub.i18n import _, lazy_gettext
from peerhub.matching.kinds import DIMENSION_LABELS, DIMENSIONS, LABELS

__all__ = ["COLUMNS", "THRESHOLD", "Cell", "Line", "OutcomeRow", "Report", "outcome_report"]

#: Counts from 1 to 9 are not published (see docs/matching.md for why 10).
THRESHOLD: Final = 10

#: The counted columns, in order: (key, heading).
COLUMNS: Final = (
    ("shown", lazy_gettext("Shown")),
    ("joined", lazy_gettext("Joined")),
    ("seen", lazy_gettext("Joined, sessions visible")),
    ("came", lazy_gettext("Came to a session")),
    ("still", lazy_gettext("Still coming at 8 weeks")),
)


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One settled outcome: its kind (dimension → value) and what happened."""

    kind: Mapping[str, str]
    joined: bool
    came: bool
    still_coming: bool
    attendance_seen: bool


@dataclass(frozen=True, slots=True)
class Cell:
    """A published count, or a suppressed one (``count`` None)."""

    count: int | None
    threshold: int = THRESHOLD

    @property
    def display(self) -> str:
        if self.count is not None:
            return i18n.format_number(self.count)
        return _("fewer than %(threshold)s", threshold=i18n.format_number(self.threshold))

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, "display": self.display}


def _rate(part: Cell, whole: Cell) -> str | None:
    if part.count is None or whole.count is None or whole.count == 0:
        return None
    return numbers.format_percent(
        round(100 * part.count / whole.count) / 100, locale=i18n.current().locale
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the report: a dimension's value and its five counts."""

    dimension: str
    value: str
    label: str
    cells: Mapping[str, Cell]

    @property
    def joined_rate(self) -> str | None:
        """Of those shown, how many joined."""
        return _rate(self.cells["joined"], self.cells["shown"])

    @property
    def came_rate(self) -> str | None:
        """Of those who joined a group whose meetings can be seen, how many came."""
        return _rate(self.cells["came"], self.cells["seen"])

    @property
    def still_rate(self) -> str | None:
        """Of those who joined a group whose meetings can be seen, how many stayed."""
        return _rate(self.cells["still"], self.cells["seen"])

    def as_dict(self) -> dict[str, object]:
        return {
            "dimension": self.dimension,
            "value": self.value,
            "label": self.label,
            **{key: self.cells[key].as_dict() for key, _heading in COLUMNS},
            "joined_rate": self.joined_rate,
            "came_rate": self.came_rate,
            "still_rate": self.still_rate,
        }


@dataclass(frozen=True, slots=True)
class Report:
    total: Line
    dimensions: tuple[tuple[str, str, tuple[Line, ...]], ...]  # (name, heading, lines)
    threshold: int

    def as_dict(self) -> dict[str, object]:
        return {
            "threshold": self.threshold,
            "total": self.total.as_dict(),
            "dimensions": [
                {"dimension": name, "heading": heading, "lines": [x.as_dict() for x in lines]}
                for name, heading, lines in self.dimensions
            ],
        }


def _counts(rows: Iterable[OutcomeRow]) -> dict[str, int]:
    out = dict.fromkeys((key for key, _heading in COLUMNS), 0)
    for r in rows:
        out["shown"] += 1
        out["joined"] += r.joined
        out["seen"] += r.joined and r.attendance_seen
        out["came"] += r.came and r.attendance_seen
        out["still"] += r.still_coming and r.attendance_seen
    return out


def _hidden(n: int, threshold: int) -> bool:
    return 0 < n < threshold


def outcome_report(rows: Iterable[OutcomeRow], *, threshold: int = THRESHOLD) -> Report:
    """Count ``rows`` for every dimension's values, suppressing small numbers."""
    if threshold < 2:
        raise ValueError("threshold must be at least 2")
    rows = list(rows)
    total_counts = _counts(rows)
    total = Line(
        "all",
        "all",
        _("All shown results"),
        {k: Cell(None if _hidden(n, threshold) else n, threshold) for k, n in total_counts.items()},
    )
    dimensions: list[tuple[str, str, tuple[Line, ...]]] = []
    for name, values in DIMENSIONS.items():
        counts = {v: _counts(r for r in rows if r.kind.get(name) == v) for v in values}
        hide = {v: {k for k, n in c.items() if _hidden(n, threshold)} for v, c in counts.items()}
        for key, _heading in COLUMNS:
            suppressed = [v for v in values if key in hide[v]]
            if len(suppressed) == 1:
                # One hidden cell could be recovered from the total: hide the next
                # smallest published, non-zero cell of the column as well.
                others = [v for v in values if key not in hide[v] and counts[v][key] > 0]
                if others:
                    smallest = min(others, key=lambda v: (counts[v][key], values.index(v)))
                    hide[smallest].add(key)
        lines = tuple(
            Line(
                name,
                v,
                LABELS[name][v],
                {k: Cell(None if k in hide[v] else n, threshold) for k, n in counts[v].items()},
            )
            for v in values
            if counts[v]["shown"] > 0
        )
        dimensions.append((name, DIMENSION_LABELS[name], lines))
    return Report(total, tuple(dimensions), threshold)
