"""Who every group is for: the first reason line, and groups for some people only."""

from __future__ import annotations

import pytest

from peerhub.matching import GroupIndex, match
from peerhub.matching.describe import only_phrase, who_line
from peerhub.matching.eligibility import who_status

from .helpers import group, ids, item, needs


def test_every_result_says_who_it_is_for_first() -> None:
    deaf = group(
        "deaf",
        languages=("bfi",),
        communities=frozenset({"deaf", "older_people"}),
        age_min=60,
        format="in_person",
        area="LS6",
    )
    welsh = group(
        "welsh", languages=("cy", "en"), communities=frozenset({"welsh_speaking"}), format="hybrid"
    )
    circle = group(
        "circle",
        languages=("so",),
        communities=frozenset({"somali", "faith_muslim", "men"}),
        only_communities=frozenset({"somali", "faith_muslim", "men"}),
        format="in_person",
        area="LS1",
        age_min=18,
    )
    result = match([deaf, welsh, circle], needs(languages=()))
    lines = {r.group_id: r.reasons[0] for r in result.results}
    assert lines["deaf"] == (
        "Open to everyone, focusing on older people and Deaf people; "
        "meets in British Sign Language; ages 60 and over; in person, LS6"
    )
    assert lines["welsh"] == (
        "Open to everyone, focusing on Welsh-speaking people; "
        "meets in Welsh and English; online or in person"
    )
    assert lines["circle"] == (
        "For Somali Muslim men only; meets in Somali; ages 18 and over; in person, LS1"
    )


@pytest.mark.parametrize(
    ("codes", "phrase"),
    [
        ({"women"}, "women"),
        ({"deaf", "older_people"}, "older Deaf people"),
        ({"learning_disability"}, "people with a learning disability"),
        ({"veterans", "men"}, "men who are veterans"),
        ({"south_asian", "faith_sikh", "women"}, "South Asian Sikh women"),
        ({"women", "men"}, "women or men"),
    ],
)
def test_only_phrases_read_as_people(codes: set[str], phrase: str) -> None:
    assert only_phrase(codes) == phrase


def test_added_communities_are_named_by_their_label() -> None:
    g = group(
        "k",
        communities=frozenset({"added_kurdish"}),
        only_communities=frozenset({"added_kurdish"}),
        community_names=(("added_kurdish", "Kurdish"),),
    )
    assert who_line(g).startswith("For people of the Kurdish community only")


def test_only_must_be_among_the_communities() -> None:
    with pytest.raises(ValueError, match="only_communities"):
        group("x", communities=frozenset({"women"}), only_communities=frozenset({"men"}))


WOMEN_ONLY = dict(communities=frozenset({"women"}), only_communities=frozenset({"women"}))
MEN_ONLY = dict(communities=frozenset({"men"}), only_communities=frozenset({"men"}))


def test_a_man_is_never_shown_a_group_for_women_only() -> None:
    groups = [
        group("a-women", **WOMEN_ONLY, topics=frozenset({"anxiety"})),
        group("b-women-focus", communities=frozenset({"women"}), topics=frozenset({"anxiety"})),
        group("c-open"),
    ]
    result = match(groups, needs(gender="man", topics=("anxiety",)))
    assert "a-women" not in ids(result)
    assert ids(result) == ["b-women-focus", "c-open"]
    # In every pass: even when nothing else is left, relaxation never brings it back.
    only = match([groups[0]], needs(gender="man", languages=("so",)))
    assert ids(only) == []


def test_a_woman_with_a_south_asian_community_is_not_offered_a_muslim_mens_circle() -> None:
    circle = group(
        "circle",
        communities=frozenset({"south_asian", "faith_muslim", "men"}),
        only_communities=frozenset({"faith_muslim", "men"}),
        topics=frozenset({"anxiety"}),
    )
    open_group = group("open", communities=frozenset({"south_asian"}))
    n = needs(gender="woman", communities=("south_asian",), topics=("anxiety",))
    assert ids(match([circle, open_group], n)) == ["open"]
    assert who_status(circle, n) == "conflict"


def test_unsaid_answers_list_the_group_below_open_groups_that_fit_and_say_so() -> None:
    circle = group(
        "circle",
        **MEN_ONLY,
        topics=frozenset({"anxiety", "depression"}),
        stages=frozenset({"recovery"}),
        places_left=5,
    )
    weak_open = group("open", topics=frozenset({"anxiety"}))
    n = needs(topics=("anxiety", "depression"), stage="recovery")
    result = match([circle, weak_open], n)
    # The circle scores more, but the person did not say they are a man.
    assert item(result, "circle").score > item(result, "open").score
    assert ids(result) == ["open", "circle"]
    r = item(result, "circle")
    assert r.who == "unknown"
    assert r.reasons[0].startswith("For men only")
    assert any("Only for men" in m for m in r.mismatches)
    # Saying so makes it the best fit.
    said = match([circle, weak_open], needs(gender="man", topics=n.topics, stage="recovery"))
    assert ids(said) == ["circle", "open"]
    assert item(said, "circle").who == "meets"


def test_an_unsaid_group_is_never_a_good_fit() -> None:
    only = group("only", **WOMEN_ONLY, stages=frozenset({"recovery"}))
    assert not match([only], needs(stage="recovery")).good_fit
    assert match([only], needs(stage="recovery", gender="woman")).good_fit
    assert match([only], needs(stage="recovery", communities=("women",))).good_fit


@pytest.mark.parametrize("gender", ["non_binary", "prefer_not_to_say", None])
def test_people_who_do_not_say_woman_or_man_are_not_hidden_from_single_gender_groups(
    gender: str | None,
) -> None:
    only = group("only", **WOMEN_ONLY)
    result = match([only, group("open")], needs(gender=gender))
    assert ids(result) == ["open", "only"]
    assert item(result, "only").who == "unknown"


def test_faiths_exclude_each_other_and_other_communities_do_not() -> None:
    muslim = group(
        "m", communities=frozenset({"faith_muslim"}), only_communities=frozenset({"faith_muslim"})
    )
    somali = group("s", communities=frozenset({"somali"}), only_communities=frozenset({"somali"}))
    n = needs(communities=("faith_christian", "veterans"))
    assert who_status(muslim, n) == "conflict"
    assert who_status(somali, n) == "unknown"
    assert ids(match([muslim, somali], n)) == ["s"]


def test_unsaid_groups_rank_below_open_ones_even_when_ready_for_someone_near_crisis() -> None:
    from .helpers import at

    ready = group(
        "ready",
        **WOMEN_ONLY,
        stages=frozenset({"approaching_crisis"}),
        moderator_on_duty=True,
        next_meetings=(at(1, 18),),
    )
    other = group("other", next_meetings=(at(20, 18),))
    result = match([ready, other], needs(stage="approaching_crisis"))
    assert ids(result) == ["other", "ready"]


def test_the_index_stays_right_as_groups_change() -> None:
    index = GroupIndex([group("a", **WOMEN_ONLY), group("b")])
    n = needs(gender="man")
    assert ids(index.match(n)) == ["b"]
    index.replace(group("a"))
    assert ids(index.match(n)) == ["a", "b"]
    index.replace(group("b", **WOMEN_ONLY))
    assert ids(index.match(n)) == ["a"]
    index.remove("b")
    assert ids(index.match(needs(gender="woman"))) == ["a"]


def test_gender_is_checked() -> None:
    from peerhub.matching import InvalidNeeds

    with pytest.raises(InvalidNeeds) as info:
        needs(gender="male")
    assert info.value.field == "gender"
