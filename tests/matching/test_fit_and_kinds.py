"""Good fit counts honestly (issue 11, section 4), demand rows are normalised, and
each shown result gets a kind of reasons."""

from __future__ import annotations

import pytest

from peerhub.matching import (
    DIMENSIONS,
    DemandRecord,
    classify,
    demand_record,
    demand_report,
    match,
    normalise_community,
    normalise_language,
    normalise_words,
    rank_band,
)

from .helpers import group, needs


def test_a_good_fit_needs_every_community_named_not_just_one() -> None:
    """A veteran (and a man) is not served by a Somali men's circle."""
    circle = group("circle", communities={"somali", "men"}, stages={"recovery"})
    n = needs(communities=("veterans", "men"), stage="recovery")
    result = match([circle], n)
    assert result.results and not result.good_fit
    both = group("both", communities={"veterans", "men"}, stages={"recovery"})
    assert match([circle, both], n).good_fit


def test_a_good_fit_needs_the_language() -> None:
    somali_only = group("so", languages=("so",), stages={"recovery"})
    # Someone who named no language is assumed to read English, as PeerHub's pages are.
    assert not match([somali_only], needs(languages=(), stage="recovery")).good_fit
    english = group("en", languages=("en",), stages={"recovery"})
    assert match([english], needs(languages=(), stage="recovery")).good_fit
    # Interpretation into their language counts: that is what it is for.
    interpreted = group("bsl", languages=("en",), interpretation=("bfi",), stages={"recovery"})
    assert match([interpreted], needs(languages=("bfi",), stage="recovery")).good_fit
    # Relaxed language is never a good fit.
    assert not match([somali_only], needs(languages=("pl",), stage="recovery")).good_fit


def test_a_good_fit_needs_the_stage() -> None:
    g = group("g", stages={"staying_well"})
    assert not match([g], needs(stage="approaching_crisis")).good_fit


@pytest.mark.parametrize(
    ("typed", "row"),
    [
        ("urdu", "ur"),
        ("Urdu", "ur"),
        (" URDU. ", "ur"),
        ("ur", "ur"),
        ("PA-guru", "pa"),
        ("pa-arab", "pa-Arab"),
        ("اردو", "ur"),
        ("BSL", "bfi"),
        ("British Sign Language", "bfi"),
        ("Hindi", "hi"),
        ("Kurmanji  Kurdish", "kmr"),
        ("Xyzzy  Speech", "xyzzy speech"),
        ("xyzzy speech", "xyzzy speech"),
    ],
)
def test_languages_are_normalised_before_counting(typed: str, row: str) -> None:
    assert normalise_language(typed) == row


def test_communities_are_normalised_before_counting() -> None:
    assert normalise_community("somali") == "somali"
    assert normalise_community("South Asian") == "south_asian"
    assert normalise_community("south asian") == "south_asian"
    assert normalise_community("Welsh-speaking") == "welsh_speaking"
    assert normalise_community("  Tamil   Hindu ") == normalise_community("tamil hindu")
    assert normalise_words("ＵＲＤＵ") == "urdu"  # full-width letters, NFKC
    assert len(normalise_words("x" * 500)) == 60


def test_urdu_and_urdu_are_one_row() -> None:
    records = [
        DemandRecord(("Urdu",), ("South Asian",), "recovery", (), "either", "LS6"),
        DemandRecord(("urdu",), ("south_asian",), "recovery", (), "either", "LS6"),
        DemandRecord(("ur",), ("south_asian",), "recovery", (), "either", "LS6"),
        DemandRecord(("tamil",), ("Tamil Hindu",), None, (), "online", "online"),
        DemandRecord(("Tamil",), ("tamil  hindu",), None, (), "online", "online"),
    ]
    cells = demand_report(records, threshold=2)
    keys = {(c.language, c.community, c.count) for c in cells}
    assert ("ur", "south_asian", 3) in keys
    assert ("ta", "tamil hindu", 2) in keys
    assert len(cells) == 2
    tamil = next(c for c in cells if c.language == "ta")
    assert tamil.community_label == "tamil hindu (in their own words)"


def test_a_record_normalises_what_it_stores() -> None:
    record = demand_record(needs(languages=("PA-guru", "en"), communities=("women", "somali")))
    assert record.languages == ("pa", "en")
    assert record.communities == ("somali", "women")


def test_kinds_say_what_the_engine_saw() -> None:
    n = needs(languages=("ur", "en"), communities=("south_asian", "women"), stage="recovery")
    first = group("a", languages=("ur",), communities={"south_asian", "women"}, stages={"recovery"})
    other = group("b", languages=("en",), communities={"women"}, stages={"staying_well"})
    interp = group("c", languages=("pl",), interpretation=("ur",), format="hybrid")
    k = classify(first, n, 1)
    assert k.as_dict() == {
        "fit": "good",
        "language": "first",
        "community": "all",
        "stage": "met",
        "relaxed": "none",
        "rank": "1",
        "format": "online",
    }
    k = classify(other, n, 2)
    assert (k.fit, k.language, k.community, k.stage, k.rank) == (
        "partial",
        "other",
        "some",
        "not_met",
        "2-3",
    )
    k = classify(interp, n, 7)
    assert (k.language, k.community, k.rank, k.format) == ("interpreted", "none", "4-10", "hybrid")
    none_asked = classify(first, needs(languages=()), 11)
    assert (none_asked.language, none_asked.community, none_asked.stage) == (
        "not_asked",
        "not_asked",
        "not_asked",
    )
    assert none_asked.rank == "11+"


def test_kinds_name_what_was_relaxed() -> None:
    # Bath is about 17 km from Bristol: beyond 10 km, within the 50 km widening cap.
    far = group("far", format="in_person", location=(51.393, -2.361), area="BA1")
    n = needs(format="in_person", location=(51.45, -2.59), max_distance_km=10)
    assert classify(far, n, 1).relaxed == "distance"
    n2 = needs(format="in_person", location=(51.45, -2.59), max_distance_km=10, languages=("so",))
    assert classify(far, n2, 1).relaxed == "several"
    n3 = needs(format="online", languages=("so",))
    assert classify(group("pl", languages=("pl",)), n3, 1).relaxed == "language"


def test_every_kind_value_is_a_declared_value() -> None:
    n = needs(communities=("somali",), stage="recovery")
    for g in (group("x"), group("y", communities={"somali"}, format="in_person")):
        for pos in (1, 2, 5, 40):
            for name, value in classify(g, n, pos).as_dict().items():
                assert value in DIMENSIONS[name]
    with pytest.raises(ValueError, match="1-based"):
        rank_band(0)
