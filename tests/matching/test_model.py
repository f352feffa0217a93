"""Validation of needs, windows, groups and weights: errors name the field."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from peerhub.matching import AccessNeed, GroupProfile, InvalidNeeds, Needs, Window

from .helpers import NOW, group


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("now", datetime(2025, 1, 1)),  # noqa: DTZ001 - naive on purpose
        ("languages", ("en", "e n")),
        ("languages", "en"),
        ("communities", ("martians",)),
        ("topics", ("astrology",)),
        ("stage", "fine"),
        ("format", "carrier_pigeon"),
        ("location", (91.0, 0.0)),
        ("location", (float("nan"), 0.0)),
        ("max_distance_km", 0),
        ("max_distance_km", 5000),
        ("max_distance_km", float("inf")),
        ("age", -1),
        ("age", 200),
        ("age", True),
        ("access_needs", (AccessNeed("jetpack", True),)),
        ("availability", ("Monday",)),
    ],
)
def test_invalid_needs_name_the_field(field: str, value: object) -> None:
    kw: dict[str, object] = {"now": NOW, field: value}
    with pytest.raises(InvalidNeeds) as caught:
        Needs(**kw)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_needs_are_normalised() -> None:
    n = Needs(
        now=NOW,
        languages=["UR", "pa-arab", "urdu", "Punjabi (Shahmukhi)"],  # type: ignore[arg-type]
        communities=["somali", "somali"],  # type: ignore[arg-type]
        location=[53.8, -1.5],  # type: ignore[arg-type]
        max_distance_km=5,
        access_needs=(("step_free", False), ("step_free", True), ("captions", False)),  # type: ignore[arg-type]
        blocked_user_ids={"u1"},  # type: ignore[arg-type]
    )
    assert n.languages == ("ur", "pa-Arab")
    assert n.communities == ("somali",)
    assert n.location == (53.8, -1.5)
    assert n.max_distance_km == 5.0
    assert n.access_needs == (AccessNeed("step_free", True), AccessNeed("captions", False))
    assert n.essential_access == ("step_free",)
    assert n.blocked_user_ids == frozenset({"u1"})
    hash(n)


def test_windows_are_validated() -> None:
    assert Window(0, time(23), time(0)).end_minute == 24 * 60
    with pytest.raises(InvalidNeeds, match="availability: weekday"):
        Window(7, time(9), time(10))
    with pytest.raises(InvalidNeeds, match="end after"):
        Window(1, time(10), time(9))
    with pytest.raises(InvalidNeeds, match="no zone"):
        Window(1, time(9, tzinfo=UTC), time(10))


def test_groups_are_validated_and_normalised() -> None:
    g = group(
        "g",
        languages=["EN"],
        communities={"women"},
        next_meetings=[datetime(2025, 3, 9, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC)],
    )
    assert g.languages == ("en",)
    assert g.communities == frozenset({"women"})
    assert g.next_meetings[0] < g.next_meetings[1]
    hash(g)
    for bad in (
        {"id": ""},
        {"format": "radio"},
        {"languages": ("e",)},
        {"location": (0.0, 200.0)},
        {"next_meetings": (datetime(2025, 3, 9),)},  # noqa: DTZ001 - naive on purpose
        {"time_zone": "Mars/Olympus"},
        {"age_min": 30, "age_max": 20},
        {"places_left": -1},
    ):
        kw: dict[str, object] = {"id": "g", "name": "G", **bad}
        with pytest.raises(ValueError):  # noqa: PT011 - several messages
            GroupProfile(**kw)  # type: ignore[arg-type]


def test_unknown_group_codes_are_accepted_and_never_match() -> None:
    g = group("g", communities=frozenset({"retired_code"}), topics=frozenset({"old_topic"}))
    assert "retired_code" in g.communities
