"""One or more unit tests for every matching rule of issue 3."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from peerhub.matching import (
    AccessNeed,
    GroupIndex,
    Weights,
    Window,
    assess,
    match,
)

from .helpers import LEEDS, NOW, at, group, ids, item, needs, reference, summary

NEAR = (53.8050, -1.5500)  # about 0.5 km from LEEDS
TOWN = (53.9000, -1.5491)  # about 11 km north
FAR = (54.2000, -1.5491)  # about 44 km north


# --- Rule 1: hard constraints ----------------------------------------------------


def test_group_without_a_shared_language_or_interpretation_is_left_out() -> None:
    groups = [group("urdu", languages=("ur",)), group("english")]
    assert ids(match(groups, needs(languages=("en",)))) == ["english"]


def test_interpretation_into_a_persons_language_counts_as_shared() -> None:
    groups = [
        group("bsl", languages=("en",), interpretation=("bfi",)),
        group("cy", languages=("cy",)),
    ]
    result = match(groups, needs(languages=("bfi",)))
    assert ids(result) == ["bsl"]
    assert (
        "Meets in English, with interpretation into British Sign Language"
        in item(result, "bsl").reasons
    )
    assert result.relaxed == ()


def test_language_tags_match_by_cldr_distance() -> None:
    groups = [group("guru", languages=("pa-Guru",)), group("arab", languages=("pa-Arab",))]
    # Punjabi is written in Gurmukhi unless said otherwise (CLDR likely subtags): a
    # group in Shahmukhi is still a Punjabi group, ranked after, with the script said.
    result = match(groups, needs(languages=("pa",)))
    assert ids(result) == ["guru", "arab"]
    assert (
        "Meets in Punjabi, written in Shahmukhi; you asked for Punjabi in Gurmukhi"
        in item(result, "arab").reasons
    )
    result = match(groups, needs(languages=("Punjabi (Shahmukhi)",)))
    assert ids(result) == ["arab", "guru"]
    assert (
        "Meets in Punjabi, written in Gurmukhi; you asked for Punjabi in Shahmukhi"
        in item(result, "guru").reasons
    )
    assert result.relaxed == ()


@pytest.mark.parametrize(("age", "shown"), [(17, False), (18, True), (25, True), (26, False)])
def test_age_outside_the_range_is_left_out(age: int, shown: bool) -> None:
    groups = [group("young", age_min=18, age_max=25), group("other")]
    result = match(groups, needs(age=age))
    assert ("young" in ids(result)) is shown
    assert result.relaxed == ()


def test_age_not_given_applies_no_age_limit() -> None:
    assert ids(match([group("young", age_min=18, age_max=25)], needs())) == ["young"]


def test_missing_essential_access_need_leaves_a_group_out() -> None:
    groups = [
        group("steps", format="in_person", access_features=frozenset()),
        group("ramp", format="in_person", access_features=frozenset({"step_free"})),
    ]
    result = match(groups, needs(access_needs=(AccessNeed("step_free", essential=True),)))
    assert ids(result) == ["ramp"]


def test_missing_preferred_access_need_only_costs_points() -> None:
    groups = [
        group("steps", format="in_person"),
        group("ramp", format="in_person", access_features=frozenset({"step_free"})),
    ]
    result = match(groups, needs(access_needs=(AccessNeed("step_free"),)))
    assert ids(result) == ["ramp", "steps"]
    assert "Not listed: Step-free access" in item(result, "steps").mismatches
    assert "Has: Step-free access" in item(result, "ramp").reasons


def test_group_with_a_blocked_member_is_left_out() -> None:
    groups = [group("a", member_ids=frozenset({"bully"})), group("b")]
    result = match(groups, needs(blocked_user_ids=frozenset({"bully"})))
    assert ids(result) == ["b"]


def test_nothing_reveals_a_group_left_out_for_a_blocked_member() -> None:
    # The best group has the blocked person; the answer must be exactly what it
    # would be if that group did not exist at all: same results, same relaxations,
    # same next steps, same good-fit flag (so the same unmet-demand record).
    best = group(
        "best",
        languages=("ur",),
        communities=frozenset({"south_asian"}),
        stages=frozenset({"recovery"}),
        member_ids=frozenset({"ex"}),
    )
    others = [group("english"), group("welsh", languages=("cy",))]
    n = needs(
        languages=("ur",),
        communities=("south_asian",),
        stage="recovery",
        blocked_user_ids=frozenset({"ex"}),
    )
    with_blocked = match([best, *others], n)
    without = match(others, n)
    assert with_blocked.as_dict() == without.as_dict()
    assert "best" not in str(with_blocked.as_dict())


def test_blocked_member_rule_is_never_relaxed() -> None:
    only = group("only", member_ids=frozenset({"ex"}))
    result = match([only], needs(blocked_user_ids=frozenset({"ex"})))
    assert result.results == ()
    assert result.relaxed == ()
    assert [s.code for s in result.next_steps] == [
        "waiting_list",
        "register_interest",
        "crisis_contacts",
    ]


def test_in_person_only_leaves_out_online_only_groups_and_hybrid_counts_as_both() -> None:
    groups = [
        group("online", format="online"),
        group("room", format="in_person", location=NEAR),
        group("both", format="hybrid", location=NEAR),
    ]
    assert ids(match(groups, needs(format="in_person"))) == ["both", "room"]
    assert ids(match(groups, needs(format="online"))) == ["both", "online"]
    assert sorted(ids(match(groups, needs(format="either")))) == ["both", "online", "room"]


def test_distance_beyond_the_maximum_leaves_a_group_out() -> None:
    groups = [
        group("near", format="in_person", location=NEAR),
        group("far", format="in_person", location=FAR),
        group("far-hybrid", format="hybrid", location=FAR),
        group("unknown", format="in_person", location=None),
    ]
    n = needs(format="in_person", location=LEEDS, max_distance_km=10)
    assert ids(match(groups, n)) == ["near"]
    # Someone who can also meet online can join the far hybrid group online.
    either = replace(n, format="either")
    assert sorted(ids(match(groups, either))) == ["far-hybrid", "near"]


# --- Rule 2: full groups ---------------------------------------------------------


def test_full_groups_are_shown_with_a_waiting_list_action() -> None:
    groups = [group("full", places_left=0, capacity=12), group("open", places_left=4)]
    result = match(groups, needs())
    assert ids(result) == ["open", "full"]
    assert item(result, "full").action == "waiting_list"
    assert item(result, "open").action == "join"
    assert "Full: you can join the waiting list" in item(result, "full").mismatches
    waiting = next(s for s in result.next_steps if s.code == "waiting_list")
    assert waiting.group_ids == ("full",)


def test_a_full_group_is_not_dropped_even_when_it_is_the_only_fit() -> None:
    result = match([group("full", places_left=0)], needs())
    assert ids(result) == ["full"]
    assert result.relaxed == ()


# --- Rule 3: soft scoring ---------------------------------------------------------


def _score(g: object, n: object, **kw: object) -> float:
    return assess(g, n, **kw).score  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plain", "richer"),
    [
        ({}, {"communities": frozenset({"somali"})}),
        ({}, {"stages": frozenset({"recovery"})}),
        ({}, {"topics": frozenset({"anxiety"})}),
        ({"topics": frozenset({"anxiety"})}, {"topics": frozenset({"anxiety", "trauma"})}),
        ({}, {"access_features": frozenset({"captions"})}),
        ({"places_left": 0}, {"places_left": 2}),
        ({"next_meetings": (at(20),)}, {"next_meetings": (at(2),)}),
        ({"next_meetings": ()}, {"next_meetings": (at(30),)}),
        ({"languages": ("so",)}, {"languages": ("so", "en")}),
        ({"languages": ("fr",), "interpretation": ("en",)}, {"languages": ("fr", "en")}),
        (
            {"format": "in_person", "location": TOWN},
            {"format": "in_person", "location": NEAR},
        ),
    ],
)
def test_each_component_rewards_what_is_shared(
    plain: dict[str, object], richer: dict[str, object]
) -> None:
    n = needs(
        languages=("en", "so"),
        communities=("somali",),
        stage="recovery",
        topics=("anxiety", "trauma"),
        access_needs=(AccessNeed("captions"),),
        location=LEEDS,
    )
    assert _score(group("g", **richer), n) > _score(group("g", **plain), n)


def test_weights_live_in_one_place_and_change_the_ranking() -> None:
    community = group("community", communities=frozenset({"somali"}))
    topic = group("topic", topics=frozenset({"anxiety"}))
    n = needs(communities=("somali",), topics=("anxiety",))
    assert ids(match([community, topic], n)) == ["community", "topic"]
    topical = Weights(community=1.0, topic=4.0)
    assert ids(match([community, topic], n, weights=topical)) == ["topic", "community"]


def test_weights_are_validated() -> None:
    with pytest.raises(ValueError, match="stage"):
        Weights(stage=-1)
    with pytest.raises(ValueError, match="interpretation_factor"):
        Weights(interpretation_factor=0.9, other_language_factor=0.5)
    with pytest.raises(ValueError, match="distance_bands"):
        Weights(distance_bands=((1.0, 0.5), (0.5, 1.0)))


def test_ties_are_broken_by_group_id() -> None:
    groups = [group(i) for i in ("c", "a", "b")]
    assert ids(match(groups, needs())) == ["a", "b", "c"]


def test_limit_caps_the_results() -> None:
    groups = [group(f"g{i:02}") for i in range(30)]
    assert len(match(groups, needs()).results) == 20
    assert ids(match(groups, needs(), limit=3)) == ["g00", "g01", "g02"]
    with pytest.raises(ValueError, match="limit"):
        match(groups, needs(), limit=0)


# --- Rule 4: reasons ---------------------------------------------------------------


def test_reasons_say_what_fits_in_plain_words() -> None:
    g = group(
        "g",
        languages=("ur",),
        communities=frozenset({"south_asian", "women"}),
        stages=frozenset({"recovery"}),
        topics=frozenset({"anxiety", "adhd"}),
        format="online",
        next_meetings=(at(7, 18),),  # the next Tuesday, 18:00 GMT
        places_left=3,
    )
    n = needs(
        languages=("ur",),
        communities=("south_asian", "women"),
        stage="recovery",
        topics=("anxiety", "adhd"),
        format="online",
    )
    r = item(match([g], n), "g")
    assert r.reasons == (
        "Open to everyone, focusing on South Asian people and women; meets in Urdu; online",
        "Meets in Urdu",
        "South Asian group",
        "Women's group",
        "For people in recovery",
        "Talks about anxiety and ADHD",
        "Online",
        "Next session Tuesday 11 March 18:00, in 7 days",
        "3 places left",
    )
    assert r.mismatches == ()


def test_next_meeting_is_told_in_the_groups_time_zone() -> None:
    # 17:00 UTC on Friday 7 March is 18:00 in Paris.
    g = group("paris", time_zone="Europe/Paris", next_meetings=(at(3, 17),))
    r = item(match([g], needs()), "paris")
    assert "Next session Friday 18:00, in 3 days" in r.reasons
    assert r.next_meeting is not None and r.next_meeting.utcoffset() is not None
    assert r.next_meeting.isoformat() == "2025-03-07T18:00:00+01:00"


def test_mismatches_say_what_does_not_fit() -> None:
    g = group(
        "g",
        languages=("ur",),
        format="in_person",
        location=TOWN,
        next_meetings=(at(1, 10),),  # Wednesday morning
    )
    n = needs(
        languages=("ur", "pa"),
        format="either",
        location=LEEDS,
        availability=(Window(1, time(18), time(21)),),  # Tuesday evenings
    )
    r = item(match([g], n), "g")
    # Someone who speaks two languages needs a group in one of them: no mismatch.
    assert not any("languages asked for" in m for m in r.mismatches)
    assert "11 km away" in r.mismatches
    assert "No session at the times you gave; the next is Wednesday 10:00, tomorrow" in r.mismatches


def test_distance_is_a_reason_when_close() -> None:
    g = group("g", format="in_person", location=NEAR, area="LS1")
    r = item(match([g], needs(format="in_person", location=LEEDS, max_distance_km=5)), "g")
    assert "In person, LS1" in r.reasons
    assert "0.5 km away" in r.reasons
    assert r.distance_km == 0.5


def test_availability_picks_the_meeting_in_the_persons_times() -> None:
    g = group("g", next_meetings=(at(1, 10), at(7, 19)))
    n = needs(availability=(Window(1, time(18), time(21)),))
    r = item(match([g], n), "g")
    assert "Next session Tuesday 11 March 19:00, in 7 days" in r.reasons
    assert r.next_meeting == at(7, 19)


def test_past_meetings_are_ignored() -> None:
    g = group("g", next_meetings=(at(0, 8), at(0, 11)))
    r = item(match([g], needs()), "g")
    assert "Next session Tuesday 11:00, today" in r.reasons


# --- Rule 5: never empty, relaxation order -----------------------------------------


def test_distance_is_relaxed_first_and_said() -> None:
    groups = [
        group("far", format="in_person", location=FAR),
        group("young", format="in_person", location=NEAR, age_min=18, age_max=25),
    ]
    n = needs(format="in_person", location=LEEDS, max_distance_km=5, age=40)
    result = match(groups, n)
    assert ids(result) == ["far"]
    assert result.relaxed_codes == ("distance",)
    assert result.relaxed == (
        "Includes in-person groups more than 5 km away, up to 50 km and never further",
    )
    assert item(result, "far").relaxed == ("distance",)
    assert "44 km away" in item(result, "far").mismatches
    assert result.good_fit is False


def test_format_is_relaxed_after_distance() -> None:
    groups = [group("online", format="online"), group("young", format="in_person", age_max=25)]
    result = match(groups, needs(format="in_person", age=40))
    assert ids(result) == ["online"]
    assert result.relaxed == (
        "Includes groups you would join online, although you asked for in person",
    )
    assert "Meets online only" in item(result, "online").mismatches


def test_essential_access_is_relaxed_before_age() -> None:
    groups = [
        group("steps", format="in_person"),
        group("young", format="in_person", access_features=frozenset({"step_free"}), age_max=25),
    ]
    n = needs(age=40, access_needs=(AccessNeed("step_free", essential=True),))
    result = match(groups, n)
    assert ids(result) == ["steps"]
    assert result.relaxed == (
        "Includes groups without Step-free access, which you marked essential",
    )
    assert (
        "Not listed: Step-free access, which you marked essential"
        in item(result, "steps").mismatches
    )


def test_age_is_relaxed_before_language() -> None:
    groups = [group("young", age_min=18, age_max=25), group("welsh", languages=("cy",))]
    result = match(groups, needs(age=60))
    assert ids(result) == ["young"]
    assert result.relaxed == (
        "Includes groups for adults whose age range does not include your age",
    )
    assert "For ages 18 to 25" in item(result, "young").mismatches


def test_language_is_relaxed_last_and_never_silently() -> None:
    result = match([group("welsh", languages=("cy",))], needs(languages=("so", "ar")))
    assert ids(result) == ["welsh"]
    assert result.relaxed == (
        "Includes groups that do not meet in Somali or Arabic or offer interpretation",
    )
    assert "Meets in Welsh, not a language you listed" in item(result, "welsh").mismatches


def test_another_listed_language_is_said() -> None:
    result = match([group("english")], needs(languages=("ur", "en")))
    r = item(result, "english")
    assert "Meets in English, another language you listed" in r.reasons
    assert r.mismatches == ()
    assert result.relaxed == ()


def test_relaxation_stops_at_the_first_step_that_finds_groups() -> None:
    # The far group needs distance relaxed; the young group would need age too: the
    # far one is found first and the young one (which needs more relaxing) is not shown.
    groups = [
        group("far", format="in_person", location=FAR),
        group("young", format="in_person", location=FAR, age_max=20),
    ]
    result = match(groups, needs(format="in_person", location=LEEDS, max_distance_km=5, age=50))
    assert ids(result) == ["far"]


def test_an_empty_directory_still_gives_next_steps() -> None:
    result = match([], needs(stage="recovery"))
    assert result.results == ()
    assert result.good_fit is False
    assert [s.code for s in result.next_steps] == [
        "waiting_list",
        "register_interest",
        "crisis_contacts",
    ]


# --- Rule 6: approaching crisis --------------------------------------------------


def _crisis_groups() -> list[object]:
    welcoming = frozenset({"approaching_crisis"})
    return [
        # Best on points, but no moderator on duty.
        group(
            "unmoderated",
            stages=welcoming,
            topics=frozenset({"anxiety"}),
            communities=frozenset({"somali"}),
            next_meetings=(at(0, 18),),
        ),
        group("ready", stages=welcoming, moderator_on_duty=True, next_meetings=(at(1, 18),)),
        group("later", stages=welcoming, moderator_on_duty=True, next_meetings=(at(2, 10),)),
        group(
            "full",
            stages=welcoming,
            moderator_on_duty=True,
            places_left=0,
            next_meetings=(at(0, 18),),
        ),
        group("other-stage", moderator_on_duty=True, next_meetings=(at(0, 18),)),
    ]


def test_crisis_contacts_come_first() -> None:
    result = match(_crisis_groups(), needs(stage="approaching_crisis"))  # type: ignore[arg-type]
    assert result.crisis_first is True
    assert result.next_steps[0].code == "crisis_contacts"
    assert {s.code for s in result.next_steps} == {
        "crisis_contacts",
        "waiting_list",
        "register_interest",
    }


def test_moderated_groups_meeting_within_48_hours_rank_first() -> None:
    n = needs(stage="approaching_crisis", topics=("anxiety",), communities=("somali",))
    result = match(_crisis_groups(), n)  # type: ignore[arg-type]
    # 10:00 in two days is 48.5 hours away: outside the window.
    assert ids(result)[0] == "ready"
    assert item(result, "ready").crisis_priority is True
    # moderator_on_duty: someone is rostered for the next session (peerhub/rotas).
    assert "Meets in the next 48 hours, with a moderator on duty" in item(result, "ready").reasons
    assert [r.group_id for r in result.results if any("on duty" in x for x in r.reasons)] == [
        "ready"
    ]
    assert not item(result, "later").crisis_priority
    assert not item(result, "full").crisis_priority
    assert ids(result).index("unmoderated") == 1
    assert reference(_crisis_groups(), n) == summary(result)  # type: ignore[arg-type]


def test_no_crisis_ordering_for_other_stages() -> None:
    result = match(_crisis_groups(), needs(stage="recovery"))  # type: ignore[arg-type]
    assert result.crisis_first is False
    assert result.next_steps[-1].code == "crisis_contacts"
    assert not any(r.crisis_priority for r in result.results)


# --- Good fit (drives unmet-demand recording) ----------------------------------------


def test_good_fit_needs_every_stated_need_met() -> None:
    g = group("g", communities=frozenset({"somali"}), stages=frozenset({"recovery"}))
    assert match([g], needs(communities=("somali",), stage="recovery")).good_fit
    assert not match([g], needs(communities=("somali",), stage="staying_well")).good_fit
    assert not match([g], needs(communities=("lgbtq",))).good_fit
    assert not match([g], needs(topics=("psychosis",))).good_fit
    assert not match([group("g", next_meetings=())], needs()).good_fit


def test_match_accepts_an_index_or_plain_groups() -> None:
    groups = [group("a"), group("b", languages=("cy",))]
    n = needs()
    assert match(GroupIndex(groups), n) == match(groups, n)
    assert NOW.tzinfo is not None


def test_the_result_serialises_to_json() -> None:
    import json

    groups = [group("a", places_left=0, format="hybrid", location=NEAR), group("b")]
    n = needs(stage="approaching_crisis", location=LEEDS, max_distance_km=3)
    data = json.loads(json.dumps(match(groups, n).as_dict()))
    assert data["crisis_first"] is True
    assert data["next_steps"][0]["code"] == "crisis_contacts"
    first = data["results"][0]
    assert set(first) >= {
        "group_id",
        "name",
        "score",
        "reasons",
        "mismatches",
        "action",
        "next_session",
        "url",
    }
    assert first["next_session"].startswith("2025-03-06T18:00:00")


def test_a_related_form_ranks_below_the_language_itself_and_says_so() -> None:
    groups = [
        group("cantonese", languages=("yue",)),
        group("chinese", languages=("zh",)),
        group("mandarin", languages=("cmn",)),
    ]
    result = match(groups, needs(languages=("yue",)))
    # Cantonese first; a group that says only "Chinese" is related (a macrolanguage
    # and its member), shown after and said so; Mandarin is another language.
    assert ids(result) == ["cantonese", "chinese"]
    assert "Meets in Cantonese" in item(result, "cantonese").reasons
    assert (
        "Meets in Chinese, without saying which Chinese language; you asked for Cantonese"
        in item(result, "chinese").reasons
    )
    assert item(result, "cantonese").score > item(result, "chinese").score
    assert result.relaxed == ()


def test_sign_languages_are_not_related_to_each_other_or_to_english() -> None:
    groups = [group("isl", languages=("isg",)), group("spoken", languages=("en",))]
    result = match(groups, needs(languages=("bfi",)))
    assert "language" in result.relaxed_codes
    for r in result.results:
        assert any("not a language you listed" in m for m in r.mismatches)
