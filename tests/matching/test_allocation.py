"""Waiting-list allocation: optimal, capacity-constrained, deterministic."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peerhub.matching import Offer, Waiter, WaitlistEntry, Weights, allocate, offer_value


def waiter(pid: str, waited_weeks: float = 0, **fits: float) -> Waiter:
    return Waiter(
        pid,
        tuple(WaitlistEntry(g, f) for g, f in fits.items()),
        timedelta(weeks=waited_weeks),
    )


def brute_force(waiters: list[Waiter], places: dict[str, int]) -> tuple[int, int]:
    """Best (total value in millionths, number of offers) over every assignment."""
    options = []
    for w in waiters:
        choices: list[tuple[str, int] | None] = [None]
        for e in w.entries:
            if places.get(e.group_id, 0) > 0:
                choices.append((e.group_id, offer_value(e.fit, w.waited)))
        options.append(choices)
    best = (0, 0)
    for combo in itertools.product(*options):
        used = Counter(c[0] for c in combo if c is not None)
        if any(n > places[g] for g, n in used.items()):
            continue
        value = sum(c[1] for c in combo if c is not None)
        best = max(best, (value, sum(used.values())))
    return best


def score(offers: list[Offer], waiters: list[Waiter]) -> tuple[int, int]:
    by_person = {w.person_id: w for w in waiters}
    total = 0
    for o in offers:
        w = by_person[o.person_id]
        fit = next(e.fit for e in w.entries if e.group_id == o.group_id)
        total += offer_value(fit, w.waited)
    return total, len(offers)


def test_capacity_and_one_offer_each() -> None:
    waiters = [waiter(f"p{i}", a=5, b=4) for i in range(5)]
    offers = allocate(waiters, {"a": 2, "b": 1})
    assert len(offers) == 3
    assert Counter(o.group_id for o in offers) == {"a": 2, "b": 1}
    assert len({o.person_id for o in offers}) == 3


def test_maximises_total_fit_not_greedy_first_choice() -> None:
    # Greedy would give "a" to p1 (its best, 10) and leave p2 with nothing (9 + 0);
    # the optimum moves p1 to "b": 8 + 9 = 17.
    waiters = [waiter("p1", a=10, b=8), waiter("p2", a=9)]
    offers = allocate(waiters, {"a": 1, "b": 1})
    assert {(o.person_id, o.group_id) for o in offers} == {("p1", "b"), ("p2", "a")}
    assert sum(o.value for o in offers) == 17


def test_time_waited_breaks_ties_by_its_documented_weight() -> None:
    waiters = [waiter("new", 0, a=5), waiter("old", 10, a=5)]
    (offer,) = allocate(waiters, {"a": 1})
    assert offer.person_id == "old"
    assert offer.value == pytest.approx(5 + 10 * Weights().waited_per_week)
    # With the weight set to 0, equal fits tie and the result is still fixed.
    no_wait = Weights(waited_per_week=0)
    assert allocate(waiters, {"a": 1}, weights=no_wait) == allocate(
        list(reversed(waiters)), {"a": 1}, weights=no_wait
    )


def test_a_free_place_is_offered_even_at_zero_value() -> None:
    assert allocate([waiter("p", a=0)], {"a": 1}) == [Offer("p", "a", 0.0)]


def test_groups_without_places_and_empty_lists_are_ignored() -> None:
    waiters = [waiter("p1", a=3, z=9), Waiter("p2", ())]
    assert allocate(waiters, {"a": 1, "z": 0}) == [Offer("p1", "a", 3.0)]
    assert allocate([], {"a": 3}) == []


@pytest.mark.parametrize(
    ("waiters", "places", "message"),
    [
        ([waiter("p", a=1), waiter("p", b=1)], {"a": 1}, "twice"),
        ([Waiter("p", (WaitlistEntry("a", 1), WaitlistEntry("a", 2)))], {"a": 1}, "twice"),
        ([waiter("p", a=-1)], {"a": 1}, "fit"),
        ([waiter("p", a=float("nan"))], {"a": 1}, "fit"),
        ([Waiter("p", (), timedelta(days=-1))], {"a": 1}, "wait"),
        ([waiter("p", a=1)], {"a": -1}, "negative places"),
    ],
)
def test_bad_input_is_refused(waiters: list[Waiter], places: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate(waiters, places)


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[Waiter], dict[str, int]]:
    groups = [f"g{i}" for i in range(draw(st.integers(1, 3)))]
    places = {g: draw(st.integers(0, 2)) for g in groups}
    waiters = []
    for p in range(draw(st.integers(0, 6))):
        listed = draw(st.lists(st.sampled_from(groups), unique=True, max_size=len(groups)))
        waiters.append(
            Waiter(
                f"p{p}",
                tuple(
                    WaitlistEntry(g, draw(st.sampled_from((0.0, 0.5, 1.0, 2.5, 3.0))))
                    for g in listed
                ),
                timedelta(weeks=draw(st.integers(0, 3))),
            )
        )
    return waiters, places


@settings(max_examples=300, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_optimal_against_brute_force_and_never_over_capacity(
    problem: tuple[list[Waiter], dict[str, int]], rnd: random.Random
) -> None:
    waiters, places = problem
    offers = allocate(waiters, places)
    assert Counter(o.group_id for o in offers) <= Counter(places)
    assert len({o.person_id for o in offers}) == len(offers)
    listed = {(w.person_id, e.group_id) for w in waiters for e in w.entries}
    assert all((o.person_id, o.group_id) in listed for o in offers)
    assert score(offers, waiters) == brute_force(waiters, places)
    # Deterministic whatever the input order.
    shuffled = list(waiters)
    rnd.shuffle(shuffled)
    assert allocate(shuffled, dict(reversed(list(places.items())))) == offers


def test_a_large_allocation_respects_capacity() -> None:
    rng = random.Random(3)
    groups = [f"g{i:03d}" for i in range(500)]
    places = {g: rng.randrange(0, 4) for g in groups}
    waiters = [
        Waiter(
            f"p{p:04d}",
            tuple(
                WaitlistEntry(g, rng.uniform(0, 10))
                for g in rng.sample(groups, rng.randrange(1, 5))
            ),
            timedelta(days=rng.randrange(300)),
        )
        for p in range(2000)
    ]
    offers = allocate(waiters, places)
    assert Counter(o.group_id for o in offers) <= Counter(places)
    assert len({o.person_id for o in offers}) == len(offers)
    # Every place that someone listed is filled: an unfilled place with someone
    # waiting for it unassigned would be a better answer.
    filled = Counter(o.group_id for o in offers)
    offered = {o.person_id for o in offers}
    for w in waiters:
        if w.person_id not in offered:
            assert all(filled[e.group_id] == places[e.group_id] for e in w.entries)
