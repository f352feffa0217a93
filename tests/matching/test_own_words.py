"""A person's "something else", matched against groups' own words, and counted."""

from __future__ import annotations

import pytest

from peerhub.matching import (
    GroupIndex,
    InvalidNeeds,
    demand_record,
    match,
    other_report,
)
from peerhub.matching.words import MAX_WORDS, words

from .helpers import group, ids, item, needs, reference, summary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kurdish MOTHERS", ("kurdish", "mother")),
        ("Pétanque players", ("petanque", "player")),
        ("call me on 07700 900123", ("call",)),
        ("I'm looking for a group for people who like football", ("football",)),
        ("हिंदी बोलने वाले", ("हिंदी", "बोलने", "वाले")),
        ("اردو بولنے والے", ("اردو", "بولنے", "والے")),
        ("women's group", ("women",)),
        ("", ()),
    ],
)
def test_words_fold_case_accents_plurals_and_drop_digits(
    text: str, expected: tuple[str, ...]
) -> None:
    assert words(text) == expected


def test_at_most_eight_words_and_two_hundred_characters() -> None:
    many = " ".join(f"word{chr(97 + i)}x" for i in range(20))
    assert len(needs(other=many.replace("0", "")).other) <= MAX_WORDS
    with pytest.raises(InvalidNeeds) as info:
        needs(other="a" * 201)
    assert info.value.field == "other"
    with pytest.raises(InvalidNeeds):
        needs(other=3)


def test_a_group_whose_description_uses_the_words_ranks_higher_and_says_so() -> None:
    allotment = group("b-allot", description="We garden together at the allotment.")
    plain = group("a-plain", description="A calm space.")
    result = match([plain, allotment], needs(other="allotment gardeners"))
    assert ids(result) == ["b-allot", "a-plain"]
    assert "Its own description mentions “allotment”" in item(result, "b-allot").reasons
    # The name counts too.
    named = group("c-named", name="Kurdish Mothers Circle")
    assert ids(match([plain, named], needs(other="kurdish"))) == ["c-named", "a-plain"]


def test_more_words_shared_is_more_points() -> None:
    one = group("one", description="poetry")
    two = group("two", description="poetry and football")
    result = match([one, two], needs(other="poetry football"))
    assert ids(result) == ["two", "one"]
    assert item(result, "two").score > item(result, "one").score


def test_the_index_agrees_with_the_reference_and_stays_current() -> None:
    groups = [
        group("a", description="poetry football"),
        group("b", description="football"),
        group("c", description="knitting"),
    ]
    n = needs(other="football poetry")
    index = GroupIndex(groups)
    assert summary(index.match(n)) == reference(groups, n)
    index.replace(group("c", description="poetry football knitting"))
    index.remove("a")
    fresh = [g for g in index]
    assert summary(index.match(n)) == reference(fresh, n)
    index.remove("b")
    index.remove("c")
    assert "football" not in index._words  # no stale postings


def test_something_else_is_recorded_as_words_and_rare_words_are_never_shown() -> None:
    record = demand_record(needs(other="Kurdish mothers 07700900123"))
    assert record.other == ("kurdish", "mother")
    assert record.as_dict()["other"] == ["kurdish", "mother"]
    records = [record] * 5 + [demand_record(needs(other="unicyclists"))]
    report = other_report(records)
    assert report.shown == (("kurdish", 5), ("mother", 5))
    assert report.hidden == 1
    assert "unicyclist" not in str(report.as_dict())
    # "urdu" and "Urdu" are one word.
    same = [demand_record(needs(other=t)) for t in ("urdu", "Urdu", "URDU", "urdu", "Urdú")]
    assert other_report(same).shown == (("urdu", 5),)
