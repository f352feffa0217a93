"""Builders and a brute-force reference matcher for the matching tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from peerhub.matching import (
    DEFAULT_WEIGHTS,
    RELAXATION_ORDER,
    GroupProfile,
    Needs,
    Weights,
    assess,
)
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
    kw.setdefault("next_sessions", (at(2, 18),))
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
    """Score every group one by one and apply the relaxation tiers literally."""
    ctx = Context.of(n, weights)
    assessed = [(g, assess(g, n, weights, context=ctx)) for g in groups]
    for i in range(len(RELAXATION_ORDER) + 1):
        allowed = set(RELAXATION_ORDER[:i])
        ok = [(g, a) for g, a in assessed if not a.blocked and set(a.violations) <= allowed]
        if ok:
            ok.sort(key=lambda ga: (not ga[1].priority, -ga[1].points, ga[0].id))
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


def hard_violations(g: GroupProfile, n: Needs) -> set[str]:
    """The hard constraints, written out again independently of the engine."""
    from peerhub.matching.geo import distance_km
    from peerhub.matching.langtag import tags_compatible

    out: set[str] = set()
    if n.languages:
        offered = g.languages + g.interpretation
        if not any(tags_compatible(p, t) for p in n.languages for t in offered):
            out.add("language")
    if n.age is not None:
        if g.age_min is not None and n.age < g.age_min:
            out.add("age")
        if g.age_max is not None and n.age > g.age_max:
            out.add("age")
    if any(a.essential and a.code not in g.access_features for a in n.access_needs):
        out.add("access")
    in_person = g.format in ("in_person", "hybrid")
    online = g.format in ("online", "hybrid")
    within = True
    if n.location is not None and n.max_distance_km is not None:
        within = g.location is not None and distance_km(n.location, g.location) <= n.max_distance_km
    if n.format == "online" and not online:
        out.add("format")
    if n.format == "in_person":
        if not in_person:
            out.add("format")
        elif not within:
            out.add("distance")
    if n.format == "either" and not online and not within:
        out.add("distance")
    return out


def shuffled(items: Sequence[GroupProfile], seed: int) -> list[GroupProfile]:
    import random

    out = list(items)
    random.Random(seed).shuffle(out)
    return out
