"""Property tests (hypothesis) for matching and allocation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peerhub.matching import GroupIndex, GroupProfile, Needs, assess, match
from peerhub.matching.eligibility import who_status

from .helpers import hard_violations, reference, shuffled, summary
from .strategies import scenarios

# Example counts are bounded so the module runs in well under a minute; the
# agreement test (the strongest check) gets the most.
PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AGREEMENT = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@AGREEMENT
@given(scenarios(), st.integers(min_value=1, max_value=6))
def test_index_agrees_with_scoring_every_group(
    scenario: tuple[list[GroupProfile], Needs], limit: int
) -> None:
    groups, n = scenario
    assert summary(match(groups, n, limit=limit)) == reference(groups, n, limit=limit)


@PROPS
@given(scenarios())
def test_never_empty_while_a_group_may_be_offered(
    scenario: tuple[list[GroupProfile], Needs],
) -> None:
    # Empty only when every group has a blocked member, breaks a rule that is never
    # relaxed (online only, beyond the distance cap, an under-18's age), or is for
    # some people only whom the person's own answers rule out.
    groups, n = scenario
    result = match(groups, n)
    reachable = [
        g
        for g in groups
        if g.member_ids.isdisjoint(n.blocked_user_ids)
        and not hard_violations(g, n)[1]
        and who_status(g, n) != "conflict"
    ]
    assert bool(result.results) == bool(reachable)
    codes = {"waiting_list", "register_interest", "crisis_contacts"}
    if n.age is not None and n.age < 18:
        codes.add("young_people")
    assert {s.code for s in result.next_steps} == codes


@PROPS
@given(scenarios())
def test_no_hard_constraint_is_broken_unless_the_result_says_so(
    scenario: tuple[list[GroupProfile], Needs],
) -> None:
    groups, n = scenario
    result = match(groups, n)
    by_id = {g.id: g for g in groups}
    for r in result.results:
        g = by_id[r.group_id]
        assert g.member_ids.isdisjoint(n.blocked_user_ids)
        broken, never = hard_violations(g, n)
        assert not never
        assert broken == set(r.relaxed)
        assert broken <= set(result.relaxed_codes)
    assert len(result.relaxed) == len(result.relaxed_codes)
    if result.relaxed_codes:
        assert not result.good_fit


@PROPS
@given(scenarios(), st.integers(min_value=0, max_value=1000))
def test_same_input_same_output_whatever_the_index_history(
    scenario: tuple[list[GroupProfile], Needs], seed: int
) -> None:
    groups, n = scenario
    first = match(groups, n)
    assert match(groups, n) == first
    # An index built in another order, through add, remove and replace, agrees.
    index = GroupIndex()
    order = shuffled(groups, seed)
    for g in order:
        index.add(replace(g, name="stale", moderator_on_duty=not g.moderator_on_duty))
    for g in order[::2]:
        index.remove(g.id)
    for g in order[::2]:
        index.add(g)
    for g in order[1::2]:
        index.replace(g)
    assert index.match(n) == first


ADDITIONS = st.sampled_from(
    ("community", "topic", "stage", "language", "interpretation", "access", "meeting", "places")
)


@PROPS
@given(scenarios(max_groups=1), ADDITIONS, st.data())
def test_adding_a_shared_attribute_never_lowers_a_score(
    scenario: tuple[list[GroupProfile], Needs], what: str, data: st.DataObject
) -> None:
    groups, n = scenario
    if not groups:
        return
    g = groups[0]
    if what == "community" and n.communities:
        richer = replace(g, communities=g.communities | {data.draw(st.sampled_from(n.communities))})
    elif what == "topic" and n.topics:
        richer = replace(g, topics=g.topics | {data.draw(st.sampled_from(n.topics))})
    elif what == "stage" and n.stage:
        richer = replace(g, stages=g.stages | {n.stage})
    elif what == "language" and n.languages:
        richer = replace(g, languages=(*g.languages, data.draw(st.sampled_from(n.languages))))
    elif what == "interpretation" and n.languages:
        extra = data.draw(st.sampled_from(n.languages))
        richer = replace(g, interpretation=(*g.interpretation, extra))
    elif what == "access" and n.access_needs:
        code = data.draw(st.sampled_from([a.code for a in n.access_needs]))
        richer = replace(g, access_features=g.access_features | {code})
    elif what == "meeting":
        minutes = data.draw(st.integers(min_value=0, max_value=40 * 24 * 60))
        richer = replace(g, next_meetings=(*g.next_meetings, n.now + timedelta(minutes=minutes)))
    elif what == "places" and g.places_left == 0:
        richer = replace(g, places_left=1)
    else:
        return
    assert assess(richer, n).points >= assess(g, n).points
    before, after = match([g], n), match([richer], n)
    if before.results and after.results:
        assert after.results[0].score >= before.results[0].score
