"""Builders and a brute-force reference matcher for the matching tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from peerhub.matching import (
    DEFAULT_WEIGHTS,
    GroupProfile,
    Needs,
    Weights,
    assess,
)
from peerhub.matching.rules import broken_rank, relaxable_steps
from peerhub.matching.scoring import Context

# A Tuesday morning in winter (London is on GMT).
NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
LEEDS = (53.8008, -1.5491)


def at(days: float = 0, hour: int | None = None, minute: int = 0) -> datetime:
    """NOW plus whole days, optionally at a given UTC hour."""
    base = NOW + timedelta(days=days)
    if hour is not None:
        base = base.replace(hour=hour, minute=minute)
    return base


def group(id: str = "g", **kw: Any) -> GroupProfile:
    kw.setdefault("name", f"Group {id}")
    kw.setdefault("languages", ("en",))
    kw.setdefault("format", "online")
    kw.setdefault("next_meetings", (at(2, 18),))
    return GroupProfile(id=id, **kw)


def needs(**kw: Any) -> Needs:
    kw.setdefault("now", NOW)
    kw.setdefault("languages", ("en",))
    return Needs(**kw)


def reference(
    groups: Iterable[GroupProfile],
    n: Needs,
    limit: int = 20,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[tuple[str, float, tuple[str, ...]]]:
    """Score every group one by one and apply the relaxation steps literally: one
    more need at a time, never a rule that is not relaxed; fewer broken needs first."""
    ctx = Context.of(n, weights)
    assessed = [(g, assess(g, n, weights, context=ctx)) for g in groups]
    steps = relaxable_steps(n)
    for i in range(len(steps) + 1):
        allowed = set(steps[:i])
        ok = [
            (g, a)
            for g, a in assessed
            if not a.blocked and not a.never and not a.conflict and set(a.violations) <= allowed
        ]
        if ok:
            ok.sort(
                key=lambda ga: (
                    -broken_rank(ga[1].violations),
                    -ga[1].rank,
                    -ga[1].points,
                    ga[0].id,
                )
            )
            return [(g.id, a.score, tuple(a.violations)) for g, a in ok[:limit]]
    return []


def summary(result: Any) -> list[tuple[str, float, tuple[str, ...]]]:
    return [(r.group_id, r.score, tuple(r.relaxed)) for r in result.results]


def ids(result: Any) -> list[str]:
    return [r.group_id for r in result.results]


def item(result: Any, group_id: str) -> Any:
    for r in result.results:
        if r.group_id == group_id:
            return r
    raise AssertionError(f"{group_id} not in results {ids(result)}")


VENUE = frozenset(
    {"step_free", "accessible_toilet", "hearing_loop", "quiet_room", "sensory_friendly"}
    | {"travel_support"}
)
CAP_KM = 50.0


def hard_violations(g: GroupProfile, n: Needs) -> tuple[set[str], set[str]]:
    """The hard constraints, written out again independently of the engine: (the
    needs a widened search may relax, the rules it never relaxes)."""
    from peerhub.languages import relate
    from peerhub.matching.distances import distance_km

    out: set[str] = set()
    never: set[str] = set()
    if n.languages:
        offered = g.languages + g.interpretation
        if not any(relate(p, t) is not None for p in n.languages for t in offered):
            out.add("language")
    if n.age is not None:
        outside = (g.age_min is not None and n.age < g.age_min) or (
            g.age_max is not None and n.age > g.age_max
        )
        if n.age < 18 and (outside or g.age_min is None):
            never.add("age")
        elif outside:
            (never if g.age_min is not None and g.age_min < 18 else out).add("age")
    at_venue = g.format == "in_person" or (g.format == "hybrid" and n.format == "in_person")
    for a in n.access_needs:
        if not a.essential or a.code in g.access_features:
            continue
        if a.code in VENUE and not at_venue:
            continue
        if a.code == "camera_optional" and at_venue:
            continue
        if a.code == "bsl_interpreter" and any(
            (rel := relate("bfi", t)) is not None and rel.same
            for t in g.languages + g.interpretation
        ):
            continue
        out.add("access")
    in_person = g.format in ("in_person", "hybrid")
    online = g.format in ("online", "hybrid")
    d = None
    if n.location is not None and g.location is not None and in_person:
        d = distance_km(n.location, g.location)
    limit = n.max_distance_km if n.max_distance_km is not None else CAP_KM
    cap = max(limit, CAP_KM)
    within = n.location is None or (d is not None and d <= limit)
    within_cap = n.location is None or (d is not None and d <= cap)
    if n.format == "online" and not online:
        never.add("format")
    if n.format == "in_person":
        if in_person and within:
            pass
        elif in_person and within_cap:
            out.add("distance")
        elif online:
            out.add("format")
        else:
            never.add("distance")
    if n.format == "either" and not online and not within:
        (out if within_cap else never).add("distance")
    return out, never


def shuffled(items: Sequence[GroupProfile], seed: int) -> list[GroupProfile]:
    import random

    out = list(items)
    random.Random(seed).shuffle(out)
    return out
