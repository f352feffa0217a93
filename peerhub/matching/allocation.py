"""Fair waiting-list allocation: an optimal, capacity-constrained assignment.

When places free up, each person waiting may get at most one offer and no group
gets more offers than it has places. Among all such assignments we choose one
that maximises, in this order:

1. the total value, where an offer of group *g* to person *p* is worth
   ``fit(p, g) + waited_per_week × weeks p has waited`` (see
   :class:`~peerhub.matching.scoring.Weights`; values are counted in millionths);
2. the number of offers (a free place is offered even when its value is 0).

This is a min-cost flow (source → person → group → sink), solved exactly by
successive shortest paths with Johnson potentials: people are added one at a time
(in order of their best value, then person id) and each is routed along a
cheapest augmenting path found by Dijkstra, which may move earlier people to
other groups or off the list. After each addition the assignment is optimal for
the people added so far, so the final one is optimal for everyone.

The answer is deterministic: input order does not matter (people and groups are
sorted by id, and Dijkstra breaks ties by that order).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from .scoring import DEFAULT_WEIGHTS, POINTS, Weights

__all__ = ["Offer", "Waiter", "WaitlistEntry", "allocate", "offer_value", "total_value"]

_WEEK: Final = timedelta(weeks=1)


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    """A person is on ``group_id``'s waiting list with this ``fit`` (0 or more;
    for example the match score)."""

    group_id: str
    fit: float


@dataclass(frozen=True, slots=True)
class Waiter:
    """A person waiting: the lists they are on and how long they have waited."""

    person_id: str
    entries: tuple[WaitlistEntry, ...]
    waited: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class Offer:
    person_id: str
    group_id: str
    value: float


def offer_value(fit: float, waited: timedelta, weights: Weights = DEFAULT_WEIGHTS) -> int:
    """The value of one offer in millionths (an integer, so optima compare exactly)."""
    return round((fit + weights.waited_per_week * (waited / _WEEK)) * POINTS)


def total_value(offers: Iterable[Offer]) -> float:
    return sum(o.value for o in offers)


def allocate(
    waiters: Iterable[Waiter],
    places: Mapping[str, int],
    *,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Offer]:
    """Offer free ``places`` (group id → number free) to people waiting, optimally.

    Returns offers sorted by person id. Entries for groups with no free place are
    ignored. ``ValueError`` for a repeated person, a repeated group in one person's
    entries, a negative or non-finite fit, a negative wait or negative places.
    """
    people = sorted(waiters, key=lambda w: w.person_id)
    for a, b in itertools.pairwise(people):
        if a.person_id == b.person_id:
            raise ValueError(f"person {a.person_id!r} appears twice")
    for group_id, n in places.items():
        if n < 0:
            raise ValueError(f"group {group_id!r} has negative places")
    group_ids = sorted(g for g, n in places.items() if n > 0)
    n_people = len(people)
    n_groups = len(group_ids)
    # Nodes: people 0..P-1, groups P..P+G-1, "no offer" D, sink T.
    dummy = n_people + n_groups
    sink = dummy + 1
    gnode = {g: n_people + i for i, g in enumerate(group_ids)}
    cap = [0] * (sink + 1)
    for g in group_ids:
        cap[gnode[g]] = places[g]
    # Costs: minus (value × K + 1), K > any number of offers, so value comes first
    # and, among equal values, more offers win.
    k = n_people + 1
    cost: list[dict[int, int]] = []
    edges: list[list[tuple[int, int]]] = []
    values: list[dict[int, int]] = []
    for person in people:
        if person.waited < timedelta(0):
            raise ValueError(f"person {person.person_id!r} has a negative wait")
        row: dict[int, int] = {}
        vals: dict[int, int] = {}
        listed: set[str] = set()
        for entry in person.entries:
            if not math.isfinite(entry.fit) or entry.fit < 0:
                raise ValueError(f"person {person.person_id!r}: fit must be finite, 0 or more")
            if entry.group_id in listed:
                raise ValueError(
                    f"person {person.person_id!r} lists group {entry.group_id!r} twice"
                )
            listed.add(entry.group_id)
            node = gnode.get(entry.group_id)
            if node is None:
                continue
            v = offer_value(entry.fit, person.waited, weights)
            row[node] = -(v * k + 1)
            vals[node] = v
        cost.append(row)
        edges.append(sorted(row.items()))
        values.append(vals)

    assigned = [-1] * n_people  # group node, dummy, or -1 (not yet added)
    members: list[list[int]] = [[] for _ in range(sink + 1)]
    load = [0] * (sink + 1)
    phi = [0] * (sink + 1)
    order = sorted(
        (p for p in range(n_people) if edges[p]),
        key=lambda p: (min(c for _, c in edges[p]), people[p].person_id),
    )
    # Dijkstra state, reset after each person through `touched` (not reallocated).
    far = 1 << 62  # above any distance
    dist = [far] * (sink + 1)
    prev = [-1] * (sink + 1)
    final = [False] * (sink + 1)
    push, pop = heapq.heappush, heapq.heappop
    for s in order:
        # A potential for the new person keeping its edges' reduced costs >= 0.
        phi[s] = max(max(phi[g] - c for g, c in edges[s]), phi[dummy])
        dist[s] = 0
        touched = [s]
        done: list[int] = []
        heap = [(0, s)]
        while heap:
            d, u = pop(heap)
            if final[u]:
                continue
            final[u] = True
            done.append(u)
            if u == sink:
                break
            base = d + phi[u]
            best = dist[sink]
            # Relax the edges leaving u in the residual graph (inlined: this loop
            # is the allocation's hot spot).
            if u < n_people:
                here = assigned[u]
                for v, c in edges[u]:
                    if v != here:
                        nd = base + c - phi[v]
                        # Nothing at or beyond the sink's distance can shorten the path.
                        if nd < dist[v] and nd < best:
                            if dist[v] == far:
                                touched.append(v)
                            dist[v] = nd
                            prev[v] = u
                            push(heap, (nd, v))
                if here != dummy:
                    nd = base - phi[dummy]
                    if nd < dist[dummy] and nd < best:
                        if dist[dummy] == far:
                            touched.append(dummy)
                        dist[dummy] = nd
                        prev[dummy] = u
                        push(heap, (nd, dummy))
                continue
            if u != dummy:
                for q in members[u]:
                    nd = base - cost[q][u] - phi[q]
                    if nd < dist[q] and nd < best:
                        if dist[q] == far:
                            touched.append(q)
                        dist[q] = nd
                        prev[q] = u
                        push(heap, (nd, q))
                if load[u] >= cap[u]:
                    continue
            # A group with a free place, or "no offer": on to the sink.
            nd = base - phi[sink]
            if nd < best:
                if best == far:
                    touched.append(sink)
                dist[sink] = nd
                prev[sink] = u
                push(heap, (nd, sink))
        d_sink = dist[sink]  # always reached: the person can stay off the list
        for v in done:
            phi[v] += dist[v] - d_sink
        # Augment: walk back from the sink, moving each person on the path into the
        # group after them (the first group, or "no offer", takes one more).
        v = prev[sink]
        if v != dummy:
            load[v] += 1
        while True:
            u = prev[v]
            old = assigned[u]
            if 0 <= old != dummy:
                members[old].remove(u)
            assigned[u] = v
            if v != dummy:
                members[v].append(u)
            if u == s:
                break
            v = prev[u]
        for v in touched:
            dist[v] = far
            prev[v] = -1
            final[v] = False
    offers = []
    for p in range(n_people):
        node = assigned[p]
        if 0 <= node != dummy:
            offers.append(
                Offer(people[p].person_id, group_ids[node - n_people], values[p][node] / POINTS)
            )
    return offers
