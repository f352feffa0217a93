"""With no place, groups that can be joined online rank above in-person-only groups."""

from __future__ import annotations

from peerhub.matching import GroupIndex, match
from tests.matching.helpers import LEEDS, at, group, ids, needs, reference, summary

GLASGOW = (55.8609, -4.2514)


def directory() -> list:  # type: ignore[type-arg]
    return [
        # Crisis-ready and in person, in another city.
        group(
            "far",
            format="in_person",
            location=GLASGOW,
            area="Glasgow",
            stages=frozenset({"approaching_crisis"}),
            moderator_on_duty=True,
            next_meetings=(at(1, 18),),
        ),
        group(
            "online",
            format="online",
            stages=frozenset({"approaching_crisis"}),
            next_meetings=(at(9, 18),),
        ),
        group("hybrid", format="hybrid", location=LEEDS, area="Leeds", next_meetings=(at(20, 18),)),
    ]


def test_online_and_hybrid_groups_rank_first_when_the_place_is_unknown() -> None:
    n = needs(stage="approaching_crisis")
    result = match(directory(), n)
    assert ids(result) == ["online", "hybrid", "far"]
    assert summary(result) == reference(directory(), n)
    far = result.results[2]
    assert any("do not know how far" in m for m in far.mismatches)
    # The crisis-ready group keeps its crisis priority within its tier.
    assert far.crisis_priority


def test_with_a_place_crisis_priority_decides_again() -> None:
    n = needs(stage="approaching_crisis", location=GLASGOW)
    assert ids(GroupIndex(directory()).match(n))[0] == "far"


def test_someone_who_asked_for_in_person_only_is_not_reordered() -> None:
    n = needs(stage="approaching_crisis", format="in_person")
    result = match(directory(), n)
    assert ids(result)[0] == "far"
    assert summary(result) == reference(directory(), n)
